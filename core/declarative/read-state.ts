/** Everything one stream's read needs, resolved once by the reader and handed to each input kind. */
import type { JsonRecord, ReadContext, StreamSpec } from '../plugin-api.ts';
import type { PageSource, Query, RestHooks } from './types.ts';
import type { Unit } from './query.ts';

export interface StreamRead<C> extends PageSource {
  spec: StreamSpec;
  ctx: ReadContext<C>;
  hooks: RestHooks<C>;
  /** Query parameters of every request: fixed ones and the stream's scalar params. */
  base: Query;
  units: Unit[];
}

/** The record to yield for an item, through the connector's `normalize` hook when it has one. */
export function toRecord<C>(r: StreamRead<C>, item: JsonRecord, added: JsonRecord): JsonRecord {
  if (r.hooks.normalize) return r.hooks.normalize(r.endpoint, item, added);
  return Object.keys(added).length > 0 ? { ...item, ...added } : item;
}
