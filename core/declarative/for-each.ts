/**
 * Fan-out over parent records (`for_each`): one paged read per distinct parent, skipping what need
 * not be read: duplicates, parents the API refuses (the endpoint's `skipParents`, judged by the
 * `skipParent` hook), and with `skip_unchanged` parents whose version field equals the one the
 * last committed run read (state `versions`).
 *
 * One parent the API will not serve (404, or a 403 that is about that parent, e.g. a followed
 * collaborative playlist a Development Mode app may not read) is skipped with a warning naming it
 * and why; its version is not saved, so the next run asks again. A 403 the connector explains as
 * an account problem (`explainError` returns a UserError: a missing scope, the allowlist) is not
 * about one parent and still fails the stream. When parents were asked for and every one of them
 * failed (none read, none unchanged), nothing of the stream is current: it fails (StreamFailed,
 * exit 1) naming each parent and its reason.
 */
import { HttpError, StreamFailed, UserError } from '../errors.ts';
import type { JsonRecord } from '../plugin-api.ts';
import { valueAt } from './json.ts';
import { readOne } from './records.ts';
import type { StreamRead } from './read-state.ts';

type Rule = { rule: string; note: string; reason?: string };

export async function* readForEach<C>(r: StreamRead<C>): AsyncGenerator<JsonRecord> {
  const { ctx, desc, spec } = r;
  const path = spec.forEach ?? ['id'];
  const versions: Record<string, string> = { ...((ctx.state.versions as Record<string, string>) ?? {}) };
  const rules = desc.skipParents?.[r.mode] ?? [];
  const hooks = r.hooks;
  if (rules.length > 0 && !hooks.skipParent) {
    throw new Error(`endpoint ${r.endpoint} declares skipParents rules (${rules.map((x) => x.rule).join(', ')}) but the reader has no skipParent hook`);
  }
  const refusedBy = async (parent: JsonRecord): Promise<Rule | undefined> => {
    for (const rule of rules) if (await hooks.skipParent!(rule.rule, parent, ctx)) return rule;
    return undefined;
  };
  const done = new Set<string>();
  /** Parents asked for and not read (404, a parent-level 403), with why; and how many are current (read, or unchanged). */
  const failed: string[] = [];
  let current = 0;
  const label = (id: string, parent: JsonRecord) => `${id}${typeof parent.name === 'string' ? ` (${parent.name})` : ''}`;
  for (const parent of ctx.parents ?? []) {
    const id = valueAt(parent, path);
    if (typeof id !== 'string' || !id) continue;
    if (done.has(id)) {
      ctx.note('skipped_duplicate');
      continue;
    }
    done.add(id);
    const rule = await refusedBy(parent);
    if (rule) {
      if (rule.reason) ctx.logger.warn(`${spec.endpoint}: ${label(id, parent)} skipped: ${rule.reason}`);
      ctx.note(rule.note);
      continue;
    }
    const version = desc.versionField ? (parent[desc.versionField] as string | undefined) : undefined;
    if (spec.skipUnchanged && version && versions[id] === version) {
      ctx.note('skipped_unchanged');
      current++;
      continue;
    }
    const added: JsonRecord = {};
    if (desc.parentField) added[desc.parentField] = id;
    if (desc.parentVersionField && version) added[desc.parentVersionField] = version;
    // Buffer one parent's records: a read cut short (quota) must not commit half a parent, which
    // would replace its complete earlier version.
    let buffer: JsonRecord[] | undefined;
    try {
      buffer = await readOne(r, id, added, true);
    } catch (e) {
      const refusal = parentRefusal(e, (x) => (hooks.explainError ? hooks.explainError(x) : x));
      if (!refusal) throw e;
      ctx.logger.warn(`${spec.endpoint}: ${label(id, parent)} skipped: ${refusal} (the API refuses to read it for this user); read again next run`);
      ctx.note('skipped_forbidden');
      failed.push(`${label(id, parent)}: ${refusal}`);
      continue;
    }
    if (!buffer) {
      // readOne warned (404, with the endpoint's reason).
      failed.push(`${label(id, parent)}: HTTP 404 not found`);
      continue;
    }
    current++;
    yield* buffer;
    if (desc.versionField && version) {
      versions[id] = version;
      ctx.setState({ versions });
    }
  }
  if (desc.versionField) ctx.setState({ versions });
  if (failed.length && current === 0) throw new StreamFailed(`every parent failed, none was read: ${failed.join('; ')}`);
}

/**
 * `HTTP 403 <the API's message>` when `e` is a 403 about this one parent; undefined for anything
 * else, including a 403 the connector explains as an account problem (a UserError).
 */
function parentRefusal(e: unknown, explain: (e: unknown) => unknown): string | undefined {
  if (!(e instanceof HttpError) || e.status !== 403) return undefined;
  if (explain(e) instanceof UserError) return undefined;
  return `HTTP 403 ${e.apiMessage || 'Forbidden'}`;
}
