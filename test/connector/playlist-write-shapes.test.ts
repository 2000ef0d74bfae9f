/**
 * The playlist writer against responses in the exact shapes the 2026 reference documents (doc
 * §2.3), served over real HTTP on 127.0.0.1 by a fixture server rather than the sandbox: item
 * entries with `item` (2026) and with legacy `track`, `item: null` (an unavailable track), a local
 * file, an episode, the undocumented `primary_color`/`video_thumbnail` keys, `/me/playlists` over
 * two pages with another user's playlist of the same name, `snapshot_id` from each write; and how
 * writes meet a 429 (retried after Retry-After) and a 500 on an append (not repeated).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpClient } from '../../core/http.ts';
import { UserError } from '../../core/plugin-api.ts';
import { writePlaylist } from '../../connectors/spotify/write.ts';

const ME = 'fixtureuser';
const OTHER = 'someoneelse';
const id = (n: number) => `Fx${String(n).padStart(20, '0')}`;
const uri = (n: number) => `spotify:track:${id(n)}`;

let base = '';
const api = () => `${base}/v1`;
const user = (uid: string) => ({ external_urls: { spotify: `https://open.spotify.com/user/${uid}` }, href: `${api()}/users/${uid}`, id: uid, type: 'user', uri: `spotify:user:${uid}` });

/** SimplifiedPlaylistObject, Development shape: `items: {href, total}` instead of `tracks`. */
function simplified(pid: string, name: string, owner: string, total: number, description = '') {
  return {
    collaborative: false, description, external_urls: { spotify: `https://open.spotify.com/playlist/${pid}` },
    href: `${api()}/playlists/${pid}`, id: pid, images: null, name, owner: { ...user(owner), display_name: owner },
    primary_color: null, public: false, snapshot_id: `AAAA${pid}snap`, type: 'playlist', uri: `spotify:playlist:${pid}`,
    items: { href: `${api()}/playlists/${pid}/items`, total },
  };
}

function track(n: number) {
  return {
    album: { album_type: 'album', total_tracks: 10, external_urls: {}, href: `${api()}/albums/x`, id: 'Al0000000000000000000x', images: [], name: 'A', release_date: '2020', release_date_precision: 'year', type: 'album', uri: 'spotify:album:Al0000000000000000000x', artists: [] },
    artists: [], disc_number: 1, duration_ms: 200000, explicit: false, external_ids: { isrc: 'X' }, external_urls: {},
    href: `${api()}/tracks/${id(n)}`, id: id(n), is_local: false, name: `T${n}`, preview_url: null, track_number: 1, type: 'track', uri: uri(n),
  };
}

const entry = (key: 'item' | 'track', obj: unknown, isLocal = false) => ({
  added_at: '2026-10-01T10:00:00Z', added_by: user(ME), is_local: isLocal, [key]: obj, primary_color: null, video_thumbnail: { url: null },
});

const LOCAL = { album: { name: 'Demo Tapes', id: null, uri: null }, artists: [{ name: 'Garage', id: null, uri: null }], id: null, is_local: true, name: 'Demo 01', type: 'track', uri: 'spotify:local:Garage:Demo+Tapes:Demo+01:200', href: null };
const EPISODE = { id: 'Ep0000000000000000000x', type: 'episode', uri: 'spotify:episode:Ep0000000000000000000x', name: 'An episode' };

/** Items of the fixture playlists, by id. */
const PLAYLIST_ITEMS: Record<string, unknown[]> = {
  mixed: [entry('item', track(1)), entry('track', track(2)), entry('item', null), entry('item', LOCAL, true), entry('item', EPISODE)],
  legacy: [1, 2, 3].map((n) => entry('track', track(n))),
  flaky: [],
  theirs: [entry('item', track(9))],
};

const writes: Array<{ method: string; path: string; body: unknown; status: number }> = [];
let putCount = 0;

function page(path: string, all: unknown[], offset: number, limit: number) {
  const url = (o: number) => `${api()}${path}?offset=${o}&limit=${limit}`;
  return { href: url(offset), items: all.slice(offset, offset + limit), limit, next: offset + limit < all.length ? url(offset + limit) : null, offset, previous: offset ? url(offset - limit) : null, total: all.length };
}

function myPlaylists() {
  // 50 other playlists of the user's, then another user's of the same names, then the user's own.
  const filler = Array.from({ length: 50 }, (_, i) => simplified(`filler${i}`, `Mix ${i}`, ME, 3));
  return [...filler, simplified('theirs', 'Mixed', OTHER, 1), simplified('theirs', 'Legacy', OTHER, 1),
    // Descriptions come HTML-escaped.
    simplified('mixed', 'Mixed', ME, 5, 'It&#x27;s &amp; more'), simplified('legacy', 'Legacy', ME, 3, 'Old words'), simplified('flaky', 'Flaky', ME, 0)];
}

function answer(req: http.IncomingMessage, body: string): { status: number; json?: unknown; headers?: Record<string, string> } {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const q = url.searchParams;
  const p = url.pathname;
  if (p === '/api/token') return { status: 200, json: { access_token: 'BQfixture', token_type: 'Bearer', expires_in: 3600, scope: 'playlist-modify-private playlist-read-private user-read-private' } };
  if (req.headers.authorization !== 'Bearer BQfixture') return { status: 401, json: { error: { status: 401, message: 'Missing/invalid/expired access token' } } };
  if (req.method === 'GET' && p === '/v1/me') return { status: 200, json: { ...user(ME), display_name: 'Fixture', images: [], account_id: 'acc0000000000000000000' } };
  if (req.method === 'GET' && p === '/v1/me/playlists') return { status: 200, json: page('/me/playlists', myPlaylists(), Number(q.get('offset') ?? 0), Number(q.get('limit') ?? 20)) };
  if (req.method === 'PUT' && /^\/v1\/playlists\/\w+$/.test(p)) return { status: 200 };
  const m = /^\/v1\/playlists\/(\w+)\/items$/.exec(p);
  if (m && req.method === 'GET') return { status: 200, json: page(`/playlists/${m[1]}/items`, PLAYLIST_ITEMS[m[1]], Number(q.get('offset') ?? 0), Number(q.get('limit') ?? 20)) };
  if (m && (req.method === 'PUT' || req.method === 'POST')) {
    const parsed = JSON.parse(body) as { uris: string[] };
    if (m[1] === 'flaky' && req.method === 'PUT' && putCount++ === 0) return { status: 429, headers: { 'retry-after': '0' }, json: { error: { status: 429, message: 'API rate limit exceeded' } } };
    if (m[1] === 'flaky' && req.method === 'POST') return { status: 500, json: { error: { status: 500, message: 'Server error.' } } };
    return { status: req.method === 'PUT' ? 200 : 201, json: { snapshot_id: `AAAA${m[1]}-${parsed.uris.length}` } };
  }
  return { status: 404, json: { error: { status: 404, message: 'Service not found' } } };
}

let server: http.Server;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const a = answer(req, body);
      if (req.method !== 'GET' && req.url !== '/api/token') writes.push({ method: req.method!, path: new URL(req.url!, 'http://x').pathname, body: body ? JSON.parse(body) : undefined, status: a.status });
      const text = a.json === undefined ? '' : JSON.stringify(a.json);
      res.writeHead(a.status, { 'content-type': 'application/json; charset=utf-8', ...a.headers });
      res.end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => new Promise<void>((r) => server.close(() => r())));

async function write(name: string, trackIds: string[], dryRun = false, description?: string) {
  writes.length = 0;
  const http = new HttpClient({ baseURL: api(), sleep: async () => undefined, random: () => 0 });
  const config = { client_id: 'cid', client_secret: 'secret', refresh_token: 'AQrefresh', api_base_url: api(), accounts_base_url: base };
  return writePlaylist({ name, trackIds, dryRun, description }, { config, http, logger: { info() {}, warn() {}, debug() {} }, signal: new AbortController().signal });
}

describe('the writer on the documented response shapes', () => {
  it('reads `item` and legacy `track` entries, unavailable (null), local and episode entries; finds the user\'s own playlist on page 2; takes snapshot_id from the write', async () => {
    const r = await write('Mixed', [id(1), id(2), id(3)]);
    expect(r.playlistId).toBe('mixed');
    expect(r.diff).toEqual({ added: [id(3)], removed: [null, LOCAL.uri, EPISODE.uri], moved: [] });
    expect(writes).toEqual([{ method: 'PUT', path: '/v1/playlists/mixed/items', body: { uris: [uri(1), uri(2), uri(3)] }, status: 200 }]);
    expect(r.snapshotId).toBe('AAAAmixed-3');
    expect(r).toMatchObject({ created: false, changed: true, requests: [{ method: 'PUT', path: '/playlists/mixed/items', items: 3 }] });
  });

  it('a playlist whose legacy `track` entries already are the list: no write, its snapshot_id as listed', async () => {
    const r = await write('Legacy', [id(1), id(2), id(3)]);
    expect(writes).toEqual([]);
    expect(r).toMatchObject({ playlistId: 'legacy', changed: false, snapshotId: 'AAAAlegacysnap', diff: { added: [], removed: [], moved: [] } });
    const dry = await write('Legacy', [id(3), id(1), id(2)], true);
    expect(writes).toEqual([]);
    expect(dry.diff).toEqual({ added: [], removed: [], moved: [id(3)] });
  });

  it('the description: compared unescaped, brought up to date only along with a change of the items', async () => {
    await write('Mixed', [id(1), id(2), id(3)], false, "It's & more");
    expect(writes.map((w) => [w.method, w.path])).toEqual([['PUT', '/v1/playlists/mixed/items']]);
    await write('Legacy', [id(1), id(2), id(3)], false, 'New words');
    expect(writes).toEqual([]);
    await write('Legacy', [id(1), id(2)], false, 'New words');
    expect(writes.map((w) => [w.method, w.path, w.body])).toEqual([
      ['PUT', '/v1/playlists/legacy', { description: 'New words' }],
      ['PUT', '/v1/playlists/legacy/items', { uris: [uri(1), uri(2)] }],
    ]);
  });

  it('a 429 on the replace is retried after Retry-After; a 500 on an append is not repeated, and the error says a rerun repairs it', async () => {
    const ids = Array.from({ length: 150 }, (_, i) => id(100 + i));
    const run = write('Flaky', ids);
    await expect(run).rejects.toBeInstanceOf(UserError);
    await expect(run).rejects.toThrow(/HTTP 500 Server error\. \(POST \/playlists\/flaky\/items\).*after 1 write request\(s\): the playlist is partly updated; run the write-back again/);
    expect(writes.map((w) => [w.method, w.status, (w.body as { uris: string[] }).uris.length])).toEqual([
      ['PUT', 429, 100], ['PUT', 200, 100], ['POST', 500, 50],
    ]);
  });

  it('refuses values that are not Spotify track ids before any request', async () => {
    await expect(write('Mixed', [id(1), 'spotify:track:abc'])).rejects.toThrow(/1 value\(s\) that are not Spotify track ids.*"spotify:track:abc"/);
    expect(writes).toEqual([]);
  });
});
