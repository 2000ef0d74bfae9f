/**
 * A stream's parameters as requests: the defaults its parameters schema declares, the base query
 * every request sends, and the fan-out units (one paged read per value of each fan-out list).
 */
import { UserError } from '../errors.ts';
import type { JsonRecord, RestEndpoint, StreamSpec } from '../plugin-api.ts';
import { textOf } from './json.ts';
import type { Query } from './types.ts';

/** One combination of fan-out values: the query parameters it sends and the fields it records. */
export interface Unit {
  query: Query;
  tags: JsonRecord;
}

/** The stream's params with the defaults its parameters schema declares. */
export function withDefaults(desc: RestEndpoint, params: JsonRecord): JsonRecord {
  const props = (desc.parameters?.properties ?? {}) as Record<string, { default?: unknown }>;
  const out: JsonRecord = { ...params };
  for (const [k, p] of Object.entries(props)) if (out[k] === undefined && p.default !== undefined) out[k] = p.default;
  return out;
}

/** Base query (fixed ones and the stream's scalar params) and fan-out units (the cartesian product of the lists, in order). */
export function queryOf(spec: StreamSpec, desc: RestEndpoint, params: JsonRecord): { base: Query; units: Unit[] } {
  const fanned = new Set((desc.fanOut ?? []).map((f) => f.param));
  const base: Query = { ...desc.fixedQuery };
  for (const [k, v] of Object.entries(params)) {
    if (fanned.has(k) || v === undefined || v === null) continue;
    base[k] = typeof v === 'number' ? v : Array.isArray(v) ? v.join(',') : textOf(v);
  }
  let units: Unit[] = [{ query: {}, tags: {} }];
  for (const f of desc.fanOut ?? []) {
    const values = params[f.param];
    if (!Array.isArray(values) || values.length === 0) {
      throw new UserError(`stream ${spec.name}: endpoint ${spec.endpoint} needs params.${f.param} (a non-empty list)`);
    }
    const distinct = [...new Set(values.map(String))];
    units = units.flatMap((u) => distinct.map((v) => ({ query: { ...u.query, [f.query]: v }, tags: { ...u.tags, [f.field]: v } })));
  }
  return { base, units };
}
