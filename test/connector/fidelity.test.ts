/**
 * Data fidelity on recorded shapes (hand-written from shared/spotify-api-2026.md, not the sandbox):
 * the connector's reader turns upper-case enums into lowercase, accepts items with both `track` and
 * `item`, and stores the editorial playlists' sentinels (`added_at` 1970, `added_by` with an empty
 * id) as null; the shipped tables built from those records group by one album_type per kind.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import plugin from '../../connectors/spotify/index.ts';
import { memoryLogger } from '../../core/log.ts';
import type { HttpClient, HttpResponse, JsonRecord, StreamSpec } from '../../core/plugin-api.ts';
import { buildTables, planTable } from '../../core/transform/index.ts';
import { expectedAbsences } from '../../core/engine/absences.ts';
import { parsePipeline } from '../../core/config/index.ts';
import { duck, runId, tempLake, writeRaw } from '../transform/helpers.ts';

const recorded = (name: string): JsonRecord => JSON.parse(readFileSync(join(import.meta.dirname, 'recorded', name), 'utf8')) as JsonRecord;

/** An HTTP client that answers each path with its recorded page; no socket is opened. */
function recordedHttp(pages: Record<string, JsonRecord>): HttpClient & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    get<T>(url: string): Promise<HttpResponse<T>> {
      asked.push(url);
      const page = pages[url];
      if (!page) throw new Error(`no recorded page for ${url}`);
      return Promise.resolve({ status: 200, data: page as T, headers: {} });
    },
    postForm<T>(): Promise<HttpResponse<T>> {
      return Promise.resolve({ status: 200, data: { access_token: 'recorded', token_type: 'Bearer', expires_in: 3600 } as T, headers: {} });
    },
  };
}

async function read(stream: StreamSpec, http: HttpClient, parents?: JsonRecord[]): Promise<JsonRecord[]> {
  const out: JsonRecord[] = [];
  const ctx = {
    config: { api_mode: 'extended', client_id: 'id', client_secret: 'secret', refresh_token: 'refresh' },
    http,
    logger: memoryLogger(),
    signal: new AbortController().signal,
    state: {},
    setState: () => undefined,
    note: () => undefined,
    ...(parents && { parents }),
  };
  for await (const r of plugin.read(stream, ctx as never)) out.push(r);
  return out;
}

const EDITORIAL = '37i9dQZF1DXcBWIGoYBM5M';

async function readFixtures(): Promise<{ items: JsonRecord[]; plays: JsonRecord[] }> {
  const http = recordedHttp({
    [`/playlists/${EDITORIAL}/items`]: recorded('playlist-items-extended.json'),
    '/me/player/recently-played': recorded('recently-played-2017.json'),
  });
  const items = await read(
    { name: 'playlist_items', endpoint: 'playlists/{id}/items', params: {}, incremental: false, forEach: ['id'] },
    http,
    [{ id: EDITORIAL, snapshot_id: 'MTY4OTk5', owner: { id: 'spotify' }, collaborative: false, type: 'playlist' }],
  );
  const plays = await read({ name: 'recently_played', endpoint: 'me/player/recently-played', params: {}, incremental: false }, http);
  return { items, plays };
}

describe('recorded shapes through the reader', () => {
  it('keeps one `item` per playlist entry, whether Spotify sent track, item or both', async () => {
    const { items } = await readFixtures();
    expect(items.map((r) => [r.position, 'track' in r, (r.item as JsonRecord | null)?.name ?? null])).toEqual([
      [0, false, 'The Funeral'],
      [1, false, 'Here Comes The Sun'],
      [2, false, null],
      [3, false, 'demo-01'],
      [4, false, 'Without You'],
    ]);
  });

  it('lowercases enum-like values wherever they are, and nothing else', async () => {
    const { items, plays } = await readFixtures();
    const albums = [...items.map((r) => (r.item as JsonRecord | null)?.album), ...plays.map((p) => (p.track as JsonRecord).album)].filter(Boolean) as JsonRecord[];
    expect(albums.map((a) => [a.album_type, a.release_date_precision])).toEqual([
      ['single', 'day'],
      ['album', 'day'],
      [null, null],
      ['ep', 'month'],
      ['album', 'year'],
    ]);
    // A copyright's type is a code (C, P), not an enum to fold; names keep their case.
    const withoutYou = items[4].item as JsonRecord;
    expect(withoutYou.copyrights).toEqual([{ text: '(P) 2017 Avicii Music AB', type: 'P' }]);
    expect(withoutYou.name).toBe('Without You');
  });

  it('stores the editorial sentinels as null, real values as they are', async () => {
    const { items } = await readFixtures();
    expect(items.map((r) => [r.added_at, (r.added_by as JsonRecord | null)?.id ?? null])).toEqual([
      [null, null],
      ['2019-08-24T14:15:22Z', 'alina.petrova'],
      ['2021-02-03T04:05:06Z', 'alina.petrova'],
      ['2022-05-06T07:08:09Z', 'alina.petrova'],
      ['2024-06-07T08:09:10Z', 'alina.petrova'],
    ]);
  });
});

describe('recorded shapes through the shipped tables', () => {
  const lakes: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of lakes) await c();
  });
  const shippedFile = join(import.meta.dirname, '../../pipeline.yaml');
  const shipped = parsePipeline(readFileSync(shippedFile, 'utf8'), shippedFile).loaded.config.tables;

  it('tracks group by one lowercase album_type, and playlist_tracks keep no 1970 or empty adder', async () => {
    const { items, plays } = await readFixtures();
    const { dir, cleanup } = await tempLake();
    lakes.push(cleanup);
    const run = runId(1);
    const files = [await writeRaw(dir, 'playlist_items', run, items), await writeRaw(dir, 'recently_played', run, plays)];
    const results = await buildTables({ lakeDir: dir, tables: shipped, files, runId: run, only: ['tracks', 'playlist_tracks'] });
    expect(results.map((r) => [r.table, r.quarantined]).sort()).toEqual([
      ['playlist_tracks', 0],
      ['tracks', 0],
    ]);
    const curated = (t: string) => `read_parquet('${join(dir, 'curated', t)}/**/*.parquet')`;
    expect(await duck(`SELECT album_type, count(*)::INT AS n FROM ${curated('tracks')} GROUP BY 1 ORDER BY 1`)).toEqual([
      { album_type: 'album', n: 2 },
      { album_type: 'ep', n: 1 },
      { album_type: 'single', n: 1 },
    ]);
    expect(await duck(`SELECT release_date_precision AS p, CAST(release_date_typed AS VARCHAR) AS d FROM ${curated('tracks')} ORDER BY d`)).toEqual([
      { p: 'day', d: '1969-09-26' },
      { p: 'day', d: '2006-03-21' },
      { p: 'year', d: '2007-01-01' },
      { p: 'month', d: '2017-08-01' },
    ]);
    expect(await duck(`SELECT position, CAST(added_at AS VARCHAR) AS added_at, added_by FROM ${curated('playlist_tracks')} ORDER BY position`)).toEqual([
      { position: 0, added_at: null, added_by: null },
      { position: 1, added_at: '2019-08-24 14:15:22', added_by: 'alina.petrova' },
      { position: 2, added_at: '2021-02-03 04:05:06', added_by: 'alina.petrova' },
      { position: 3, added_at: '2022-05-06 07:08:09', added_by: 'alina.petrova' },
      { position: 4, added_at: '2024-06-07 08:09:10', added_by: 'alina.petrova' },
    ]);
  });
});

describe('lower: true', () => {
  it('is for string columns only, named by key', () => {
    expect(() => planTable('t', { from: [{ stream: 's' }], columns: { n: { path: 'n', type: 'int', lower: true } } } as never)).toThrow(
      'tables.t.columns.n.lower: needs type: string (the column is int)',
    );
    expect(planTable('t', { from: [{ stream: 's' }], columns: { k: { path: 'k', type: 'string', lower: true } } } as never).columns[0].lower).toBe(true);
  });

  it('lowercases in the shipped tracks table even raw landed before the connector lowercased it', async () => {
    const { dir, cleanup } = await tempLake();
    try {
      const shippedFile = join(import.meta.dirname, '../../pipeline.yaml');
      const tables = parsePipeline(readFileSync(shippedFile, 'utf8'), shippedFile).loaded.config.tables;
      // As an older version of the connector landed it: Spotify's case kept.
      const old = (recorded('recently-played-2017.json').items as JsonRecord[])[0];
      const files = [await writeRaw(dir, 'recently_played', runId(1), [old])];
      await buildTables({ lakeDir: dir, tables, files, runId: runId(1), only: ['tracks'] });
      expect(await duck(`SELECT album_type, release_date_precision AS p, CAST(release_date_typed AS VARCHAR) AS d FROM read_parquet('${join(dir, 'curated', 'tracks')}/**/*.parquet')`)).toEqual([
        { album_type: 'album', p: 'year', d: '2007-01-01' },
      ]);
    } finally {
      await cleanup();
    }
  });
});

describe('fields Development Mode removes are expected absences, not schema drift', () => {
  const lakes: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of lakes) await c();
  });
  const shippedFile = join(import.meta.dirname, '../../pipeline.yaml');
  const config = parsePipeline(readFileSync(shippedFile, 'utf8'), shippedFile).loaded.config;

  // GET /v1/artists/{id} in Development Mode (doc §3): followers and popularity are absent.
  const devArtist = (id: string, name: string) => ({
    external_urls: { spotify: `https://open.spotify.com/artist/${id}` },
    genres: ['indie folk'],
    href: `https://api.spotify.com/v1/artists/${id}`,
    id,
    images: [],
    name,
    type: 'artist',
    uri: `spotify:artist:${id}`,
  });

  async function driftOf(mode: 'development' | 'extended'): Promise<string[]> {
    const { dir, cleanup } = await tempLake();
    lakes.push(cleanup);
    const files = [
      await writeRaw(dir, 'artists', runId(1), [devArtist('0OdUWJ0sBjDrqHygGUXeCF', 'Band of Horses')]),
      await writeRaw(dir, 'artists', runId(2), [devArtist('3WrFJ7ztbogyGnTHbHJFl2', 'The Beatles')]),
    ];
    const expectedAbsent = expectedAbsences([{ plugin, connectorConfig: { api_mode: mode }, streams: config.streams }]);
    const [artists] = await buildTables({ lakeDir: dir, tables: config.tables, files, runId: runId(2), only: ['artists'], expectedAbsent });
    return artists.drift;
  }

  it('the connector declares them per API mode, from its record schemas', () => {
    expect(plugin.apiMode?.({ api_mode: 'development' })).toBe('development');
    expect(plugin.endpoints.artists.absentFields?.development).toEqual(expect.arrayContaining(['popularity', 'followers']));
    expect(plugin.endpoints['playlists/{id}/items'].absentFields?.development).toEqual(expect.arrayContaining(['item.popularity', 'item.album.available_markets']));
    expect(plugin.endpoints.artists.absentFields?.extended).toBeUndefined();
  });

  it('a Development Mode build reports no drift for popularity and followers.total', async () => {
    expect(await driftOf('development')).toEqual([]);
  });

  it('in Extended Quota Mode the same absence is drift', async () => {
    const drift = await driftOf('extended');
    expect(drift).toHaveLength(2);
    expect(drift[0]).toMatch(/declared path popularity \(column popularity\) has no value/);
    expect(drift[1]).toMatch(/declared path followers\.total \(column followers\) has no value/);
  });
});
