/**
 * The Spark engine without Spark: how spark-submit is found, the arguments it gets, and how the
 * job's output is published (core/transform/spark-engine.ts). The output here is what Spark writes
 * (part files with .crc checksums, a text quarantine file) made by hand, so the publication can be
 * crashed at will: it must be the DuckDB engine's staged, atomic swap (a partition is never
 * missing after the next build's recovery). Real Spark runs in engines.test.ts.
 */
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TableSpec } from '../../core/config/types.ts';
import { UserError } from '../../core/errors.ts';
import { openLake } from '../../core/query/index.ts';
import { buildTables, sparkJobSpec } from '../../core/transform/index.ts';
import {
  buildTablesSpark,
  cleanupSparkJob,
  findSparkSubmit,
  folderUri,
  glueJobFiles,
  parseJobOutput,
  prepareSparkJob,
  publishSparkJob,
  SparkJobError,
  sparkSubmitArgs,
  tempArea,
} from '../../core/transform/spark-engine.ts';
import { BJORK, RADIOHEAD, duck, listFiles, play, runId, tempLake, track, writeRaw } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..', '..');

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
  partition_by: [{ name: 'dt', from: 'played_at', as: 'date' }],
};
const TABLES = { plays: PLAYS };

async function executable(path: string, script: string): Promise<string> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, script);
  await chmod(path, 0o755);
  return path;
}

describe('findSparkSubmit', () => {
  const noVenv = () => Promise.reject(new Error('must not be needed'));

  it('takes $SPARK_HOME/bin/spark-submit first, then spark-submit on PATH, then the project venv', async () => {
    const home = join(lake, 'spark-home');
    const onPath = join(lake, 'path-bin');
    await executable(join(home, 'bin', 'spark-submit'), '#!/bin/sh\n');
    await executable(join(onPath, 'spark-submit'), '#!/bin/sh\n');

    const both = await findSparkSubmit({ env: { SPARK_HOME: home, PATH: onPath }, venv: noVenv });
    expect(both).toMatchObject({ command: join(home, 'bin', 'spark-submit'), source: 'SPARK_HOME' });
    // A SPARK_HOME without a launcher does not count.
    const path = await findSparkSubmit({ env: { SPARK_HOME: join(lake, 'nothing'), PATH: `/nonexistent:${onPath}` }, venv: noVenv });
    expect(path).toMatchObject({ command: join(onPath, 'spark-submit'), source: 'PATH' });

    const venv = await findSparkSubmit({
      env: { PATH: '/nonexistent' },
      venv: async (env) => ({ bin: (n) => `/venv/bin/${n}`, sparkEnv: (e = env) => ({ ...e, SPARK_HOME: '/venv/pyspark' }) }),
    });
    expect(venv).toEqual({ command: '/venv/bin/spark-submit', env: { PATH: '/nonexistent', SPARK_HOME: '/venv/pyspark' }, source: 'project venv' });
  });

  it('says in one line that no Spark is available, and why the project venv is not', async () => {
    // The real venv path: scripts/python.mjs cannot find this Python.
    const err = await findSparkSubmit({ env: { PATH: '/nonexistent', PYTHON: '/nonexistent/python3' }, log: () => undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    const message = (err as Error).message;
    expect(message).toMatch(/^no Spark to run the transform on: set SPARK_HOME or put spark-submit on PATH; .*python3 .* is needed/);
    expect(message).not.toContain('\n');
  });
});

describe('the job spark-submit runs', () => {
  it('is the Glue job with lake_io.py and job-args.json as Glue gets them, UI off, local dirs in the lake temp area', async () => {
    await writeRaw(lake, 'recently_played', runId(1), [play('2026-11-24T10:00:00Z', track('t1', 'Idioteque', [RADIOHEAD]))]);
    const job = await prepareSparkJob({ lakeDir: lake, tables: TABLES, runId: runId(2), targetFileMb: 64 });
    try {
      expect(job.tmp).toBe(join(tempArea(lake), `spark-${runId(2)}`));
      expect(job.args).toEqual(['--lake_root', folderUri(lake), '--spec_prefix', folderUri(join(job.tmp, 'specs')), '--output_root', folderUri(join(job.tmp, 'out')), '--tables', 'plays']);
      expect(folderUri('/a b/lake/')).toBe('file:///a b/lake/');
      // The specs are the deployment's, with the build's file size where the table has none.
      expect(JSON.parse(await readFile(join(job.tmp, 'specs', 'plays.json'), 'utf8'))).toEqual({ ...sparkJobSpec('plays', PLAYS), target_file_mb: 64 });
      // Every argument the engine passes is one the job declares (job-args.json, read by lake_io.py).
      const declared = JSON.parse(await readFile(join(ROOT, 'glue-jobs', 'job-args.json'), 'utf8')) as { required: string[]; optional: string[] };
      const names = job.args.filter((a) => a.startsWith('--')).map((a) => a.slice(2));
      expect(names.filter((n) => ![...declared.required, ...declared.optional].includes(n))).toEqual([]);

      const files = glueJobFiles(ROOT);
      const args = sparkSubmitArgs({ master: 'local[*]', tmp: job.tmp, script: files.script, pyFiles: files.pyFiles, args: job.args });
      const conf = (k: string) => args.find((a) => a.startsWith(`${k}=`))?.slice(k.length + 1);
      expect(args.slice(0, 2)).toEqual(['--master', 'local[*]']);
      expect(conf('spark.ui.enabled')).toBe('false');
      expect(conf('spark.local.dir')).toBe(join(job.tmp, 'local'));
      expect(args[args.indexOf('--driver-java-options') + 1]).toBe(`-Djava.io.tmpdir=${join(job.tmp, 'local')}`);
      expect(args[args.indexOf('--py-files') + 1]).toBe(`${join(ROOT, 'glue-jobs', 'lake_io.py')},${join(ROOT, 'glue-jobs', 'job-args.json')}`);
      expect(args.slice(args.indexOf(files.script))).toEqual([files.script, ...job.args]);
      // A cluster's executors have their own local dirs: those are left to it.
      const cluster = sparkSubmitArgs({ master: 'spark://host:7077', tmp: job.tmp, script: files.script, pyFiles: files.pyFiles, args: job.args });
      expect(cluster.some((a) => a.startsWith('spark.local.dir='))).toBe(false);
    } finally {
      await cleanupSparkJob(job);
    }
    expect(await readdir(lake)).not.toContain('_tmp');
  });

  it('reads the job result line at the end of its output', () => {
    expect(parseJobOutput('plays: 2 row(s) written\n{"run_id": null, "tables": [{"table": "plays", "rows": 2, "quarantined": 0}]}\n')).toEqual([{ table: 'plays', rows: 2, quarantined: 0 }]);
    expect(parseJobOutput('{not json\n')).toBeUndefined();
  });
});

/** Spark's output for plays as a Spark job leaves it: part files with checksums, a marker, a text quarantine file. */
async function sparkOutput(out: string, days: Record<string, Array<[string, string]>>, quarantine: object[]) {
  for (const [day, rows] of Object.entries(days)) {
    const dir = join(out, 'curated', 'plays', `dt=${day}`);
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'part-00000-0b1c.c000.zstd.parquet');
    const values = rows.map(([at, id]) => `(TIMESTAMP '${at}', '${id}')`).join(', ');
    await duck(`COPY (SELECT * FROM (VALUES ${values}) v(played_at, track_id)) TO '${file}' (FORMAT parquet)`);
    await writeFile(join(dir, '.part-00000-0b1c.c000.zstd.parquet.crc'), 'crc');
  }
  await writeFile(join(out, 'curated', 'plays', '_SUCCESS'), '');
  const q = join(out, 'quarantine', 'plays');
  await mkdir(q, { recursive: true });
  await writeFile(join(q, 'part-00000-9f9f-c000.txt.gz'), gzipSync(quarantine.map((r) => JSON.stringify(r) + '\n').join('')));
  await writeFile(join(q, '.part-00000-9f9f-c000.txt.gz.crc'), 'crc');
}

async function tableRows() {
  const db = await openLake(lake, TABLES);
  try {
    return (await db.query('SELECT dt, track_id FROM plays ORDER BY dt, track_id')).rows.map((r) => `${String(r.dt)} ${String(r.track_id)}`);
  } finally {
    db.close();
  }
}

describe('publishing what Spark wrote', () => {
  /** A lake whose plays the DuckDB engine built: 11-23 (t1) and 11-24 (t2). */
  async function builtByDuckdb() {
    const raw = await writeRaw(lake, 'recently_played', runId(10), [
      play('2026-11-23T10:00:00Z', track('t1', 'Idioteque', [RADIOHEAD])),
      play('2026-11-24T10:00:00Z', track('t2', 'Hyperballad', [BJORK])),
    ]);
    await buildTables({ lakeDir: lake, tables: TABLES, files: [raw], runId: runId(11) });
    expect(await tableRows()).toEqual(['2026-11-23 t1', '2026-11-24 t2']);
  }
  const Q = { table: 'plays', reasons: ['played_at: cannot read x as timestamp'], file: 'raw/recently_played/dt=2026-11-24/f.jsonl.gz', line: 3, source_run_id: runId(10), record: { played_at: 'x' } };

  it('swaps the partitions in as the DuckDB engine does: new ones in, absent ones out, Spark files and temp folders gone', async () => {
    await builtByDuckdb();
    const job = await prepareSparkJob({ lakeDir: lake, tables: TABLES, runId: runId(12) });
    await sparkOutput(job.output, { '2026-11-24': [['2026-11-24 10:00:00', 't2'], ['2026-11-24 18:00:00', 't3']], '2026-11-25': [['2026-11-25 08:00:00', 't1']] }, [Q]);
    const [result] = await publishSparkJob(job, [{ table: 'plays', rows: 3, quarantined: 1, seconds: 1.5 }]);
    await cleanupSparkJob(job);

    expect(result).toMatchObject({ table: 'plays', rows: 3, files: 2, partitions: 2, quarantined: 1, drift: [] });
    expect(result.bytes).toBeGreaterThan(0);
    expect(result.seconds).toBeGreaterThanOrEqual(1.5);
    // 11-23 had no rows in the new build: gone, as on DuckDB.
    expect(await tableRows()).toEqual(['2026-11-24 t2', '2026-11-24 t3', '2026-11-25 t1']);
    expect(await listFiles(join(lake, 'curated'))).toEqual(['plays/dt=2026-11-24/part-00000-0b1c.c000.zstd.parquet', 'plays/dt=2026-11-25/part-00000-0b1c.c000.zstd.parquet']);
    // The quarantine file is named as the DuckDB engine names its own.
    expect(await listFiles(join(lake, 'quarantine'))).toEqual([`plays/part-${runId(12)}-0.jsonl.gz`]);
    expect(await readdir(lake)).not.toContain('_tmp');
  });

  it('a crash in the publish leaves the whole old table until the next build, which recovers first', async () => {
    await builtByDuckdb();
    const job = await prepareSparkJob({ lakeDir: lake, tables: TABLES, runId: runId(12) });
    await sparkOutput(job.output, { '2026-11-24': [['2026-11-24 18:00:00', 't3']] }, []);
    const crash = {
      step: (step: string, table: string) => {
        if (step === 'linked' && table === 'curated/plays') throw new Error('simulated crash');
      },
    };
    await expect(publishSparkJob(job, [{ table: 'plays', rows: 1, quarantined: 0 }], crash)).rejects.toThrow('simulated crash');
    await cleanupSparkJob(job);
    // Never a partition missing: the old table, whole.
    expect(await tableRows()).toEqual(['2026-11-23 t1', '2026-11-24 t2']);

    // The next Spark build recovers before anything else (the unlinked build goes), then publishes.
    const next = await prepareSparkJob({ lakeDir: lake, tables: TABLES, runId: runId(13) });
    expect(await readdir(join(lake, 'curated', '_builds', 'plays'))).toEqual([runId(11)]);
    expect(await tableRows()).toEqual(['2026-11-23 t1', '2026-11-24 t2']);
    await sparkOutput(next.output, { '2026-11-24': [['2026-11-24 18:00:00', 't3']] }, []);
    await publishSparkJob(next, [{ table: 'plays', rows: 1, quarantined: 0 }]);
    await cleanupSparkJob(next);
    expect(await tableRows()).toEqual(['2026-11-24 t3']);
    expect(await readdir(join(lake, 'curated'))).toEqual(['_builds', 'plays']);
  });

  it('a failed Spark job changes nothing in the lake and says what the job said', async () => {
    await builtByDuckdb();
    const before = await listFiles(join(lake, 'curated'));
    const fake = await executable(
      join(lake, 'fake-bin', 'spark-submit'),
      '#!/bin/sh\necho "Traceback (most recent call last):" >&2\necho "lake_io.JobError: _runs/x.json: not a run manifest (needs run_id and streams)" >&2\nexit 1\n',
    );
    const err = await buildTablesSpark({ lakeDir: lake, tables: TABLES, runId: runId(12), sparkSubmit: { command: fake, env: process.env, source: 'PATH' } }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('the Spark job failed: _runs/x.json: not a run manifest (needs run_id and streams)');
    expect(await listFiles(join(lake, 'curated'))).toEqual(before);
    expect(await readdir(lake)).not.toContain('_tmp');
  });

  it("a job that died of Spark's error says which, not the JVM's stack trace", () => {
    const stderr = [
      '26/12/04 20:14:30 WARN Utils: Your hostname resolves to a loopback address',
      'Traceback (most recent call last):',
      '  File "/x/transform_job.py", line 200, in <module>',
      '    main()',
      'pyspark.errors.exceptions.captured.SparkUpgradeException: [INCONSISTENT_BEHAVIOR_CROSS_VERSION.WRITE_ANCIENT_DATETIME] You may get a different result',
      'JVM stacktrace:',
      '\tat org.apache.spark.sql.errors.QueryExecutionErrors$.sparkUpgradeInWritingDatesError(QueryExecutionErrors.scala:760)',
    ].join('\n');
    expect(new SparkJobError(1, null, '', stderr).message).toBe(
      'spark-submit exited with 1: pyspark.errors.exceptions.captured.SparkUpgradeException: [INCONSISTENT_BEHAVIOR_CROSS_VERSION.WRITE_ANCIENT_DATETIME] You may get a different result',
    );
    // No Python traceback (the JVM did not start, say): the log's end.
    expect(new SparkJobError(127, null, '', 'line 1\nJAVA_HOME is not set\n').message).toBe('spark-submit exited with 127: \nline 1\nJAVA_HOME is not set');
  });

  it('a job that reports rows it did not write publishes nothing', async () => {
    await builtByDuckdb();
    const job = await prepareSparkJob({ lakeDir: lake, tables: TABLES, runId: runId(12) });
    await expect(publishSparkJob(job, [{ table: 'plays', rows: 4, quarantined: 0 }])).rejects.toThrow(/reported 4 row\(s\) of plays but wrote no/);
    await expect(publishSparkJob(job, [])).rejects.toThrow('the Spark job reported no result for table plays');
    await cleanupSparkJob(job);
    expect(await tableRows()).toEqual(['2026-11-23 t1', '2026-11-24 t2']);
  });
});
