/**
 * Incremental builds (core/transform/incremental.ts): after each new run, a lake built run by run
 * must hold exactly what a full build of the same raw files holds (rows, quarantine, figures), for
 * every shape of table the rule distinguishes; and every condition that rules an incremental
 * build out must give a full build with its reason.
 */
import { readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import type { TableSpec } from '../../core/config/types.ts';
import { buildTables, type CommittedFile, type TableResult } from '../../core/transform/index.ts';
import { stateFile } from '../../core/transform/incremental.ts';
import { IntegrityError } from '../../core/engine/integrity.ts';
import { findGarbage } from '../../core/engine/gc.ts';
import { LocalStorage } from '../../core/storage/local.ts';
import { BJORK, MASSIVE, RADIOHEAD, duck, listFiles, play, runId, track, twoTempLakes, writeRaw } from './helpers.ts';

const lakes = twoTempLakes();
let lake: string;
let other: string;
beforeEach(() => void ({ lake, other } = lakes));

const columns: TableSpec['columns'] = {
  played_at: { path: 'played_at', type: 'timestamp', required: true },
  track_id: { path: 'track.id', type: 'string', required: true },
  track_name: { path: 'track.name', type: 'string' },
  duration_ms: { path: 'track.duration_ms', type: 'bigint' },
  context_type: { path: 'context.type', type: 'string' },
};
const SHAPES: Record<string, TableSpec> = {
  // The dedupe key holds the partition's column: only the partitions of new rows are rewritten.
  plays: { from: [{ stream: 'recently_played' }], columns, dedupe: { key: ['played_at', 'track_id'] }, partition_by: [{ name: 'dt', from: 'played_at', as: 'date' }] },
  // The newest play of each track, partitioned by day: a new play moves a track between partitions.
  last_play: {
    from: [{ stream: 'recently_played' }],
    columns,
    dedupe: { key: ['track_id'], order_by: 'played_at DESC' },
    partition_by: [{ name: 'month', from: 'played_at', as: 'month' }],
  },
  // Unpartitioned, deduped by track; a filter drops some rows on purpose.
  tracks: { from: [{ stream: 'recently_played' }], columns, dedupe: { key: ['track_id'] }, filter: "coalesce(context_type, '') <> 'skip'" },
  // No dedupe, partitioned by a value that is also a column (the partition folder is its only copy).
  by_context: { from: [{ stream: 'recently_played' }], columns, partition_by: [{ name: 'context_type', from: 'context_type', as: 'value' }] },
};

const T = [
  track('t1', 'Idioteque', [RADIOHEAD], { durationMs: 309_000 }),
  track('t2', 'Hyperballad', [BJORK], { durationMs: 321_000 }),
  track('t3', 'Teardrop', [MASSIVE], { durationMs: 330_000 }),
  track('t4', 'Army of Me', [BJORK], { durationMs: 200_000 }),
];
const ctx = (type: string | null) => (type === null ? null : { type, uri: `spotify:${type}:x` });

/** Three runs: new plays, re-deliveries (some changed), late plays for old days, bad lines, a NULL partition value. */
async function runs(dir: string): Promise<CommittedFile[][]> {
  const r1 = await writeRaw(dir, 'recently_played', runId(10), [
    play('2026-10-01T10:00:00Z', T[0], ctx('playlist')),
    play('2026-10-02T10:00:00Z', T[1], ctx('album')),
    play('2026-11-20T10:00:00Z', T[2], ctx(null)),
    play('2026-11-21T10:00:00Z', T[0], ctx('skip')),
  ]);
  const r2 = await writeRaw(dir, 'recently_played', runId(11), [], {
    lines: [
      JSON.stringify(play('2026-11-20T10:00:00Z', { ...T[2], name: 'Teardrop (Remastered)' }, ctx(null))), // re-delivered, changed: newer wins
      JSON.stringify(play('2026-10-01T12:00:00Z', T[3], ctx('playlist'))), // late play for an old day
      JSON.stringify(play('not a date', T[1])),
      '{broken',
      JSON.stringify(play('2026-11-24T08:00:00Z', T[1], ctx('album'))), // t2 moves to a newer month in last_play
    ],
  });
  const r3a = await writeRaw(dir, 'recently_played', runId(12), [play('2026-11-25T09:00:00Z', T[3], ctx('playlist')), play('2026-11-25T09:00:00Z', T[3], ctx('album'))]);
  const r3b = await writeRaw(dir, 'recently_played', runId(12), [play('2026-11-25T10:00:00Z', T[0], ctx(null))], { part: 1 });
  // A fourth run touches a day the second run rewrote and one nobody touched since the first.
  const r4 = await writeRaw(dir, 'recently_played', runId(13), [play('2026-10-01T13:00:00Z', T[1], ctx('album')), play('2026-10-02T11:00:00Z', T[2], ctx('playlist'))]);
  return [[r1], [r1, r2], [r1, r2, r3a, r3b], [r1, r2, r3a, r3b, r4]];
}

async function tableRows(dir: string, table: string): Promise<string[]> {
  const rows = await duck(`SELECT * FROM read_parquet('${join(dir, 'curated', table)}/**/*.parquet', hive_partitioning = true) ORDER BY ALL`);
  return rows.map((r) => JSON.stringify(r));
}

async function quarantineLines(dir: string, table: string): Promise<string[]> {
  const out: string[] = [];
  for (const f of await listFiles(join(dir, 'quarantine', table))) {
    out.push(...gunzipSync(await readFile(join(dir, 'quarantine', table, f))).toString('utf8').trim().split('\n').filter(Boolean));
  }
  return out.sort();
}

const figures = (r: TableResult) => ({ rows: r.rows, partitions: r.partitions, quarantined: r.quarantined, records: r.records, inputRows: r.inputRows, filtered: r.filtered, duplicates: r.duplicates });

describe('incremental builds', () => {
  it('run by run, every table shape holds what a full build of the same raw holds', async () => {
    const steps = await runs(lake);
    await runs(other);
    for (const [i, files] of steps.entries()) {
      const inc = await buildTables({ lakeDir: lake, tables: SHAPES, files, runId: runId(20 + i) });
      await rm(join(other, 'curated'), { recursive: true, force: true });
      await rm(join(other, 'quarantine'), { recursive: true, force: true });
      const full = await buildTables({ lakeDir: other, tables: SHAPES, files, runId: runId(20 + i) });
      for (const [t, r] of inc.entries()) {
        const name = r.table;
        expect(r.build?.mode, `${name} after run ${i + 1}`).toBe(i === 0 ? 'full' : 'incremental');
        expect(figures(r), `${name} after run ${i + 1}`).toEqual(figures(full[t]));
        expect(await tableRows(lake, name), `${name} after run ${i + 1}`).toEqual(await tableRows(other, name));
        expect(await quarantineLines(lake, name), `${name} quarantine after run ${i + 1}`).toEqual(await quarantineLines(other, name));
      }
    }
    // The plays table rewrote only the days each run's plays landed on.
    const last = await buildTables({ lakeDir: lake, tables: SHAPES, files: steps[3], runId: runId(30) });
    expect(last.map((r) => r.build?.mode)).toEqual(['skipped', 'skipped', 'skipped', 'skipped']);
    const plays = await listFiles(join(lake, 'curated', 'plays'));
    expect(plays.filter((f) => f.includes(runId(22)))).toEqual([`dt=2026-11-25/part-${runId(22)}-0.parquet`]);
    expect(plays.filter((f) => f.includes(runId(23)))).toEqual([`dt=2026-10-01/part-${runId(23)}-0.parquet`, `dt=2026-10-02/part-${runId(23)}-0.parquet`]);
    expect(plays.filter((f) => f.startsWith('dt=2026-11-20/'))).toEqual([`dt=2026-11-20/part-${runId(21)}-0.parquet`]);
    // Beside the published build, the one it replaced (the next incremental build's spare), which gc leaves alone.
    expect((await readdir(join(lake, 'curated', '_builds', 'plays'))).sort()).toEqual([runId(22), runId(23)]);
    expect((await findGarbage(lake, new LocalStorage(lake))).items.filter((i) => i.kind === 'unlinked build')).toEqual([]);
  });

  it('skips a table whose inputs did not change, and says why it builds in full otherwise', async () => {
    const [[r1], [, r2]] = await runs(lake);
    const plays = { plays: SHAPES.plays };
    const mode = async (files: CommittedFile[], id: number, extra: { tables?: Record<string, TableSpec>; full?: boolean } = {}) =>
      (await buildTables({ lakeDir: lake, tables: extra.tables ?? plays, files, runId: runId(id), full: extra.full }))[0].build;
    expect(await mode([r1], 20)).toEqual({ mode: 'full', reason: 'no build state' });
    expect(await mode([r1], 21)).toEqual({ mode: 'skipped' });
    expect(await mode([r1], 22, { full: true })).toEqual({ mode: 'full', reason: '--full' });
    const changed = { plays: { ...SHAPES.plays, filter: 'duration_ms > 0' } };
    expect(await mode([r1], 23, { tables: changed })).toEqual({ mode: 'full', reason: 'the table definition changed' });
    expect(await mode([r1, r2], 24, { tables: changed })).toMatchObject({ mode: 'incremental' });
    // A file of a run older than the newest one built (a repaired run read again, say).
    const older = await writeRaw(lake, 'recently_played', runId(9), [play('2026-11-01T10:00:00Z', T[0])]);
    expect(await mode([older, r1, r2], 25, { tables: changed })).toEqual({
      mode: 'full',
      reason: `run ${runId(9)} is not newer than the last build's newest run ${runId(11)}`,
    });
    expect(await mode([r1, r2], 26, { tables: changed })).toEqual({ mode: 'full', reason: `${older.key} is no longer committed` });
    // The state records a build that is no longer the published one (a crash between the two).
    const state = JSON.parse(await readFile(stateFile(lake, 'plays'), 'utf8')) as { build: string };
    await writeFile(stateFile(lake, 'plays'), JSON.stringify({ ...state, build: runId(1) }));
    expect(await mode([r1, r2], 27, { tables: changed })).toEqual({ mode: 'full', reason: 'the published build is not the one recorded' });
    // latest_per: a new read may replace a parent's rows anywhere.
    const latest = { pl: { from: [{ stream: 'recently_played' }], columns, latest_per: ['track_id'] } as TableSpec };
    await mode([r1], 28, { tables: latest });
    expect(await mode([r1, r2], 29, { tables: latest })).toEqual({ mode: 'full', reason: 'latest_per: a new read can replace rows in any partition' });
  });

  it('a file built before that is no longer what its manifest says fails the next build, even one that does not read it', async () => {
    const [[r1], [, r2]] = await runs(lake);
    await buildTables({ lakeDir: lake, tables: { plays: SHAPES.plays }, files: [r1], runId: runId(20) });
    await truncate(join(lake, r1.key), 10);
    const before = await listFiles(join(lake, 'curated'));
    await expect(buildTables({ lakeDir: lake, tables: { plays: SHAPES.plays }, files: [r1, r2], runId: runId(21) })).rejects.toThrow(IntegrityError);
    expect(await listFiles(join(lake, 'curated'))).toEqual(before);
  });
});
