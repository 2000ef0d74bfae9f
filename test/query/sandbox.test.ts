/**
 * The DuckDB sandbox (core/query/sandbox.ts): each documented setting, checked against the DuckDB
 * that @duckdb/node-api bundles, and what it refuses: files outside the allowed folders (read or
 * written, by table function, by a quoted path, by COPY), URLs, ATTACH, INSTALL/LOAD, and SQL that
 * tries to turn it off again.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowedDir, openDuckdb, type Duckdb } from '../../core/query/sandbox.ts';

const SECRET = 'sandbox-test-secret-3c9f1a';
let dir: string;
let allowed: string;
let outside: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sandbox-'));
  allowed = join(dir, 'lake', 'curated');
  outside = join(dir, 'project');
  await mkdir(allowed, { recursive: true });
  await mkdir(outside, { recursive: true });
  await writeFile(join(outside, '.secrets.json'), JSON.stringify({ 'spotify/client_secret': SECRET }));
  await writeFile(join(allowed, 'inside.csv'), 'a\n1\n');
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function withDb<T>(fn: (db: Duckdb) => Promise<T>, opts: { unsafe?: boolean; tempDir?: string } = {}): Promise<T> {
  const db = await openDuckdb({ allow: [allowed], settings: [`SET TimeZone = 'UTC'`], ...opts });
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}
const rows = async (db: Duckdb, sql: string) => (await db.conn.runAndReadAll(sql)).getRowObjectsJson();
const refused = async (db: Duckdb, sql: string) => {
  const e = await db.conn.run(sql).then(
    () => undefined,
    (x: Error) => x,
  );
  expect(e, sql).toBeInstanceOf(Error);
  expect(e!.message).not.toContain(SECRET);
  return e!.message;
};

describe('openDuckdb', () => {
  it('runs on the DuckDB whose settings core/query/sandbox.ts documents (1.5)', async () => {
    // A new DuckDB may rename or change these settings: re-check them (this file) when it moves.
    const [{ v }] = await withDb((db) => rows(db, 'SELECT version() AS v'));
    expect(String(v)).toMatch(/^v1\.5\./);
  });

  it('turns external access off, allows exactly the given folders (and its own spill folder), locks the configuration', async () => {
    const temp = join(dir, 'spill');
    const settings = await withDb(
      (db) => rows(db, `SELECT name, value FROM duckdb_settings() WHERE name IN ('enable_external_access', 'allowed_directories', 'allowed_paths', 'lock_configuration', 'temp_directory', 'autoload_known_extensions', 'autoinstall_known_extensions', 'TimeZone') ORDER BY name`),
      { tempDir: temp },
    );
    expect(Object.fromEntries(settings.map((r) => [r.name, r.value]))).toEqual({
      allowed_directories: `[${allowedDir(allowed)}, ${allowedDir(temp)}]`,
      allowed_paths: '[]',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      enable_external_access: 'false',
      lock_configuration: 'true',
      temp_directory: temp,
      TimeZone: 'UTC',
    });
  });

  it('reads and writes inside the allowed folder', async () => {
    await withDb(async (db) => {
      expect(await rows(db, `SELECT CAST(a AS INT) AS a FROM read_csv(${sq(join(allowed, 'inside.csv'))})`)).toEqual([{ a: 1 }]);
      await db.conn.run(`COPY (SELECT 42 AS x) TO ${sq(join(allowed, 'out.parquet'))} (FORMAT parquet)`);
      expect(await rows(db, `SELECT CAST(x AS INT) AS x FROM read_parquet(${sq(join(allowed, 'out.parquet'))})`)).toEqual([{ x: 42 }]);
    });
  });

  it('cannot read a file outside it: by table function, by a quoted path as a table, through ..', async () => {
    const secrets = join(outside, '.secrets.json');
    await withDb(async (db) => {
      for (const sql of [
        `SELECT content FROM read_text(${sq(secrets)})`,
        `SELECT * FROM read_json_auto(${sq(secrets)})`,
        `SELECT * FROM read_csv(${sq(secrets)})`,
        `SELECT * FROM read_blob(${sq(secrets)})`,
        `SELECT * FROM "${secrets}"`,
        `SELECT * FROM ${sq(secrets)}`,
        `SELECT * FROM read_text(${sq(join(allowed, '..', '..', 'project', '.secrets.json'))})`,
        `SELECT * FROM glob(${sq(join(outside, '*'))})`,
      ]) {
        expect(await refused(db, sql), sql).toMatch(/Permission Error: Cannot access file/);
      }
    });
  });

  it('cannot write a file outside it: COPY ... TO, EXPORT DATABASE', async () => {
    await withDb(async (db) => {
      expect(await refused(db, `COPY (SELECT 1) TO ${sq(join(outside, 'copied.csv'))}`)).toMatch(/Permission Error/);
      await db.conn.run('CREATE TEMP TABLE t AS SELECT 1 AS x');
      expect(await refused(db, `EXPORT DATABASE ${sq(join(outside, 'export'))}`)).toMatch(/Permission Error/);
    });
    expect(await readdir(outside)).toEqual(['.secrets.json']);
  });

  it('cannot attach a database, install or load an extension, or read a URL', async () => {
    await withDb(async (db) => {
      expect(await refused(db, `ATTACH ${sq(join(outside, 'other.duckdb'))} AS other`)).toMatch(/Permission Error/);
      expect(await refused(db, 'INSTALL httpfs')).toMatch(/Permission Error/);
      expect(await refused(db, 'LOAD httpfs')).toMatch(/Permission Error|disabled/);
      expect(await refused(db, `SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')`)).toMatch(/Permission Error/);
    });
    expect(existsSync(join(outside, 'other.duckdb'))).toBe(false);
  });

  it('SQL cannot turn it off again: every setting is locked', async () => {
    await withDb(async (db) => {
      for (const sql of [
        'SET enable_external_access = true',
        `SET allowed_directories = ['/']`,
        `SET allowed_paths = [${sq(join(outside, '.secrets.json'))}]`,
        'SET lock_configuration = false',
        'RESET lock_configuration',
        `SET temp_directory = ${sq(outside)}`,
        `PRAGMA profiling_output = ${sq(join(outside, 'profile.json'))}`,
      ]) {
        expect(await refused(db, sql), sql).toMatch(/the configuration has been locked/);
      }
      expect(await refused(db, `SELECT content FROM read_text(${sq(join(outside, '.secrets.json'))})`)).toMatch(/Permission Error/);
    });
  });

  it('with allow: [] reads no file at all', async () => {
    const db = await openDuckdb({ allow: [] });
    try {
      expect(await refused(db, `SELECT * FROM read_csv(${sq(join(allowed, 'inside.csv'))})`)).toMatch(/Permission Error/);
    } finally {
      db.close();
    }
  });

  it('unsafe is a plain DuckDB (query --unsafe): it reads what the user can', async () => {
    const got = await withDb((db) => rows(db, `SELECT content FROM read_text(${sq(join(outside, '.secrets.json'))})`), { unsafe: true });
    expect(String(got[0].content)).toContain(SECRET);
  });
});

function sq(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}
