/**
 * Every stream kind of the Spotify connector, against every sandbox profile: the records equal
 * the sandbox's ground truth (ids, order, count: none missing, none duplicated), they pass the
 * endpoint's record schema, and the run spends exactly the fewest requests the endpoint's page
 * and batch sizes for the API mode allow (computed here from the sandbox data and the descriptor).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchSize, endpoints, pageSize } from '../../connectors/spotify/endpoints.ts';
import { startSandbox, type SpotifySandbox, type SandboxData, type PlaylistTruth } from '../../connectors/spotify/sandbox/index.ts';
import type { JsonRecord } from '../../core/plugin-api.ts';
import { loadState, saveState } from '../../core/engine/state.ts';
import {
  NOW, PROFILES, pagesFor, removeTempDirs, runStreams, schemaFailures, served, tempDir, type Mode, type RunResult, type Streams,
} from './helpers.ts';

/** A well-formed id no object has: costs one request (404) per id in Development Mode, null in a batch. */
const UNKNOWN_ID = '0000000000000000000000';
const SEARCH_QUERIES = ['night', 'velvet', 'podcast', 'ever'];
const TOP_TRACK_RANGES = ['long_term', 'short_term'];

const EXTENDED_ONLY = ['users/{id}/playlists', 'playlists/{id}/tracks', 'artists/{id}/top-tracks'];

function streamsFor(d: SandboxData, mode: Mode): Streams {
  const someArtists = [...d.artists.keys()].slice(1, 6);
  const streams: Streams = {
    recently_played: { endpoint: 'me/player/recently-played' },
    my_playlists: { endpoint: 'me/playlists' },
    playlist_items: { endpoint: 'playlists/{id}/items', for_each: 'my_playlists.id' },
    playlists: { endpoint: 'playlists/{id}', for_each: 'my_playlists.id' },
    saved_tracks: { endpoint: 'me/tracks' },
    following: { endpoint: 'me/following' },
    top_artists: { endpoint: 'me/top/artists' },
    top_tracks: { endpoint: 'me/top/tracks', params: { time_ranges: TOP_TRACK_RANGES } },
    // Literal ids (with a duplicate and an unknown id) and ids from another stream.
    artists: { endpoint: 'artists', ids: [...someArtists, someArtists[0], UNKNOWN_ID], ids_from: ['following.id'] },
    tracks: { endpoint: 'tracks', ids_from: ['saved_tracks.track.id'] },
    albums: { endpoint: 'albums', ids_from: ['tracks.album.id'] },
    // Parents that repeat: many saved tracks share an album, top artists repeat across ranges.
    album_tracks: { endpoint: 'albums/{id}/tracks', for_each: 'tracks.album.id' },
    // All groups: some top artists have more than 10 releases (two pages in Development Mode).
    artist_albums: { endpoint: 'artists/{id}/albums', for_each: 'top_artists.id' },
    search: { endpoint: 'search', params: { queries: SEARCH_QUERIES } },
  };
  if (mode === 'extended') {
    streams.user_playlists = { endpoint: 'users/{id}/playlists', ids_from: ['my_playlists.owner.id'] };
    streams.legacy_items = { endpoint: 'playlists/{id}/tracks', for_each: 'my_playlists.id' };
    streams.artist_top_tracks = { endpoint: 'artists/{id}/top-tracks', for_each: 'artists.id' };
  }
  return streams;
}

interface Expected {
  /** One key per record, in order. */
  keys: string[];
  key: (r: JsonRecord) => string;
  requests: number;
}

const distinct = <T,>(xs: T[]): T[] => [...new Set(xs)];
const idOf = (r: JsonRecord) => String(r.id);
const get = (o: unknown, path: string): unknown => path.split('.').reduce<unknown>((c, k) => (c && typeof c === 'object' ? (c as JsonRecord)[k] : undefined), o);

/** What the sandbox's search route finds for a query and type, in its order (sandbox/routes.ts). */
function searchTruth(d: SandboxData, q: string, type: string): string[] {
  const words = q.toLowerCase().replace(/["']/g, ' ').split(/\s+/).map((w) => w.replace(/^[a-z_]+:/, '')).filter(Boolean);
  const matches = (name: string) => words.every((w) => name.toLowerCase().includes(w));
  const byPopularity = <T extends { popularity: number; id: string }>(a: T, b: T) => b.popularity - a.popularity || (a.id < b.id ? -1 : 1);
  if (type === 'track') return [...d.tracks.values()].filter((x) => matches(x.name)).sort(byPopularity).map((x) => x.id);
  if (type === 'artist') return [...d.artists.values()].filter((x) => matches(x.name)).sort(byPopularity).map((x) => x.id);
  if (type === 'album') return [...d.albums.values()].filter((x) => matches(x.name)).sort(byPopularity).map((x) => x.id);
  if (type === 'playlist') return d.playlists.filter((p) => p.public && matches(p.name)).map((p) => p.id);
  if (type === 'show') return [...d.shows.values()].filter((x) => matches(x.name)).map((x) => x.id);
  return [...d.episodes.values()].filter((x) => matches(x.name)).map((x) => x.id);
}

/** Search results reachable through offsets 0..maxOffset at `size` a page. */
export function searchReachable(total: number, size: number, maxOffset: number): number {
  return Math.min(total, Math.floor(maxOffset / size) * size + size);
}

const itemKey = (r: JsonRecord) => `${String(r.playlist_id)}|${String(r.position)}|${String(get(r, 'item.uri') ?? null)}`;
const playlistItemKeys = (p: PlaylistTruth) => p.items.map((it, i) => `${p.id}|${i}|${it.item?.uri ?? null}`);

/** The ground truth of every stream of `streamsFor`, from the sandbox data and the descriptors. */
function truth(sb: SpotifySandbox, mode: Mode): Record<string, Expected> {
  const d = sb.data;
  const page = (endpoint: string) => pageSize(endpoints[endpoint], mode);
  const batch = (endpoint: string) => batchSize(endpoints[endpoint], mode);
  const dev = mode === 'development';
  // Development Mode: items only of playlists the user owns or collaborates on; editorial ones are 404.
  const readable = d.playlists.filter((p) => !dev || p.access === 'owned' || p.access === 'collaborative');
  const playlistParents = d.playlists.filter((p) => !dev || p.owner.id !== 'spotify');
  const someArtists = [...d.artists.keys()].slice(1, 6);
  const artistIds = distinct([...someArtists, someArtists[0], UNKNOWN_ID, ...d.followedArtists]);
  const foundArtists = artistIds.filter((id) => d.artists.has(id));
  const trackIds = distinct(d.savedTracks.map((s) => s.track_id));
  const albumIds = distinct(trackIds.map((id) => d.tracks.get(id)!.album.id));
  const ranges = ['short_term', 'medium_term', 'long_term'] as const;
  const topArtistIds = distinct(ranges.flatMap((r) => d.top[r].artists));
  const idsRequests = (endpoint: string, n: number) => (batch(endpoint) > 1 ? Math.ceil(n / batch(endpoint)) : n);

  const out: Record<string, Expected> = {
    recently_played: { keys: d.plays.slice(0, 50).map((p) => `${p.played_at}|${p.track_id}`), key: (r) => `${String(r.played_at)}|${String(get(r, 'track.id'))}`, requests: 1 },
    my_playlists: { keys: d.playlists.map((p) => p.id), key: idOf, requests: pagesFor(d.playlists.length, page('me/playlists')) },
    playlist_items: {
      keys: readable.flatMap(playlistItemKeys),
      key: itemKey,
      requests: readable.reduce((n, p) => n + pagesFor(p.items.length, page('playlists/{id}/items')), 0),
    },
    playlists: {
      // Reduced to {href, total} when the user may read the items; absent otherwise (doc 2.3).
      keys: playlistParents.map((p) => `${p.id}|${readable.includes(p) ? p.items.length : '-'}`),
      key: (r) => `${idOf(r)}|${String(get(r, 'items.total') ?? '-')}`,
      requests: playlistParents.length,
    },
    saved_tracks: {
      keys: d.savedTracks.map((s) => `${s.added_at}|${s.track_id}`),
      key: (r) => `${String(r.added_at)}|${String(get(r, 'track.id'))}`,
      requests: pagesFor(d.savedTracks.length, page('me/tracks')),
    },
    following: { keys: d.followedArtists, key: idOf, requests: pagesFor(d.followedArtists.length, page('me/following')) },
    top_artists: {
      keys: ranges.flatMap((r) => d.top[r].artists.map((id, i) => `${r}|${i + 1}|${id}`)),
      key: (r) => `${String(r.time_range)}|${String(r.rank)}|${idOf(r)}`,
      requests: ranges.reduce((n, r) => n + pagesFor(d.top[r].artists.length, page('me/top/artists')), 0),
    },
    top_tracks: {
      keys: TOP_TRACK_RANGES.flatMap((r) => d.top[r as 'long_term'].tracks.map((id, i) => `${r}|${i + 1}|${id}`)),
      key: (r) => `${String(r.time_range)}|${String(r.rank)}|${idOf(r)}`,
      requests: TOP_TRACK_RANGES.reduce((n, r) => n + pagesFor(d.top[r as 'long_term'].tracks.length, page('me/top/tracks')), 0),
    },
    artists: { keys: foundArtists, key: idOf, requests: idsRequests('artists', artistIds.length) },
    tracks: { keys: trackIds, key: idOf, requests: idsRequests('tracks', trackIds.length) },
    albums: { keys: albumIds, key: idOf, requests: idsRequests('albums', albumIds.length) },
    album_tracks: {
      keys: albumIds.flatMap((a) => d.albums.get(a)!.track_ids.map((t) => `${a}|${t}`)),
      key: (r) => `${String(r.album_id)}|${idOf(r)}`,
      requests: albumIds.reduce((n, a) => n + pagesFor(d.albums.get(a)!.track_ids.length, page('albums/{id}/tracks')), 0),
    },
    artist_albums: (() => {
      const refs = (id: string) => d.artistAlbums.get(id) ?? [];
      return {
        keys: topArtistIds.flatMap((a) => refs(a).map((r) => `${a}|${r.album_id}`)),
        key: (r: JsonRecord) => `${String(r.artist_id)}|${idOf(r)}`,
        requests: topArtistIds.reduce((n, a) => n + pagesFor(refs(a).length, page('artists/{id}/albums')), 0),
      };
    })(),
    search: (() => {
      const types = ['track', 'artist', 'album', 'playlist', 'show', 'episode'];
      const size = page('search');
      const reads = SEARCH_QUERIES.flatMap((q) => types.map((t) => ({ q, t, ids: searchTruth(d, q, t) })));
      const reach = (n: number) => searchReachable(n, size, endpoints.search.maxOffset!);
      return {
        keys: reads.flatMap(({ q, t, ids }) => ids.slice(0, reach(ids.length)).map((id) => `${q}|${t}|${id}`)),
        key: (r: JsonRecord) => `${String(r.query)}|${String(r.type)}|${idOf(r)}`,
        requests: reads.reduce((n, { ids }) => n + pagesFor(reach(ids.length), size), 0),
      };
    })(),
  };
  if (mode === 'extended') {
    const owners = distinct(d.playlists.map((p) => p.owner.id));
    const owned = (u: string) => d.playlists.filter((p) => p.owner.id === u && p.public);
    out.user_playlists = {
      keys: owners.flatMap((u) => owned(u).map((p) => `${u}|${p.id}`)),
      key: (r) => `${String(r.user_id)}|${idOf(r)}`,
      requests: owners.reduce((n, u) => n + pagesFor(owned(u).length, page('users/{id}/playlists')), 0),
    };
    out.legacy_items = {
      keys: d.playlists.flatMap(playlistItemKeys),
      key: itemKey,
      requests: d.playlists.reduce((n, p) => n + pagesFor(p.items.length, page('playlists/{id}/tracks')), 0),
    };
    const byArtist = new Map<string, Array<{ id: string; popularity: number }>>();
    for (const t of d.tracks.values()) for (const a of t.artists) byArtist.set(a.id, [...(byArtist.get(a.id) ?? []), t]);
    const top10 = (a: string) => (byArtist.get(a) ?? []).slice().sort((x, y) => y.popularity - x.popularity || (x.id < y.id ? -1 : 1)).slice(0, 10);
    out.artist_top_tracks = {
      keys: foundArtists.flatMap((a) => top10(a).map((t, i) => `${a}|${i + 1}|${t.id}`)),
      key: (r) => `${String(r.artist_id)}|${String(r.rank)}|${idOf(r)}`,
      requests: foundArtists.length,
    };
  }
  return out;
}

afterAll(removeTempDirs);

describe.each(PROFILES)('every stream kind against the $profile sandbox (api_mode: $mode)', ({ profile, mode }) => {
  let sb: SpotifySandbox;
  let res: RunResult;
  let expected: Record<string, Expected>;
  let streams: Streams;

  beforeAll(async () => {
    sb = await startSandbox({ profile, seed: 42, now: NOW });
    streams = streamsFor(sb.data, mode);
    expected = truth(sb, mode);
    res = await runStreams(sb, mode, streams);
  });
  afterAll(async () => {
    await sb?.close();
  });

  it('covers every endpoint the mode allows', () => {
    const used = new Set(Object.values(streams).map((s) => s.endpoint as string));
    const allowed = Object.keys(endpoints).filter((e) => !endpoints[e].modes?.[mode]?.removed);
    expect([...used].sort()).toEqual(allowed.sort());
    if (mode === 'development') for (const e of EXTENDED_ONLY) expect(allowed).not.toContain(e);
  });

  it('yields exactly the ground truth of every stream: ids, order, count', () => {
    for (const [name, exp] of Object.entries(expected)) {
      const got = (res.records[name] ?? []).map(exp.key);
      expect(got.length, `${name}: record count`).toBe(exp.keys.length);
      expect(got, `${name}: records`).toEqual(exp.keys);
    }
    // The big playlist: 1,234 items, 1,234 records, with every position once.
    const big = sb.data.playlists[0];
    const bigItems = res.records.playlist_items.filter((r) => r.playlist_id === big.id);
    expect(bigItems.length).toBe(1234);
    expect(new Set(bigItems.map((r) => r.position)).size).toBe(1234);
  });

  it('spends exactly the fewest requests the descriptors allow, and never fetches an id twice', () => {
    for (const [name, exp] of Object.entries(expected)) {
      const endpoint = streams[name].endpoint as string;
      expect(res.summary.requestsByEndpoint[endpoint], `${name}: requests counted by the engine`).toBe(exp.requests);
      expect(served(res.log, endpoint, mode).length, `${name}: requests served by the sandbox`).toBe(exp.requests);
    }
    // Every API request belongs to one of the streams (nothing unaccounted for).
    const total = Object.values(expected).reduce((n, e) => n + e.requests, 0);
    expect(res.log.length).toBe(total);
    // The same single-object URL is never asked for twice (ids once, parents once).
    const single = res.log.filter((r) => Object.keys(r.query).length === 0 || (!('offset' in r.query) && !('after' in r.query) && !('ids' in r.query)));
    const urls = single.map((r) => `${r.path}?${new URLSearchParams(r.query).toString()}`);
    expect(urls.length - new Set(urls).size).toBe(0);
    // Batches never repeat an id either.
    for (const e of ['artists', 'tracks', 'albums']) {
      const ids = served(res.log, e, mode).flatMap((r) => (r.query.ids ? r.query.ids.split(',') : [r.path.split('/').pop()!]));
      expect(ids.length - new Set(ids).size, e).toBe(0);
    }
    // Nothing refused: no request to a playlist the user cannot read, no limit above the mode's.
    const failures = res.log.filter((r) => r.status >= 400);
    if (mode === 'development') {
      // Only the deliberately unknown artist id, which must be asked for to be known.
      expect(failures.map((r) => `${r.status} ${r.path}`)).toEqual([`404 /v1/artists/${UNKNOWN_ID}`]);
    } else {
      expect(failures).toEqual([]);
    }
  });

  it('records pass their endpoint record schema', () => {
    for (const [name, s] of Object.entries(streams)) {
      const records = res.records[name] ?? [];
      expect(schemaFailures(endpoints[s.endpoint as string].recordSchema, records), name).toEqual([]);
    }
  });

  it('normalizes playlist shapes whatever the profile sends', () => {
    for (const r of res.records.playlist_items) {
      expect(r).not.toHaveProperty('track');
      expect(r).toHaveProperty('item');
    }
    for (const name of ['my_playlists', 'playlists', 'user_playlists']) {
      for (const r of res.records[name] ?? []) {
        expect(r, name).not.toHaveProperty('tracks');
        if (r.items !== undefined) expect(Object.keys(r.items as object).sort(), name).toEqual(['href', 'total']);
      }
    }
    for (const r of res.records.my_playlists) expect(typeof get(r, 'items.total')).toBe('number');
    // Removed fields stay absent in Development Mode and are kept in Extended Quota Mode.
    const popularity = res.records.artists.filter((r) => r.popularity !== undefined).length;
    expect(popularity).toBe(mode === 'development' ? 0 : res.records.artists.length);
  });

  it('notes the skips it made instead of spending requests', () => {
    const notes = (name: string) => res.summary.streams.find((s) => s.stream === name)!.notes;
    const tracks = res.records.tracks.length;
    expect(notes('album_tracks').skipped_duplicate).toBe(tracks - new Set(res.records.tracks.map((t) => get(t, 'album.id'))).size);
    expect(notes('artist_albums').skipped_duplicate).toBe(res.records.top_artists.length - new Set(res.records.top_artists.map(idOf)).size);
    expect(notes('artists').not_found).toBe(1);
    if (mode === 'development') {
      expect(notes('playlists').skipped_editorial).toBe(1);
      expect(res.lines.some((l) => /warn: playlists: .*skipped: Spotify-owned editorial/.test(l))).toBe(true);
      expect(notes('playlist_items').skipped_not_owned).toBe(2);
    }
  });
});

describe.each(PROFILES)('paging limits against the $profile sandbox (api_mode: $mode)', ({ profile, mode }) => {
  let sb: SpotifySandbox;
  beforeAll(async () => {
    // Few albums: many have more than 50 tracks, so album tracks page. More followed artists:
    // three pages of following.
    sb = await startSandbox({ profile, seed: 42, now: NOW, size: { albums: 40, followedArtists: 120 } });
  });
  afterAll(async () => {
    await sb?.close();
  });

  it('search stops at the API\'s largest offset (1000) and notes it', async () => {
    const res = await runStreams(sb, mode, { found: { endpoint: 'search', params: { queries: ['e'], types: ['track'] } } });
    const size = pageSize(endpoints.search, mode);
    const total = searchTruth(sb.data, 'e', 'track');
    const reach = searchReachable(total.length, size, 1000);
    expect(total.length).toBeGreaterThan(reach);
    expect(res.records.found.map(idOf)).toEqual(total.slice(0, reach));
    expect(res.summary.requestsByEndpoint.search).toBe(Math.ceil(reach / size));
    expect(Math.max(...res.log.map((r) => Number(r.query.offset)))).toBe(1000);
    expect(res.log.every((r) => r.query.q === 'e' && r.query.type === 'track' && Number(r.query.limit) === size)).toBe(true);
    expect(res.summary.streams[0].notes.offset_limit).toBe(1);
  });

  it('album tracks page past 50', async () => {
    const big = [...sb.data.albums.values()].filter((a) => a.track_ids.length > 50).slice(0, 3);
    expect(big.length).toBe(3);
    const res = await runStreams(sb, mode, {
      albums: { endpoint: 'albums', ids: big.map((a) => a.id) },
      album_tracks: { endpoint: 'albums/{id}/tracks', for_each: 'albums.id' },
    });
    expect(res.records.album_tracks.map((r) => `${String(r.album_id)}|${idOf(r)}`)).toEqual(big.flatMap((a) => a.track_ids.map((t) => `${a.id}|${t}`)));
    expect(res.summary.requestsByEndpoint['albums/{id}/tracks']).toBe(big.reduce((n, a) => n + Math.ceil(a.track_ids.length / 50), 0));
    expect(res.summary.requestsByEndpoint.albums).toBe(mode === 'extended' ? 1 : 3);
  });

  it('me/following pages by cursor: `after` is the last artist id of the previous page', async () => {
    const res = await runStreams(sb, mode, { following: { endpoint: 'me/following' } });
    const size = pageSize(endpoints['me/following'], mode);
    const followed = sb.data.followedArtists;
    expect(followed.length).toBe(120);
    expect(res.records.following.map(idOf)).toEqual(followed);
    const reqs = served(res.log, 'me/following', mode);
    expect(reqs.length).toBe(Math.ceil(followed.length / size));
    expect(reqs.map((r) => r.query.after ?? null)).toEqual(reqs.map((_r, i) => (i === 0 ? null : followed[i * size - 1])));
    expect(reqs.every((r) => r.query.type === 'artist' && Number(r.query.limit) === size)).toBe(true);
  });

  it('artist albums send include_groups and page at the mode\'s size', async () => {
    const groups = ['single', 'appears_on'];
    const artists = [...sb.data.artistAlbums.entries()].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1)).slice(0, 4).map(([id]) => id);
    const res = await runStreams(sb, mode, {
      artists: { endpoint: 'artists', ids: artists },
      albums_of: { endpoint: 'artists/{id}/albums', for_each: 'artists.id', params: { include_groups: groups.join(',') } },
    });
    const size = pageSize(endpoints['artists/{id}/albums'], mode);
    const refs = (id: string) => sb.data.artistAlbums.get(id)!.filter((r) => groups.includes(r.album_group));
    expect(res.records.albums_of.map((r) => `${String(r.artist_id)}|${idOf(r)}`)).toEqual(artists.flatMap((a) => refs(a).map((r) => `${a}|${r.album_id}`)));
    expect(res.summary.requestsByEndpoint['artists/{id}/albums']).toBe(artists.reduce((n, a) => n + pagesFor(refs(a).length, size), 0));
    const reqs = served(res.log, 'artists/{id}/albums', mode);
    expect(reqs.every((r) => r.query.include_groups === 'single,appears_on' && Number(r.query.limit) === size)).toBe(true);
  });
});

describe.each(PROFILES)('incremental saved tracks against the $profile sandbox (api_mode: $mode)', ({ profile, mode }) => {
  let sb: SpotifySandbox;
  beforeAll(async () => {
    sb = await startSandbox({ profile, seed: 42, now: NOW });
  });
  afterAll(async () => {
    await sb?.close();
  });

  it('a second run yields nothing with one request; after new saves it stops at the first known item', async () => {
    const dir = await tempDir();
    const saved = sb.data.savedTracks;
    const size = pageSize(endpoints['me/tracks'], mode);
    const streams = { saved: { endpoint: 'me/tracks', incremental: 'field' } };
    const keys = (res: RunResult) => (res.records.saved ?? []).map((r) => `${String(r.added_at)}|${String(get(r, 'track.id'))}`);
    const truthKeys = (n: number) => saved.slice(0, n).map((s) => `${s.added_at}|${s.track_id}`);

    const first = await runStreams(sb, mode, streams, { dir });
    expect(keys(first)).toEqual(truthKeys(saved.length));
    expect(first.summary.requestsByEndpoint['me/tracks']).toBe(pagesFor(saved.length, size));
    expect((await loadState(first.storage, 'saved')).added_at).toBe(saved[0].added_at);

    const second = await runStreams(sb, mode, streams, { dir });
    expect(keys(second)).toEqual([]);
    expect(second.summary.requestsByEndpoint['me/tracks']).toBe(1);
    expect(served(second.log, 'me/tracks', mode).length).toBe(1);
    expect((await loadState(second.storage, 'saved')).added_at).toBe(saved[0].added_at);

    // As if the last committed run was before the newest saves: only those come back, and paging
    // stops on the page where the first known item appears.
    for (const newer of [10, 60]) {
      await saveState(first.storage, 'saved', { added_at: saved[newer].added_at }, 'an-older-run');
      const res = await runStreams(sb, mode, streams, { dir });
      expect(keys(res), `${newer} newer saves`).toEqual(truthKeys(newer));
      expect(res.summary.requestsByEndpoint['me/tracks'], `${newer} newer saves`).toBe(Math.floor(newer / size) + 1);
      expect((await loadState(res.storage, 'saved')).added_at).toBe(saved[0].added_at);
    }
  });
});

describe('README', () => {
  it('documents every endpoint the connector offers', async () => {
    const { readFile } = await import('node:fs/promises');
    const { endpoints } = await import('../../connectors/spotify/endpoints.ts');
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    for (const name of Object.keys(endpoints)) expect(readme, name).toContain(`| \`${name}\` |`);
  });
});
