/**
 * Fan-out over parent records (`for_each`): one paged read per distinct parent, skipping what need
 * not be read: duplicates, parents the API refuses (the endpoint's `skipParents`, judged by the
 * `skipParent` hook), and with `skip_unchanged` parents whose version field equals the one the
 * last committed run read (state `versions`).
 */
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
      if (rule.reason) ctx.logger.warn(`${spec.endpoint}: ${id}${typeof parent.name === 'string' ? ` (${parent.name})` : ''} skipped: ${rule.reason}`);
      ctx.note(rule.note);
      continue;
    }
    const version = desc.versionField ? (parent[desc.versionField] as string | undefined) : undefined;
    if (spec.skipUnchanged && version && versions[id] === version) {
      ctx.note('skipped_unchanged');
      continue;
    }
    const added: JsonRecord = {};
    if (desc.parentField) added[desc.parentField] = id;
    if (desc.parentVersionField && version) added[desc.parentVersionField] = version;
    // Buffer one parent's records: a read cut short (quota) must not commit half a parent, which
    // would replace its complete earlier version.
    const buffer = await readOne(r, id, added, true);
    if (!buffer) continue;
    yield* buffer;
    if (desc.versionField && version) {
      versions[id] = version;
      ctx.setState({ versions });
    }
  }
  if (desc.versionField) ctx.setState({ versions });
}
