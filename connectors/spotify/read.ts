/**
 * Reading a stream: one generic reader driven by the endpoint descriptor (path, paginator, page
 * and batch sizes per mode, fan-out parameters, the fields it adds), plus the few behaviours
 * Spotify needs beyond that, each declared as data on the descriptor: parents the API refuses
 * (owner rule, Spotify-owned playlists), skip-unchanged by snapshot_id, 404s that skip a parent,
 * incremental reads by cursor (recently-played) or by a newest-first field (saved tracks).
 */
import { HttpError, UserError, type AuthProvider, type HttpClient, type JsonRecord, type ReadContext, type StreamSpec } from '../../core/plugin-api.ts';
import { apiMode, batchSize, endpoints, type ParentRule, type SpotifyEndpoint } from './endpoints.ts';
import { SpotifyAuth } from './auth.ts';
import { normalize } from './normalize.ts';
import { NotFound, at, fill, pages, type PageRequest, type PageSource, type Query } from './streams/pages.ts';
import type { SpotifyConfig } from './config.ts';

/** One auth session per run (per shared HTTP client): tokens are cached for the run. */
const sessions = new WeakMap<HttpClient, SpotifyAuth>();
const users = new WeakMap<HttpClient, Promise<string>>();

export function session(ctx: {
  http: HttpClient;
  config: SpotifyConfig;
  updateSecret?(configKey: string, value: string): Promise<void>;
}): SpotifyAuth {
  let s = sessions.get(ctx.http);
  if (!s) {
    s = new SpotifyAuth(ctx.http, ctx.config);
    sessions.set(ctx.http, s);
  }
  // A rotated refresh token goes back to the engine at once: the old one may already be dead.
  const update = ctx.updateSecret;
  if (update && !s.onRotate) s.onRotate = (token) => void update('refresh_token', token);
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

/** One combination of fan-out values: the query parameters it sends and the fields it records. */
interface Unit {
  query: Query;
  tags: JsonRecord;
}

/** Everything one stream's read needs, resolved once. */
interface Reader extends PageSource {
  spec: StreamSpec;
  ctx: ReadContext<SpotifyConfig>;
  /** Query parameters of every request: fixed ones and the stream's scalar params. */
  base: Query;
  units: Unit[];
}

export async function* readStream(spec: StreamSpec, ctx: ReadContext<SpotifyConfig>): AsyncGenerator<JsonRecord> {
  const desc = endpoints[spec.endpoint];
  if (!desc) throw new UserError(`unknown Spotify endpoint "${spec.endpoint}"`);
  const mode = apiMode(ctx.config);
  // Before any request: validate() reports this at load time; a caller that skipped it stops here.
  const removed = desc.modes?.[mode]?.removed;
  if (removed) {
    throw new UserError(`endpoint ${spec.endpoint} is not available in ${mode} mode: ${removed.change} (since ${removed.date})`, `use ${removed.instead}`);
  }
  const params = withDefaults(desc, spec.params);
  const auth = session(ctx);
  const r: Reader = {
    endpoint: spec.endpoint,
    desc,
    mode,
    token: desc.auth === 'user' ? auth.user : auth.app,
    ctx,
    spec,
    ...queryOf(spec, desc, params),
  };
  try {
    if (desc.input === 'ids') yield* readIds(r);
    else if (desc.input === 'for_each') yield* readForEach(r);
    else yield* readPlain(r);
  } catch (e) {
    throw explainApiError(e);
  }
}

/** The stream's params with the defaults its parameters schema declares. */
function withDefaults(desc: SpotifyEndpoint, params: JsonRecord): JsonRecord {
  const props = (desc.parameters?.properties ?? {}) as Record<string, { default?: unknown }>;
  const out: JsonRecord = { ...params };
  for (const [k, p] of Object.entries(props)) if (out[k] === undefined && p.default !== undefined) out[k] = p.default;
  return out;
}

/** Base query and fan-out units (the cartesian product of the fan-out lists, in order). */
function queryOf(spec: StreamSpec, desc: SpotifyEndpoint, params: JsonRecord): { base: Query; units: Unit[] } {
  const fanned = new Set((desc.fanOut ?? []).map((f) => f.param));
  const base: Query = { ...desc.fixedQuery };
  for (const [k, v] of Object.entries(params)) {
    if (fanned.has(k) || v === undefined || v === null) continue;
    base[k] = typeof v === 'number' ? v : Array.isArray(v) ? v.join(',') : String(v);
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

interface Scope extends PageRequest {
  /** Fields every record of this read gets (parent id, fan-out values). */
  added: JsonRecord;
  /** Stop the read at the first item for which this holds (no further request). */
  stopAt?: (item: JsonRecord) => boolean;
}

/** The normalized records of one paged read, with rank/position counted across its pages. */
async function* records(r: Reader, scope: Scope): AsyncGenerator<JsonRecord> {
  const { desc } = r;
  let index = 0;
  for await (const items of pages(r, scope)) {
    for (const it of items) {
      if (it === null || typeof it !== 'object') {
        // Spotify leaves null holes in some result lists (e.g. search): keep positions, skip the hole.
        r.ctx.note('null_result');
        index++;
        continue;
      }
      if (scope.stopAt?.(it as JsonRecord)) return;
      const added: JsonRecord = { ...scope.added };
      if (desc.positionField) added[desc.positionField] = index;
      if (desc.rankField) added[desc.rankField] = index + 1;
      index++;
      yield normalize(r.endpoint, it as JsonRecord, added);
    }
  }
}

/** Endpoints without input: one paged read per fan-out unit, incremental where declared. */
async function* readPlain(r: Reader): AsyncGenerator<JsonRecord> {
  const { ctx, desc } = r;
  const inc = r.spec.incremental ? desc.incremental : undefined;
  const field = inc?.field;
  const cursorParam = desc.paginator.type === 'cursor' ? desc.paginator.cursorParam : undefined;
  // cursor: the API filters by `after` (Unix ms of the newest item already read).
  const after = inc?.kind === 'cursor' && cursorParam ? (ctx.state.cursor as string | undefined) : undefined;
  // field: the list is newest first, so the first item at or before the saved value ends the read.
  const saved = inc?.kind === 'field' && field ? (ctx.state[field] as string | undefined) : undefined;
  const savedMs = saved !== undefined ? Date.parse(saved) : NaN;
  // The newest value of `field` read so far (Unix ms) and its text as the API wrote it.
  let newest = inc?.kind === 'cursor' ? (after ? Number(after) : 0) : Number.isFinite(savedMs) ? savedMs : 0;
  let newestText = saved;
  let count = 0;
  for (const unit of r.units) {
    const query: Query = { ...r.base, ...unit.query, ...(after && cursorParam ? { [cursorParam]: after } : {}) };
    const stopAt = Number.isFinite(savedMs) && field ? (it: JsonRecord) => Date.parse(String(it[field])) <= savedMs : undefined;
    for await (const rec of records(r, { url: desc.path, query, added: unit.tags, stopAt })) {
      if (field) {
        const t = Date.parse(String(rec[field]));
        if (Number.isFinite(t) && t > newest) {
          newest = t;
          newestText = String(rec[field]);
        }
      }
      count++;
      yield rec;
    }
  }
  if (inc?.kind === 'cursor') {
    const window = desc.paginator.type === 'cursor' ? desc.paginator.window : undefined;
    if (after && window !== undefined && count >= window) {
      ctx.logger.warn(`${count} new plays since the last run: the API only keeps the last ${window}, so plays between runs may be missing; run more often (the schedule) or import the streaming-history export`);
      ctx.note('possible_gap');
    }
    ctx.setState({ cursor: newest ? String(newest) : after });
  } else if (inc?.kind === 'field' && field) {
    ctx.setState(newestText !== undefined ? { [field]: newestText } : {});
  }
}

function valueAt(record: JsonRecord, path: string[]): unknown {
  return path.reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as JsonRecord)[k] : undefined), record);
}

/** Whether a parent record is one the API refuses under `rule` (so no request is spent on it). */
function refused(rule: ParentRule, parent: JsonRecord, me: string | undefined): boolean {
  const owner = (parent.owner as JsonRecord | undefined)?.id;
  if (rule === 'spotify_owned') return owner === 'spotify';
  // not_owned: Development Mode reads items only of playlists the user owns or collaborates on.
  return owner !== me && parent.collaborative !== true;
}

/** Fan-out over parent records: one paged read per distinct parent, skipping what need not be read. */
async function* readForEach(r: Reader): AsyncGenerator<JsonRecord> {
  const { ctx, desc, spec } = r;
  const path = spec.forEach ?? ['id'];
  const versions: Record<string, string> = { ...((ctx.state.versions as Record<string, string>) ?? {}) };
  const rules = desc.skipParents?.[r.mode] ?? [];
  const me = rules.some((x) => x.rule === 'not_owned') ? await currentUserId(r) : undefined;
  const done = new Set<string>();
  for (const parent of ctx.parents ?? []) {
    const id = valueAt(parent, path);
    if (typeof id !== 'string' || !id) continue;
    if (done.has(id)) {
      ctx.note('skipped_duplicate');
      continue;
    }
    done.add(id);
    const rule = rules.find((x) => refused(x.rule, parent, me));
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
    // Buffer one parent's records: a read cut short (quota) must not commit half a playlist,
    // which would replace its complete earlier version.
    const buffer = await readParent(r, id, added, true);
    if (!buffer) continue;
    yield* buffer;
    if (desc.versionField && version) {
      versions[id] = version;
      ctx.setState({ versions });
    }
  }
  if (desc.versionField) ctx.setState({ versions });
}

/** Every record of one parent or id (all fan-out units), or undefined when it answered 404. */
async function readParent(r: Reader, id: string, added: JsonRecord, etag: boolean): Promise<JsonRecord[] | undefined> {
  const buffer: JsonRecord[] = [];
  try {
    for (const unit of r.units) {
      const scope: Scope = { url: fill(r.desc.path, { id }), query: { ...r.base, ...unit.query }, added: { ...added, ...unit.tags }, missingOk: true, etag };
      for await (const rec of records(r, scope)) buffer.push(rec);
    }
  } catch (e) {
    if (!(e instanceof NotFound)) throw e;
    const why = r.desc.notFound?.[r.mode];
    r.ctx.logger.warn(`${r.endpoint}: ${id} not found (404), skipped${why ? ` (${why})` : ''}`);
    r.ctx.note('not_found');
    return undefined;
  }
  return buffer;
}

async function currentUserId(r: Reader): Promise<string> {
  let p = users.get(r.ctx.http);
  if (!p) {
    p = r.ctx.http.get<{ id: string }>('/me', { label: 'me', auth: session(r.ctx).user }).then((res) => res.data.id);
    users.set(r.ctx.http, p);
  }
  return p;
}

/** Ids input: batches where the mode allows them, else one (paged) read per id; every id once. */
async function* readIds(r: Reader): AsyncGenerator<JsonRecord> {
  const { ctx, desc } = r;
  const ids = [...new Set(ctx.ids ?? [])];
  const size = batchSize(desc, r.mode);
  if (desc.batch && size > 1) {
    for (let i = 0; i < ids.length; i += size) {
      const chunk = ids.slice(i, i + size);
      const res = await ctx.http.get(desc.batch.path, { params: { ...r.base, [desc.batch.param]: chunk.join(',') }, label: r.endpoint, auth: r.token });
      const list = at(res.data, desc.batch.recordPath);
      const found = Array.isArray(list) ? list : [];
      for (const [k, id] of chunk.entries()) {
        const it = found[k];
        if (it && typeof it === 'object') {
          yield normalize(r.endpoint, it as JsonRecord, desc.parentField ? { [desc.parentField]: id } : {});
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
    const buffer = await readParent(r, id, desc.parentField ? { [desc.parentField]: id } : {}, false);
    if (buffer) yield* buffer;
  }
}
