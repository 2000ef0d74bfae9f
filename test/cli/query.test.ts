/**
 * `query` and `run --queries` as a user meets them (a child process): SQL is sandboxed, secrets
 * never show in results, a lake folder that is not there is an error, a damaged table fails only
 * the queries that read it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'spotify-pipeline.mjs');
const CLIENT_SECRET = 'cli-query-client-secret-5b7c0d';
const REFRESH_TOKEN = 'cli-query-refresh-token-9e4a21';

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, SPOTIFY_CLIENT_ID: '' }, timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const noSecret = (r: { stdout: string; stderr: string }) => {
  for (const s of [CLIENT_SECRET, REFRESH_TOKEN]) expect(r.stdout + r.stderr).not.toContain(s);
};

let dir: string;
let outside: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-query-'));
  await copyFile(join(ROOT, 'pipeline.yaml'), join(dir, 'pipeline.yaml'));
  await mkdir(join(dir, 'connectors', 'spotify-history'), { recursive: true });
  await copyFile(join(ROOT, 'connectors', 'spotify-history', 'pipeline.yaml'), join(dir, 'connectors', 'spotify-history', 'pipeline.yaml'));
  // The secrets file `login` writes, next to pipeline.yaml (and in the working directory).
  await writeFile(join(dir, '.secrets.json'), JSON.stringify({ 'spotify/client_secret': CLIENT_SECRET, 'spotify/refresh_token': REFRESH_TOKEN }));
  outside = join(dir, 'notes.csv');
  await writeFile(outside, `name,value\nclient_secret,${CLIENT_SECRET}\n`);
  const r = cli(['run', '--sandbox'], dir);
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.code).toBe(0);
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('pipeline SQL that reads files', () => {
  it('a named query reading .secrets.json fails validate and run (exit 2, at its line and column) and prints nothing of it', async () => {
    const text = await readFile(join(dir, 'pipeline.yaml'), 'utf8');
    const leak = text.replace('queries:\n', 'queries:\n  leak:\n    sql: SELECT * FROM ".secrets.json" CROSS JOIN plays LIMIT 1\n');
    await writeFile(join(dir, 'leak.yaml'), leak);
    const line = leak.split('\n').findIndex((l) => l.includes('CROSS JOIN')) + 1;
    const where = `leak.yaml:${line}:24 queries.leak.sql: ".secrets.json" used as a table reads a file`;

    const validate = cli(['validate', '-c', 'leak.yaml'], dir);
    expect(validate.code).toBe(2);
    expect(validate.stderr).toContain(where);
    // What npm start runs: stopped before any extraction, nothing printed of the secrets.
    const run = cli(['run', '-c', 'leak.yaml', '--sandbox', '--queries'], dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(where);
    expect(run.stdout).toBe('');
    noSecret(run);
  });
});

describe('query --sql is sandboxed', () => {
  it('cannot read a file (by path as a table, read_text, read_csv outside the lake), write one (COPY) or attach one: exit 2', () => {
    for (const sql of [
      `SELECT * FROM '.secrets.json'`,
      `SELECT * FROM ".secrets.json" CROSS JOIN plays LIMIT 1`,
      `SELECT content FROM read_text('.secrets.json')`,
      `SELECT * FROM read_csv('${outside}')`,
      `COPY (SELECT * FROM plays) TO 'copied.csv'`,
      `ATTACH 'other.duckdb' AS other`,
    ]) {
      const r = cli(['query', '--sql', sql], dir);
      expect(r.code, sql).toBe(2);
      expect(r.stdout, sql).toBe('');
      expect(r.stderr, sql).toMatch(/^error: the SQL is not allowed \(line 1, column \d+\): /);
      expect(r.stderr).toContain('fix: queries read the lake\'s tables by name; `spotify-pipeline query --unsafe --sql ...`');
      noSecret(r);
    }
    expect(existsSync(join(dir, 'copied.csv'))).toBe(false);
    expect(existsSync(join(dir, 'other.duckdb'))).toBe(false);
  });

  it('--unsafe runs it as given, and secrets are still redacted in table, csv and json output', () => {
    for (const format of ['table', 'csv', 'json']) {
      const r = cli(['query', '--unsafe', '--sql', `SELECT content FROM read_text('.secrets.json')`, '--format', format], dir);
      expect(r.code, format).toBe(0);
      expect(r.stdout, format).toContain('spotify/client_secret');
      expect(r.stdout, format).toContain('***');
      noSecret(r);
    }
    const copy = cli(['query', '--unsafe', '--sql', `COPY (SELECT count(*) AS n FROM plays) TO 'copied.csv'`], dir);
    expect(copy.code).toBe(0);
    expect(existsSync(join(dir, 'copied.csv'))).toBe(true);
    expect(cli(['query', 'top_artists_last_7_days', '--unsafe'], dir)).toMatchObject({ code: 2, stderr: expect.stringContaining('--unsafe is for ad-hoc SQL') as unknown });
  });

  it('a secret value in a query result is redacted (table, csv, json)', () => {
    for (const format of ['table', 'csv', 'json']) {
      const r = cli(['query', '--sql', `SELECT '${CLIENT_SECRET}' AS s, 'plain' AS p`, '--format', format], dir);
      expect(r.code, format).toBe(0);
      expect(r.stdout).toContain('***');
      expect(r.stdout).toContain('plain');
      noSecret(r);
    }
  });
});

describe('query on a lake that is not there, or not whole', () => {
  it('a lake folder that does not exist is an error naming it (exit 2), not 0 rows', () => {
    const typo = join(dir, 'typo');
    const r = cli(['query', '--lake', typo, '--sql', 'select count(*) from plays'], dir);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe(`error: no lake at ${typo}: the folder does not exist`);
    const named = cli(['query', 'playlist_sizes', '--lake', typo], dir);
    expect(named.code).toBe(2);
    expect(named.stderr).toContain(`no lake at ${typo}`);
  });

  it('a table without data says so in one line and reads as empty', async () => {
    const lake = join(dir, 'lake-no-artists');
    // As `cp -a` copies: the tables' relative links keep pointing inside the copy.
    await cp(join(dir, '.lake'), lake, { recursive: true, verbatimSymlinks: true });
    await rm(join(lake, 'curated', 'artists'), { recursive: true });
    const r = cli(['query', '--lake', lake, '--sql', 'SELECT count(*) AS n FROM artists', '--format', 'csv'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('n\n0\n');
    expect(r.stderr).toBe(`note: table artists has no data yet (no Parquet files under ${join(lake, 'curated', 'artists')}): it reads as empty\n`);
  });

  it('a damaged Parquet file fails only the queries reading its table, naming the file (exit 1)', async () => {
    const lake = join(dir, 'lake-damaged');
    // As `cp -a` copies: the tables' relative links keep pointing inside the copy.
    await cp(join(dir, '.lake'), lake, { recursive: true, verbatimSymlinks: true });
    const [file] = (await readdir(join(lake, 'curated', 'playlists'))).filter((f) => f.endsWith('.parquet'));
    await writeFile(join(lake, 'curated', 'playlists', file), 'garbage');
    const ok = cli(['query', 'top_artists_last_7_days', '--lake', lake, '--format', 'json'], dir);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).length).toBeGreaterThan(0);
    // playlist_sizes joins playlists.
    const bad = cli(['query', 'playlist_sizes', '--lake', lake], dir);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain(`error: table playlists cannot be read: `);
    expect(bad.stderr).toContain(join(lake, 'curated', 'playlists', file));
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });
});
