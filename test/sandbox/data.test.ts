import { describe, expect, it } from 'vitest';
import { generateSandboxData } from '../../connectors/spotify/sandbox/index.ts';
import { api, basic, start, tokenRequest, userToken, NOW } from './helpers.ts';

describe('sandbox ground truth', () => {
  const d = generateSandboxData(42, NOW, {});

  it('has the default sizes', () => {
    expect(d.artists.size).toBe(150);
    expect(d.albums.size).toBe(250);
    expect(d.tracks.size).toBe(1500);
    expect(d.episodes.size).toBe(40);
    expect(d.plays).toHaveLength(300);
    expect(d.savedTracks).toHaveLength(200);
    expect(d.followedArtists).toHaveLength(60);
    expect([...d.albums.values()].reduce((s, a) => s + a.track_ids.length, 0)).toBe(1500);
  });

  it('uses unique 22-char base62 ids', () => {
    const ids = [...d.artists.keys(), ...d.albums.keys(), ...d.tracks.keys(), ...d.episodes.keys(), ...d.playlists.map((p) => p.id)];
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[0-9A-Za-z]{22}$/);
  });

  it('is messy like real data', () => {
    const names = [...d.tracks.values()].map((t) => t.name);
    const artistNames = [...d.artists.values()].map((a) => a.name);
    expect(names.some((n) => n.includes('\n'))).toBe(true);
    expect(names.some((n) => n.includes(','))).toBe(true);
    expect(names.some((n) => n.includes('"'))).toBe(true);
    expect(names.some((n) => /[\u3040-\u30ff\u4e00-\u9fff]/.test(n))).toBe(true);
    expect(names.some((n) => /[\u0400-\u04ff]/.test(n))).toBe(true);
    expect(names.some((n) => /\p{Extended_Pictographic}/u.test(n))).toBe(true);
    expect(artistNames.some((n) => n.includes(','))).toBe(true);
    const multi = [...d.tracks.values()].filter((t) => t.artists.length > 1).length / d.tracks.size;
    expect(multi).toBeGreaterThan(0.2);
    expect(multi).toBeLessThan(0.45);
    const precisions = new Map<string, string>();
    for (const a of d.albums.values()) precisions.set(a.release_date_precision, a.release_date);
    expect(precisions.get('year')).toMatch(/^\d{4}$/);
    expect(precisions.get('month')).toMatch(/^\d{4}-\d{2}$/);
    expect(precisions.get('day')).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const a of d.albums.values()) {
      const re = { year: /^\d{4}$/, month: /^\d{4}-\d{2}$/, day: /^\d{4}-\d{2}-\d{2}$/ }[a.release_date_precision];
      expect(a.release_date).toMatch(re);
    }
    const big = d.playlists.find((p) => p.items.length === 1234)!;
    expect(big.items.some((i) => i.item === null)).toBe(true);
    expect(big.items.some((i) => i.is_local)).toBe(true);
    expect(big.items.some((i) => i.item?.type === 'episode')).toBe(true);
    // Messy-named tracks reach the retrievable plays.
    const messy = new Set(d.messy.trackIds);
    expect(d.plays.slice(0, 50).some((p) => messy.has(p.track_id))).toBe(true);
  });

  it('plays are newest first, before now, over ~10 days, with ms precision', () => {
    const ms = d.plays.map((p) => Date.parse(p.played_at));
    for (let i = 1; i < ms.length; i++) expect(ms[i]).toBeLessThan(ms[i - 1]);
    expect(ms[0]).toBeLessThan(NOW);
    expect(NOW - ms[ms.length - 1]).toBeLessThan(12 * 86_400_000);
    expect(NOW - ms[ms.length - 1]).toBeGreaterThan(5 * 86_400_000);
    for (const p of d.plays) expect(p.played_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('is a pure function of (seed, now, size)', () => {
    const again = generateSandboxData(42, NOW, {});
    expect(JSON.stringify(again.playlists)).toBe(JSON.stringify(d.playlists));
    expect(JSON.stringify(again.plays)).toBe(JSON.stringify(d.plays));
    const other = generateSandboxData(43, NOW, {});
    expect(other.playlists[0].id).not.toBe(d.playlists[0].id);
  });

  it('scales with size', () => {
    const small = generateSandboxData(1, NOW, { artists: 20, albums: 30, tracks: 100, bigPlaylistItems: 300, playsHistory: 60, savedTracks: 10, followedArtists: 5 });
    expect(small.tracks.size).toBe(100);
    expect(small.playlists[0].items).toHaveLength(300);
    expect(small.plays).toHaveLength(60);
  });
});

describe('sandbox determinism over HTTP', () => {
  it('two servers with the same seed give byte-identical bodies (modulo the port)', async () => {
    const [a, b] = await Promise.all([start({ seed: 7 }), start({ seed: 7 })]);
    try {
      expect(a.credentials).toEqual(b.credentials);
      const [ta, tb] = await Promise.all([
        tokenRequest(a, { grant_type: 'refresh_token', refresh_token: a.credentials.refresh_token }, basic(a)),
        tokenRequest(b, { grant_type: 'refresh_token', refresh_token: b.credentials.refresh_token }, basic(b)),
      ]);
      expect(ta.text).toBe(tb.text);
      const paths = ['/me', '/me/playlists', `/playlists/${a.data.playlists[0].id}/items?limit=50&offset=100`,
        '/me/player/recently-played?limit=50', '/me/following?type=artist', '/search?q=love&type=track,album'];
      for (const p of paths) {
        const [ra, rb] = await Promise.all([api(a, ta.body.access_token, p), api(b, tb.body.access_token, p)]);
        expect(ra.status).toBe(200);
        expect(ra.text.split(a.url).join('ORIGIN'), p).toBe(rb.text.split(b.url).join('ORIGIN'));
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a different seed gives different data', async () => {
    const c = await start({ seed: 8 });
    try {
      const tok = await userToken(c);
      const r = await api(c, tok, '/me');
      expect(r.body.id).toBe(c.data.user.id);
      expect(c.data.user.id).not.toBe(generateSandboxData(7, NOW, {}).user.id);
    } finally {
      await c.close();
    }
  });
});
