/**
 * Ids input: every id once, in batches where the endpoint's `batch` form exists in the API mode,
 * else one (paged) read per id through `path`; an unknown id (null in a batch, 404 alone) is
 * skipped with a warning.
 *
 * An id the API rejects as invalid (HTTP 400 on its request: a URI where an id belongs, a typo) is
 * skipped with a warning naming it, and reported to the engine through `ctx.rejectId`, which drops
 * it from the ids the stream owes: a bad id in pipeline.yaml must not fail every later run. A
 * batch answered 400 is read again id by id to find which ids are refused. When every one of two
 * or more ids is refused, the request itself is wrong (not the ids): that fails the read as any
 * other error, and no id is dropped.
 */
import { HttpError } from '../errors.ts';
import type { JsonRecord } from '../plugin-api.ts';
import { at } from './json.ts';
import { readOne } from './records.ts';
import { toRecord, type StreamRead } from './read-state.ts';
import { batchSize } from './sizes.ts';

export async function* readIds<C>(r: StreamRead<C>): AsyncGenerator<JsonRecord> {
  const { ctx, desc } = r;
  const ids = [...new Set(ctx.ids ?? [])];
  const size = batchSize(desc, r.mode);
  const tag = (id: string): JsonRecord => (desc.parentField ? { [desc.parentField]: id } : {});
  const rejected = new Map<string, string>();
  const reject = (id: string, apiMessage: string) => {
    rejected.set(id, apiMessage);
  };
  const one = async function* (id: string) {
    const buffer = await readOne(r, id, tag(id), false, reject);
    if (buffer) yield* buffer;
  };
  if (desc.batch && size > 1) {
    for (let i = 0; i < ids.length; i += size) {
      const chunk = ids.slice(i, i + size);
      let found: unknown[];
      try {
        const res = await ctx.http.get(desc.batch.path, { params: { ...r.base, [desc.batch.param]: chunk.join(',') }, label: r.endpoint, auth: r.auth });
        const list = at(res.data, desc.batch.recordPath);
        found = Array.isArray(list) ? list : [];
      } catch (e) {
        if (!(e instanceof HttpError && e.status === 400)) throw e;
        // One bad id fails the whole batch: read these one by one to know which.
        ctx.logger.warn(`${r.endpoint}: a batch of ${chunk.length} id(s) was refused (HTTP 400 ${e.apiMessage}); reading them one by one`);
        for (const id of chunk) yield* one(id);
        continue;
      }
      for (const [k, id] of chunk.entries()) {
        const it: unknown = found[k];
        if (it && typeof it === 'object') {
          yield toRecord(r, it as JsonRecord, tag(id));
        } else {
          // The batch form answers null for an unknown id.
          ctx.logger.warn(`${r.endpoint}: id ${id} not found (null in the batch answer), skipped`);
          ctx.note('not_found');
        }
      }
    }
  } else {
    for (const id of ids) yield* one(id);
  }
  if (!rejected.size) return;
  const [first] = rejected.values();
  if (ids.length >= 2 && rejected.size === ids.length && [...rejected.values()].every((m) => m === first)) {
    throw new Error(`${r.endpoint}: the API refused all ${ids.length} ids alike (HTTP 400 ${first}): the request is wrong, not the ids; none is dropped`);
  }
  // The engine warns, naming each id, and drops it from what the stream owes.
  for (const [id, apiMessage] of rejected) {
    if (ctx.rejectId) ctx.rejectId(id, `HTTP 400 ${apiMessage}`);
    else ctx.logger.warn(`${r.endpoint}: the API rejects id "${id}" as invalid (HTTP 400 ${apiMessage}); skipped`);
  }
}
