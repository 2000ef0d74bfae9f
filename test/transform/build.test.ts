/**
 * buildTables end to end on a temp lake: raw gzip JSON Lines in, Hive-partitioned Parquet out,
 * read back through the query layer (and DuckDB directly where the file layout matters).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TableSpec } from '../../core/config/types.ts';
import { openLake } from '../../core/query/index.ts';
import { buildTables, type CommittedFile } from '../../core/transform/index.ts';
import { BJORK, MASSIVE, RADIOHEAD, duck, listFiles, play, playlistItem, runId, tempLake, track, writeRaw } from './helpers.ts';

let lake: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir: lake, cleanup } = await tempLake());
});
afterEach(async () => cleanup());

const PLAYS: TableSpec = {
  from: [{ stream: 'recently_played' }],
  columns: {
    played_at: { path: 'played_at', type: 'timestamp', required: true },
    track_id: { path: 'track.id', type: 'string', required: true },
    track_name: { path: 'track.name', type: 'string' },
    artist_id: { path: 'track.artists[0].id', type: 'string' },
    artist_names: { path: 'track.artists[].name', type: 'array<string>' },
    album_name: { path: 'track.album.name', type: 'string' },
    duration_ms: { path: 'track.duration_ms', type: 'bigint' },
    minutes: { sql: 'round(duration_ms / 60000.0, 2)', type: 'double' },
    context_type: { path: 'context.type', type: 'string' },
  },
  dedupe: { key: ['played_at', 'track_id'] },
  partition_by: [{ name: 'dt', from: 'played_at', as: 'date' }],
};

const T1 = track('t1', 'Idioteque', [RADIOHEAD], { durationMs: 309_000 });
const T2 = track('t2', 'Hyperballad', [BJORK], { durationMs: 321_000 });
const T3 = track('t3', 'Teardrop (feat. Björk)', [MASSIVE, BJORK], { durationMs: 330_000 });

async function query(tables: Record<string, TableSpec>, sql: string) {
  const db = await openLake(lake, tables);
  try {
    return await db.query(sql);
  } finally {
    db.close();
  }
}

describe('buildTables', () => {
  it('extracts nested paths, [n] indexes, collected lists and derived columns, partitioned by play date', async () => {
    const f = await writeRaw(lake, 'recently_played', runId(10), [
      play('2026-11-24T09:30:00.123Z', T1),
      play('2026-11-23T22:15:00Z', T3, null),
      play('2026-11-24T08:00:00Z', T2),
    ]);
    const [res] = await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files: [f], runId: runId(11) });
    expect(res).toMatchObject({ table: 'plays', rows: 3, files: 2, partitions: 2, quarantined: 0 });
    expect(res.bytes).toBeGreaterThan(0);

    expect(await listFiles(join(lake, 'curated'))).toEqual([
      `plays/dt=2026-11-23/part-${runId(11)}-0.parquet`,
      `plays/dt=2026-11-24/part-${runId(11)}-0.parquet`,
    ]);
    // Partition columns live only in the folder names (standard Hive layout).
    const inFile = await duck(`DESCRIBE SELECT * FROM read_parquet('${join(lake, 'curated/plays/dt=2026-11-24/*.parquet')}', hive_partitioning = false)`);
    expect(inFile.map((c) => c.column_name)).not.toContain('dt');
    expect(inFile.find((c) => c.column_name === 'played_at')?.column_type).toBe('TIMESTAMP');
    expect(inFile.find((c) => c.column_name === 'artist_names')?.column_type).toBe('VARCHAR[]');

    const { rows } = await query({ plays: PLAYS }, 'SELECT * FROM plays ORDER BY played_at');
    expect(rows).toEqual([
      {
        played_at: '2026-11-23T22:15:00.000Z',
        track_id: 't3',
        track_name: 'Teardrop (feat. Björk)',
        artist_id: MASSIVE.id,
        artist_names: ['Massive Attack', 'Björk'],
        album_name: 'Album of Teardrop (feat. Björk)',
        duration_ms: 330000,
        minutes: 5.5,
        context_type: null,
        dt: '2026-11-23',
      },
      expect.objectContaining({ track_id: 't2', artist_id: BJORK.id, artist_names: ['Björk'], minutes: 5.35, dt: '2026-11-24' }),
      expect.objectContaining({ played_at: '2026-11-24T09:30:00.123Z', track_id: 't1', context_type: 'playlist', minutes: 5.15 }),
    ]);
  });

  it('explodes [] into one row per array element (and none for an empty array)', async () => {
    const noArtists = { ...track('t9', 'Untitled', []), artists: [] };
    const f = await writeRaw(lake, 'recently_played', runId(10), [
      play('2026-11-24T09:30:00Z', T3),
      play('2026-11-24T09:40:00Z', T1),
      play('2026-11-24T09:50:00Z', noArtists),
      play('2026-11-24T09:55:00Z', { ...T2, artists: null }),
    ]);
    const spec: TableSpec = {
      from: [{ stream: 'recently_played' }],
      columns: {
        played_at: { path: 'played_at', type: 'timestamp' },
        track_id: { path: 'track.id', type: 'string' },
        artist_id: { path: 'track.artists[].id', type: 'string', required: true },
        artist_name: { path: 'track.artists[].name', type: 'string' },
      },
    };
    const [res] = await buildTables({ lakeDir: lake, tables: { play_artists: spec }, files: [f], runId: runId(11) });
    expect(res).toMatchObject({ rows: 3, quarantined: 0, partitions: 0, files: 1 });
    expect(await listFiles(join(lake, 'curated/play_artists'))).toEqual([`part-${runId(11)}-0.parquet`]);
    const { rows } = await query({ play_artists: spec }, 'SELECT track_id, artist_id, artist_name FROM play_artists ORDER BY track_id, artist_name');
    expect(rows).toEqual([
      { track_id: 't1', artist_id: RADIOHEAD.id, artist_name: 'Radiohead' },
      { track_id: 't3', artist_id: BJORK.id, artist_name: 'Björk' },
      { track_id: 't3', artist_id: MASSIVE.id, artist_name: 'Massive Attack' },
    ]);
  });

  it('casts every declared type', async () => {
    const records = [
      {
        n: 42,
        big: 'BIG', // replaced below by 9007199254740993 (above 2^53, which a JS number cannot hold)
        ratio: 0.25,
        flag: true,
        day: '2026-02-28',
        at: '2026-11-24T12:15:02+02:00',
        amount: '12.3456',
        tags: ['indie', 'art rock'],
        nested: { list: [{ v: 'x' }, { v: 'y' }] },
      },
      { n: '7', big: '12', ratio: '1e-3', flag: 'false', day: null, at: '2026-11-24 08:00:00', amount: 1, tags: [] },
    ];
    const lines = records.map((r) => JSON.stringify(r).replace('"BIG"', '9007199254740993'));
    const f = await writeRaw(lake, 'samples', runId(10), [], { lines });
    const spec: TableSpec = {
      from: [{ stream: 'samples' }],
      columns: {
        n: { path: 'n', type: 'int' },
        big: { path: 'big', type: 'bigint' },
        ratio: { path: 'ratio', type: 'double' },
        flag: { path: 'flag', type: 'boolean' },
        day: { path: 'day', type: 'date' },
        at: { path: 'at', type: 'timestamp' },
        amount: { path: 'amount', type: 'decimal' },
        tags: { path: 'tags', type: 'array<string>' },
        vs: { path: 'nested.list[].v', type: 'array<string>' },
        label: { sql: `'#' || CAST(n AS VARCHAR)`, type: 'string' },
      },
    };
    const [res] = await buildTables({ lakeDir: lake, tables: { samples: spec }, files: [f], runId: runId(11) });
    expect(res).toMatchObject({ rows: 2, quarantined: 0 });
    const types = await duck(`DESCRIBE SELECT * FROM read_parquet('${join(lake, 'curated/samples/*.parquet')}')`);
    expect(Object.fromEntries(types.map((t) => [t.column_name, t.column_type]))).toEqual({
      n: 'INTEGER',
      big: 'BIGINT',
      ratio: 'DOUBLE',
      flag: 'BOOLEAN',
      day: 'DATE',
      at: 'TIMESTAMP',
      amount: 'DECIMAL(18,3)',
      tags: 'VARCHAR[]',
      vs: 'VARCHAR[]',
      label: 'VARCHAR',
    });
    const { rows } = await query({ samples: spec }, 'SELECT * FROM samples ORDER BY n DESC');
    expect(rows).toEqual([
      {
        n: 42,
        big: '9007199254740993',
        ratio: 0.25,
        flag: true,
        day: '2026-02-28',
        at: '2026-11-24T10:15:02.000Z', // +02:00 converted to UTC
        amount: 12.346,
        tags: ['indie', 'art rock'],
        vs: ['x', 'y'],
        label: '#42',
      },
      {
        n: 7,
        big: 12,
        ratio: 0.001,
        flag: false,
        day: null,
        at: '2026-11-24T08:00:00.000Z',
        amount: 1,
        tags: [],
        vs: null,
        label: '#7',
      },
    ]);
  });

  it('numbers lines right across files of thousands of lines (lean builds number them by row position)', async () => {
    // Every record says where it is; every one is quarantined (a bad timestamp), so each line shows.
    const files: CommittedFile[] = [];
    const malformedAt = new Map<number, number[]>([[1, [1, 2049, 3999]]]);
    for (const part of [0, 1, 2]) {
      const lines = Array.from({ length: 4000 }, (_, i) =>
        malformedAt.get(part)?.includes(i + 1) ? '{"played_at": ' : JSON.stringify({ played_at: `bad-${part}-${i + 1}`, track: { id: `t${i}` } }),
      );
      files.push(await writeRaw(lake, 'recently_played', runId(10 + part), [], { part, lines }));
    }
    const [res] = await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files, runId: runId(20) });
    expect(res).toMatchObject({ rows: 0, quarantined: 12_000 });
    const text = gunzipSync(await readFile(join(lake, `quarantine/plays/part-${runId(20)}-0.jsonl.gz`))).toString('utf8');
    const rows = text.trim().split('\n').map((l) => JSON.parse(l) as { file: string; line: number; source_run_id: string; record: { played_at: string } | null; reasons: string[] });
    let checked = 0;
    for (const r of rows) {
      const part = files.findIndex((f) => f.key === r.file);
      expect(r.source_run_id).toBe(runId(10 + part));
      if (r.record === null) {
        expect(malformedAt.get(part)).toContain(r.line);
        expect(r.reasons).toEqual(['record: malformed JSON line']);
      } else {
        expect(r.record.played_at).toBe(`bad-${part}-${r.line}`);
      }
      checked++;
    }
    expect(checked).toBe(12_000);
  });

  it('dedupe: within one file the later line wins, across runs the newer run', async () => {
    const name = (n: string) => ({ ...T1, name: n });
    const filler = Array.from({ length: 3000 }, (_, i) => play(`2026-11-20T00:00:${String(i % 60).padStart(2, '0')}.${String(i).padStart(4, '0')}Z`, T2));
    const a = await writeRaw(lake, 'recently_played', runId(10), [play('2026-11-24T09:30:00Z', name('first')), ...filler, play('2026-11-24T09:30:00Z', name('later line'))]);
    const b = await writeRaw(lake, 'recently_played', runId(11), [play('2026-11-24T10:30:00Z', name('old run')), ...filler.slice(0, 10)]);
    const c = await writeRaw(lake, 'recently_played', runId(12), [play('2026-11-24T10:30:00Z', name('new run'))]);
    await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files: [c, a, b], runId: runId(20) });
    const { rows } = await query({ plays: PLAYS }, "SELECT hour(played_at) AS h, track_name FROM plays WHERE track_id = 't1' ORDER BY h");
    expect(rows).toEqual([
      { h: 9, track_name: 'later line' },
      { h: 10, track_name: 'new run' },
    ]);
  });

  it('quarantines bad casts, missing required values and malformed lines, with reasons and locations', async () => {
    const good = play('2026-11-24T09:30:00Z', T1);
    const badTime = play('not-a-date', T2);
    const episode = play('2026-11-24T09:40:00Z', null); // a podcast episode: no track
    const f = await writeRaw(lake, 'recently_played', runId(10), [], {
      lines: [JSON.stringify(good), JSON.stringify(badTime), '{"played_at": "2026-11-24T', JSON.stringify(episode)],
    });
    const [res] = await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files: [f], runId: runId(11) });
    expect(res).toMatchObject({ rows: 1, quarantined: 3 });

    const qfile = join(lake, `quarantine/plays/part-${runId(11)}-0.jsonl.gz`);
    expect(await listFiles(join(lake, 'quarantine'))).toEqual([`plays/part-${runId(11)}-0.jsonl.gz`]);
    const lines = gunzipSync(await readFile(qfile)).toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([
      {
        table: 'plays',
        reasons: ['played_at: cannot read not-a-date as timestamp'],
        file: f.key,
        line: 2,
        source_run_id: runId(10),
        record: badTime,
      },
      { table: 'plays', reasons: ['record: malformed JSON line'], file: f.key, line: 3, source_run_id: runId(10), record: null },
      {
        table: 'plays',
        reasons: ['track_id: required value is missing'],
        file: f.key,
        line: 4,
        source_run_id: runId(10),
        record: episode,
      },
    ]);
    const { rows } = await query({ plays: PLAYS }, 'SELECT track_id FROM plays');
    expect(rows).toEqual([{ track_id: 't1' }]);

    // A rerun on the same raw data is skipped: the quarantine stays as it is.
    const [skipped] = await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files: [f], runId: runId(12) });
    expect(skipped).toMatchObject({ quarantined: 3, build: { mode: 'skipped' } });
    expect(await listFiles(join(lake, 'quarantine'))).toEqual([`plays/part-${runId(11)}-0.jsonl.gz`]);
    // A full rebuild replaces the quarantine output instead of adding to it.
    const [same] = await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files: [f], runId: runId(12), full: true });
    expect(same).toMatchObject({ quarantined: 3, build: { mode: 'full', reason: '--full' } });
    expect(await listFiles(join(lake, 'quarantine'))).toEqual([`plays/part-${runId(12)}-0.jsonl.gz`]);

    // A clean rebuild leaves no quarantine at all.
    const clean = await writeRaw(lake, 'recently_played', runId(10), [good]);
    const [again] = await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files: [clean], runId: runId(13) });
    expect(again.quarantined).toBe(0);
    expect(await listFiles(join(lake, 'quarantine'))).toEqual([]);
  });

  it('filter drops rows on purpose without quarantining them', async () => {
    const local = playlistItem('pl1', 1, { id: null, name: 'my-demo.mp3', type: 'track' }, { isLocal: true });
    const items = [
      playlistItem('pl1', 0, T1),
      local,
      playlistItem('pl1', 2, null), // an item that is no longer available
      playlistItem('pl1', 3, T2),
    ];
    const lines = [...items.map((r) => JSON.stringify(r)), '{"playlist_id": "pl1", "position": 4, "is_lo'];
    const f = await writeRaw(lake, 'playlist_items', runId(10), [], { lines });
    const spec: TableSpec = {
      from: [{ stream: 'playlist_items' }],
      columns: {
        playlist_id: { path: 'playlist_id', type: 'string' },
        position: { path: 'position', type: 'int' },
        is_local: { path: 'is_local', type: 'boolean' },
        track_id: { path: 'item.id', type: 'string', required: true },
      },
      filter: 'NOT is_local AND track_id IS NOT NULL',
    };
    const [res] = await buildTables({ lakeDir: lake, tables: { pt: spec }, files: [f], runId: runId(11) });
    // pos 1 (local) and pos 2 (no track, so `required` fails) are dropped on purpose by the filter:
    // a row the filter rejects is never quarantined. A malformed line still is.
    expect(res).toMatchObject({ rows: 2, quarantined: 1 });
    const { rows } = await query({ pt: spec }, 'SELECT position, track_id FROM pt ORDER BY position');
    expect(rows).toEqual([
      { position: 0, track_id: 't1' },
      { position: 3, track_id: 't2' },
    ]);
  });

  it('dedupe keeps the newest run (then the latest line), or the first by order_by', async () => {
    const older = await writeRaw(lake, 'recently_played', runId(10), [
      play('2026-11-24T09:30:00Z', { ...T1, name: 'Idioteque (old)' }),
      play('2026-11-24T09:40:00Z', T2),
    ]);
    const newer = await writeRaw(lake, 'recently_played', runId(12), [
      play('2026-11-24T09:30:00Z', { ...T1, name: 'Idioteque (first line)' }),
      play('2026-11-24T09:30:00Z', { ...T1, name: 'Idioteque (new)' }),
      play('2026-11-24T11:00:00Z', T1),
    ]);
    const firstPlay: TableSpec = {
      from: [{ stream: 'recently_played' }],
      columns: {
        track_id: { path: 'track.id', type: 'string' },
        first_played_at: { path: 'played_at', type: 'timestamp' },
      },
      dedupe: { key: ['track_id'], order_by: 'first_played_at ASC' },
    };
    const tables = { plays: PLAYS, first_play: firstPlay };
    // Files in any order: the run id, not the list order, decides.
    await buildTables({ lakeDir: lake, tables, files: [newer, older], runId: runId(13) });
    const plays = await query(tables, 'SELECT played_at, track_name FROM plays ORDER BY played_at');
    expect(plays.rows).toEqual([
      { played_at: '2026-11-24T09:30:00.000Z', track_name: 'Idioteque (new)' },
      { played_at: '2026-11-24T09:40:00.000Z', track_name: 'Hyperballad' },
      { played_at: '2026-11-24T11:00:00.000Z', track_name: 'Idioteque' },
    ]);
    const first = await query(tables, 'SELECT * FROM first_play ORDER BY track_id');
    expect(first.rows).toEqual([
      { track_id: 't1', first_played_at: '2026-11-24T09:30:00.000Z' },
      { track_id: 't2', first_played_at: '2026-11-24T09:40:00.000Z' },
    ]);
  });

  it('latest_per: a re-read playlist replaces its rows, a playlist not re-read keeps them', async () => {
    const spec: TableSpec = {
      from: [{ stream: 'playlist_items' }],
      columns: {
        playlist_id: { path: 'playlist_id', type: 'string', required: true },
        position: { path: 'position', type: 'int' },
        track_id: { path: 'item.id', type: 'string' },
      },
      latest_per: ['playlist_id'],
      dedupe: { key: ['playlist_id', 'position'] },
    };
    const run1 = await writeRaw(lake, 'playlist_items', runId(10), [
      playlistItem('plA', 0, T1),
      playlistItem('plA', 1, T2),
      playlistItem('plA', 2, T3),
      playlistItem('plB', 0, T2),
      playlistItem('plB', 1, T3),
    ]);
    await buildTables({ lakeDir: lake, tables: { pt: spec }, files: [run1], runId: runId(11) });
    const before = await query({ pt: spec }, `SELECT playlist_id, count(*) AS n FROM pt GROUP BY 1 ORDER BY 1`);
    expect(before.rows).toEqual([
      { playlist_id: 'plA', n: 3 },
      { playlist_id: 'plB', n: 2 },
    ]);

    // plA was edited down to one track and re-read; plB unchanged (skipped by snapshot_id).
    const run2 = await writeRaw(lake, 'playlist_items', runId(12), [playlistItem('plA', 0, T3)]);
    await buildTables({ lakeDir: lake, tables: { pt: spec }, files: [run1, run2], runId: runId(13) });
    const after = await query({ pt: spec }, 'SELECT * FROM pt ORDER BY playlist_id, position');
    expect(after.rows).toEqual([
      { playlist_id: 'plA', position: 0, track_id: 't3' },
      { playlist_id: 'plB', position: 0, track_id: 't2' },
      { playlist_id: 'plB', position: 1, track_id: 't3' },
    ]);
  });

  it('parents: nothing is dropped before a complete read of the parent stream; an empty complete read drops every parent', async () => {
    const spec: TableSpec = {
      from: [{ stream: 'playlist_items' }],
      columns: { playlist_id: { path: 'playlist_id', type: 'string', required: true }, position: { path: 'position', type: 'int' } },
      latest_per: ['playlist_id'],
      parents: 'my_playlists.id',
    };
    const items = await writeRaw(lake, 'playlist_items', runId(10), [playlistItem('plA', 0, T1), playlistItem('plB', 0, T2)]);
    const lists = await writeRaw(lake, 'my_playlists', runId(10), [{ id: 'plA' }]);
    const rows = async (completeReads: Record<string, string[]>, files: CommittedFile[], build: number) => {
      await buildTables({ lakeDir: lake, tables: { pt: spec }, files, completeReads, runId: runId(build) });
      return (await query({ pt: spec }, 'SELECT playlist_id FROM pt ORDER BY 1')).rows.map((r) => r.playlist_id);
    };
    // Only a partial read of my_playlists so far (or an old lake): it says nothing.
    expect(await rows({ playlist_items: [runId(10)] }, [items, lists], 11)).toEqual(['plA', 'plB']);
    expect(await rows({ playlist_items: [runId(10)], my_playlists: [runId(10)] }, [items, lists], 12)).toEqual(['plA']);
    // A later complete read with no playlist at all (every one unfollowed): no file, still complete.
    expect(await rows({ playlist_items: [runId(10)], my_playlists: [runId(10), runId(13)] }, [items, lists], 14)).toEqual([]);
  });

  it('unions several sources with roots (tracks from plays and playlists)', async () => {
    const plays = await writeRaw(lake, 'recently_played', runId(10), [play('2026-11-24T09:30:00Z', T1), play('2026-11-24T09:40:00Z', T2)]);
    const items = await writeRaw(lake, 'playlist_items', runId(12), [
      playlistItem('plA', 0, { ...T2, name: 'Hyperballad (Remastered)' }),
      playlistItem('plA', 1, T3),
      playlistItem('plA', 2, null),
    ]);
    const spec: TableSpec = {
      from: [
        { stream: 'recently_played', root: 'track' },
        { stream: 'playlist_items', root: 'item' },
      ],
      columns: {
        track_id: { path: 'id', type: 'string' },
        name: { path: 'name', type: 'string' },
        artist_id: { path: 'artists[0].id', type: 'string' },
      },
      filter: 'track_id IS NOT NULL',
      dedupe: { key: ['track_id'] },
    };
    const [res] = await buildTables({ lakeDir: lake, tables: { tracks: spec }, files: [plays, items], runId: runId(13) });
    expect(res.rows).toBe(3);
    const { rows } = await query({ tracks: spec }, 'SELECT * FROM tracks ORDER BY track_id');
    expect(rows).toEqual([
      { track_id: 't1', name: 'Idioteque', artist_id: RADIOHEAD.id },
      { track_id: 't2', name: 'Hyperballad (Remastered)', artist_id: BJORK.id }, // newer run wins
      { track_id: 't3', name: 'Teardrop (feat. Björk)', artist_id: MASSIVE.id },
    ]);
  });

  it('a root with [] makes one row per element (artists of every played track)', async () => {
    const f = await writeRaw(lake, 'recently_played', runId(10), [play('2026-11-24T09:30:00Z', T3), play('2026-11-24T09:40:00Z', T2)]);
    const spec: TableSpec = {
      from: [{ stream: 'recently_played', root: 'track.artists[]' }],
      columns: { artist_id: { path: 'id', type: 'string' }, name: { path: 'name', type: 'string' } },
      dedupe: { key: ['artist_id'] },
    };
    await buildTables({ lakeDir: lake, tables: { seen_artists: spec }, files: [f], runId: runId(11) });
    const { rows } = await query({ seen_artists: spec }, 'SELECT name FROM seen_artists ORDER BY name');
    expect(rows).toEqual([{ name: 'Björk' }, { name: 'Massive Attack' }]);
  });

  it('a late record for an old date lands in the old partition; other partitions keep their rows', async () => {
    const run1 = await writeRaw(lake, 'recently_played', runId(10), [play('2026-11-20T10:00:00Z', T1), play('2026-11-24T10:00:00Z', T2)]);
    await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files: [run1], runId: runId(11) });
    // The next run (ingested on 11-24) delivers a play from 11-20 and one just before midnight UTC.
    const run2 = await writeRaw(lake, 'recently_played', runId(12), [play('2026-11-20T23:59:59.999Z', T3), play('2026-11-21T00:00:00Z', T2)]);
    const [res] = await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files: [run1, run2], runId: runId(13) });
    // An incremental build: the two partitions the new plays land in are rewritten, 11-24 is carried over.
    expect(res).toMatchObject({ rows: 4, partitions: 3, records: 4, inputRows: 4, duplicates: 0, build: { mode: 'incremental', rewritten: 2 } });
    expect(await listFiles(join(lake, 'curated/plays'))).toEqual([
      `dt=2026-11-20/part-${runId(13)}-0.parquet`,
      `dt=2026-11-21/part-${runId(13)}-0.parquet`,
      `dt=2026-11-24/part-${runId(11)}-0.parquet`,
    ]);
    const { rows } = await query({ plays: PLAYS }, 'SELECT dt, track_id FROM plays ORDER BY played_at');
    expect(rows).toEqual([
      { dt: '2026-11-20', track_id: 't1' },
      { dt: '2026-11-20', track_id: 't3' },
      { dt: '2026-11-21', track_id: 't2' },
      { dt: '2026-11-24', track_id: 't2' },
    ]);
  });

  it('rerunning on the same raw data yields the same rows, never duplicates, and no leftovers', async () => {
    const files: CommittedFile[] = [
      await writeRaw(lake, 'recently_played', runId(10), [play('2026-11-23T10:00:00Z', T1), play('2026-11-24T10:00:00Z', T2)]),
      // The same play delivered again by an overlapping later run.
      await writeRaw(lake, 'recently_played', runId(12), [play('2026-11-24T10:00:00Z', T2), play('2026-11-24T11:00:00Z', T3)]),
    ];
    const first = await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files, runId: runId(13) });
    const rows1 = (await query({ plays: PLAYS }, 'SELECT * FROM plays ORDER BY played_at')).rows;
    const second = await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files, runId: runId(14) });
    const rows2 = (await query({ plays: PLAYS }, 'SELECT * FROM plays ORDER BY played_at')).rows;
    expect(rows1.map((r) => r.track_id)).toEqual(['t1', 't2', 't3']);
    expect(rows2).toEqual(rows1);
    // Nothing new: skipped, with the figures of the build it kept.
    expect(second[0]).toMatchObject({ rows: first[0].rows, files: first[0].files, partitions: first[0].partitions, bytes: first[0].bytes, duplicates: 1, build: { mode: 'skipped' } });
    expect(await listFiles(join(lake, 'curated'))).toEqual([
      `plays/dt=2026-11-23/part-${runId(13)}-0.parquet`,
      `plays/dt=2026-11-24/part-${runId(13)}-0.parquet`,
    ]);
    // --full rebuilds from all raw: the same rows and bytes, new files.
    const third = await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files, runId: runId(15), full: true });
    expect((await query({ plays: PLAYS }, 'SELECT * FROM plays ORDER BY played_at')).rows).toEqual(rows1);
    expect(third[0]).toMatchObject({ rows: first[0].rows, files: first[0].files, partitions: first[0].partitions, bytes: first[0].bytes });
    expect(await listFiles(join(lake, 'curated'))).toEqual([
      `plays/dt=2026-11-23/part-${runId(15)}-0.parquet`,
      `plays/dt=2026-11-24/part-${runId(15)}-0.parquet`,
    ]);
  });

  it('keeps commas, quotes, newlines and emoji intact', async () => {
    const weird = 'Hello, "World"\nsecond line\t😀 — Ünïcödé \\ \'single\'';
    const f = await writeRaw(lake, 'recently_played', runId(10), [play('2026-11-24T09:30:00Z', { ...T1, name: weird, artists: [{ id: 'a,1', name: 'Sigur Rós 🎻' }] })]);
    await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files: [f], runId: runId(11) });
    const { rows } = await query({ plays: PLAYS }, 'SELECT track_name, artist_id, artist_names FROM plays');
    expect(rows).toEqual([{ track_name: weird, artist_id: 'a,1', artist_names: ['Sigur Rós 🎻'] }]);
  });

  it('partitions by value with odd characters and NULL (Hive default partition)', async () => {
    const spec: TableSpec = {
      from: [{ stream: 'recently_played' }],
      columns: {
        track_id: { path: 'track.id', type: 'string' },
        context_type: { path: 'context.type', type: 'string' },
        played_at: { path: 'played_at', type: 'timestamp' },
      },
      partition_by: [
        { name: 'context_type', from: 'context_type', as: 'value' },
        { name: 'year', from: 'played_at', as: 'year' },
      ],
    };
    const f = await writeRaw(lake, 'recently_played', runId(10), [
      play('2026-11-24T09:30:00Z', T1, { type: 'a/b c', uri: 'x' }),
      play('2025-11-24T09:30:00Z', T2, null),
    ]);
    const [res] = await buildTables({ lakeDir: lake, tables: { by_ctx: spec }, files: [f], runId: runId(11) });
    expect(res.partitions).toBe(2);
    expect(await listFiles(join(lake, 'curated/by_ctx'))).toEqual([
      `context_type=__HIVE_DEFAULT_PARTITION__/year=2025/part-${runId(11)}-0.parquet`,
      `context_type=a%2Fb%20c/year=2026/part-${runId(11)}-0.parquet`,
    ]);
    const { rows } = await query({ by_ctx: spec }, 'SELECT track_id, context_type, year FROM by_ctx ORDER BY track_id');
    expect(rows).toEqual([
      { track_id: 't1', context_type: 'a/b c', year: '2026' },
      { track_id: 't2', context_type: null, year: '2025' },
    ]);
  });

  it('an empty source builds an empty table: stale partitions go, the view keeps the declared types', async () => {
    const f = await writeRaw(lake, 'recently_played', runId(10), [play('2026-11-24T09:30:00Z', T1)]);
    await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files: [f], runId: runId(11) });
    expect(await listFiles(join(lake, 'curated/plays'))).toHaveLength(1);

    const [res] = await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files: [], runId: runId(12) });
    expect(res).toMatchObject({ rows: 0, files: 0, bytes: 0, partitions: 0, quarantined: 0 });
    expect(await listFiles(join(lake, 'curated'))).toEqual([]);

    const empty = await query({ plays: PLAYS }, 'SELECT * FROM plays');
    expect({ columns: empty.columns, rows: empty.rows }).toEqual({
      columns: ['played_at', 'track_id', 'track_name', 'artist_id', 'artist_names', 'album_name', 'duration_ms', 'minutes', 'context_type', 'dt'],
      rows: [],
    });
    const described = await query({ plays: PLAYS }, 'DESCRIBE plays');
    expect(Object.fromEntries(described.rows.map((r) => [r.column_name, r.column_type]))).toMatchObject({
      played_at: 'TIMESTAMP',
      artist_names: 'VARCHAR[]',
      duration_ms: 'BIGINT',
      minutes: 'DOUBLE',
      dt: 'VARCHAR',
    });
  });

  it('builds only the selected tables and rejects unknown ones', async () => {
    const f = await writeRaw(lake, 'recently_played', runId(10), [play('2026-11-24T09:30:00Z', T1)]);
    const other: TableSpec = { from: [{ stream: 'recently_played' }], columns: { id: { path: 'track.id', type: 'string' } } };
    const res = await buildTables({ lakeDir: lake, tables: { plays: PLAYS, other }, files: [f], runId: runId(11), only: ['other'] });
    expect(res.map((r) => r.table)).toEqual(['other']);
    expect(await listFiles(join(lake, 'curated'))).toEqual([`other/part-${runId(11)}-0.parquet`]);
    await expect(buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files: [f], runId: runId(12), only: ['nope'] })).rejects.toThrow(/unknown table/);
  });
});

describe('bounded memory', () => {
  it('spills to the lake\'s temp area beyond the memory limit (and makes the folders it needs)', async () => {
    const { dir, cleanup } = await tempLake();
    try {
      const plays = Array.from({ length: 120_000 }, (_, i) => play(new Date(Date.UTC(2026, 0, 1) + i * 61_000).toISOString(), { id: `t${i % 5000}`, name: `Track ${i} ${'x'.repeat(40)}`, duration_ms: i, artists: [], album: { id: `a${i % 300}` } }));
      const f = await writeRaw(dir, 'recently_played', runId(10), plays);
      const [res] = await buildTables({ lakeDir: dir, tables: { plays: PLAYS }, files: [f], runId: runId(11), memoryLimitMb: 128 });
      expect(res).toMatchObject({ rows: 120_000, quarantined: 0 });
      expect(existsSync(join(dir, '_tmp'))).toBe(false); // the spill folder is gone afterwards
    } finally {
      await cleanup();
    }
  });
});
