/**
 * The declarative reader's page loops against a loopback server (real sockets, the real HTTP
 * client): how many pages each paginator asks for, with which parameters, when it stops (end of
 * data, `total`, max offset, window, a repeated link, the page bound) and what it warns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpClient } from '../../core/http.ts';
import { MAX_PAGES, NotFound, pages, type PageSource } from '../../core/declarative/index.ts';
import type { Paginator, RestEndpoint } from '../../core/plugin-api.ts';

type Handler = (q: URLSearchParams) => { status?: number; body: unknown };
let handlers: Record<string, Handler> = {};
let seen: Array<{ path: string; query: URLSearchParams }> = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    seen.push({ path: url.pathname, query: url.searchParams });
    const h = handlers[url.pathname];
    const out = h ? h(url.searchParams) : { status: 404, body: { error: 'no route' } };
    res.writeHead(out.status ?? 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(out.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const numbers = (n: number) => Array.from({ length: n }, (_, i) => ({ n: i }));

/** One paged read of `paginator` at /items: the items, the requests, the warnings and notes. */
async function read(paginator: Paginator, extra: Partial<RestEndpoint> = {}, opts: { maxPages?: number; query?: Record<string, string>; missingOk?: boolean } = {}) {
  seen = [];
  const warnings: string[] = [];
  const notes: Record<string, number> = {};
  const desc: RestEndpoint = { description: 'test', path: '/items', auth: 'none', scopes: [], paginator, recordPath: 'items', recordSchema: { type: 'object' }, ...extra };
  const src: PageSource = {
    endpoint: 'items',
    desc,
    mode: 'default',
    ctx: {
      http: new HttpClient({ baseURL: base, maxAttempts: 1 }),
      logger: { info: () => undefined, debug: () => undefined, warn: (m) => void warnings.push(m) },
      note: (k, n = 1) => void (notes[k] = (notes[k] ?? 0) + n),
    },
    maxPages: opts.maxPages ?? MAX_PAGES,
  };
  const items: unknown[] = [];
  let pageCount = 0;
  for await (const page of pages(src, { url: desc.path, query: opts.query ?? {}, missingOk: opts.missingOk })) {
    pageCount++;
    items.push(...page);
  }
  return { items, pages: pageCount, requests: seen, warnings, notes };
}

/** An offset API over `all`, answering `{items, total, next}` (each optional) with its own parameter names. */
function offsetApi(all: unknown[], o: { total?: number | null; next?: boolean; limit?: string; offset?: string } = {}): Handler {
  return (q) => {
    const limit = Number(q.get(o.limit ?? 'limit'));
    const offset = Number(q.get(o.offset ?? 'offset'));
    const body: Record<string, unknown> = { items: all.slice(offset, offset + limit) };
    if (o.total !== null) body.total = o.total ?? all.length;
    if (o.next !== false) body.next = offset + limit < all.length ? `${base}/items?offset=${offset + limit}` : null;
    return { body };
  };
}

describe('offset paginator', () => {
  const offset = (extra: Partial<Extract<Paginator, { type: 'offset' }>> = {}): Paginator => ({ type: 'offset', pageSize: { default: 10 }, ...extra });

  it('asks for ceil(n / size) pages at our own offsets while `next` is set', async () => {
    handlers = { '/items': offsetApi(numbers(45)) };
    const r = await read(offset());
    expect(r.items).toHaveLength(45);
    expect(r.requests.map((s) => [s.query.get('limit'), s.query.get('offset')])).toEqual([['10', '0'], ['10', '10'], ['10', '20'], ['10', '30'], ['10', '40']]);
    expect(r.warnings).toEqual([]);
  });

  it('without `next`, pages while offset + limit < total; with neither, until a short page', async () => {
    handlers = { '/items': offsetApi(numbers(40), { next: false }) };
    expect((await read(offset())).requests).toHaveLength(4);
    handlers = { '/items': offsetApi(numbers(45), { next: false, total: null }) };
    const bare = await read(offset());
    expect(bare.items).toHaveLength(45);
    expect(bare.requests).toHaveLength(5);
    // A full last page cannot tell: one more request finds it empty.
    handlers = { '/items': offsetApi(numbers(40), { next: false, total: null }) };
    expect((await read(offset())).requests).toHaveLength(5);
  });

  it('uses the declared parameter names and field paths', async () => {
    handlers = {
      '/items': (q) => {
        const size = Number(q.get('size'));
        const start = Number(q.get('start'));
        const all = numbers(25);
        return { body: { page: { items: all.slice(start, start + size), meta: { count: all.length, more: start + size < all.length } } } };
      },
    };
    const r = await read(offset({ limitParam: 'size', offsetParam: 'start', totalField: 'meta.count', nextField: 'meta.more' }), { recordPath: 'page.items' });
    expect(r.items).toHaveLength(25);
    expect(r.requests.map((s) => s.query.get('start'))).toEqual(['0', '10', '20']);
    expect(r.warnings).toEqual([]);
  });

  it('warns and notes when the count read differs from `total`', async () => {
    handlers = { '/items': offsetApi(numbers(45), { total: 50 }) };
    const r = await read(offset());
    expect(r.items).toHaveLength(45);
    expect(r.notes).toEqual({ total_mismatch: 1 });
    expect(r.warnings[0]).toMatch(/read 45 items but the API reported total 50/);
  });

  it('stops past maxOffset with a warning, without asking for the offset the API refuses', async () => {
    handlers = { '/items': offsetApi(numbers(100)) };
    const r = await read(offset(), { maxOffset: 20 });
    expect(r.requests.map((s) => s.query.get('offset'))).toEqual(['0', '10', '20']);
    expect(r.items).toHaveLength(30);
    expect(r.notes).toEqual({ offset_limit: 1 });
    expect(r.warnings[0]).toMatch(/only up to offset 20; read 30 of 100/);
  });

  it('stops at the page bound with a warning when the API always has more', async () => {
    handlers = { '/items': () => ({ body: { items: numbers(10), next: 'more' } }) };
    const r = await read(offset(), {}, { maxPages: 7 });
    expect(r.requests).toHaveLength(7);
    expect(r.notes).toEqual({ max_pages: 1 });
    expect(r.warnings[0]).toMatch(/stopped after 7 pages \(70 items\)/);
  });

  it('throws NotFound on a first-page 404 when the caller skips missing parents', async () => {
    handlers = {};
    await expect(read(offset(), {}, { missingOk: true })).rejects.toBeInstanceOf(NotFound);
  });
});

describe('cursor paginator', () => {
  /** A cursor API: items after `after`, `{data, cursor, has_more}`. */
  const cursorApi = (all: Array<{ n: number }>): Handler => (q) => {
    const after = q.has('after') ? Number(q.get('after')) : -1;
    const limit = Number(q.get('per_page'));
    const rest = all.filter((x) => x.n > after);
    const page = rest.slice(0, limit);
    return { body: { data: page, cursor: page.length ? page[page.length - 1].n : null, has_more: rest.length > limit } };
  };
  const cursor = (extra: Partial<Extract<Paginator, { type: 'cursor' }>> = {}): Paginator => ({ type: 'cursor', pageSize: { default: 10 }, cursorParam: 'after', cursorField: 'cursor', moreField: 'has_more', limitParam: 'per_page', ...extra });

  it('sends the cursor each page returns until `has_more` is false', async () => {
    handlers = { '/items': cursorApi(numbers(45)) };
    const r = await read(cursor(), { recordPath: 'data' });
    expect(r.items).toHaveLength(45);
    expect(r.requests.map((s) => s.query.get('after'))).toEqual([null, '9', '19', '29', '39']);
    expect(r.requests.every((s) => s.query.get('per_page') === '10')).toBe(true);
  });

  it('starts from the cursor in the request (an incremental read) and keeps the other parameters', async () => {
    handlers = { '/items': cursorApi(numbers(45)) };
    const r = await read(cursor(), { recordPath: 'data' }, { query: { after: '29', kind: 'x' } });
    expect(r.items).toHaveLength(15);
    expect(r.requests.map((s) => [s.query.get('after'), s.query.get('kind')])).toEqual([['29', 'x'], ['39', 'x']]);
  });

  it('stops once the window is full, without the request that could only be empty', async () => {
    handlers = { '/items': cursorApi(numbers(45)) };
    const r = await read(cursor({ window: 20 }), { recordPath: 'data' });
    expect(r.items).toHaveLength(20);
    expect(r.requests).toHaveLength(2);
  });

  it('stops with a warning when the API hands back a cursor it already gave', async () => {
    handlers = { '/items': () => ({ body: { data: numbers(10), cursor: 'same', has_more: true } }) };
    const r = await read(cursor(), { recordPath: 'data' });
    expect(r.requests).toHaveLength(2);
    expect(r.notes).toEqual({ repeated_page: 1 });
  });

  it('without a cursor field, follows `next` (which carries the cursor), as Spotify pages', async () => {
    const all = numbers(25);
    handlers = {
      '/items': (q) => {
        const after = q.has('after') ? Number(q.get('after')) : -1;
        const limit = Number(q.get('limit') ?? 10);
        const rest = all.filter((x) => x.n > after);
        const page = rest.slice(0, limit);
        return { body: { wrap: { items: page, total: all.length, next: rest.length > limit ? `${base}/items?after=${page[page.length - 1].n}&limit=${limit}` : null } } };
      },
    };
    const r = await read({ type: 'cursor', pageSize: { default: 10 }, cursorParam: 'after' }, { recordPath: 'wrap.items' });
    expect(r.items).toHaveLength(25);
    expect(r.requests.map((s) => s.query.get('after'))).toEqual([null, '9', '19']);
    expect(r.warnings).toEqual([]);
  });
});

describe('next-link paginator', () => {
  /** Pages of `all` linked by absolute URLs at `links.next`, with a `count`. */
  const linked = (all: unknown[], count = all.length): Handler => (q) => {
    const size = Number(q.get('limit'));
    const from = Number(q.get('page') ?? 0);
    const next = from + size < all.length ? `${base}/items?limit=${size}&page=${from + size}` : null;
    return { body: { items: all.slice(from, from + size), count, links: { next } } };
  };
  const next = (extra: Partial<Extract<Paginator, { type: 'next' }>> = {}): Paginator => ({ type: 'next', pageSize: { default: 10 }, nextField: 'links.next', totalField: 'count', ...extra });

  it('follows each absolute `next` URL verbatim until it is null', async () => {
    handlers = { '/items': linked(numbers(45)) };
    const r = await read(next());
    expect(r.items).toHaveLength(45);
    expect(r.requests.map((s) => s.query.get('page'))).toEqual([null, '10', '20', '30', '40']);
    expect(r.warnings).toEqual([]);
  });

  it('warns and notes a count that differs from the reported total', async () => {
    handlers = { '/items': linked(numbers(12), 15) };
    const r = await read(next());
    expect(r.pages).toBe(2);
    expect(r.notes).toEqual({ total_mismatch: 1 });
  });

  it('stops at the page bound on an endless chain, and on a link that repeats', async () => {
    let i = 0;
    handlers = { '/items': () => ({ body: { items: numbers(1), links: { next: `${base}/items?page=${++i}` } } }) };
    const endless = await read(next(), {}, { maxPages: 12 });
    expect(endless.requests).toHaveLength(12);
    expect(endless.notes).toEqual({ max_pages: 1 });
    handlers = { '/items': () => ({ body: { items: numbers(1), links: { next: `${base}/items?page=1` } } }) };
    const loop = await read(next());
    expect(loop.requests).toHaveLength(2);
    expect(loop.notes).toEqual({ repeated_page: 1 });
  });

  it('asks for the page size of the mode, the smallest declared for a mode it does not name', async () => {
    handlers = { '/items': linked(numbers(5)) };
    expect((await read(next())).requests[0].query.get('limit')).toBe('10');
    expect((await read(next({ pageSize: { small: 7, large: 20 } }))).requests[0].query.get('limit')).toBe('7');
  });
});

describe('single page', () => {
  it('sends one request and yields the items (or the whole body as one item)', async () => {
    handlers = { '/items': () => ({ body: { items: numbers(3), next: 'ignored' } }) };
    const r = await read({ type: 'none' });
    expect(r.requests).toHaveLength(1);
    expect(r.items).toHaveLength(3);
    handlers = { '/items': () => ({ body: { id: 'x' } }) };
    expect((await read({ type: 'none' }, { recordPath: '' })).items).toEqual([{ id: 'x' }]);
  });
});
