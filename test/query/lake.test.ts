/**
 * The sandbox as the engine uses it: the query views (openLake) read the lake's curated tables and
 * nothing else, the table build reads raw and writes curated/quarantine and nothing else, a lake
 * folder that is not there is an error, and a damaged Parquet file fails only the queries that
 * read its table, naming the file.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TableSpec } from '../../core/config/types.ts';
import { UserError } from '../../core/errors.ts';
import { assertLakeFolder, openLake, tablesNamed, UnreadableTableError } from '../../core/query/index.ts';
import { buildTables, type CommittedFile } from '../../core/transform/index.ts';
import { BJORK, RADIOHEAD, listFiles, play, runId, tempLake, track, writeRaw } from '../transform/helpers.ts';

const SECRET = 'lake-test-client-secret-8d1e2f';

const PLAYS: TableSpec = {
  from: [{ stream: 'recently_played' }],
  columns: {
    played_at: { path: 'played_at', type: 'timestamp', required: true },
    track_id: { path: 'track.id', type: 'string', required: true },
    track_name: { path: 'track.name', type: 'string' },
  },
  partition_by: [{ name: 'dt', from: 'played_at', as: 'date' }],
};
const TRACKS: TableSpec = {
  from: [{ stream: 'recently_played', root: 'track' }],
  columns: { track_id: { path: 'id', type: 'string', required: true }, name: { path: 'name', type: 'string' } },
  dedupe: { key: ['track_id'] },
};
const TABLES = { plays: PLAYS, tracks: TRACKS };

let base: string;
let lake: string;
let secrets: string;
let files: CommittedFile[];
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir: base, cleanup } = await tempLake());
  lake = join(base, 'lake');
  // The project folder next to the lake, holding a secrets file as `login` writes it.
  secrets = join(base, '.secrets.json');
  await writeFile(secrets, JSON.stringify({ 'spotify/client_secret': SECRET }));
  const t1 = track('t1', 'Idioteque', [RADIOHEAD]);
  const t2 = track('t2', 'Hyperballad', [BJORK]);
  files = [await writeRaw(lake, 'recently_played', runId(10), [play('2026-11-24T09:30:00Z', t1), play('2026-11-23T22:15:00Z', t2)])];
});
afterEach(async () => cleanup());

const build = (tables: Record<string, TableSpec> = TABLES) => buildTables({ lakeDir: lake, tables, files, runId: runId(11), drift: false });

async function allText(dir: string): Promise<string> {
  let text = '';
  for (const f of await listFiles(dir)) text += (await readFile(join(dir, f))).toString('latin1');
  return text;
}

describe('openLake: queries read the lake tables and nothing else', () => {
  it('refuses SQL reading a file next to the lake, and never shows its content', async () => {
    await build();
    const db = await openLake(lake, TABLES);
    try {
      expect((await db.query('SELECT count(*) AS n FROM plays')).rows).toEqual([{ n: 2 }]);
      for (const sql of [
        `SELECT * FROM "${secrets}" CROSS JOIN plays LIMIT 1`,
        `SELECT content FROM read_text('${secrets}')`,
        `SELECT * FROM read_csv('${secrets}')`,
        `SELECT * FROM read_parquet('${join(lake, 'curated', 'plays', '**', '*.parquet')}')`,
      ]) {
        const e = await db.query(sql).catch((x: unknown) => x);
        expect(e, sql).toBeInstanceOf(UserError);
        expect((e as Error).message).toMatch(/^the SQL is not allowed \(line 1, column \d+\): /);
        expect((e as UserError).hint).toMatch(/--unsafe/);
        expect(String(e)).not.toContain(SECRET);
      }
    } finally {
      db.close();
    }
  });

  it('refuses statements that write (COPY, EXPORT), attach or load, and more than one statement', async () => {
    await build();
    const target = join(base, 'copied.csv');
    const db = await openLake(lake, TABLES);
    try {
      for (const sql of [
        `COPY (SELECT * FROM plays) TO '${target}'`,
        `COPY (SELECT * FROM plays) TO '${join(lake, 'curated', 'plays', 'extra.parquet')}' (FORMAT parquet)`,
        `EXPORT DATABASE '${join(base, 'export')}'`,
        `ATTACH '${join(base, 'other.duckdb')}'`,
        'INSTALL httpfs',
        `SELECT 1; COPY plays TO '${target}'`,
      ]) {
        await expect(db.query(sql), sql).rejects.toThrow(/^the SQL is not allowed/);
      }
    } finally {
      db.close();
    }
    expect(existsSync(target)).toBe(false);
    expect(await readdir(base)).toEqual(['.secrets.json', 'lake']);
    expect(await listFiles(join(lake, 'curated', 'plays'))).not.toContain('extra.parquet');
  });

  it('unsafe (query --unsafe) runs the SQL as given', async () => {
    await build();
    const db = await openLake(lake, TABLES, { unsafe: true });
    try {
      const { rows } = await db.query(`SELECT content FROM read_text('${secrets}')`);
      expect(String(rows[0].content)).toContain(SECRET);
    } finally {
      db.close();
    }
  });

  it('a corrupt Parquet file fails only the queries reading its table, naming the file', async () => {
    await build();
    const [trackFile] = await listFiles(join(lake, 'curated', 'tracks'));
    await writeFile(join(lake, 'curated', 'tracks', trackFile), 'not parquet at all');
    const db = await openLake(lake, TABLES);
    try {
      expect((await db.query('SELECT count(*) AS n FROM plays')).rows).toEqual([{ n: 2 }]);
      for (const sql of [
        'SELECT count(*) FROM tracks',
        'SELECT name FROM tracks',
        // Joins must not read the table as empty: the failure is not optimized away.
        'SELECT p.track_name FROM plays p JOIN tracks t USING (track_id)',
        'SELECT p.track_name, t.name FROM plays p LEFT JOIN tracks t USING (track_id)',
        'SELECT count(*) FROM plays WHERE track_id IN (SELECT track_id FROM tracks)',
      ]) {
        const e = await db.query(sql).catch((x: unknown) => x);
        expect(e, sql).toBeInstanceOf(UnreadableTableError);
        expect(e).toMatchObject({ table: 'tracks' });
        expect((e as Error).message).toMatch(/^table tracks cannot be read: No magic bytes found at end of file/);
        expect((e as Error).message).toContain(join(lake, 'curated', 'tracks', trackFile));
      }
      expect(db.unreadable).toEqual({ tracks: expect.stringContaining(trackFile) as unknown });
    } finally {
      db.close();
    }
  });

  it('a Parquet file damaged inside (the footer still reads) fails its table when scanned, naming the file', async () => {
    await build();
    const [part] = (await listFiles(join(lake, 'curated', 'plays'))).filter((f) => f.endsWith('.parquet'));
    const path = join(lake, 'curated', 'plays', part);
    const bytes = await readFile(path);
    // Overwrite the column data (between the leading magic and the footer), keep the footer.
    const footer = bytes.length - 8 - bytes.readInt32LE(bytes.length - 8);
    for (let i = 4; i < footer; i++) bytes[i] = 0x41;
    await writeFile(path, bytes);
    const db = await openLake(lake, TABLES);
    try {
      expect(db.unreadable).toEqual({});
      const e = await db.query('SELECT max(track_name) AS m, count(*) AS n FROM plays').catch((x: unknown) => x);
      expect(e).toBeInstanceOf(UnreadableTableError);
      expect((e as Error).message).toMatch(/^table plays cannot be read: /);
      expect((e as Error).message).toContain(path);
      expect((await db.query('SELECT count(*) AS n FROM tracks')).rows).toEqual([{ n: 2 }]);
    } finally {
      db.close();
    }
  });

  it('says which tables have no data, and which a query names', async () => {
    await build({ plays: PLAYS });
    const db = await openLake(lake, TABLES);
    try {
      expect(db.emptyTables).toEqual(['tracks']);
      expect((await db.query('SELECT count(*) AS n FROM tracks')).rows).toEqual([{ n: 0 }]);
    } finally {
      db.close();
    }
    expect(tablesNamed(`SELECT * FROM plays JOIN "tracks" USING (track_id) -- artists\nWHERE x = 'playlists'`, ['plays', 'tracks', 'artists', 'playlists'])).toEqual(['plays', 'tracks']);
  });
});

describe('assertLakeFolder', () => {
  it('refuses a lake folder that does not exist, or where nothing was built, naming it', async () => {
    await expect(assertLakeFolder(join(base, 'typo'))).rejects.toThrow(`no lake at ${join(base, 'typo')}: the folder does not exist`);
    await expect(assertLakeFolder(lake)).rejects.toThrow(`no table has been built in the lake ${lake} (it has no curated/ folder)`);
    await build();
    await expect(assertLakeFolder(lake)).resolves.toBeUndefined();
  });
});

describe('buildTables: the build reads raw and writes curated/quarantine, nothing else', () => {
  it('a sql: column reading a file cannot copy it into a table (validate rejects it first; the build refuses it too)', async () => {
    const leaky: TableSpec = { ...TRACKS, columns: { ...TRACKS.columns, note: { sql: `(SELECT content FROM read_text('${secrets}'))`, type: 'string' } } };
    await expect(build({ tracks: leaky })).rejects.toThrow(/building table tracks: Permission Error: Cannot access file/);
    expect(await allText(join(lake, 'curated'))).not.toContain(SECRET);
    expect(await listFiles(join(lake, 'curated', 'tracks'))).toEqual([]);
  });

  it('a filter cannot read or list files outside the lake either', async () => {
    const leaky: TableSpec = { ...TRACKS, filter: `track_id NOT IN (SELECT content FROM read_text('${secrets}'))` };
    await expect(build({ tracks: leaky })).rejects.toThrow(/Permission Error/);
    const listing: TableSpec = { ...TRACKS, filter: `(SELECT count(*) FROM glob('${join(base, '*')}')) > 0` };
    await expect(build({ tracks: listing })).rejects.toThrow(/Permission Error/);
  });

  it('still builds from raw files, writes curated and quarantine, spills into its own temp folder and removes it', async () => {
    await mkdir(join(lake, '_tmp', 'spark-other'), { recursive: true });
    const [plays, tracks] = await build();
    expect([plays.rows, tracks.rows]).toEqual([2, 2]);
    // A Spark job's temp folder is left alone; the build's own is gone.
    expect(await readdir(join(lake, '_tmp'))).toEqual(['spark-other']);
    await rm(join(lake, '_tmp'), { recursive: true });
    await build();
    expect(await readdir(lake)).toEqual(['curated', 'quarantine', 'raw']);
  });
});
