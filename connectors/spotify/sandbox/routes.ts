/**
 * The Web API routes (`/v1/...`), rendering the ground truth per profile. Handlers throw
 * `ApiError` for error answers; the server turns them into Spotify's regular error object (doc §6).
 * URLs are built on SPOTIFY_API_BASE; the server rewrites that prefix to its own address.
 */
import {
  RECENTLY_PLAYED_WINDOW, SPOTIFY_API_BASE, addedItem, createdPlaylist, nextSnapshotId, type AlbumGroup,
  type Episode, type FullTrack, type PlaylistItemTruth, type PlaylistTruth, type SandboxData, type TimeRange,
} from './data.ts';
import { GENRES, MARKETS } from './words.ts';
import type { AccessToken } from './auth.ts';
import { SPOTIFY_ID_RE, Rng, hashString } from './prng.ts';
import { FieldsSyntaxError, applyFields, parseFields } from './fields.ts';
import {
  isEditorialId, playlistReadable, renderAlbumBase, renderArtist, renderEpisode, renderPlaylistItem,
  renderPlaylistMeta, renderPrivateUser, renderPublicUser, renderShow, renderSimplifiedAlbum,
  renderSimplifiedPlaylist, renderSimplifiedTrack, renderTrack, type Limit, type ProfileRules,
} from './render.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** `null`: the message-less body of the Nov 2024 removals, `{"error":{"status":403}}`. */
    readonly apiMessage: string | null,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(apiMessage ?? String(status));
  }
}

export interface ApiResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Send a strong ETag and honour If-None-Match (doc §7: seen on playlist endpoints, /me/following). */
  etag?: boolean;
}

export interface RouteContext {
  data: SandboxData;
  rules: ProfileRules;
  token: AccessToken;
  query: URLSearchParams;
  params: Record<string, string>;
  /** Path and query of the request, for `href` fields. */
  path: string;
  indexes: Indexes;
}

/** A route's handler returns the response body (runRoute wraps it in a 200 ApiResult). */
type Handler = (ctx: RouteContext) => unknown;

interface Route {
  pattern: RegExp;
  keys: string[];
  /** Needs a user token; with scopes, at least one of them. */
  user?: { scopes: string[] };
  handler: Handler;
  etag?: boolean;
}

/** Lookups derived once from the truth. */
export interface Indexes {
  tracksByArtist: Map<string, FullTrack[]>;
  playlistsById: Map<string, PlaylistTruth>;
}

export function buildIndexes(data: SandboxData): Indexes {
  const tracksByArtist = new Map<string, FullTrack[]>();
  for (const t of data.tracks.values()) {
    for (const a of t.artists) {
      if (!tracksByArtist.has(a.id)) tracksByArtist.set(a.id, []);
      tracksByArtist.get(a.id)!.push(t);
    }
  }
  return { tracksByArtist, playlistsById: new Map(data.playlists.map((p) => [p.id, p])) };
}

// --------------------------------------------------------------------------------------------
// Helpers
// --------------------------------------------------------------------------------------------

const forbidden = () => new ApiError(403, 'Forbidden');
const notFound = () => new ApiError(404, 'Resource not found');

/** Endpoints removed for Development Mode on 2026-02-11 answer 403 "Forbidden" (doc §2). */
function requireFeb26(ctx: RouteContext): void {
  if (ctx.rules.feb26Removed) throw forbidden();
}

/** Endpoints removed on 2024-11-27 answer 403 with no message (doc §2.1, [OBS 2024-12]). */
function requireNov24(ctx: RouteContext): void {
  if (ctx.rules.nov24Removed) throw new ApiError(403, null);
}

function intParam(ctx: RouteContext, name: string): number | undefined {
  const raw = ctx.query.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw)) throw new ApiError(400, `Invalid ${name}`);
  return Number(raw);
}

function limitParam(ctx: RouteContext, l: Limit): number {
  const v = intParam(ctx, 'limit');
  if (v === undefined) return l.def;
  if (v < l.min || v > l.max) throw new ApiError(400, 'Invalid limit');
  return v;
}

function offsetParam(ctx: RouteContext, max = Number.MAX_SAFE_INTEGER): number {
  const v = intParam(ctx, 'offset') ?? 0;
  if (v < 0 || v > max) throw new ApiError(400, 'Invalid offset');
  return v;
}

function checkId(id: string): void {
  if (!SPOTIFY_ID_RE.test(id)) throw new ApiError(400, 'invalid id');
}

function idsParam(ctx: RouteContext, max: number): string[] {
  const raw = ctx.query.get('ids');
  if (!raw) throw new ApiError(400, 'invalid id');
  const ids = raw.split(',').map((s) => s.trim());
  if (ids.length > max) throw new ApiError(400, 'Too many ids requested');
  for (const id of ids) checkId(id);
  return ids;
}

/** Offset paging object (doc §4.1) with absolute `next`/`previous`. */
export function paging(
  path: string, extra: Record<string, string | undefined>, all: unknown[] | null, offset: number, limit: number,
  total: number, pageItems?: unknown[],
): Record<string, unknown> {
  const url = (o: number) => {
    const qs = new URLSearchParams();
    qs.set('offset', String(o));
    qs.set('limit', String(limit));
    for (const [k, v] of Object.entries(extra)) if (v !== undefined) qs.set(k, v);
    return `${SPOTIFY_API_BASE}${path}?${qs.toString()}`;
  };
  const items = pageItems ?? (all ?? []).slice(offset, offset + limit);
  return {
    href: url(offset),
    items,
    limit,
    next: limit > 0 && offset + limit < total ? url(offset + limit) : null,
    offset,
    previous: offset > 0 ? url(Math.max(0, offset - limit)) : null,
    total,
  };
}

function requestHref(ctx: RouteContext): string {
  return `${SPOTIFY_API_BASE}${ctx.path.replace(/^\/v1/, '')}`;
}

function applyFieldsParam(ctx: RouteContext, body: unknown): unknown {
  const spec = ctx.query.get('fields');
  if (!spec) return body;
  try {
    return applyFields(body, parseFields(spec));
  } catch (e) {
    if (e instanceof FieldsSyntaxError) throw new ApiError(400, 'Invalid fields');
    throw e;
  }
}

function extraParams(ctx: RouteContext, names: string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const n of names) out[n] = ctx.query.get(n) ?? undefined;
  return out;
}

// --------------------------------------------------------------------------------------------
// Catalog
// --------------------------------------------------------------------------------------------

function getArtist(ctx: RouteContext) {
  checkId(ctx.params.id);
  const a = ctx.data.artists.get(ctx.params.id);
  if (!a) throw notFound();
  return renderArtist(a, ctx.rules);
}

function getArtists(ctx: RouteContext) {
  requireFeb26(ctx);
  const ids = idsParam(ctx, 50);
  return { artists: ids.map((id) => { const a = ctx.data.artists.get(id); return a ? renderArtist(a, ctx.rules) : null; }) };
}

function getTrack(ctx: RouteContext) {
  checkId(ctx.params.id);
  const t = ctx.data.tracks.get(ctx.params.id);
  if (!t) throw notFound();
  return renderTrack(t, ctx.rules);
}

function getTracks(ctx: RouteContext) {
  requireFeb26(ctx);
  const ids = idsParam(ctx, 50);
  return { tracks: ids.map((id) => { const t = ctx.data.tracks.get(id); return t ? renderTrack(t, ctx.rules) : null; }) };
}

function fullAlbum(ctx: RouteContext, id: string) {
  const a = ctx.data.albums.get(id);
  if (!a) return null;
  const tracks = a.track_ids.map((tid) => renderSimplifiedTrack(ctx.data.tracks.get(tid)!, ctx.rules));
  // The embedded page holds 50 tracks, historically (doc §10 q9, [UNCONFIRMED]); follow `next`.
  const out = renderAlbumBase(a, ctx.rules);
  out.tracks = paging(`/albums/${id}/tracks`, {}, tracks, 0, 50, tracks.length);
  return out;
}

function getAlbum(ctx: RouteContext) {
  checkId(ctx.params.id);
  const out = fullAlbum(ctx, ctx.params.id);
  if (!out) throw notFound();
  return out;
}

function getAlbums(ctx: RouteContext) {
  requireFeb26(ctx);
  const ids = idsParam(ctx, 20);
  return { albums: ids.map((id) => fullAlbum(ctx, id)) };
}

function getAlbumTracks(ctx: RouteContext) {
  checkId(ctx.params.id);
  const a = ctx.data.albums.get(ctx.params.id);
  if (!a) throw notFound();
  const limit = limitParam(ctx, { min: 1, max: 50, def: 20 });
  const offset = offsetParam(ctx);
  const page = a.track_ids.slice(offset, offset + limit).map((tid) => renderSimplifiedTrack(ctx.data.tracks.get(tid)!, ctx.rules));
  return paging(`/albums/${a.id}/tracks`, extraParams(ctx, ['market']), null, offset, limit, a.track_ids.length, page);
}

const ALBUM_GROUPS: AlbumGroup[] = ['album', 'single', 'appears_on', 'compilation'];

function getArtistAlbums(ctx: RouteContext) {
  checkId(ctx.params.id);
  if (!ctx.data.artists.has(ctx.params.id)) throw notFound();
  // Dev: limit 0..10 (5); `limit>10` → 400 "Invalid limit" (doc §2.1).
  const limit = limitParam(ctx, ctx.rules.limits.artistAlbums);
  const offset = offsetParam(ctx);
  const groupsRaw = ctx.query.get('include_groups');
  let groups = ALBUM_GROUPS;
  if (groupsRaw) {
    const asked = groupsRaw.split(',').map((s) => s.trim()).filter(Boolean);
    if (asked.some((g) => !ALBUM_GROUPS.includes(g as AlbumGroup))) throw new ApiError(400, 'Invalid include_groups');
    groups = asked as AlbumGroup[];
  }
  const refs = (ctx.data.artistAlbums.get(ctx.params.id) ?? []).filter((r) => groups.includes(r.album_group));
  const page = refs.slice(offset, offset + limit).map((r) => renderSimplifiedAlbum(ctx.data.albums.get(r.album_id)!, ctx.rules, r.album_group));
  return paging(`/artists/${ctx.params.id}/albums`, extraParams(ctx, ['include_groups', 'market']), null, offset, limit, refs.length, page);
}

function getArtistTopTracks(ctx: RouteContext) {
  requireFeb26(ctx);
  checkId(ctx.params.id);
  if (!ctx.data.artists.has(ctx.params.id)) throw notFound();
  const list = (ctx.indexes.tracksByArtist.get(ctx.params.id) ?? []).slice()
    .sort((a, b) => b.popularity - a.popularity || (a.id < b.id ? -1 : 1)).slice(0, 10);
  return { tracks: list.map((t) => renderTrack(t, ctx.rules)) };
}

function getRelatedArtists(ctx: RouteContext) {
  requireNov24(ctx);
  checkId(ctx.params.id);
  const a = ctx.data.artists.get(ctx.params.id);
  if (!a) throw notFound();
  const related = [...ctx.data.artists.values()]
    .filter((b) => b.id !== a.id && b.genres.some((g) => a.genres.includes(g))).slice(0, 20);
  return { artists: related.map((b) => renderArtist(b, ctx.rules)) };
}

function getShow(ctx: RouteContext) {
  checkId(ctx.params.id);
  const s = ctx.data.shows.get(ctx.params.id);
  if (!s) throw notFound();
  const eps = [...ctx.data.episodes.values()].filter((e) => e.show.id === s.id).map((e) => { const { show: _s, ...rest } = e; return rest; });
  return { ...renderShow(s, ctx.rules), episodes: paging(`/shows/${s.id}/episodes`, {}, eps, 0, 50, eps.length) };
}

function getShowEpisodes(ctx: RouteContext) {
  checkId(ctx.params.id);
  const s = ctx.data.shows.get(ctx.params.id);
  if (!s) throw notFound();
  const limit = limitParam(ctx, { min: 1, max: 50, def: 20 });
  const offset = offsetParam(ctx);
  const eps = [...ctx.data.episodes.values()].filter((e) => e.show.id === s.id).map((e) => { const { show: _s, ...rest } = e; return rest; });
  return paging(`/shows/${s.id}/episodes`, {}, eps, offset, limit, eps.length);
}

function getEpisode(ctx: RouteContext) {
  checkId(ctx.params.id);
  const e = ctx.data.episodes.get(ctx.params.id);
  if (!e) throw notFound();
  return renderEpisode(e, ctx.rules);
}

function getEpisodesBatch(ctx: RouteContext) {
  requireFeb26(ctx);
  const ids = idsParam(ctx, 50);
  return { episodes: ids.map((id) => { const e = ctx.data.episodes.get(id); return e ? renderEpisode(e, ctx.rules) : null; }) };
}

function getShowsBatch(ctx: RouteContext) {
  requireFeb26(ctx);
  const ids = idsParam(ctx, 50);
  return { shows: ids.map((id) => { const s = ctx.data.shows.get(id); return s ? renderShow(s, ctx.rules) : null; }) };
}

const SEARCH_TYPES = ['album', 'artist', 'playlist', 'track', 'show', 'episode', 'audiobook'];

function getSearch(ctx: RouteContext) {
  const q = ctx.query.get('q') ?? ctx.query.get('query');
  if (!q || !q.trim()) throw new ApiError(400, 'No search query');
  const typeRaw = ctx.query.get('type');
  if (!typeRaw) throw new ApiError(400, 'Missing parameter type');
  const types = typeRaw.split(',').map((s) => s.trim());
  for (const t of types) if (!SEARCH_TYPES.includes(t)) throw new ApiError(400, `Bad search type field ${t}`);
  // Dev: limit 0..10 (5); offset 0..1000 (doc §2.1).
  const limit = limitParam(ctx, ctx.rules.limits.search);
  const offset = offsetParam(ctx, 1000);
  // Field filters (`artist:x`) and quotes are reduced to plain words; every word must occur in
  // the object's name, case-insensitively.
  const words = q.toLowerCase().replace(/["']/g, ' ').split(/\s+/).map((w) => w.replace(/^[a-z_]+:/, '')).filter(Boolean);
  const matches = (name: string) => { const n = name.toLowerCase(); return words.every((w) => n.includes(w)); };
  const byPopularity = <T extends { popularity: number; id: string }>(a: T, b: T) => b.popularity - a.popularity || (a.id < b.id ? -1 : 1);
  const extra = { query: q, type: typeRaw };
  const out: Record<string, unknown> = {};
  for (const t of types) {
    let all: unknown[] = [];
    if (t === 'track') all = [...ctx.data.tracks.values()].filter((x) => matches(x.name)).sort(byPopularity).map((x) => renderTrack(x, ctx.rules));
    if (t === 'artist') all = [...ctx.data.artists.values()].filter((x) => matches(x.name)).sort(byPopularity).map((x) => renderArtist(x, ctx.rules));
    if (t === 'album') all = [...ctx.data.albums.values()].filter((x) => matches(x.name)).sort(byPopularity).map((x) => renderSimplifiedAlbum(x, ctx.rules));
    if (t === 'playlist') all = ctx.data.playlists.filter((p) => p.public && matches(p.name)).map((p) => renderSimplifiedPlaylist(p, ctx.rules, SPOTIFY_API_BASE));
    if (t === 'show') all = [...ctx.data.shows.values()].filter((x) => matches(x.name)).map((x) => renderShow(x, ctx.rules));
    if (t === 'episode') all = [...ctx.data.episodes.values()].filter((x) => matches(x.name)).map((x) => { const { show: _s, ...rest } = x; return rest; });
    out[`${t}s`] = paging('/search', extra, all, offset, limit, all.length);
  }
  return out;
}

function getNewReleases(ctx: RouteContext) {
  requireFeb26(ctx);
  const limit = limitParam(ctx, { min: 1, max: 50, def: 20 });
  const offset = offsetParam(ctx);
  const all = [...ctx.data.albums.values()]
    .sort((a, b) => (a.release_date < b.release_date ? 1 : a.release_date > b.release_date ? -1 : a.id < b.id ? -1 : 1))
    .slice(0, 100).map((a) => renderSimplifiedAlbum(a, ctx.rules));
  return { albums: paging('/browse/new-releases', {}, all, offset, limit, all.length) };
}

function getCategories(ctx: RouteContext) {
  requireFeb26(ctx);
  const limit = limitParam(ctx, { min: 1, max: 50, def: 20 });
  const offset = offsetParam(ctx);
  const all = GENRES.map((g) => ({
    href: `${SPOTIFY_API_BASE}/browse/categories/${g.replace(/\W/g, '')}`,
    icons: [{ url: `https://t.scdn.co/images/${hashString(g).toString(16)}.jpg`, height: 274, width: 274 }],
    id: g.replace(/\W/g, ''),
    name: g,
  }));
  return { categories: paging('/browse/categories', {}, all, offset, limit, all.length) };
}

function getMarkets(ctx: RouteContext) {
  requireFeb26(ctx);
  return { markets: MARKETS };
}

function getFeaturedPlaylists(ctx: RouteContext) {
  requireNov24(ctx);
  const all = ctx.data.playlists.filter((p) => p.access === 'editorial').map((p) => renderSimplifiedPlaylist(p, ctx.rules, SPOTIFY_API_BASE));
  return { message: 'Popular Playlists', playlists: paging('/browse/featured-playlists', {}, all, 0, 20, all.length) };
}

function audioFeatures(ctx: RouteContext, id: string) {
  const t = ctx.data.tracks.get(id);
  if (!t) return null;
  const r = new Rng(hashString(id));
  return {
    acousticness: r.float(), analysis_url: `${SPOTIFY_API_BASE}/audio-analysis/${id}`, danceability: r.float(),
    duration_ms: t.duration_ms, energy: r.float(), id, instrumentalness: r.float() * 0.5, key: r.int(-1, 11),
    liveness: r.float() * 0.6, loudness: -r.float() * 20, mode: r.int(0, 1), speechiness: r.float() * 0.4,
    tempo: 60 + r.float() * 120, time_signature: r.int(3, 7), track_href: t.href, type: 'audio_features', uri: t.uri, valence: r.float(),
  };
}

function getAudioFeature(ctx: RouteContext) {
  requireNov24(ctx);
  checkId(ctx.params.id);
  const f = audioFeatures(ctx, ctx.params.id);
  if (!f) throw notFound();
  return f;
}

function getAudioFeatures(ctx: RouteContext) {
  requireNov24(ctx);
  return { audio_features: idsParam(ctx, 100).map((id) => audioFeatures(ctx, id)) };
}

function getAudioAnalysis(ctx: RouteContext) {
  requireNov24(ctx);
  checkId(ctx.params.id);
  const t = ctx.data.tracks.get(ctx.params.id);
  if (!t) throw notFound();
  return { meta: { analyzer_version: '4.0.0', platform: 'Linux' }, track: { duration: t.duration_ms / 1000 }, bars: [], beats: [], sections: [], segments: [], tatums: [] };
}

function getRecommendations(ctx: RouteContext) {
  requireNov24(ctx);
  const limit = limitParam(ctx, { min: 1, max: 100, def: 20 });
  const r = new Rng(hashString(ctx.query.toString()));
  const list = r.sample([...ctx.data.tracks.values()], limit);
  return { seeds: [], tracks: list.map((t) => renderTrack(t, ctx.rules)) };
}

function getGenreSeeds(ctx: RouteContext) {
  requireNov24(ctx);
  return { genres: GENRES.map((g) => g.replace(/\s+/g, '-')) };
}

// --------------------------------------------------------------------------------------------
// Users
// --------------------------------------------------------------------------------------------

function getMe(ctx: RouteContext) {
  // Dev strips country, email, explicit_content, followers, product; account_id stays (doc §3, May 2026).
  return renderPrivateUser(ctx.data.user, ctx.rules);
}

function getUser(ctx: RouteContext) {
  requireFeb26(ctx);
  const u = ctx.data.users.get(ctx.params.id);
  if (!u) throw notFound();
  return renderPublicUser(u, ctx.rules);
}

function getUserPlaylists(ctx: RouteContext) {
  requireFeb26(ctx);
  const limit = limitParam(ctx, { min: 1, max: 50, def: 20 });
  const offset = offsetParam(ctx, 100_000);
  if (!ctx.data.users.has(ctx.params.id)) throw notFound();
  const all = ctx.data.playlists.filter((p) => p.owner.id === ctx.params.id && p.public).map((p) => renderSimplifiedPlaylist(p, ctx.rules, SPOTIFY_API_BASE));
  return paging(`/users/${ctx.params.id}/playlists`, {}, all, offset, limit, all.length);
}

function getRecentlyPlayed(ctx: RouteContext) {
  const limit = limitParam(ctx, { min: 1, max: 50, def: 20 });
  const after = intParam(ctx, 'after');
  const before = intParam(ctx, 'before');
  // Only one of `after`/`before` may be sent (doc §4.2, [SPEC]).
  if (after !== undefined && before !== undefined) throw new ApiError(400, "Only one of 'after' or 'before' may be specified");
  // Only the newest 50 plays are retrievable (doc §4.2).
  const window = ctx.data.plays.slice(0, RECENTLY_PLAYED_WINDOW).map((p) => ({ p, ms: Date.parse(p.played_at) }));
  let page: typeof window;
  let more: boolean;
  if (after !== undefined) {
    const newer = window.filter((x) => x.ms > after); // newest first
    page = newer.slice(Math.max(0, newer.length - limit)); // the plays right after the cursor
    more = newer.length > limit;
  } else {
    const older = before !== undefined ? window.filter((x) => x.ms < before) : window;
    page = older.slice(0, limit);
    more = older.length > limit;
  }
  const href = requestHref(ctx);
  if (page.length === 0) return { items: [], next: null, cursors: null, limit, href };
  const newest = String(page[0].ms);
  const oldest = String(page[page.length - 1].ms);
  const next = !more ? null
    : after !== undefined ? `${SPOTIFY_API_BASE}/me/player/recently-played?after=${newest}&limit=${limit}`
    : `${SPOTIFY_API_BASE}/me/player/recently-played?before=${oldest}&limit=${limit}`;
  return {
    items: page.map(({ p }) => ({ track: renderTrack(ctx.data.tracks.get(p.track_id)!, ctx.rules), played_at: p.played_at, context: p.context })),
    next,
    cursors: { after: newest, before: oldest },
    limit,
    href,
    // No `total`: real responses do not carry it (doc §4.2).
  };
}

const TIME_RANGES: TimeRange[] = ['short_term', 'medium_term', 'long_term'];

function getTop(ctx: RouteContext) {
  const type = ctx.params.type;
  if (type !== 'artists' && type !== 'tracks') throw new ApiError(400, 'Invalid type');
  const range = (ctx.query.get('time_range') ?? 'medium_term') as TimeRange;
  if (!TIME_RANGES.includes(range)) throw new ApiError(400, 'Invalid time range');
  const limit = limitParam(ctx, { min: 1, max: 50, def: 20 });
  const offset = offsetParam(ctx);
  const ids = ctx.data.top[range][type];
  const page = ids.slice(offset, offset + limit).map((id) => type === 'artists'
    ? renderArtist(ctx.data.artists.get(id)!, ctx.rules)
    : renderTrack(ctx.data.tracks.get(id)!, ctx.rules));
  return paging(`/me/top/${type}`, extraParams(ctx, ['time_range']), null, offset, limit, ids.length, page);
}

function getSavedTracks(ctx: RouteContext) {
  const limit = limitParam(ctx, { min: 1, max: 50, def: 20 });
  const offset = offsetParam(ctx);
  const all = ctx.data.savedTracks;
  // Saved tracks keep `track`: the rename applies to playlist objects only (doc §3).
  const page = all.slice(offset, offset + limit).map((s) => ({ added_at: s.added_at, track: renderTrack(ctx.data.tracks.get(s.track_id)!, ctx.rules) }));
  return paging('/me/tracks', extraParams(ctx, ['market']), null, offset, limit, all.length, page);
}

function getFollowing(ctx: RouteContext) {
  const type = ctx.query.get('type');
  if (type !== 'artist') throw new ApiError(400, type ? 'Invalid type' : 'Missing parameter type');
  const limit = limitParam(ctx, { min: 1, max: 50, def: 20 });
  const after = ctx.query.get('after');
  if (after) checkId(after);
  // Cursor = the last artist id; the list is sorted by id (doc §4.2).
  const all = ctx.data.followedArtists;
  const rest = after ? all.filter((id) => id > after) : all;
  const page = rest.slice(0, limit);
  const more = rest.length > limit;
  const last = page.length > 0 ? page[page.length - 1] : null;
  return {
    artists: {
      href: requestHref(ctx),
      limit,
      next: more ? `${SPOTIFY_API_BASE}/me/following?type=artist&after=${last}&limit=${limit}` : null,
      cursors: { after: more ? last : null },
      total: all.length,
      items: page.map((id) => renderArtist(ctx.data.artists.get(id)!, ctx.rules)),
    },
  };
}

// --------------------------------------------------------------------------------------------
// Playlists
// --------------------------------------------------------------------------------------------

function visibleMyPlaylists(ctx: RouteContext): PlaylistTruth[] {
  // Collaborative playlists are listed only with playlist-read-collaborative (doc §2.3).
  const collab = ctx.token.scopes.has('playlist-read-collaborative');
  return ctx.data.playlists.filter((p) => collab || !p.collaborative);
}

function getMyPlaylists(ctx: RouteContext) {
  const limit = limitParam(ctx, { min: 1, max: 50, def: 20 });
  const offset = offsetParam(ctx, 100_000);
  const all = visibleMyPlaylists(ctx);
  const page = all.slice(offset, offset + limit).map((p) => renderSimplifiedPlaylist(p, ctx.rules, SPOTIFY_API_BASE));
  return paging('/me/playlists', {}, null, offset, limit, all.length, page);
}

/**
 * Find a playlist the token may see: editorial ids are 404 in Development profiles (Nov 2024);
 * without a user (Client Credentials) only public playlists exist.
 */
function findPlaylist(ctx: RouteContext, forItems = false): PlaylistTruth {
  checkId(ctx.params.id);
  const p = ctx.indexes.playlistsById.get(ctx.params.id);
  if (!p) throw notFound();
  // Metadata of an editorial playlist is 404; its items are 403 like any playlist the user does
  // not own (doc §2.3).
  if (ctx.rules.editorialHidden && isEditorialId(p.id)) throw forItems ? forbidden() : notFound();
  if (ctx.token.kind === 'client' && !p.public) throw notFound();
  return p;
}

/** Whether this token may read the playlist's items (owner rule and scopes). */
function canReadItems(ctx: RouteContext, p: PlaylistTruth): boolean {
  if (ctx.token.kind === 'client') return !ctx.rules.ownerRule; // no user: owns nothing (doc §2.3, inferred)
  return playlistReadable(ctx.rules, p);
}

function requireItemScopes(ctx: RouteContext, p: PlaylistTruth): void {
  if (ctx.token.kind !== 'user') return;
  const need = p.collaborative ? 'playlist-read-collaborative' : !p.public ? 'playlist-read-private' : null;
  if (need && !ctx.token.scopes.has(need)) throw new ApiError(403, 'Insufficient client scope');
}

function includeEpisodes(ctx: RouteContext): boolean {
  return (ctx.query.get('additional_types') ?? '').split(',').map((s) => s.trim()).includes('episode');
}

function renderItems(ctx: RouteContext, p: PlaylistTruth, offset: number, limit: number, keys: Array<'item' | 'track'>) {
  const eps = includeEpisodes(ctx);
  return p.items.slice(offset, offset + limit).map((it) => renderPlaylistItem(it, ctx.rules, keys, eps));
}

function getPlaylist(ctx: RouteContext) {
  const p = findPlaylist(ctx);
  const out = renderPlaylistMeta(p);
  // Items are embedded only for playlists the user owns or collaborates on; otherwise the key is
  // absent (doc §2.3). Legacy/extended embed `tracks` with `track` items.
  if (canReadItems(ctx, p)) {
    requireItemScopes(ctx, p);
    const limit = ctx.rules.embeddedItemsLimit;
    const key = ctx.rules.playlistRefKey;
    const keys: Array<'item' | 'track'> = key === 'items' ? ['item'] : ['track'];
    const path = key === 'items' ? `/playlists/${p.id}/items` : `/playlists/${p.id}/tracks`;
    const extra = extraParams(ctx, ['additional_types']);
    out[key] = paging(path, extra, null, 0, limit, p.items.length, renderItems(ctx, p, 0, limit, keys));
  }
  return applyFieldsParam(ctx, out);
}

function getPlaylistItems(ctx: RouteContext) {
  const p = findPlaylist(ctx, true);
  const limit = limitParam(ctx, ctx.rules.limits.playlistItems);
  const offset = offsetParam(ctx);
  // 403 unless the user owns or collaborates on it (doc §2.3 [DOC reference note; OBS 2026-04/08]).
  if (!canReadItems(ctx, p)) throw forbidden();
  requireItemScopes(ctx, p);
  const page = renderItems(ctx, p, offset, limit, ctx.rules.itemKeys);
  const body = paging(`/playlists/${p.id}/items`, extraParams(ctx, ['additional_types', 'market', 'fields']), null, offset, limit, p.items.length, page);
  return applyFieldsParam(ctx, body);
}

function getPlaylistTracks(ctx: RouteContext) {
  // Removed for Development Mode apps created since 2026-02-11 (doc §2.3).
  if (!ctx.rules.legacyTracksEndpoint) {
    checkId(ctx.params.id);
    throw forbidden();
  }
  const p = findPlaylist(ctx, true);
  const limit = limitParam(ctx, ctx.rules.limits.legacyTracks);
  const offset = offsetParam(ctx);
  if (!canReadItems(ctx, p)) throw forbidden();
  requireItemScopes(ctx, p);
  const page = renderItems(ctx, p, offset, limit, ['track']);
  const body = paging(`/playlists/${p.id}/tracks`, extraParams(ctx, ['additional_types', 'market', 'fields']), null, offset, limit, p.items.length, page);
  return applyFieldsParam(ctx, body);
}

// --------------------------------------------------------------------------------------------
// Table
// --------------------------------------------------------------------------------------------

function route(path: string, handler: Handler, extra: Partial<Route> = {}): Route {
  const keys: string[] = [];
  const re = path.replace(/:(\w+)/g, (_m, k: string) => { keys.push(k); return '([^/]+)'; });
  return { pattern: new RegExp(`^/v1${re}/?$`), keys, handler, ...extra };
}

const user = (...scopes: string[]) => ({ user: { scopes } });

export const ROUTES: Route[] = [
  route('/me', getMe, user('user-read-private')),
  route('/me/player/recently-played', getRecentlyPlayed, user('user-read-recently-played')),
  route('/me/playlists', getMyPlaylists, { ...user('playlist-read-private'), etag: true }),
  route('/me/tracks', getSavedTracks, user('user-library-read')),
  route('/me/following', getFollowing, { ...user('user-follow-read'), etag: true }),
  route('/me/top/:type', getTop, user('user-top-read')),
  route('/playlists/:id', getPlaylist, { etag: true }),
  route('/playlists/:id/items', getPlaylistItems, { etag: true }),
  route('/playlists/:id/tracks', getPlaylistTracks, { etag: true }),
  route('/users/:id', getUser),
  route('/users/:id/playlists', getUserPlaylists),
  route('/artists', getArtists),
  route('/artists/:id', getArtist),
  route('/artists/:id/albums', getArtistAlbums),
  route('/artists/:id/top-tracks', getArtistTopTracks),
  route('/artists/:id/related-artists', getRelatedArtists),
  route('/tracks', getTracks),
  route('/tracks/:id', getTrack),
  route('/albums', getAlbums),
  route('/albums/:id', getAlbum),
  route('/albums/:id/tracks', getAlbumTracks),
  route('/shows', getShowsBatch),
  route('/shows/:id', getShow),
  route('/shows/:id/episodes', getShowEpisodes),
  route('/episodes', getEpisodesBatch),
  route('/episodes/:id', getEpisode),
  route('/search', getSearch),
  route('/markets', getMarkets),
  route('/browse/new-releases', getNewReleases),
  route('/browse/categories', getCategories),
  route('/browse/featured-playlists', getFeaturedPlaylists),
  route('/browse/categories/:id/playlists', getFeaturedPlaylists),
  route('/audio-features', getAudioFeatures),
  route('/audio-features/:id', getAudioFeature),
  route('/audio-analysis/:id', getAudioAnalysis),
  route('/recommendations', getRecommendations),
  route('/recommendations/available-genre-seeds', getGenreSeeds),
];

export function matchRoute(pathname: string): { route: Route; params: Record<string, string> } | null {
  for (const r of ROUTES) {
    const m = r.pattern.exec(pathname);
    if (!m) continue;
    const params: Record<string, string> = {};
    r.keys.forEach((k, i) => { params[k] = decodeURIComponent(m[i + 1]); });
    return { route: r, params };
  }
  return null;
}

/** Run a matched API route for an authenticated token. */
export function runRoute(r: Route, ctx: RouteContext): ApiResult {
  if (r.user) {
    // A Client Credentials token has no user: /me/* → 403 "Insufficient client scope" (doc §5.1).
    if (ctx.token.kind !== 'user') throw new ApiError(403, 'Insufficient client scope');
    if (r.user.scopes.length > 0 && !r.user.scopes.some((s) => ctx.token.scopes.has(s))) {
      throw new ApiError(403, 'Insufficient client scope');
    }
  }
  const body = r.handler(ctx);
  return { status: 200, body, etag: r.etag };
}

// --------------------------------------------------------------------------------------------
// Playlist writes (doc §2.3): create a playlist, replace / append / remove / reorder items,
// change details. Development Mode allows them on the user's own playlists (and, for items, on
// playlists the user collaborates on); the legacy `/tracks` forms and `POST /users/{id}/playlists`
// are 403 in Development (Feb 2026).
// --------------------------------------------------------------------------------------------

/** A write request: the route context plus the parsed JSON body and the sandbox clock. */
export interface WriteContext extends RouteContext {
  body: unknown;
  now: number;
}

type WriteHandler = (ctx: WriteContext) => ApiResult;

interface WriteRoute {
  method: 'POST' | 'PUT' | 'DELETE';
  pattern: RegExp;
  keys: string[];
  handler: WriteHandler;
}

/** Most items one add/replace/remove request may carry (doc §2.3, §4.3). */
export const PLAYLIST_WRITE_MAX = 100;

const URI_RE = /^spotify:(track|episode):([^:]+)$/;

function bodyObject(ctx: WriteContext): Record<string, unknown> {
  const b = ctx.body;
  if (b === undefined || b === null) return {};
  if (typeof b !== 'object' || Array.isArray(b)) throw new ApiError(400, 'Error parsing JSON.');
  return b as Record<string, unknown>;
}

/** `uris` from the query (comma-separated; it wins, doc §2.3) or the JSON body; undefined when neither has it. */
function urisParam(ctx: WriteContext): string[] | undefined {
  const q = ctx.query.get('uris');
  let uris: unknown;
  if (q !== null) uris = q === '' ? [] : q.split(',').map((u) => u.trim());
  else uris = bodyObject(ctx).uris;
  if (uris === undefined) return undefined;
  if (!Array.isArray(uris) || uris.some((u) => typeof u !== 'string')) throw new ApiError(400, 'Error parsing JSON.');
  if (uris.length > PLAYLIST_WRITE_MAX) throw new ApiError(400, `You can add a maximum of ${PLAYLIST_WRITE_MAX} tracks per request.`);
  return uris as string[];
}

/** Catalog objects for URIs: a malformed URI or id is 400, an unknown id too (sandbox messages; real wording [UNCONFIRMED]). */
function resolveUris(ctx: WriteContext, uris: string[]): Array<FullTrack | Episode> {
  return uris.map((uri) => {
    const m = URI_RE.exec(uri);
    if (!m) throw new ApiError(400, 'Unsupported URL / URI.');
    if (!SPOTIFY_ID_RE.test(m[2])) throw new ApiError(400, 'Invalid base62 id');
    const obj = m[1] === 'track' ? ctx.data.tracks.get(m[2]) : ctx.data.episodes.get(m[2]);
    if (!obj) throw new ApiError(400, 'Payload contains a non-existing ID');
    return obj;
  });
}

function requireWriteUser(ctx: WriteContext): void {
  // No user behind a Client Credentials token (doc §5.1).
  if (ctx.token.kind !== 'user') throw new ApiError(403, 'Insufficient client scope');
}

/** A public playlist needs playlist-modify-public, a private (or collaborative) one playlist-modify-private. */
function requireModifyScope(ctx: WriteContext, isPublic: boolean): void {
  const need = isPublic ? 'playlist-modify-public' : 'playlist-modify-private';
  if (!ctx.token.scopes.has(need)) throw new ApiError(403, 'Insufficient client scope');
}

/**
 * The playlist a write targets: the owner may write anything; a collaborator only the items of a
 * collaborative playlist; anyone else gets 403 "Forbidden" (doc §2.3, owner rule).
 */
function writablePlaylist(ctx: WriteContext, what: 'items' | 'details'): PlaylistTruth {
  requireWriteUser(ctx);
  const p = findPlaylist(ctx, what === 'items');
  const owner = p.owner.id === ctx.data.user.id;
  const collaborator = what === 'items' && p.collaborative && p.access === 'collaborative';
  if (!owner && !collaborator) throw forbidden();
  requireModifyScope(ctx, p.public);
  return p;
}

/** Sets new contents; the snapshot changes only when the item sequence does. */
function setItems(p: PlaylistTruth, items: PlaylistItemTruth[]): void {
  const key = (list: PlaylistItemTruth[]) => list.map((it) => it.item?.uri ?? 'null').join('\n');
  if (key(items) === key(p.items)) return;
  p.items = items;
  p.snapshot_id = nextSnapshotId(p.snapshot_id, items);
}

function replaceOrReorderItems(ctx: WriteContext): ApiResult {
  const p = writablePlaylist(ctx, 'items');
  const uris = urisParam(ctx);
  if (uris !== undefined) {
    const objs = resolveUris(ctx, uris);
    // Entries that stay where they were keep their added_at; a replace with the same list changes nothing.
    const same = objs.length === p.items.length && objs.every((o, i) => p.items[i].item?.uri === o.uri);
    if (!same) setItems(p, objs.map((o) => addedItem(ctx.data, o, ctx.now)));
    return { status: 200, body: { snapshot_id: p.snapshot_id } };
  }
  const b = bodyObject(ctx);
  const int = (k: string, def?: number): number => {
    const v = b[k] ?? def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ApiError(400, `Invalid ${k}`);
    return v;
  };
  if (b.range_start === undefined) throw new ApiError(400, 'Missing uris or range_start');
  const start = int('range_start');
  const before = int('insert_before');
  const length = int('range_length', 1);
  if (start + length > p.items.length || before > p.items.length) throw new ApiError(400, 'Index out of bounds');
  const moved = p.items.slice(start, start + length);
  const rest = [...p.items.slice(0, start), ...p.items.slice(start + length)];
  const at = before > start ? before - length : before;
  setItems(p, [...rest.slice(0, at), ...moved, ...rest.slice(at)]);
  return { status: 200, body: { snapshot_id: p.snapshot_id } };
}

function addItems(ctx: WriteContext): ApiResult {
  const p = writablePlaylist(ctx, 'items');
  const uris = urisParam(ctx);
  if (uris === undefined || uris.length === 0) throw new ApiError(400, 'No uris provided');
  const objs = resolveUris(ctx, uris);
  const rawPos = ctx.query.get('position') ?? bodyObject(ctx).position;
  const pos = rawPos === undefined || rawPos === null ? p.items.length : Number(rawPos);
  if (!Number.isInteger(pos) || pos < 0 || pos > p.items.length) throw new ApiError(400, 'Index out of bounds');
  const added = objs.map((o) => addedItem(ctx.data, o, ctx.now));
  setItems(p, [...p.items.slice(0, pos), ...added, ...p.items.slice(pos)]);
  return { status: 201, body: { snapshot_id: p.snapshot_id } };
}

function removeItems(ctx: WriteContext): ApiResult {
  const p = writablePlaylist(ctx, 'items');
  const b = bodyObject(ctx);
  // `items` on /items; the legacy endpoint's key was `tracks` (doc §2.3).
  const list = b.items ?? b.tracks;
  if (!Array.isArray(list) || list.length === 0) throw new ApiError(400, 'Missing items');
  if (list.length > PLAYLIST_WRITE_MAX) throw new ApiError(400, `You can remove a maximum of ${PLAYLIST_WRITE_MAX} tracks per request.`);
  const uris = list.map((x) => (x && typeof x === 'object' ? (x as { uri?: unknown }).uri : undefined));
  if (uris.some((u) => typeof u !== 'string')) throw new ApiError(400, 'Error parsing JSON.');
  const gone = new Set(resolveUris(ctx, uris as string[]).map((o) => o.uri));
  setItems(p, p.items.filter((it) => !(it.item && gone.has(it.item.uri))));
  return { status: 200, body: { snapshot_id: p.snapshot_id } };
}

function detailFields(b: Record<string, unknown>, create: boolean) {
  const str = (k: string) => {
    if (b[k] !== undefined && typeof b[k] !== 'string') throw new ApiError(400, `Invalid ${k}`);
    return b[k];
  };
  const bool = (k: string) => {
    if (b[k] !== undefined && typeof b[k] !== 'boolean') throw new ApiError(400, `Invalid ${k}`);
    return b[k];
  };
  const name = str('name');
  if (create && (name === undefined || name.trim() === '')) throw new ApiError(400, 'Missing required field: name');
  return { name, description: str('description'), public: bool('public'), collaborative: bool('collaborative') };
}

function createPlaylist(ctx: WriteContext): ApiResult {
  requireWriteUser(ctx);
  const f = detailFields(bodyObject(ctx), true);
  const isPublic = f.public ?? true; // Spotify's default (doc §2.3)
  const collaborative = f.collaborative ?? false;
  if (collaborative && isPublic) throw new ApiError(400, 'Collaborative playlists can only be private.');
  requireModifyScope(ctx, isPublic);
  const p = createdPlaylist(ctx.data, { name: f.name!, description: f.description ?? '', public: isPublic, collaborative });
  // Newest first, like the list Spotify shows.
  ctx.data.playlists.unshift(p);
  ctx.indexes.playlistsById.set(p.id, p);
  const body = getPlaylist({ ...ctx, params: { id: p.id }, query: new URLSearchParams() });
  return { status: 201, body, headers: { location: `${SPOTIFY_API_BASE}/playlists/${p.id}` } };
}

function createUserPlaylist(ctx: WriteContext): ApiResult {
  requireFeb26(ctx); // 403 in Development since 2026-02-11: use POST /me/playlists (doc §2.3)
  requireWriteUser(ctx);
  if (ctx.params.id !== ctx.data.user.id) throw new ApiError(403, 'You cannot create a playlist for another user.');
  return createPlaylist(ctx);
}

function changeDetails(ctx: WriteContext): ApiResult {
  const p = writablePlaylist(ctx, 'details');
  const f = detailFields(bodyObject(ctx), false);
  const isPublic = f.public ?? p.public;
  const collaborative = f.collaborative ?? p.collaborative;
  if (collaborative && isPublic) throw new ApiError(400, 'Collaborative playlists can only be private.');
  if (isPublic !== p.public) requireModifyScope(ctx, isPublic);
  if (f.name !== undefined) p.name = f.name;
  if (f.description !== undefined) p.description = f.description;
  p.public = isPublic;
  p.collaborative = collaborative;
  // Metadata edits keep the snapshot (sandbox choice; real behaviour [UNCONFIRMED], doc §10).
  return { status: 200 };
}

/** Legacy `/playlists/{id}/tracks` writes: 403 in Development (Feb 2026), the `/items` behaviour elsewhere. */
function legacy(handler: WriteHandler): WriteHandler {
  return (ctx) => {
    if (!ctx.rules.legacyTracksEndpoint) {
      checkId(ctx.params.id);
      throw forbidden();
    }
    return handler(ctx);
  };
}

function writeRoute(method: WriteRoute['method'], path: string, handler: WriteHandler): WriteRoute {
  const keys: string[] = [];
  const re = path.replace(/:(\w+)/g, (_m, k: string) => { keys.push(k); return '([^/]+)'; });
  return { method, pattern: new RegExp(`^/v1${re}/?$`), keys, handler };
}

export const WRITE_ROUTES: WriteRoute[] = [
  writeRoute('POST', '/me/playlists', createPlaylist),
  writeRoute('POST', '/users/:id/playlists', createUserPlaylist),
  writeRoute('PUT', '/playlists/:id', changeDetails),
  writeRoute('PUT', '/playlists/:id/items', replaceOrReorderItems),
  writeRoute('POST', '/playlists/:id/items', addItems),
  writeRoute('DELETE', '/playlists/:id/items', removeItems),
  writeRoute('PUT', '/playlists/:id/tracks', legacy(replaceOrReorderItems)),
  writeRoute('POST', '/playlists/:id/tracks', legacy(addItems)),
  writeRoute('DELETE', '/playlists/:id/tracks', legacy(removeItems)),
];

export function matchWriteRoute(method: string, pathname: string): { route: WriteRoute; params: Record<string, string> } | null {
  for (const r of WRITE_ROUTES) {
    if (r.method !== method) continue;
    const m = r.pattern.exec(pathname);
    if (!m) continue;
    const params: Record<string, string> = {};
    r.keys.forEach((k, i) => { params[k] = decodeURIComponent(m[i + 1]); });
    return { route: r, params };
  }
  return null;
}
