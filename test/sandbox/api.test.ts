import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RECENTLY_PLAYED_WINDOW, expectedPlaylistItemCount, type SpotifySandbox,
} from '../../connectors/spotify/sandbox/index.ts';
import { api, clientToken, pageAll, start, userToken } from './helpers.ts';

function byAccess(sb: SpotifySandbox, access: string) {
  return sb.data.playlists.find((p) => p.access === access)!;
}

describe('sandbox API, development profile', () => {
  let sb: SpotifySandbox;
  let tok: string;
  beforeAll(async () => {
    sb = await start({ profile: 'development' });
    tok = await userToken(sb);
  });
  afterAll(async () => { await sb.close(); });

  it('has the default catalog shape', () => {
    const counts = sb.data.playlists.map((p) => p.items.length);
    expect(sb.data.playlists).toHaveLength(7);
    expect(counts.filter((c) => c === 1234)).toHaveLength(1);
    expect(counts).toContain(0);
    for (const c of counts) if (c !== 1234) expect(c).toBeLessThanOrEqual(120);
    expect(byAccess(sb, 'editorial').id.startsWith('37i9dQZF1')).toBe(true);
    expect(byAccess(sb, 'followed').collaborative).toBe(false);
    expect(byAccess(sb, 'collaborative').owner.id).not.toBe(sb.data.user.id);
  });

  it('pages the 1,234-item playlist to exactly 1,234 items via next links at limit 50', async () => {
    const big = sb.data.playlists.find((p) => p.items.length === 1234)!;
    const { items, requests, totals } = await pageAll(sb, tok, `/playlists/${big.id}/items?limit=50`);
    expect(items).toHaveLength(1234);
    expect(requests).toBe(Math.ceil(1234 / 50));
    expect(new Set(totals)).toEqual(new Set([1234]));
    expect(expectedPlaylistItemCount(sb, big.id)).toBe(1234);
    // `item`, never `track`, in Development (doc §3).
    expect(items.every((i) => 'item' in i && !('track' in i))).toBe(true);
    // Messy entries: removed tracks, local files, episodes (null without additional_types), duplicates.
    expect(items.some((i) => i.item === null)).toBe(true);
    const local = items.find((i) => i.is_local);
    expect(local.item.id).toBeNull();
    expect(local.item.uri).toMatch(/^spotify:local:/);
    expect(local.item.album.images).toEqual([]);
    const ids = items.filter((i) => i.item?.id).map((i) => i.item.id);
    expect(new Set(ids).size).toBeLessThan(ids.length);
    expect(items.map((i) => i.item?.id ?? null)).toEqual(big.items.map((i) => (i.item && i.item.type === 'track' ? i.item.id : null)));
  });

  it('returns episodes only when additional_types includes episode', async () => {
    const big = sb.data.playlists.find((p) => p.items.length === 1234)!;
    const idx = big.items.findIndex((i) => i.item?.type === 'episode');
    const without = await api(sb, tok, `/playlists/${big.id}/items?offset=${idx}&limit=1`);
    expect(without.body.items[0].item).toBeNull();
    const withEp = await api(sb, tok, `/playlists/${big.id}/items?offset=${idx}&limit=1&additional_types=track,episode`);
    expect(withEp.body.items[0].item.type).toBe('episode');
    expect(withEp.body.items[0].item.show).toBeTruthy();
  });

  it('limit 51 on /items is 400 Invalid limit; limit 0 too', async () => {
    const big = sb.data.playlists[0];
    for (const l of [51, 0]) {
      const r = await api(sb, tok, `/playlists/${big.id}/items?limit=${l}`);
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ error: { status: 400, message: 'Invalid limit' } });
    }
  });

  it('403 on items of a playlist the user neither owns nor collaborates on; collaborative is readable', async () => {
    const followed = byAccess(sb, 'followed');
    const r = await api(sb, tok, `/playlists/${followed.id}/items`);
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ error: { status: 403, message: 'Forbidden' } });
    const meta = await api(sb, tok, `/playlists/${followed.id}`);
    expect(meta.status).toBe(200);
    expect(meta.body).not.toHaveProperty('items');
    expect(meta.body).not.toHaveProperty('tracks');
    const collab = byAccess(sb, 'collaborative');
    const c = await pageAll(sb, tok, `/playlists/${collab.id}/items?limit=50`);
    expect(c.items).toHaveLength(collab.items.length);
  });

  it('editorial playlists: 404 on metadata, 403 on items', async () => {
    const ed = byAccess(sb, 'editorial');
    const meta = await api(sb, tok, `/playlists/${ed.id}`);
    expect(meta.status).toBe(404);
    expect(meta.body).toEqual({ error: { status: 404, message: 'Resource not found' } });
    expect((await api(sb, tok, `/playlists/${ed.id}/items`)).status).toBe(403);
  });

  it('GET /playlists/{id} embeds a first page of `items` for owned playlists', async () => {
    const owned = sb.data.playlists[0];
    const r = await api(sb, tok, `/playlists/${owned.id}`);
    expect(r.body.items.total).toBe(1234);
    expect(r.body.items.items).toHaveLength(50);
    expect(r.body.items.next).toContain(`${sb.apiUrl}/playlists/${owned.id}/items?offset=50&limit=50`);
    expect(r.body).not.toHaveProperty('tracks');
    expect(r.body.snapshot_id).toBe(owned.snapshot_id);
    const f = await api(sb, tok, `/playlists/${owned.id}?fields=snapshot_id,items(total,items(item(id)))`);
    expect(Object.keys(f.body).sort()).toEqual(['items', 'snapshot_id']);
    expect(Object.keys(f.body.items).sort()).toEqual(['items', 'total']);
  });

  it('/me/playlists lists simplified playlists with items:{href,total}', async () => {
    const { items } = await pageAll(sb, tok, '/me/playlists?limit=50');
    expect(items.map((p) => p.id)).toEqual(sb.data.playlists.map((p) => p.id));
    for (const p of items) {
      expect(p).not.toHaveProperty('tracks');
      expect(p.items.href).toBe(`${sb.apiUrl}/playlists/${p.id}/items`);
    }
    expect(items.map((p) => p.items.total)).toEqual(sb.data.playlists.map((p) => p.items.length));
  });

  it('legacy /playlists/{id}/tracks and the removed endpoints are 403 Forbidden', async () => {
    const t = [...sb.data.tracks.keys()].slice(0, 2).join(',');
    const a = [...sb.data.artists.keys()][3];
    const al = [...sb.data.albums.keys()][0];
    for (const p of [
      `/playlists/${sb.data.playlists[0].id}/tracks`, `/tracks?ids=${t}`, `/artists?ids=${a}`, `/albums?ids=${al}`,
      `/artists/${a}/top-tracks`, `/users/${sb.data.user.id}`, `/users/${sb.data.user.id}/playlists`, '/browse/new-releases', '/markets',
    ]) {
      const r = await api(sb, tok, p);
      expect(r.status, p).toBe(403);
      expect(r.body, p).toEqual({ error: { status: 403, message: 'Forbidden' } });
    }
    for (const p of ['/audio-features?ids=' + t, `/audio-features/${t.split(',')[0]}`, '/recommendations?seed_genres=pop', `/artists/${a}/related-artists`]) {
      const r = await api(sb, tok, p);
      expect(r.status, p).toBe(403);
      expect(r.body, p).toEqual({ error: { status: 403 } });
    }
  });

  it('strips the removed fields (absent, not null)', async () => {
    const me = await api(sb, tok, '/me');
    for (const f of ['country', 'email', 'explicit_content', 'followers', 'product']) expect(me.body).not.toHaveProperty(f);
    expect(me.body.account_id).toBe(sb.data.user.account_id);
    const trackId = [...sb.data.tracks.keys()][0];
    const t = await api(sb, tok, `/tracks/${trackId}`);
    for (const f of ['available_markets', 'popularity', 'linked_from']) expect(t.body).not.toHaveProperty(f);
    expect(t.body.external_ids.isrc).toBeTruthy(); // reverted in March 2026
    expect(t.body.album).not.toHaveProperty('available_markets');
    const artistId = [...sb.data.artists.keys()][5];
    const ar = await api(sb, tok, `/artists/${artistId}`);
    expect(ar.body).not.toHaveProperty('followers');
    expect(ar.body).not.toHaveProperty('popularity');
    const al = await api(sb, tok, `/albums/${[...sb.data.albums.keys()][0]}`);
    for (const f of ['label', 'popularity', 'available_markets']) expect(al.body).not.toHaveProperty(f);
    expect(al.body.tracks.items.length).toBe(sb.data.albums.get(al.body.id)!.track_ids.length);
  });

  it('recently played: only the newest 50, newest first, cursor paging, no total', async () => {
    const first = await api(sb, tok, '/me/player/recently-played?limit=20');
    expect(first.status).toBe(200);
    expect(first.body).not.toHaveProperty('total');
    expect(first.body.items).toHaveLength(20);
    expect(first.body.cursors.after).toBe(String(Date.parse(sb.data.plays[0].played_at)));
    expect(first.body.cursors.before).toBe(String(Date.parse(sb.data.plays[19].played_at)));
    expect(first.body.next).toBe(`${sb.apiUrl}/me/player/recently-played?before=${first.body.cursors.before}&limit=20`);
    const all: any[] = [];
    let url: string | null = `${sb.apiUrl}/me/player/recently-played?limit=20`;
    while (url) {
      const r: { body: any } = await api(sb, tok, url);
      all.push(...r.body.items);
      url = r.body.next;
    }
    expect(all).toHaveLength(RECENTLY_PLAYED_WINDOW);
    expect(all.map((i) => i.played_at)).toEqual(sb.data.plays.slice(0, 50).map((p) => p.played_at));
    expect(all.map((i) => i.track.id)).toEqual(sb.data.plays.slice(0, 50).map((p) => p.track_id));
    // Past the window: empty page, cursors null, next null.
    const past = await api(sb, tok, `/me/player/recently-played?before=${Date.parse(sb.data.plays[49].played_at)}`);
    expect(past.body).toMatchObject({ items: [], next: null, cursors: null });
    // `after`: only plays newer than the cursor.
    const cut = Date.parse(sb.data.plays[5].played_at);
    const after = await api(sb, tok, `/me/player/recently-played?after=${cut}&limit=50`);
    expect(after.body.items.map((i: any) => i.played_at)).toEqual(sb.data.plays.slice(0, 5).map((p) => p.played_at));
    const both = await api(sb, tok, `/me/player/recently-played?after=1&before=2`);
    expect(both.status).toBe(400);
    expect((await api(sb, tok, '/me/player/recently-played?limit=51')).status).toBe(400);
    expect(sb.data.plays.length).toBeGreaterThan(50);
    expect(sb.data.plays.filter((p) => Date.parse(p.played_at) > sb.data.now - 86_400_000).length).toBeGreaterThanOrEqual(3);
  });

  it('ETag on playlist endpoints and /me/following: If-None-Match gives 304 with no body', async () => {
    for (const p of [`/playlists/${sb.data.playlists[0].id}/items?limit=50`, `/playlists/${sb.data.playlists[1].id}`, '/me/following?type=artist']) {
      const r = await api(sb, tok, p);
      const etag = r.headers.get('etag')!;
      expect(etag, p).toMatch(/^"[0-9a-f]+"$/);
      const again = await api(sb, tok, p, { 'if-none-match': etag });
      expect(again.status, p).toBe(304);
      expect(again.text).toBe('');
      const other = await api(sb, tok, p, { 'if-none-match': '"stale"' });
      expect(other.status).toBe(200);
    }
  });

  it('followed artists: cursor paging wrapped in `artists`, after = last artist id', async () => {
    const { items, requests } = await pageAll(sb, tok, '/me/following?type=artist&limit=25', 'artists');
    expect(items.map((a) => a.id)).toEqual(sb.data.followedArtists);
    expect(requests).toBe(Math.ceil(sb.data.followedArtists.length / 25));
    const first = await api(sb, tok, '/me/following?type=artist&limit=25');
    expect(first.body.artists.cursors.after).toBe(sb.data.followedArtists[24]);
    expect((await api(sb, tok, '/me/following')).status).toBe(400);
  });

  it('saved tracks keep `track`; top items differ per time range', async () => {
    const { items } = await pageAll(sb, tok, '/me/tracks?limit=50');
    expect(items).toHaveLength(sb.data.savedTracks.length);
    expect(items[0]).toEqual(expect.objectContaining({ added_at: sb.data.savedTracks[0].added_at }));
    expect(items[0].track.id).toBe(sb.data.savedTracks[0].track_id);
    const short = await api(sb, tok, '/me/top/tracks?time_range=short_term&limit=50');
    const long = await api(sb, tok, '/me/top/tracks?time_range=long_term&limit=50');
    expect(short.body.items.map((t: any) => t.id)).toEqual(sb.data.top.short_term.tracks.slice(0, 50));
    expect(short.body.items.map((t: any) => t.id)).not.toEqual(long.body.items.map((t: any) => t.id));
    const artists = await api(sb, tok, '/me/top/artists');
    expect(artists.body.items.map((a: any) => a.id)).toEqual(sb.data.top.medium_term.artists.slice(0, 20));
    expect((await api(sb, tok, '/me/top/tracks?time_range=forever')).status).toBe(400);
  });

  it('search: limit ≤ 10 in development, one paging object per type, names matched case-insensitively', async () => {
    const r = await api(sb, tok, '/search?q=FIRE&type=track,artist,album,playlist&limit=10');
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(['albums', 'artists', 'playlists', 'tracks']);
    const expected = [...sb.data.tracks.values()].filter((t) => t.name.toLowerCase().includes('fire')).length;
    expect(r.body.tracks.total).toBe(expected);
    for (const t of r.body.tracks.items) expect(t.name.toLowerCase()).toContain('fire');
    expect((await api(sb, tok, '/search?q=fire&type=track&limit=11')).body).toEqual({ error: { status: 400, message: 'Invalid limit' } });
    expect((await api(sb, tok, '/search?q=fire&type=track')).body.tracks.limit).toBe(5);
    expect((await api(sb, tok, '/search?q=fire&type=track&offset=1001')).status).toBe(400);
    expect((await api(sb, tok, '/search?type=track')).status).toBe(400);
  });

  it('artist albums: limit ≤ 10 in development, include_groups, album_group stripped', async () => {
    const [artistId, refs] = [...sb.data.artistAlbums.entries()].find(([, r]) => r.length > 3)!;
    expect((await api(sb, tok, `/artists/${artistId}/albums?limit=11`)).status).toBe(400);
    const { items } = await pageAll(sb, tok, `/artists/${artistId}/albums?limit=10`);
    expect(items.map((a) => a.id)).toEqual(refs.map((r) => r.album_id));
    expect(items[0]).not.toHaveProperty('album_group');
    const singles = await api(sb, tok, `/artists/${artistId}/albums?include_groups=single&limit=10`);
    expect(singles.body.total).toBe(refs.filter((r) => r.album_group === 'single').length);
  });

  it('ids: malformed → 400 invalid id, unknown → 404 Resource not found', async () => {
    expect((await api(sb, tok, '/tracks/not-an-id')).body).toEqual({ error: { status: 400, message: 'invalid id' } });
    expect((await api(sb, tok, '/tracks/0000000000000000000000')).body).toEqual({ error: { status: 404, message: 'Resource not found' } });
    expect((await api(sb, tok, '/playlists/0000000000000000000000/items')).status).toBe(404);
  });

  it('catalog endpoints work with a Client Credentials token', async () => {
    const cc = await clientToken(sb);
    const album = [...sb.data.albums.values()].find((a) => a.track_ids.length > 3)!;
    const { items } = await pageAll(sb, cc, `/albums/${album.id}/tracks?limit=2`);
    expect(items.map((t) => t.id)).toEqual(album.track_ids);
  });
});

describe('sandbox API, development-legacy and extended profiles', () => {
  let legacy: SpotifySandbox;
  let ext: SpotifySandbox;
  let lt: string;
  let et: string;
  beforeAll(async () => {
    [legacy, ext] = await Promise.all([start({ profile: 'development-legacy' }), start({ profile: 'extended' })]);
    [lt, et] = await Promise.all([userToken(legacy), userToken(ext)]);
  });
  afterAll(async () => { await Promise.all([legacy.close(), ext.close()]); });

  it('item vs track: legacy sends `track`, extended sends both', async () => {
    const id = legacy.data.playlists[0].id;
    const l = await api(legacy, lt, `/playlists/${id}/items?limit=5`);
    expect(l.body.items.every((i: any) => 'track' in i && !('item' in i))).toBe(true);
    const e = await api(ext, et, `/playlists/${id}/items?limit=5`);
    expect(e.body.items.every((i: any) => 'track' in i && 'item' in i)).toBe(true);
    expect(e.body.items[0].item).toEqual(e.body.items[0].track);
  });

  it('legacy /tracks works with limit up to 100; /me/playlists has `tracks`', async () => {
    const id = legacy.data.playlists[0].id;
    const r = await api(legacy, lt, `/playlists/${id}/tracks?limit=100`);
    expect(r.status).toBe(200);
    expect(r.body.items).toHaveLength(100);
    expect((await api(legacy, lt, `/playlists/${id}/tracks?limit=101`)).status).toBe(400);
    const mp = await api(legacy, lt, '/me/playlists');
    expect(mp.body.items[0].tracks.total).toBe(1234);
    expect(mp.body.items[0]).not.toHaveProperty('items');
    // Still Development: the owner rule, stripping and the editorial 404 apply.
    const followed = byAccess(legacy, 'followed');
    expect((await api(legacy, lt, `/playlists/${followed.id}/tracks`)).status).toBe(403);
    expect((await api(legacy, lt, '/me')).body).not.toHaveProperty('product');
    // Older client ids still accept limit=50 on artist albums and search (doc §1).
    const artist = [...legacy.data.artistAlbums.keys()][0];
    expect((await api(legacy, lt, `/artists/${artist}/albums?limit=50`)).status).toBe(200);
  });

  it('extended: every field, batch endpoints, other users\' playlists and editorial playlists', async () => {
    const me = await api(ext, et, '/me');
    expect(me.body.product).toBe('premium');
    expect(me.body.country).toBe('DE');
    const ids = [...ext.data.tracks.keys()].slice(0, 50);
    const batch = await api(ext, et, `/tracks?ids=${ids.join(',')}`);
    expect(batch.body.tracks.map((t: any) => t.id)).toEqual(ids);
    expect(batch.body.tracks[0].popularity).toBeTypeOf('number');
    expect((await api(ext, et, `/tracks?ids=${[...ids, ids[0]].join(',')}`)).status).toBe(400);
    const withUnknown = await api(ext, et, `/artists?ids=${[...ext.data.artists.keys()][1]},0000000000000000000000`);
    expect(withUnknown.body.artists[1]).toBeNull();
    expect(withUnknown.body.artists[0].followers.total).toBeTypeOf('number');
    const albums = [...ext.data.albums.keys()];
    expect((await api(ext, et, `/albums?ids=${albums.slice(0, 21).join(',')}`)).status).toBe(400);
    expect((await api(ext, et, `/albums?ids=${albums.slice(0, 20).join(',')}`)).body.albums).toHaveLength(20);
    const followed = byAccess(ext, 'followed');
    const items = await pageAll(ext, et, `/playlists/${followed.id}/tracks?limit=100`);
    expect(items.items).toHaveLength(followed.items.length);
    const ed = byAccess(ext, 'editorial');
    const edMeta = await api(ext, et, `/playlists/${ed.id}`);
    expect(edMeta.status).toBe(200);
    expect(edMeta.body.tracks.total).toBe(ed.items.length);
    expect(edMeta.body.tracks.items[0]).toHaveProperty('track');
    expect((await api(ext, et, '/search?q=a&type=track&limit=50')).status).toBe(200);
    expect((await api(ext, et, `/users/${ext.data.user.id}`)).status).toBe(200);
    expect((await api(ext, et, `/artists/${[...ext.data.artists.keys()][1]}/top-tracks`)).status).toBe(200);
    expect((await api(ext, et, '/browse/new-releases')).body.albums.items.length).toBe(20);
    const af = await api(ext, et, `/audio-features/${ids[0]}`);
    expect(af.body.id).toBe(ids[0]);
  });
});

describe('sandbox stripFields option', () => {
  it('keeps the fields set to false (e.g. product, seen in Aug 2026)', async () => {
    const sb = await start({ stripFields: { product: false, popularity: false } });
    try {
      const tok = await userToken(sb);
      const me = await api(sb, tok, '/me');
      expect(me.body.product).toBe('premium');
      expect(me.body).not.toHaveProperty('email');
      const t = await api(sb, tok, `/tracks/${[...sb.data.tracks.keys()][0]}`);
      expect(t.body.popularity).toBeTypeOf('number');
      expect(t.body).not.toHaveProperty('available_markets');
    } finally {
      await sb.close();
    }
  });
});
