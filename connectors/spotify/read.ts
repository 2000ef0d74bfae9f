/**
 * Reading a stream: one generic reader driven by the endpoint descriptor (paths, paginator,
 * batch sizes per mode), plus the few behaviours Spotify needs beyond that (owner rule for
 * playlist items, skip-unchanged by snapshot_id, the 50-play window of recently-played).
 */
import { HttpError, UserError, type EndpointDescriptor, type HttpClient, type JsonRecord, type ReadContext, type StreamSpec, type AuthProvider } from '../../core/plugin-api.ts';
import { apiMode, batchSize, endpoints, pageSize } from './endpoints.ts';
import { SpotifyAuth } from './auth.ts';
import { normalize } from './normalize.ts';
import type { SpotifyConfig } from './config.ts';

/** One auth session per run (per shared HTTP client): tokens are cached for the run. */
const sessions = new WeakMap<HttpClient, SpotifyAuth>();
const users = new WeakMap<HttpClient, Promise<string>>();

export function session(ctx: { http: HttpClient; config: SpotifyConfig }): SpotifyAuth {
  let s = sessions.get(ctx.http);
  if (!s) {
    s = new SpotifyAuth(ctx.http, ctx.config);
    sessions.set(ctx.http, s);
  }
  return s;
}

/** Spotify's account-level 403s explained in one line, with the fix. */
export function explainApiError(e: unknown): unknown {
  if (!(e instanceof HttpError)) return e;
  const msg = e.apiMessage;
  if (e.status === 403 && /insufficient client scope/i.test(msg)) {
    return new UserError(`${e.label}: Spotify says "Insufficient client scope": the token lacks a scope this endpoint needs`, 'run `npx spotify-pipeline login` again; it asks for the scopes of every stream in pipeline.yaml');
  }
  if (e.status === 403 && /premium/i.test(msg)) {
    return new UserError(`${e.label}: Spotify requires the app owner to have an active Premium subscription (Development Mode, since Feb 2026)`, 'renew Premium on the account that owns the app; access can take a few hours to return');
  }
  if (e.status === 403 && /(not be registered|not registered|user may not)/i.test(msg)) {
    return new UserError(`${e.label}: the Spotify user is not on this app's allowlist (Development Mode allows 5 users)`, 'add the user under User Management in the app dashboard on developer.spotify.com');
  }
  return e;
}

function at(obj: unknown, path: string): unknown {
  if (!path) return obj;
  let cur = obj;
  for (const k of path.split('.')) cur = cur && typeof cur === 'object' ? (cur as JsonRecord)[k] : undefined;
  return cur;
}

function fill(path: string, id: string): string {
  return path.replace('{id}', encodeURIComponent(id));
}

interface PageLoop {
  http: HttpClient;
  label: string;
  auth: AuthProvider;
  desc: EndpointDescriptor;
  url: string;
  params: Record<string, string | number | undefined>;
  etag?: boolean;
}

/** Offset paging: follow `next` to the end, then hold the count against `total`. */
async function* offsetPages(loop: PageLoop, ctx: ReadContext): AsyncGenerator<unknown[]> {
  let url: string | null = loop.url;
  let params: PageLoop['params'] | undefined = loop.params;
  let seen = 0;
  let total: number | undefined;
  // Bounded: a server that never returns next=null cannot keep us forever.
  for (let pages = 0; url && pages < 100_000; pages++) {
    const res: { data: unknown } = await loop.http.get(url, { params, label: loop.label, auth: loop.auth, etag: loop.etag });
    const page = at(res.data, loop.desc.recordPath) as unknown[] | undefined;
    const container = loop.desc.recordPath.includes('.') ? at(res.data, loop.desc.recordPath.split('.').slice(0, -1).join('.')) : res.data;
    const body = (container ?? {}) as { next?: string | null; total?: number };
    total = typeof body.total === 'number' ? body.total : total;
    const items = Array.isArray(page) ? page : [];
    seen += items.length;
    yield items;
    url = body.next ?? null;
    params = undefined; // `next` is an absolute URL carrying its own query
  }
  if (total !== undefined && seen !== total) {
    ctx.logger.warn(`${loop.label}: read ${seen} items but the API reported total ${total} (the data changed during the read?)`);
    ctx.note('total_mismatch');
  }
}

export async function* readStream(spec: StreamSpec, ctx: ReadContext<SpotifyConfig>): AsyncGenerator<JsonRecord> {
  const desc = endpoints[spec.endpoint];
  if (!desc) throw new UserError(`unknown Spotify endpoint "${spec.endpoint}"`);
  const mode = apiMode(ctx.config);
  const removed = desc.modes?.[mode]?.removed;
  if (removed) {
    throw new UserError(`endpoint ${spec.endpoint} is not available in ${mode} mode: ${removed.change}`, `use ${removed.instead}`);
  }
  const auth = session(ctx);
  const token = desc.auth === 'user' ? auth.user : auth.app;
  const label = spec.endpoint;
  const params: Record<string, string | number | undefined> = { ...(spec.params as Record<string, string | number>) };
  try {
    if (desc.input === 'ids') {
      yield* readIds(spec, ctx, desc, token, mode);
    } else if (desc.input === 'for_each') {
      yield* readForEach(spec, ctx, desc, token, mode, params);
    } else if (desc.paginator.type === 'cursor') {
      yield* readCursor(spec, ctx, desc, token, mode, params);
    } else if (desc.paginator.type === 'offset') {
      const loop: PageLoop = { http: ctx.http, label, auth: token, desc, url: desc.path, params: { ...params, limit: pageSize(desc, mode), offset: 0 } };
      for await (const items of offsetPages(loop, ctx)) for (const it of items) yield normalize(spec.endpoint, it as JsonRecord);
    } else {
      const res = await ctx.http.get(desc.path, { params, label, auth: token });
      const items = at(res.data, desc.recordPath);
      for (const it of Array.isArray(items) ? items : [items]) if (it) yield normalize(spec.endpoint, it as JsonRecord);
    }
  } catch (e) {
    throw explainApiError(e);
  }
}

/** recently-played: incremental on the `after` cursor (Unix ms of the newest play already read). */
async function* readCursor(spec: StreamSpec, ctx: ReadContext<SpotifyConfig>, desc: EndpointDescriptor, token: AuthProvider, mode: string, params: PageLoop['params']): AsyncGenerator<JsonRecord> {
  if (desc.paginator.type !== 'cursor') return;
  const window = desc.paginator.window ?? Infinity;
  const limit = pageSize(desc, mode);
  const after = spec.incremental ? (ctx.state.cursor as string | undefined) : undefined;
  let url: string | null = desc.path;
  let query: PageLoop['params'] | undefined = { ...params, limit, ...(after ? { after } : {}) };
  let newest = after ? Number(after) : 0;
  let count = 0;
  for (let pages = 0; url && pages < 10_000; pages++) {
    const res: { data: { items?: JsonRecord[]; next?: string | null } } = await ctx.http.get(url, { params: query, label: spec.endpoint, auth: token });
    const items = res.data.items ?? [];
    for (const it of items) {
      const t = Date.parse(String(it.played_at));
      if (Number.isFinite(t) && t > newest) newest = t;
      count++;
      yield normalize(spec.endpoint, it);
    }
    // The API never returns more than the newest `window` items: once we hold that many, a
    // further page can only be empty, so do not spend a request on it.
    if (items.length === 0 || count >= window) break;
    url = res.data.next ?? null;
    query = undefined;
  }
  if (after && count >= window) {
    ctx.logger.warn(`${count} new plays since the last run: the API only keeps the last ${window}, so plays between runs may be missing; run more often (the schedule) or import the streaming-history export`);
    ctx.note('possible_gap');
  }
  if (spec.incremental) ctx.setState({ cursor: newest ? String(newest) : after });
}

/** Fan-out over parent records (playlists): one paged read per parent, skipping unchanged ones. */
async function* readForEach(spec: StreamSpec, ctx: ReadContext<SpotifyConfig>, desc: EndpointDescriptor, token: AuthProvider, mode: string, params: PageLoop['params']): AsyncGenerator<JsonRecord> {
  const parents = ctx.parents ?? [];
  const field = spec.forEach ?? ['id'];
  const versions: Record<string, string> = { ...((ctx.state.versions as Record<string, string>) ?? {}) };
  const isPlaylist = desc.path.startsWith('/playlists/');
  const me = isPlaylist && mode === 'development' ? await currentUserId(ctx, token) : undefined;
  const done = new Set<string>();
  for (const parent of parents) {
    const id = field.reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as JsonRecord)[k] : undefined), parent);
    if (typeof id !== 'string' || !id || done.has(id)) continue;
    done.add(id);
    if (me !== undefined) {
      // Development Mode: items are readable only for playlists the user owns or collaborates on
      // (others answer 403), so do not spend a request on them.
      const owner = (parent.owner as JsonRecord | undefined)?.id;
      if (owner !== me && parent.collaborative !== true) {
        ctx.note('skipped_not_owned');
        continue;
      }
    }
    const version = desc.versionField ? (parent[desc.versionField] as string | undefined) : undefined;
    if (spec.skipUnchanged && version && versions[id] === version) {
      ctx.note('skipped_unchanged');
      continue;
    }
    // Buffer one parent's items: a read cut short (quota) must not commit half a playlist,
    // which would replace its complete earlier version.
    const buffer: JsonRecord[] = [];
    const loop: PageLoop = { http: ctx.http, label: spec.endpoint, auth: token, desc, url: fill(desc.path, id), params: { ...params, limit: pageSize(desc, mode), offset: 0 }, etag: true };
    if (desc.paginator.type === 'offset') {
      for await (const items of offsetPages(loop, ctx)) {
        for (const it of items) buffer.push(normalize(spec.endpoint, it as JsonRecord, { parentId: id, version, position: buffer.length }));
      }
    } else {
      const res = await ctx.http.get(loop.url, { params, label: spec.endpoint, auth: token });
      const items = at(res.data, desc.recordPath);
      for (const it of Array.isArray(items) ? items : []) buffer.push(normalize(spec.endpoint, it as JsonRecord, { parentId: id, version, position: buffer.length }));
    }
    yield* buffer;
    if (version) versions[id] = version;
    ctx.setState({ versions });
  }
  ctx.setState({ versions });
}

async function currentUserId(ctx: ReadContext<SpotifyConfig>, token: AuthProvider): Promise<string> {
  let p = users.get(ctx.http);
  if (!p) {
    p = ctx.http.get<{ id: string }>('/me', { label: 'me', auth: token }).then((r) => r.data.id);
    users.set(ctx.http, p);
  }
  return p;
}

/** Ids input: batches where the mode allows them, else one request per id; every id once. */
async function* readIds(spec: StreamSpec, ctx: ReadContext<SpotifyConfig>, desc: EndpointDescriptor, token: AuthProvider, mode: string): AsyncGenerator<JsonRecord> {
  const ids = [...new Set(ctx.ids ?? [])];
  const size = batchSize(desc, mode);
  if (desc.batch && size > 1) {
    for (let i = 0; i < ids.length; i += size) {
      const chunk = ids.slice(i, i + size);
      const res = await ctx.http.get(desc.batch.path, { params: { [desc.batch.param]: chunk.join(',') }, label: spec.endpoint, auth: token });
      const list = at(res.data, desc.batch.recordPath);
      for (const it of Array.isArray(list) ? list : []) {
        if (it) yield normalize(spec.endpoint, it as JsonRecord);
        else ctx.note('not_found');
      }
    }
    return;
  }
  for (const id of ids) {
    const res = await ctx.http.get(fill(desc.path, id), { label: spec.endpoint, auth: token, accept: [404] });
    if (res.status === 404) {
      ctx.logger.warn(`${spec.endpoint}: id ${id} not found (404), skipped`);
      ctx.note('not_found');
      continue;
    }
    yield normalize(spec.endpoint, res.data as JsonRecord);
  }
}
