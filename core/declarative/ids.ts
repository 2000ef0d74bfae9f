/**
 * Ids input: every id once, in batches where the endpoint's `batch` form exists in the API mode,
 * else one (paged) read per id through `path`; an unknown id (null in a batch, 404 alone) is
 * skipped with a warning.
 */
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
  if (desc.batch && size > 1) {
    for (let i = 0; i < ids.length; i += size) {
      const chunk = ids.slice(i, i + size);
      const res = await ctx.http.get(desc.batch.path, { params: { ...r.base, [desc.batch.param]: chunk.join(',') }, label: r.endpoint, auth: r.auth });
      const list = at(res.data, desc.batch.recordPath);
      const found = Array.isArray(list) ? list : [];
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
    return;
  }
  for (const id of ids) {
    const buffer = await readOne(r, id, tag(id), false);
    if (buffer) yield* buffer;
  }
}
