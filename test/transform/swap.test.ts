/**
 * Crash safety of publishing a table (core/transform/write.ts): the table's place is a link to one
 * complete build, replaced by one rename. A crash after any step leaves readers the whole old
 * table or the whole new one (never a partition missing or twice), and the next build cleans up
 * and yields exactly the expected rows. (test/integrity/crash.test.ts kills the real CLI at every
 * such step; these are the same states made in-process.)
 */
import { lstat, mkdir, readdir, readlink, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TableSpec } from '../../core/config/types.ts';
import { openLake } from '../../core/query/index.ts';
import { buildTables, currentBuild, recoverTable, tableDirs, type SwapHooks } from '../../core/transform/index.ts';
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

const crashAfter = (step: string, table = 'curated/plays'): SwapHooks => ({
  step: (s, t) => {
    if (s === step && t === table) throw new Error(`simulated crash after ${s} of ${t}`);
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

const OLD = [
  { played_at: '2026-11-23T10:00:00.000Z', track_id: 't1', dt: '2026-11-23' },
  { played_at: '2026-11-24T10:00:00.000Z', track_id: 't2', dt: '2026-11-24' },
];
const EXPECTED = [
  { played_at: '2026-11-23T10:00:00.000Z', track_id: 't1', dt: '2026-11-23' },
  { played_at: '2026-11-24T10:00:00.000Z', track_id: 't2', dt: '2026-11-24' },
  { played_at: '2026-11-24T18:00:00.000Z', track_id: 't3', dt: '2026-11-24' },
  { played_at: '2026-11-25T08:00:00.000Z', track_id: 't1', dt: '2026-11-25' },
];

describe('publishing a table', () => {
  it('links the table to one complete build; the link is replaced, never a folder', async () => {
    const files = await twoRuns();
    const dirs = tableDirs(lake, 'plays');
    expect((await lstat(dirs.table)).isSymbolicLink()).toBe(true);
    expect(await readlink(dirs.table)).toBe(`_builds/plays/${runId(11)}`);
    await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files, runId: runId(13), full: true });
    expect(await currentBuild(dirs)).toBe(runId(13));
    // After a full build only the linked build is kept; no staging, no temp link. (An incremental
    // build keeps the one it replaced as a spare: test/transform/incremental.test.ts.)
    expect(await readdir(dirs.builds)).toEqual([runId(13)]);
    // Beside them, the build state the next build compares with (incremental.ts).
    expect(await readdir(join(lake, 'curated'))).toEqual(['_builds', '_state', 'plays']);
    expect(await rows({ plays: PLAYS }, 'plays')).toEqual(EXPECTED);
  });

  for (const step of ['built', 'linked', 'swapped', 'cleaned']) {
    it(`a crash after the step "${step}" leaves the whole old or the whole new table, and the next build cleans up`, async () => {
      const files = await twoRuns();
      await expect(
        buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files, runId: runId(13), hooks: crashAfter(step) }),
      ).rejects.toThrow(/building table plays: simulated crash/);
      // Readers see one complete table: the old one until the link was swapped, the new one after.
      expect(await rows({ plays: PLAYS }, 'plays')).toEqual(step === 'built' || step === 'linked' ? OLD : EXPECTED);

      await recoverTable(tableDirs(lake, 'plays'));
      expect(await rows({ plays: PLAYS }, 'plays')).toEqual(step === 'built' || step === 'linked' ? OLD : EXPECTED);
      expect(await readdir(tableDirs(lake, 'plays').builds)).toEqual([step === 'built' || step === 'linked' ? runId(11) : runId(13)]);
      expect(await listFiles(join(lake, 'curated/_staging'))).toEqual([]);

      const [res] = await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files, runId: runId(14) });
      expect(res.rows).toBe(4);
      expect(await rows({ plays: PLAYS }, 'plays')).toEqual(EXPECTED);
      expect(await listFiles(join(lake, 'curated'))).toEqual([
        `plays/dt=2026-11-23/part-${runId(14)}-0.parquet`,
        `plays/dt=2026-11-24/part-${runId(14)}-0.parquet`,
        `plays/dt=2026-11-25/part-${runId(14)}-0.parquet`,
      ]);
    });
  }

  it('a crash in the quarantine publish leaves the table as it was and the quarantine old or new', async () => {
    const run1 = await writeRaw(lake, 'recently_played', runId(10), [play('2026-11-23T10:00:00Z', T1)], { lines: [JSON.stringify(play('2026-11-23T10:00:00Z', T1)), '{broken'] });
    await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files: [run1], runId: runId(11) });
    expect(await listFiles(join(lake, 'quarantine'))).toEqual([`plays/part-${runId(11)}-0.jsonl.gz`]);
    const run2 = await writeRaw(lake, 'recently_played', runId(12), [], { lines: ['{also broken'] });
    await expect(
      buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files: [run1, run2], runId: runId(13), hooks: crashAfter('built', 'quarantine/plays') }),
    ).rejects.toThrow(/simulated crash/);
    expect(await listFiles(join(lake, 'quarantine'))).toEqual([`plays/part-${runId(11)}-0.jsonl.gz`]);
    expect((await rows({ plays: PLAYS }, 'plays')).map((r) => r.track_id)).toEqual(['t1']);
    // The crash came before the quarantine's link: the recorded state still describes what is
    // published, so the next build is incremental and adds a part for the new run's failures.
    const [res] = await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files: [run1, run2], runId: runId(14) });
    expect(res).toMatchObject({ quarantined: 2, build: { mode: 'incremental' } });
    expect(await listFiles(join(lake, 'quarantine'))).toEqual([`plays/part-${runId(11)}-0.jsonl.gz`, `plays/part-${runId(14)}-0.jsonl.gz`]);
  });

  it('an empty new table is an empty build: the place stays linked, readers see no rows', async () => {
    const run1 = await writeRaw(lake, 'recently_played', runId(10), [play('2026-11-23T10:00:00Z', T1)]);
    await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files: [run1], runId: runId(11) });
    await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files: [], runId: runId(12) });
    expect(await currentBuild(tableDirs(lake, 'plays'))).toBe(runId(12));
    expect(await listFiles(join(lake, 'curated'))).toEqual([]);
    expect(await rows({ plays: PLAYS }, 'plays')).toEqual([]);
  });

  it('a lake from before the links: a crashed swap of that time is restored, then the folder becomes a link', async () => {
    const files = await twoRuns();
    // Make the layout of the old engine: a plain folder per table, one partition moved to the trash.
    const dirs = tableDirs(lake, 'plays');
    const build = join(dirs.builds, runId(11));
    await rm(dirs.table);
    await rename(build, dirs.table);
    await rm(dirs.builds, { recursive: true });
    await mkdir(join(dirs.trash, runId(12), 'p'), { recursive: true });
    await rename(join(dirs.table, 'dt=2026-11-24'), join(dirs.trash, runId(12), 'p', 'dt=2026-11-24'));
    expect((await lstat(dirs.table)).isDirectory()).toBe(true);

    // A crash right after the old folder was moved aside, before the link came: recovery puts it back.
    await expect(
      buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files, runId: runId(13), hooks: crashAfter('linked') }),
    ).rejects.toThrow(/simulated crash/);
    await expect(lstat(dirs.table)).rejects.toThrow(/ENOENT/);
    const { restored } = await recoverTable(dirs);
    expect(restored).toEqual(['']);
    expect(await rows({ plays: PLAYS }, 'plays')).toEqual(OLD);

    await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files, runId: runId(14) });
    expect((await lstat(dirs.table)).isSymbolicLink()).toBe(true);
    expect(await readdir(dirs.builds)).toEqual([runId(14)]);
    expect(await rows({ plays: PLAYS }, 'plays')).toEqual(EXPECTED);
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
