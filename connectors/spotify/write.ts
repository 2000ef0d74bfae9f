/**
 * The playlist write-back (issue 17): make one playlist of the user's hold exactly the wanted
 * tracks, in order, with the fewest requests, and nothing when it already does.
 *
 * 2026 Development Mode (doc §2.3): a playlist is created with `POST /me/playlists` (private:
 * `playlist-modify-private`), its items are read with `GET /playlists/{id}/items` (50 a page,
 * entries carry `item`; legacy and Extended answers carry `track`) and replaced with `PUT
 * /playlists/{id}/items` (100 URIs) followed by `POST /playlists/{id}/items` (100 each, appended
 * in order). Only the user's own playlist of that name is ever written: found in `/me/playlists`
 * by name and owner id (from `/me`), never a followed or collaborative one.
 */
import {
  HttpError, UserError, type HttpClient, type JsonRecord, type PlaylistDiff, type PlaylistWriteContext,
  type PlaylistWriteRequest, type PlaylistWriteResult, type PlaylistWriter,
} from '../../core/plugin-api.ts';
import { explainApiError, session } from './read.ts';
import type { SpotifyConfig } from './config.ts';

/** The scope a private playlist's writes need (doc §2.3); the write-back never makes a public one. */
export const WRITE_SCOPE = 'playlist-modify-private';
/** What finding the playlist reads: `/me` and `/me/playlists` with its items (doc §2.2, §2.3). */
export const WRITE_READ_SCOPES = ['user-read-private', 'playlist-read-private'];
/** URIs per add/replace request (doc §2.3, §4.3). */
export const WRITE_CHUNK = 100;
/** Page sizes: `/me/playlists` and `/playlists/{id}/items` both take at most 50 (doc §2.3). */
const PAGE = 50;
/** Bounds on paging loops: 100,000 is the largest `/me/playlists` offset (doc §4.1); 10,000 items a playlist. */
const MAX_PLAYLIST_PAGES = 100_000 / PAGE + 1;
const MAX_ITEM_PAGES = 10_000 / PAGE + 1;

const TRACK_ID = /^[0-9A-Za-z]{22}$/;
export const RELOGIN = 'run `spotify-pipeline login` again: the write-back needs playlist-modify-private';

interface SimplifiedPlaylist {
  id: string;
  name: string;
  description?: string | null;
  owner?: { id?: string } | null;
  snapshot_id?: string;
}

interface Page<T> {
  items?: Array<T | null> | null;
  next?: string | null;
  total?: number;
}

interface ItemEntry {
  item?: { uri?: string | null; type?: string; is_local?: boolean } | null;
  track?: { uri?: string | null; type?: string; is_local?: boolean } | null;
  is_local?: boolean;
}

/** One line for the errors a write can meet; the missing write scope says how to get it. */
function explainWriteError(e: unknown): unknown {
  if (e instanceof HttpError && e.status === 403 && /insufficient client scope/i.test(e.apiMessage) && e.method !== 'GET') {
    return new UserError(RELOGIN);
  }
  if (e instanceof HttpError && e.status === 403 && e.method !== 'GET' && /^forbidden$/i.test(e.apiMessage.trim())) {
    return new UserError(`${e.label}: Spotify refused the write (403 Forbidden): the playlist is not the user's own`, 'choose another recommendations.playlist.name; the write-back only writes playlists the user owns');
  }
  return explainApiError(e);
}

/** The URI an entry holds: `item` (2026) or legacy `track`; null for an unavailable track. */
export function entryUri(entry: ItemEntry | null): string | null {
  if (!entry) return null;
  const obj = entry.item !== undefined ? entry.item : entry.track;
  return typeof obj?.uri === 'string' && obj.uri !== '' ? obj.uri : null;
}

/** Spotify's playlist descriptions come HTML-escaped (`&#x27;`, `&amp;`, `&quot;`). */
export function unescapeHtml(s: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return named[e.toLowerCase()] ?? m;
  });
}

const trackUri = (id: string) => `spotify:track:${id}`;
const shown = (uri: string | null): string | null => (uri?.startsWith('spotify:track:') ? uri.slice('spotify:track:'.length) : uri);

/**
 * What changes from `current` (URIs, null for unavailable entries) to `wanted` (distinct URIs):
 * added, removed (a second copy of a wanted track too), and moved: the kept tracks outside a
 * longest run already in the wanted order, the fewest that must move.
 */
export function playlistDiff(current: Array<string | null>, wanted: string[]): PlaylistDiff {
  const want = new Set(wanted);
  const firstAt = new Map<string, number>();
  const removed: Array<string | null> = [];
  current.forEach((uri, i) => {
    if (uri !== null && want.has(uri) && !firstAt.has(uri)) firstAt.set(uri, i);
    else removed.push(shown(uri));
  });
  const added = wanted.filter((u) => !firstAt.has(u)).map((u) => shown(u)!);
  // Kept tracks in wanted order, by their current position; the longest increasing run stays.
  const kept = wanted.filter((u) => firstAt.has(u));
  const pos = kept.map((u) => firstAt.get(u)!);
  const stays = new Set(longestIncreasing(pos).map((i) => kept[i]));
  return { added, removed, moved: kept.filter((u) => !stays.has(u)).map((u) => shown(u)!) };
}

/** Indexes of a longest strictly increasing subsequence (patience sorting, O(n log n)). */
function longestIncreasing(xs: number[]): number[] {
  const tails: number[] = [];
  const prev = new Array<number>(xs.length).fill(-1);
  for (let i = 0; i < xs.length; i++) {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[tails[mid]] < xs[i]) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[i] = tails[lo - 1];
    tails[lo] = i;
  }
  const out: number[] = [];
  for (let i = tails.length ? tails[tails.length - 1] : -1; i >= 0; i = prev[i]) out.push(i);
  return out.reverse();
}

/** The wanted ids as URIs: each a Spotify track id (22 base62), duplicates dropped (a warning). */
function wantedUris(req: PlaylistWriteRequest, warn: (s: string) => void): string[] {
  const bad = req.trackIds.filter((id) => typeof id !== 'string' || !TRACK_ID.test(id));
  if (bad.length) {
    throw new UserError(`the write-back got ${bad.length} value(s) that are not Spotify track ids (22 letters and digits): ${bad.slice(0, 3).map((x) => JSON.stringify(x)).join(', ')}${bad.length > 3 ? ', …' : ''}`, 'pass the recommendations table\'s track_id values');
  }
  const seen = new Set<string>();
  const out: string[] = [];
  for (const id of req.trackIds) if (!seen.has(id)) { seen.add(id); out.push(trackUri(id)); }
  if (out.length < req.trackIds.length) warn(`the recommendations name ${req.trackIds.length - out.length} track(s) twice; the playlist gets each once, at its first rank`);
  return out;
}

/** Follows `next` links (absolute URLs from the API) up to `maxPages`. */
async function pageAll<T>(http: HttpClient, first: string, opts: { label: string; params?: Record<string, string | number>; maxPages: number; auth: ReturnType<typeof session>['user'] }): Promise<Array<T | null>> {
  const out: Array<T | null> = [];
  let url: string | null = first;
  let params: Record<string, string | number> | undefined = opts.params;
  for (let page = 0; url; page++) {
    if (page >= opts.maxPages) throw new UserError(`${opts.label}: more than ${opts.maxPages} pages; stopped`);
    const res: { data: Page<T> } = await http.get<Page<T>>(url, { label: opts.label, params, auth: opts.auth });
    out.push(...(res.data.items ?? []));
    url = res.data.next ?? null;
    params = undefined; // `next` carries them
  }
  return out;
}

export async function writePlaylist(req: PlaylistWriteRequest, ctx: PlaylistWriteContext<SpotifyConfig>): Promise<PlaylistWriteResult> {
  const { http } = ctx;
  if (!http.send) throw new Error('the HTTP client cannot send writes (HttpClient.send is missing)');
  const send = http.send.bind(http);
  const name = req.name.trim();
  if (!name) throw new UserError('the playlist name is empty', 'set recommendations.playlist.name');
  const wanted = wantedUris(req, (s) => ctx.logger.warn(s));
  const auth = session(ctx).user;
  const sent: PlaylistWriteResult['requests'] = [];
  try {
    const me = (await http.get<{ id?: string }>('/me', { label: 'me', auth })).data.id;
    if (!me) throw new UserError('Spotify\'s /me answer has no user id; cannot tell which playlists are the user\'s own');
    const lists = await pageAll<SimplifiedPlaylist>(http, '/me/playlists', { label: 'me/playlists', params: { limit: PAGE, offset: 0 }, maxPages: MAX_PLAYLIST_PAGES, auth });
    const own = lists.filter((p): p is SimplifiedPlaylist => !!p && p.name === name && p.owner?.id === me);
    if (own.length > 1) ctx.logger.warn(`the user owns ${own.length} playlists named "${name}"; the write-back uses the first Spotify lists (${own[0].id})`);
    const found = own[0];
    const current = found
      ? (await pageAll<ItemEntry>(http, `/playlists/${encodeURIComponent(found.id)}/items`, {
        label: 'playlists/{id}/items', params: { limit: PAGE, offset: 0, additional_types: 'track,episode' }, maxPages: MAX_ITEM_PAGES, auth,
      })).map(entryUri)
      : [];
    const diff = playlistDiff(current, wanted);
    const same = current.length === wanted.length && current.every((u, i) => u === wanted[i]);
    // The description is brought up to date along with a change of the items, never on its own:
    // Spotify answers descriptions HTML-escaped (and may rewrite them), so a lone comparison could
    // write on every run.
    const describe = !same && req.description !== undefined && found !== undefined && unescapeHtml(found.description ?? '') !== req.description;
    const result: PlaylistWriteResult = {
      playlistId: found?.id ?? null, created: !found, changed: !same, snapshotId: found?.snapshot_id ?? null,
      requests: sent, diff, dryRun: !!req.dryRun,
    };
    if (req.dryRun || (same && found)) return result;

    let id = found?.id;
    if (!id) {
      const body: JsonRecord = { name, public: false, collaborative: false };
      if (req.description !== undefined) body.description = req.description;
      const res = await send<{ id?: string; snapshot_id?: string }>('POST', '/me/playlists', { label: 'me/playlists (create)', json: body, auth });
      result.requests.push({ method: 'POST', path: '/me/playlists' });
      if (!res.data?.id) throw new UserError('Spotify created the playlist but its answer has no id; run the write-back again (it finds the playlist by name)');
      id = res.data.id;
      result.playlistId = id;
      result.snapshotId = res.data.snapshot_id ?? null;
    } else if (describe) {
      await send('PUT', `/playlists/${encodeURIComponent(id)}`, { label: 'playlists/{id}', json: { description: req.description }, auth, idempotent: true });
      result.requests.push({ method: 'PUT', path: `/playlists/${id}` });
    }
    if (!same) {
      const path = `/playlists/${encodeURIComponent(id)}/items`;
      // PUT replaces everything with the first 100; the rest are appended in order.
      for (let i = 0; i === 0 || i < wanted.length; i += WRITE_CHUNK) {
        const uris = wanted.slice(i, i + WRITE_CHUNK);
        const method = i === 0 ? 'PUT' : 'POST';
        const res = await send<{ snapshot_id?: string }>(method, path, { label: 'playlists/{id}/items', json: { uris }, auth, idempotent: method === 'PUT' });
        result.requests.push({ method, path: `/playlists/${id}/items`, items: uris.length });
        if (typeof res.data?.snapshot_id === 'string') result.snapshotId = res.data.snapshot_id;
      }
    }
    return result;
  } catch (e) {
    const err = explainWriteError(e);
    if (sent.length === 0 || !(err instanceof Error)) throw err;
    // Stopped between writes: the playlist holds part of the list. A rerun replaces it whole.
    const msg = `${err.message} (after ${sent.length} write request(s): the playlist is partly updated; run the write-back again, it replaces the items)`;
    throw new UserError(msg, err instanceof UserError ? err.hint : undefined);
  }
}

export const playlistWriter: PlaylistWriter<SpotifyConfig> = {
  scopes: [WRITE_SCOPE],
  write: writePlaylist,
};
