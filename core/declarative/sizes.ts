/** Page and batch sizes per API mode, from the descriptor: the largest the API allows, so runs make the fewest requests. */
import type { EndpointDescriptor } from '../plugin-api.ts';

/** Items per page of an endpoint in a mode (0 when it does not page); a mode it does not name gets the smallest size. */
export function pageSize(desc: Pick<EndpointDescriptor, 'paginator'>, mode: string): number {
  const p = desc.paginator;
  if (p.type === 'none') return 0;
  return p.pageSize[mode] ?? Math.min(...Object.values(p.pageSize));
}

/** Ids per request of an `ids` endpoint in a mode (1: one request per id through `path`). */
export function batchSize(desc: Pick<EndpointDescriptor, 'batch'>, mode: string): number {
  return desc.batch?.size[mode] ?? 1;
}
