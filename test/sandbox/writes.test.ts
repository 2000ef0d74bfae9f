/**
 * The sandbox's playlist write endpoints (doc §2.3, 2026 Development Mode): real HTTP on
 * 127.0.0.1. What a writer meets: create with POST /me/playlists, replace/append/remove items,
 * details; the owner rule, the modify scopes, the 100-URI cap, snapshot_id semantics, and the
 * write log tests read.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SpotifySandbox } from '../../connectors/spotify/sandbox/index.ts';
import { api, call, start, type Res } from './helpers.ts';

let sb: SpotifySandbox;
beforeEach(async () => {
  sb = await start({ seed: 11 });
});
afterEach(async () => sb?.close());

const READ = ['user-read-private', 'playlist-read-private'];
const PRIVATE = [...READ, 'playlist-modify-private'];

function write(token: string, method: string, path: string, body?: unknown) {
  return call(`${sb.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const uris = (n: number, from = 0) => [...sb.data.tracks.keys()].slice(from, from + n).map((id) => `spotify:track:${id}`);

async function create(token: string, name = 'Recs', extra: Record<string, unknown> = { public: false }) {
  const r = await write(token, 'POST', '/me/playlists', { name, ...extra });
  expect(r.status, r.text).toBe(201);
  return r.body as { id: string; snapshot_id: string; owner: { id: string }; public: boolean; items: { total: number } };
}

async function itemUris(token: string, id: string): Promise<string[]> {
  const out: string[] = [];
  let next: string | null = `/playlists/${id}/items?limit=50`;
  for (let i = 0; next && i < 20; i++) {
    const r: Res = await api(sb, token, next);
    expect(r.status).toBe(200);
    out.push(...(r.body.items as Array<{ item: { uri: string } }>).map((x) => x.item.uri));
    next = r.body.next;
  }
  return out;
}

describe('POST /me/playlists', () => {
  it('creates a private playlist owned by the user: 201 with the playlist object, listed first in GET /me/playlists', async () => {
    const token = sb.issueUserToken(PRIVATE);
    const p = await create(token, 'Für dich 🎧', { public: false, description: 'weekly' });
    expect(p.owner.id).toBe(sb.data.user.id);
    expect(p.public).toBe(false);
    expect(p.items.total).toBe(0);
    expect(p.snapshot_id).toMatch(/^AAAA/);
    const mine = await api(sb, token, '/me/playlists?limit=50');
    expect(mine.body.items[0]).toMatchObject({ id: p.id, name: 'Für dich 🎧', description: 'weekly', public: false, items: { total: 0 } });
    expect((await api(sb, token, `/playlists/${p.id}`)).body.name).toBe('Für dich 🎧');
  });

  it('needs playlist-modify-private for a private playlist and playlist-modify-public for a public one (403 Insufficient client scope)', async () => {
    const reader = sb.issueUserToken(READ);
    const r = await write(reader, 'POST', '/me/playlists', { name: 'x', public: false });
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ error: { status: 403, message: 'Insufficient client scope' } });
    // `public` defaults to true: a token with only the private scope cannot create without saying public: false.
    const priv = sb.issueUserToken(PRIVATE);
    expect((await write(priv, 'POST', '/me/playlists', { name: 'x' })).status).toBe(403);
    expect((await write(sb.issueClientToken(), 'POST', '/me/playlists', { name: 'x', public: false })).status).toBe(403);
    expect(sb.data.playlists.filter((p) => p.created)).toHaveLength(0);
  });

  it('POST /users/{id}/playlists is 403 Forbidden in Development (Feb 2026); a missing name is 400', async () => {
    const token = sb.issueUserToken(PRIVATE);
    const r = await write(token, 'POST', `/users/${sb.data.user.id}/playlists`, { name: 'x', public: false });
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ error: { status: 403, message: 'Forbidden' } });
    expect((await write(token, 'POST', '/me/playlists', { public: false })).status).toBe(400);
    expect((await write(token, 'POST', '/me/playlists', '{"name":')).body).toEqual({ error: { status: 400, message: 'Error parsing JSON.' } });
  });
});

describe('items', () => {
  it('PUT replaces (<= 100, 200 {snapshot_id}), POST appends (201), DELETE removes; the snapshot changes only with the contents', async () => {
    const token = sb.issueUserToken(PRIVATE);
    const p = await create(token);
    const put = await write(token, 'PUT', `/playlists/${p.id}/items`, { uris: uris(100) });
    expect(put.status).toBe(200);
    expect(Object.keys(put.body)).toEqual(['snapshot_id']);
    expect(put.body.snapshot_id).not.toBe(p.snapshot_id);
    const post = await write(token, 'POST', `/playlists/${p.id}/items`, { uris: uris(30, 100) });
    expect(post.status).toBe(201);
    expect(post.body.snapshot_id).not.toBe(put.body.snapshot_id);
    expect(await itemUris(token, p.id)).toEqual(uris(130));
    // The same list again: contents unchanged, snapshot kept.
    const again = await write(token, 'PUT', `/playlists/${p.id}/items`, { uris: uris(100) });
    const again2 = await write(token, 'PUT', `/playlists/${p.id}/items`, { uris: uris(100) });
    expect(again2.body.snapshot_id).toBe(again.body.snapshot_id);
    const del = await write(token, 'DELETE', `/playlists/${p.id}/items`, { items: uris(2).map((uri) => ({ uri })), snapshot_id: again.body.snapshot_id });
    expect(del.status).toBe(200);
    expect(await itemUris(token, p.id)).toEqual(uris(98, 2));
    // Details: 200 with no body, snapshot kept.
    const before = (await api(sb, token, `/playlists/${p.id}`)).body.snapshot_id;
    const details = await write(token, 'PUT', `/playlists/${p.id}`, { name: 'Renamed', description: 'd' });
    expect(details.status).toBe(200);
    expect(details.text).toBe('');
    const after = (await api(sb, token, `/playlists/${p.id}`)).body;
    expect([after.name, after.description, after.snapshot_id]).toEqual(['Renamed', 'd', before]);
  });

  it('refuses more than 100 URIs, bad and unknown URIs (400), and the legacy /tracks writes (403 in Development)', async () => {
    const token = sb.issueUserToken(PRIVATE);
    const p = await create(token);
    const tooMany = await write(token, 'PUT', `/playlists/${p.id}/items`, { uris: uris(101) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.message).toMatch(/maximum of 100/);
    expect((await write(token, 'POST', `/playlists/${p.id}/items`, { uris: ['spotify:track:short'] })).status).toBe(400);
    expect((await write(token, 'POST', `/playlists/${p.id}/items`, { uris: ['spotify:track:0000000000000000000000'] })).body.error.message).toBe('Payload contains a non-existing ID');
    expect((await write(token, 'POST', `/playlists/${p.id}/tracks`, { uris: uris(1) })).body).toEqual({ error: { status: 403, message: 'Forbidden' } });
    expect(await itemUris(token, p.id)).toEqual([]);
  });

  it('only the owner writes: another user\'s followed playlist is 403; the user\'s own public playlist needs playlist-modify-public', async () => {
    const token = sb.issueUserToken(PRIVATE);
    const followed = sb.data.playlists.find((p) => p.access === 'followed')!;
    const r = await write(token, 'PUT', `/playlists/${followed.id}/items`, { uris: uris(1) });
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ error: { status: 403, message: 'Forbidden' } });
    expect((await write(token, 'PUT', `/playlists/${followed.id}`, { name: 'mine now' })).status).toBe(403);
    const ownPublic = sb.data.playlists.find((p) => p.access === 'owned' && p.public)!;
    const before = ownPublic.snapshot_id;
    const s = await write(token, 'POST', `/playlists/${ownPublic.id}/items`, { uris: uris(1) });
    expect(s.body).toEqual({ error: { status: 403, message: 'Insufficient client scope' } });
    expect([followed.name, ownPublic.snapshot_id]).toEqual(['Алина: любимое', before]);
  });

  it('logs every write request with its JSON body and status', async () => {
    const token = sb.issueUserToken(PRIVATE);
    const p = await create(token);
    await write(token, 'PUT', `/playlists/${p.id}/items`, { uris: uris(2) });
    await write(token, 'PUT', `/playlists/${p.id}/items`, { uris: uris(101) });
    expect(sb.writes().map((w) => [w.method, w.path, w.status, w.body])).toEqual([
      ['POST', '/v1/me/playlists', 201, { name: 'Recs', public: false }],
      ['PUT', `/v1/playlists/${p.id}/items`, 200, { uris: uris(2) }],
      ['PUT', `/v1/playlists/${p.id}/items`, 400, { uris: uris(101) }],
    ]);
  });
});
