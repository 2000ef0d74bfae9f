/**
 * The page loops, one per paginator kind of the descriptors: a single response, offset paging
 * (held against `total`, stopped at the API's largest offset), and link paging (follow a cursor or
 * a `next` URL, stopped at the API's window). Each yields the raw items of one page at a time, so
 * a caller that has what it needs stops iterating and no further request is sent. Every loop is
 * bounded by `maxPages`.
 */
import type { JsonRecord, Paginator } from '../plugin-api.ts';
import { HttpError } from '../errors.ts';
import { at, textOf } from './json.ts';
import { pageSize } from './sizes.ts';
import type { PageRequest, PageSource, Query } from './types.ts';

/** Default bound on the pages of one paged read: a server that never ends its chain cannot keep a run forever. */
export const MAX_PAGES = 100_000;

/** The first page answered 404: the parent or id does not exist (for this app). */
export class NotFound extends Error {
  constructor(readonly url: string) {
    super(`${url}: 404 Not Found`);
    this.name = 'NotFound';
  }
}

/** The first request for an id answered 400: the API rejects the id itself as invalid. */
export class Rejected extends Error {
  constructor(
    readonly url: string,
    readonly apiMessage: string,
  ) {
    super(`${url}: 400 ${apiMessage}`);
    this.name = 'Rejected';
  }
}

type Paged<T extends Paginator['type']> = Extract<Paginator, { type: T }>;

export function pages(src: PageSource, req: PageRequest): AsyncGenerator<unknown[]> {
  const p = src.desc.paginator;
  if (p.type === 'offset') return offsetPages(src, req, p);
  if (p.type === 'cursor' || p.type === 'next') return linkPages(src, req, p);
  return singlePage(src, req);
}

/** The items at the descriptor's record path and the object around them (where paging fields are). */
function pick(src: PageSource, data: unknown, query: Query): { items: unknown[]; container: JsonRecord } {
  const path = src.desc.recordPath.replace(/\{(\w+)\}/g, (_m, k: string) => String(query[k] ?? ''));
  const items = at(data, path);
  const parent = path.includes('.') ? at(data, path.split('.').slice(0, -1).join('.')) : data;
  const container = (parent && typeof parent === 'object' && !Array.isArray(parent) ? parent : {}) as JsonRecord;
  return { items: Array.isArray(items) ? items : items === undefined || items === null ? [] : [items], container };
}

async function get(src: PageSource, req: PageRequest, url: string, params: Query | undefined, first: boolean): Promise<unknown> {
  let res;
  try {
    res = await src.ctx.http.get(url, {
      params,
      label: src.endpoint,
      auth: src.auth,
      etag: req.etag,
      accept: first && req.missingOk ? [404] : undefined,
    });
  } catch (e) {
    if (first && req.invalidOk && e instanceof HttpError && e.status === 400) throw new Rejected(url, e.apiMessage);
    throw e;
  }
  if (res.status === 404) throw new NotFound(url);
  return res.data;
}

function totalOf(container: JsonRecord, field: string | undefined): number | undefined {
  const t = at(container, field ?? 'total');
  return typeof t === 'number' ? t : undefined;
}

async function* singlePage(src: PageSource, req: PageRequest): AsyncGenerator<unknown[]> {
  const data = await get(src, req, req.url, req.query, true);
  yield pick(src, data, req.query).items;
}

/**
 * Offset paging: the next page is asked for with our own parameters at `offset + limit` while the
 * API says there is more, not by following `next` verbatim: an API's links may rename parameters
 * (Spotify's search links carry `query=` where the request had `q=`), and our limit and filters
 * must stay the same.
 */
async function* offsetPages(src: PageSource, req: PageRequest, p: Paged<'offset'>): AsyncGenerator<unknown[]> {
  const { desc, ctx } = src;
  const limit = pageSize(desc, src.mode);
  const limitParam = p.limitParam ?? 'limit';
  const offsetParam = p.offsetParam ?? 'offset';
  let offset = 0;
  let seen = 0;
  let total: number | undefined;
  let capped = false;
  let more = false;
  for (let n = 0; n < src.maxPages; n++) {
    const query = { ...req.query, [limitParam]: limit, [offsetParam]: offset };
    const { items, container } = pick(src, await get(src, req, req.url, query, n === 0), query);
    const first = total === undefined;
    total = totalOf(container, p.totalField) ?? total;
    if (first && total !== undefined) ctx.expectTotal?.(total);
    seen += items.length;
    yield items;
    const next = at(container, p.nextField ?? 'next');
    // Whether there is more: the API's `next` when it sends one, else its total, else a full page.
    more = next !== undefined ? !!next : total !== undefined ? offset + limit < total : items.length >= limit;
    if (!more || items.length === 0) {
      more = false;
      break;
    }
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
  } else if (more) {
    pageBound(src, req, seen);
  } else if (total !== undefined && seen !== total) {
    ctx.logger.warn(`${what}: read ${seen} items but the API reported total ${total} (the data changed during the read?)`);
    ctx.note('total_mismatch');
  }
}

/**
 * Link paging: after each page, the next is the cursor it returns (sent as `cursorParam`) or the
 * `next` URL it names (absolute, carrying its own query), until there is none, a page is empty, or
 * the API's window is full.
 */
async function* linkPages(src: PageSource, req: PageRequest, p: Paged<'cursor'> | Paged<'next'>): AsyncGenerator<unknown[]> {
  const { ctx } = src;
  const window = p.window;
  const byCursor = p.type === 'cursor' && p.cursorField ? p : undefined;
  let url: string | null = req.url;
  let params: Query | undefined = { ...req.query, [p.limitParam ?? 'limit']: pageSize(src.desc, src.mode) };
  // Every cursor or URL asked for: a server that hands one back again would loop forever.
  const asked = new Set<string>();
  let count = 0;
  let total: number | undefined;
  let full = false;
  let n = 0;
  for (; url && n < src.maxPages; n++) {
    const { items, container } = pick(src, await get(src, req, url, params, n === 0), req.query);
    total = totalOf(container, p.totalField) ?? total;
    count += items.length;
    yield items;
    if (items.length === 0) break;
    // The API never returns more than its window: once we hold that many, a further page can
    // only be empty, so do not spend a request on it.
    if (window !== undefined && count >= window) {
      full = true;
      break;
    }
    let next: string | null;
    if (byCursor) {
      const cursor = byCursor.moreField && at(container, byCursor.moreField) === false ? undefined : at(container, byCursor.cursorField!);
      next = cursor === undefined || cursor === null || cursor === '' ? null : textOf(cursor);
      if (next !== null) params = { ...params, [byCursor.cursorParam]: next };
    } else {
      const link = at(container, p.nextField ?? 'next');
      next = typeof link === 'string' && link ? link : null;
      url = next;
      params = undefined; // the link carries its own query (and the cursor)
    }
    if (next !== null && asked.has(next)) {
      ctx.logger.warn(`${describe(src, req)}: the API named the same next page twice (${byCursor ? 'cursor' : 'link'} ${next}); stopped after ${count} items`);
      ctx.note('repeated_page');
      return;
    }
    if (next === null) url = null;
    else asked.add(next);
  }
  if (url && n >= src.maxPages) pageBound(src, req, count);
  else if (!full && total !== undefined && count !== total) {
    ctx.logger.warn(`${describe(src, req)}: read ${count} items but the API reported total ${total} (the data changed during the read?)`);
    ctx.note('total_mismatch');
  }
}

function pageBound(src: PageSource, req: PageRequest, seen: number): void {
  src.ctx.logger.warn(`${describe(src, req)}: stopped after ${src.maxPages} pages (${seen} items) although the API names more: the most one read may request`);
  src.ctx.note('max_pages');
}

function describe(src: PageSource, req: PageRequest): string {
  const fanned = (src.desc.fanOut ?? []).map((f) => `${f.query}=${String(req.query[f.query])}`);
  return [req.url, ...fanned].join(' ');
}
