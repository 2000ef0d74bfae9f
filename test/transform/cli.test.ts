/** `spotify-pipeline transform`, in process: rebuild from committed raw, --explain, --spark-specs. */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { run as main } from '../../bin/main.ts';
import { writeManifest } from '../../core/engine/manifest.ts';
import { LocalStorage } from '../../core/storage/local.ts';
import { BJORK, RADIOHEAD, listFiles, play, playlistItem, runId, tempLake, track, writeRaw } from './helpers.ts';

const PIPELINE = join(import.meta.dirname, '..', '..', 'pipeline.yaml');

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  try {
    const code = await main(['node', 'spotify-pipeline', ...args]);
    return { code, stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('spotify-pipeline transform', () => {
  let lake: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir: lake, cleanup } = await tempLake());
    const run = runId(10);
    const plays = await writeRaw(lake, 'recently_played', run, [
      play('2026-11-24T09:30:00Z', track('t1', 'Idioteque', [RADIOHEAD], { release: '2000-10', precision: 'month' })),
      play('2026-11-23T09:30:00Z', track('t2', 'Hyperballad', [BJORK], { release: '1995', precision: 'year' })),
    ]);
    const items = await writeRaw(lake, 'playlist_items', run, [playlistItem('pl1', 0, track('t1', 'Idioteque', [RADIOHEAD])), playlistItem('pl1', 1, null)]);
    // A run without a manifest is invisible: its file must not be read.
    await writeRaw(lake, 'recently_played', runId(11), [play('2026-11-25T09:30:00Z', track('t9', 'Uncommitted', [BJORK]))]);
    const stream = (f: typeof plays) => ({ endpoint: 'x', records: f.records, files: [{ key: f.key, records: f.records, bytes: f.bytes ?? 0, sha256: f.sha256 }], requests: {}, status: 'complete' as const });
    await writeManifest(new LocalStorage(lake), {
      run_id: run,
      pipeline: 'my-spotify-lake',
      started_at: '2026-11-24T10:15:02.000Z',
      committed_at: '2026-11-24T10:15:09.000Z',
      streams: { recently_played: stream(plays), playlist_items: stream(items) },
    });
  });
  afterAll(async () => cleanup());
  afterEach(() => vi.restoreAllMocks());

  it('rebuilds every table from committed raw data only, and a rerun replaces instead of adding', async () => {
    const first = await cli('transform', '-c', PIPELINE, '--lake', lake);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    // Every table of the lake, those of included pipelines too (they have no raw data here).
    expect(first.stdout).toMatch(/^Transform \S+: \d+ table\(s\) rebuilt from 2 committed raw file\(s\)/);
    // table, records, rows, files
    expect(first.stdout).toMatch(/^plays\s+2\s+2\s+2\s/m);
    expect(first.stdout).toMatch(/^tracks\s+4\s+2\s+1\s.*filtered=1 duplicates=1$/m);
    expect(first.stdout).toMatch(/^playlist_tracks\s+2\s+2\s/m);
    expect(await readdir(join(lake, 'curated', 'plays'))).toEqual(['dt=2026-11-23', 'dt=2026-11-24']);

    const again = await cli('transform', '-c', PIPELINE, '--lake', lake, '--table', 'plays', 'tracks');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/2 table\(s\) rebuilt/);
    expect((await listFiles(join(lake, 'curated', 'plays'))).length).toBe(2);
  });

  it('--explain prints the DuckDB and the Spark SQL of a table', async () => {
    const r = await cli('transform', '--explain', 'tracks', '-c', PIPELINE, '--lake', lake);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('-- tables.tracks: DuckDB (local engine), the table\'s rows (2 committed raw file(s))');
    expect(r.stdout).toContain('read_json_objects([');
    expect(r.stdout).toContain('-- tables.tracks: Spark SQL (Glue job) over the temp view raw_lines(value, _file, _line, _run_id, _stream)');
    expect(r.stdout).toContain("get_json_object(__rec, '$.item.album.release_date_precision')");
    expect(r.stdout).not.toContain('Uncommitted');
    const missing = await cli('transform', '--explain', 'nope', '-c', PIPELINE, '--lake', lake);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no table named "nope"/);
  });

  it('--explain also prints the docs and the Athena DDL of the Glue table, from the same plan', async () => {
    const r = await cli('transform', '--explain', 'plays', '-c', PIPELINE, '--lake', lake);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^-- tables\.plays: what it holds/);
    expect(r.stdout).toContain('-- | `played_at` | timestamp | required |');
    expect(r.stdout).toContain('-- | `dt` | string | partition key: date of `played_at` |');
    // The DDL names what the deployment creates: database, bucket (storage.s3) and projection.
    expect(r.stdout).toContain('CREATE EXTERNAL TABLE `my_spotify_lake`.`plays` (\n  `played_at` timestamp,');
    expect(r.stdout).toContain("PARTITIONED BY (\n  `dt` string COMMENT 'date of played_at'\n)\nSTORED AS PARQUET\nLOCATION 's3://my-spotify-lake/curated/plays/'");
    expect(r.stdout).toContain("'storage.location.template'='s3://my-spotify-lake/curated/plays/dt=${dt}/'\n);\n");
  });

  it('--docs prints the markdown docs of the tables', async () => {
    const r = await cli('transform', '--docs', '-c', PIPELINE, '-t', 'artists', 'plays');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^### `artists`\n\nArtists of your plays and playlists/);
    expect(r.stdout).toContain('| `genres` | array<string> |  |');
    expect(r.stdout).toContain('\n\n### `plays`\n');
    expect((await cli('transform', '--docs', '-c', PIPELINE, '-t', 'nope')).code).toBe(2);
  });

  it('--spark-specs writes the Glue job spec of every table', async () => {
    const dir = join(lake, 'specs');
    const r = await cli('transform', '--spark-specs', dir, '-c', PIPELINE);
    expect(r.code).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(expect.arrayContaining(['artists.json', 'playlist_tracks.json', 'playlists.json', 'plays.json', 'tracks.json']));
    const spec = JSON.parse(await readFile(join(dir, 'plays.json'), 'utf8'));
    expect(spec).toMatchObject({ version: 1, table: 'plays', partition_by: [{ name: 'dt', from: 'played_at', as: 'date' }] });
  });

  it('--engine picks duckdb or spark; --master needs spark; a missing Spark is one line', async () => {
    const bad = await cli('transform', '-c', PIPELINE, '--lake', lake, '--engine', 'flink');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--engine flink: expected one of duckdb, spark/);
    const master = await cli('transform', '-c', PIPELINE, '--lake', lake, '--master', 'local[2]');
    expect(master.code).toBe(2);
    expect(master.stderr).toMatch(/--master is a Spark master URL: it needs --engine spark/);
    // No SPARK_HOME, no spark-submit on PATH, and no Python for the project's own.
    const saved = { SPARK_HOME: process.env.SPARK_HOME, PATH: process.env.PATH, PYTHON: process.env.PYTHON };
    Object.assign(process.env, { PATH: '/nonexistent', PYTHON: '/nonexistent/python3' });
    delete process.env.SPARK_HOME;
    try {
      const none = await cli('transform', '-c', PIPELINE, '--lake', lake, '--engine', 'spark');
      expect(none.code).toBe(2);
      expect(none.stderr.trim().split('\n')).toHaveLength(1);
      expect(none.stderr).toMatch(/no Spark to run the transform on: set SPARK_HOME or put spark-submit on PATH/);
      expect(none.stdout).toBe('');
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
