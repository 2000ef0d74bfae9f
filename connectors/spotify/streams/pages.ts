/**
 * The page loops of the generic reader, one per paginator kind of the descriptors: a single
 * response, offset paging (held against `total`, stopped at the API's largest offset) and cursor
 * paging (follow `next`, stopped at the API's window). Each yields the raw items of one page at a
 * time, so a caller that has what it needs stops iterating and no further request is sent.
 */
import type { AuthProvider, JsonRecord, ReadContext } from '../../../core/plugin-api.ts';
import { pageSize, type SpotifyEndpoint } from '../endpoints.ts';

export type Query = Record<string, string | number | undefined>;

/** What one paged read needs from its stream. */
export interface PageSource {
  endpoint: string;
  desc: SpotifyEndpoint;
  mode: string;
  token: AuthProvider;
  ctx: ReadContext;
}

export interface PageRequest {
  /** Path (relative to the API base) of the first page. */
  url: string;
  query: Query;
  /** A 404 on the first page throws `NotFound` (the caller skips the parent) instead of failing. */
  missingOk?: boolean;
  /** Send If-None-Match with the ETag this run already holds for the URL. */
  etag?: boolean;
}

/** The first page answered 404: the parent or id does not exist (for this app). */
export class NotFound extends Error {
  constructor(readonly url: string) {
    super(`${url}: 404 Not Found`);
    this.name = 'NotFound';
  }
}

/** Safety bound: a server that never ends its `next` chain cannot keep a run forever. */
const MAX_PAGES = 100_000;

export function at(obj: unknown, path: string): unknown {
  if (!path) return obj;
  let cur = obj;
  for (const k of path.split('.')) cur = cur && typeof cur === 'object' ? (cur as JsonRecord)[k] : undefined;
  return cur;
}

/** `{name}` in a path or record path, from the request's own parameters. */
export function fill(template: string, values: Record<string, string | number | undefined>): string {
  return template.replace(/\{(\w+)\}/g, (_m, k: string) => encodeURIComponent(String(values[k] ?? '')));
}

/** The items at the descriptor's record path and the paging object around them. */
function pick(desc: SpotifyEndpoint, data: unknown, query: Query): { items: unknown[]; container: { next?: string | null; total?: number } } {
  const path = desc.recordPath.replace(/\{(\w+)\}/g, (_m, k: string) => String(query[k] ?? ''));
  const items = at(data, path);
  const parent = path.includes('.') ? at(data, path.split('.').slice(0, -1).join('.')) : data;
  const container = (parent && typeof parent === 'object' ? parent : {}) as { next?: string | null; total?: number };
  return { items: Array.isArray(items) ? items : items === undefined || items === null ? [] : [items], container };
}

async function get(src: PageSource, req: PageRequest, url: string, params: Query | undefined, first: boolean): Promise<unknown> {
  const res = await src.ctx.http.get(url, {
    params,
    label: src.endpoint,
    auth: src.token,
    etag: req.etag,
    accept: first && req.missingOk ? [404] : undefined,
  });
  if (res.status === 404) throw new NotFound(url);
  return res.data;
}

export function pages(src: PageSource, req: PageRequest): AsyncGenerator<unknown[]> {
  const p = src.desc.paginator;
  if (p.type === 'offset') return offsetPages(src, req);
  if (p.type === 'cursor') return cursorPages(src, req);
  return singlePage(src, req);
}

async function* singlePage(src: PageSource, req: PageRequest): AsyncGenerator<unknown[]> {
  const data = await get(src, req, req.url, req.query, true);
  yield pick(src.desc, data, req.query).items;
}

/**
 * Offset paging: the next page is asked for with our own parameters at `offset + limit` while the
 * API says there is more (`next`), not by following `next` verbatim: Spotify's search links carry
 * `query=` where the request had `q=`, and our limit and filters must stay the same.
 */
async function* offsetPages(src: PageSource, req: PageRequest): AsyncGenerator<unknown[]> {
  const { desc, ctx } = src;
  const limit = pageSize(desc, src.mode);
  let offset = 0;
  let seen = 0;
  let total: number | undefined;
  let capped = false;
  for (let n = 0; n < MAX_PAGES; n++) {
    const query = { ...req.query, limit, offset };
    const { items, container } = pick(desc, await get(src, req, req.url, query, n === 0), query);
    if (typeof container.total === 'number') total = container.total;
    seen += items.length;
    yield items;
    const more = container.next !== undefined ? !!container.next : total !== undefined && offset + limit < total;
    if (!more || items.length === 0) break;
    offset += limit;
    if (desc.maxOffset !== undefined && offset > desc.maxOffset) {
      capped = true;
      break;
    }
  }
  const what = describe(src, req);
  if (capped) {
    ctx.logger.warn(`${what}: the API serves results only up to offset ${desc.maxOffset}; read ${seen} of ${total ?? 'more'} (narrow the query to reach the rest)`);
    ctx.note('offset_limit');
  } else if (total !== undefined && seen !== total) {
    ctx.logger.warn(`${what}: read ${seen} items but the API reported total ${total} (the data changed during the read?)`);
    ctx.note('total_mismatch');
  }
}

/** Cursor paging: follow `next` (it carries the cursor) until it ends or the API's window is full. */
async function* cursorPages(src: PageSource, req: PageRequest): AsyncGenerator<unknown[]> {
  const { desc, ctx } = src;
  if (desc.paginator.type !== 'cursor') return;
  const window = desc.paginator.window;
  let url: string | null = req.url;
  let params: Query | undefined = { ...req.query, limit: pageSize(desc, src.mode) };
  let count = 0;
  let total: number | undefined;
  let full = false;
  for (let n = 0; url && n < MAX_PAGES; n++) {
    const { items, container } = pick(desc, await get(src, req, url, params, n === 0), req.query);
    if (typeof container.total === 'number') total = container.total;
    count += items.length;
    yield items;
    if (items.length === 0) break;
    // The API never returns more than its window: once we hold that many, a further page can
    // only be empty, so do not spend a request on it.
    if (window !== undefined && count >= window) {
      full = true;
      break;
    }
    url = container.next ?? null;
    params = undefined; // `next` is an absolute URL carrying its own query (and the cursor)
  }
  if (!full && total !== undefined && count !== total) {
    ctx.logger.warn(`${describe(src, req)}: read ${count} items but the API reported total ${total} (the data changed during the read?)`);
    ctx.note('total_mismatch');
  }
}

function describe(src: PageSource, req: PageRequest): string {
  const fanned = (src.desc.fanOut ?? []).map((f) => `${f.query}=${String(req.query[f.query])}`);
  return [req.url, ...fanned].join(' ');
}
