/**
 * Crash safety of the partition swap: a crash between moving a partition out and moving its
 * replacement in must leave every partition old-complete or new-complete (never duplicated), and
 * the next build must recover and yield exactly the expected rows.
 */
import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TableSpec } from '../../core/config/types.ts';
import { openLake } from '../../core/query/index.ts';
import { buildTables, recoverTable, tableDirs } from '../../core/transform/index.ts';
import { BJORK, MASSIVE, RADIOHEAD, listFiles, play, runId, tempLake, track, writeRaw } from './helpers.ts';

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
  },
  dedupe: { key: ['played_at', 'track_id'] },
  partition_by: [{ name: 'dt', from: 'played_at', as: 'date' }],
};
const T1 = track('t1', 'Idioteque', [RADIOHEAD]);
const T2 = track('t2', 'Hyperballad', [BJORK]);
const T3 = track('t3', 'Teardrop', [MASSIVE]);

const crashAt = (partition: string) => ({
  betweenRenames: (p: string) => {
    if (p === partition) throw new Error(`simulated crash before publishing ${p}`);
  },
});

async function rows(tables: Record<string, TableSpec>, table: string, order = 'played_at, track_id') {
  const db = await openLake(lake, tables);
  try {
    return (await db.query(`SELECT * FROM ${table} ORDER BY ${order}`)).rows;
  } finally {
    db.close();
  }
}

async function twoRuns() {
  const run1 = await writeRaw(lake, 'recently_played', runId(10), [
    play('2026-11-23T10:00:00Z', T1),
    play('2026-11-24T10:00:00Z', T2),
  ]);
  await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files: [run1], runId: runId(11) });
  // Run 2 adds a play to 11-24 (that partition must change) and a new day 11-25.
  const run2 = await writeRaw(lake, 'recently_played', runId(12), [
    play('2026-11-24T18:00:00Z', T3),
    play('2026-11-25T08:00:00Z', T1),
  ]);
  return [run1, run2];
}

const EXPECTED = [
  { played_at: '2026-11-23T10:00:00.000Z', track_id: 't1', dt: '2026-11-23' },
  { played_at: '2026-11-24T10:00:00.000Z', track_id: 't2', dt: '2026-11-24' },
  { played_at: '2026-11-24T18:00:00.000Z', track_id: 't3', dt: '2026-11-24' },
  { played_at: '2026-11-25T08:00:00.000Z', track_id: 't1', dt: '2026-11-25' },
];

describe('partition swap', () => {
  it('a crash between the two renames leaves that partition recoverable, never duplicated', async () => {
    const files = await twoRuns();
    await expect(
      buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files, runId: runId(13), hooks: crashAt('dt=2026-11-24') }),
    ).rejects.toThrow(/building table plays: simulated crash/);

    // The crash window: 11-23 already new, 11-24 moved out (in the trash), 11-25 not yet published.
    expect(await listFiles(join(lake, 'curated/plays'))).toEqual([`dt=2026-11-23/part-${runId(13)}-0.parquet`]);
    expect(await listFiles(join(lake, 'curated/_trash'))).toEqual([`plays/${runId(13)}/p/dt=2026-11-24/part-${runId(11)}-0.parquet`]);

    // Recovery puts the old complete partition back.
    const { restored } = await recoverTable(tableDirs(lake, 'plays'));
    expect(restored).toEqual(['dt=2026-11-24']);
    expect(await rows({ plays: PLAYS }, 'plays')).toEqual([EXPECTED[0], EXPECTED[1]]);
    expect(await listFiles(join(lake, 'curated/_trash'))).toEqual([]);
    expect(await listFiles(join(lake, 'curated/_staging'))).toEqual([]);

    // The next build yields exactly the expected rows.
    const [res] = await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files, runId: runId(14) });
    expect(res.rows).toBe(4);
    expect(await rows({ plays: PLAYS }, 'plays')).toEqual(EXPECTED);
  });

  it('the next build recovers by itself after a crash', async () => {
    const files = await twoRuns();
    await expect(
      buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files, runId: runId(13), hooks: crashAt('dt=2026-11-24') }),
    ).rejects.toThrow(/building table plays: simulated crash/);
    await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files, runId: runId(14) });
    expect(await rows({ plays: PLAYS }, 'plays')).toEqual(EXPECTED);
    expect(await listFiles(join(lake, 'curated'))).toEqual([
      `plays/dt=2026-11-23/part-${runId(14)}-0.parquet`,
      `plays/dt=2026-11-24/part-${runId(14)}-0.parquet`,
      `plays/dt=2026-11-25/part-${runId(14)}-0.parquet`,
    ]);
  });

  it('a trash copy left after its replacement was published is discarded, not restored twice', async () => {
    const files = await twoRuns();
    await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files, runId: runId(13) });
    // As if a build crashed after the second rename but before deleting the trash.
    const leftover = join(lake, 'curated/_trash/plays', runId(13), 'p/dt=2026-11-24');
    await mkdir(leftover, { recursive: true });
    await cp(join(lake, 'curated/plays/dt=2026-11-24'), leftover, { recursive: true });
    expect((await recoverTable(tableDirs(lake, 'plays'))).restored).toEqual([]);
    expect(await rows({ plays: PLAYS }, 'plays')).toEqual(EXPECTED);
  });

  it('an unpartitioned table is swapped as one folder, with the same recovery', async () => {
    const spec: TableSpec = { ...PLAYS, partition_by: undefined };
    const run1 = await writeRaw(lake, 'recently_played', runId(10), [play('2026-11-23T10:00:00Z', T1)]);
    await buildTables({ lakeDir: lake, tables: { plays: spec }, files: [run1], runId: runId(11) });
    const run2 = await writeRaw(lake, 'recently_played', runId(12), [play('2026-11-24T10:00:00Z', T2)]);
    await expect(
      buildTables({ lakeDir: lake, tables: { plays: spec }, files: [run1, run2], runId: runId(13), hooks: crashAt('') }),
    ).rejects.toThrow(/building table plays: simulated crash/);
    expect(await listFiles(join(lake, 'curated/plays'))).toEqual([]);
    expect((await recoverTable(tableDirs(lake, 'plays'))).restored).toEqual(['']);
    expect((await rows({ plays: spec }, 'plays')).map((r) => r.track_id)).toEqual(['t1']);

    await buildTables({ lakeDir: lake, tables: { plays: spec }, files: [run1, run2], runId: runId(14) });
    expect((await rows({ plays: spec }, 'plays')).map((r) => r.track_id)).toEqual(['t1', 't2']);
    expect(await listFiles(join(lake, 'curated'))).toEqual([`plays/part-${runId(14)}-0.parquet`]);
  });

  it('a change of partitioning replaces the whole table layout', async () => {
    const run1 = await writeRaw(lake, 'recently_played', runId(10), [play('2026-11-23T10:00:00Z', T1), play('2026-12-01T10:00:00Z', T2)]);
    await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files: [run1], runId: runId(11) });
    const monthly: TableSpec = { ...PLAYS, partition_by: [{ name: 'month', from: 'played_at', as: 'month' }] };
    await buildTables({ lakeDir: lake, tables: { plays: monthly }, files: [run1], runId: runId(12) });
    expect(await listFiles(join(lake, 'curated'))).toEqual([
      `plays/month=2026-11/part-${runId(12)}-0.parquet`,
      `plays/month=2026-12/part-${runId(12)}-0.parquet`,
    ]);
    expect((await rows({ plays: monthly }, 'plays')).map((r) => r.month)).toEqual(['2026-11', '2026-12']);
  });
});
