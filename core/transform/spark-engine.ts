/**
 * The Spark engine of `transform --engine spark`: the tables built by the Glue job's own code
 * (glue-jobs/transform_job.py with lake_io.py and job-args.json, handed over as Glue hands them)
 * through spark-submit, on local Spark (`local[*]`) or a cluster of the user's (`--master`), from
 * the same job specs the deployment uploads (jobspec.ts).
 *
 * The job reads the lake in place (`--lake_root file://...`) but writes into a temp folder
 * (`--output_root`); the outputs are then published exactly as the DuckDB engine publishes its
 * own (write.ts): staged, then swapped in partition by partition, the quarantine as a whole, so a
 * crash at any point never leaves a partition missing and a failed Spark job changes nothing.
 * Like the DuckDB engine, a build is a full rebuild: every committed raw file, every partition.
 *
 * The steps are separate (prepareSparkJob, sparkSubmitArgs, publishSparkJob) so the engine
 * equivalence test can run many lakes' jobs in one Spark session and publish each like this does.
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TableSpec } from '../config/types.ts';
import { UserError } from '../errors.ts';
import { projectRoot } from '../root.ts';
import type { TableResult } from './index.ts';
import { sparkJobSpec } from './jobspec.ts';
import { planTable } from './plan.ts';
import { forgetBuildState } from './incremental.ts';
import { type SwapHooks, listPartitions, parquetStats, quarantineDirs, recoverTable, swapIn, tableDirs } from './write.ts';

/** Where the spark-submit in use came from (the order findSparkSubmit tries). */
export type SparkSubmitSource = 'SPARK_HOME' | 'PATH' | 'project venv';

export interface SparkSubmit {
  command: string;
  /** The environment to run it with (the venv's adds SPARK_HOME and PYSPARK_PYTHON). */
  env: NodeJS.ProcessEnv;
  source: SparkSubmitSource;
}

/** The project's Python (scripts/python.mjs), as much of it as the engine uses. */
interface ProjectPython {
  bin(name: string): string;
  sparkEnv(env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
}

const isFile = (p: string) => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

/**
 * spark-submit: $SPARK_HOME/bin/spark-submit, else the first on PATH, else the project's venv
 * (pyspark, created on first use by scripts/python.mjs). A UserError in one line when none can be.
 */
export async function findSparkSubmit(
  opts: { env?: NodeJS.ProcessEnv; venv?: (env: NodeJS.ProcessEnv, log: (line: string) => void) => Promise<ProjectPython>; log?: (line: string) => void } = {},
): Promise<SparkSubmit> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (env.SPARK_HOME) {
    const command = join(env.SPARK_HOME, 'bin', 'spark-submit');
    if (isFile(command)) return { command, env, source: 'SPARK_HOME' };
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isFile(join(dir, 'spark-submit'))) return { command: join(dir, 'spark-submit'), env, source: 'PATH' };
  }
  let python: ProjectPython;
  try {
    python = await (opts.venv ?? projectVenv)(env, log);
  } catch (e) {
    const reason = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    throw new UserError(`no Spark to run the transform on: set SPARK_HOME or put spark-submit on PATH; the project's own (pyspark in .venv) is not available: ${reason}`);
  }
  return { command: python.bin('spark-submit'), env: python.sparkEnv(env), source: 'project venv' };
}

/**
 * scripts/python.mjs, loaded from the project root at run time: it finds its venv relative to its
 * own file, which bundling it into dist/ would break.
 */
async function projectVenv(env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<ProjectPython> {
  const mod = (await import(pathToFileURL(join(projectRoot(), 'scripts', 'python.mjs')).href)) as {
    ensurePython(o: { env: NodeJS.ProcessEnv; log: (line: string) => void }): ProjectPython;
  };
  return mod.ensurePython({ env, log });
}

/** The Glue job's files, as the deployment uploads them. */
export function glueJobFiles(root = projectRoot()) {
  const dir = join(root, 'glue-jobs');
  return { script: join(dir, 'transform_job.py'), pyFiles: [join(dir, 'lake_io.py'), join(dir, 'job-args.json')] };
}

/** A file:// URI of a local folder as Hadoop takes it: the path as is (not percent-encoded), ending in /. */
export function folderUri(dir: string): string {
  return `file://${resolve(dir).replace(/\/+$/, '')}/`;
}

export interface SparkJobOptions {
  lakeDir: string;
  tables: Record<string, TableSpec>;
  /** This build's id: names the staging, trash and temp folders and the published files. */
  runId: string;
  /** Build only these tables (default: all). */
  only?: string[];
  /** Split partitions into files near this size (MB); a table's `target_file_mb` wins (as on DuckDB). */
  targetFileMb?: number;
}

/** A prepared build: its temp folder (specs, Spark's output and local dirs) and the job's arguments. */
export interface SparkJob {
  lakeDir: string;
  runId: string;
  tables: string[];
  partitionNames: Record<string, string[]>;
  /** <lake>/_tmp/spark-<run id>: removed by cleanupSparkJob. */
  tmp: string;
  /** Spark's output root (curated/<table>/, quarantine/<table>/ below it). */
  output: string;
  /** transform_job.py's arguments. */
  args: string[];
}

/** The lake's temp area: per build a folder, deleted afterwards (and at the next build if it crashed). */
export const tempArea = (lakeDir: string) => join(lakeDir, '_tmp');

/**
 * Validates the tables, repairs a crashed earlier build (recoverTable, as DuckDB's does), writes
 * the job specs into the build's temp folder and returns the job's arguments.
 */
export async function prepareSparkJob(opts: SparkJobOptions): Promise<SparkJob> {
  const { lakeDir, tables, runId } = opts;
  const names = opts.only ?? Object.keys(tables);
  const unknown = names.filter((n) => !(n in tables));
  if (unknown.length) throw new Error(`unknown table(s) ${unknown.join(', ')} (known: ${Object.keys(tables).join(', ')})`);
  // Every table is compiled before anything is touched: a typo in one must not half-build the others.
  const specs = names.map((n) => {
    const spec = sparkJobSpec(n, tables[n]);
    // The table's own size wins over the build's, as in the DuckDB engine (the job's argument
    // would win over the spec's).
    if (spec.target_file_mb === undefined && opts.targetFileMb !== undefined) spec.target_file_mb = opts.targetFileMb;
    return spec;
  });
  const partitionNames = Object.fromEntries(names.map((n) => [n, planTable(n, tables[n]).partitions.map((p) => p.name)]));

  // Temp folders of builds that died are never read: clear them with the other leftovers.
  for (const e of await readdir(tempArea(lakeDir), { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory() && e.name.startsWith('spark-')) await rm(join(tempArea(lakeDir), e.name), { recursive: true, force: true });
  }
  for (const n of names) {
    await recoverTable(tableDirs(lakeDir, n));
    await recoverTable(quarantineDirs(lakeDir, n));
  }
  const tmp = join(tempArea(lakeDir), `spark-${runId}`);
  const specDir = join(tmp, 'specs');
  await mkdir(specDir, { recursive: true });
  await mkdir(join(tmp, 'local'), { recursive: true });
  for (const spec of specs) await writeFile(join(specDir, `${spec.table}.json`), JSON.stringify(spec, null, 2) + '\n');
  const output = join(tmp, 'out');
  return {
    lakeDir,
    runId,
    tables: names,
    partitionNames,
    tmp,
    output,
    args: ['--lake_root', folderUri(lakeDir), '--spec_prefix', folderUri(specDir), '--output_root', folderUri(output), '--tables', names.join(',')],
  };
}

/** `local`, `local[4]`, `local[*]`, `local[2,3]`: Spark inside the one JVM spark-submit starts. */
export const isLocalMaster = (master: string) => /^local(\[[^\]]*\])?$/.test(master);

/**
 * spark-submit's arguments for the job: UI and console progress off, warnings only, Spark's local
 * dirs and the JVM's temp files under the build's temp folder. Local Spark gets few shuffle
 * partitions (200, the default, is thousands of tiny tasks for a laptop's lake).
 */
export function sparkSubmitArgs(opts: {
  master: string;
  tmp: string;
  script: string;
  pyFiles: string[];
  args: string[];
  javaOptions?: string[];
  /** More Spark settings, over these. */
  conf?: Record<string, string>;
}): string[] {
  const local = isLocalMaster(opts.master);
  const conf: Record<string, string> = {
    'spark.ui.enabled': 'false',
    'spark.ui.showConsoleProgress': 'false',
    'spark.log.level': 'WARN',
    // Spark's marker files are not table data (a _SUCCESS at a table's root would look like a
    // layout change to the swap).
    'spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs': 'false',
    ...(local && { 'spark.local.dir': join(opts.tmp, 'local'), 'spark.sql.shuffle.partitions': String(Math.max(4, 2 * cpus().length)) }),
    ...opts.conf,
  };
  const javaOptions = [`-Djava.io.tmpdir=${join(opts.tmp, 'local')}`, ...(opts.javaOptions ?? [])];
  return [
    '--master',
    opts.master,
    '--name',
    'spotify-pipeline-transform',
    ...Object.entries(conf).flatMap(([k, v]) => ['--conf', `${k}=${v}`]),
    '--driver-java-options',
    javaOptions.join(' '),
    '--py-files',
    opts.pyFiles.join(','),
    opts.script,
    ...opts.args,
  ];
}

/** What the job reports per table (its last output line). */
export interface SparkTableOutput {
  table: string;
  rows: number;
  quarantined: number;
  seconds?: number;
}

/** The job's result line: the last stdout line that is its JSON summary. */
export function parseJobOutput(stdout: string): SparkTableOutput[] | undefined {
  for (const line of stdout.trim().split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    try {
      const doc = JSON.parse(line) as { tables?: SparkTableOutput[] };
      if (Array.isArray(doc.tables)) return doc.tables;
    } catch {
      // a log line that happens to start with {
    }
  }
  return undefined;
}

/** Spark's checksum files and markers: not data, and in the swap's way. */
async function removeSparkFiles(dir: string): Promise<void> {
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (e.isFile() && (e.name.endsWith('.crc') || e.name === '_SUCCESS')) await rm(join(e.parentPath, e.name), { force: true });
  }
}

/**
 * Publishes what the job wrote, table by table, as the DuckDB engine does: the quarantine first
 * (one gzip JSON Lines file, renamed like DuckDB's), then the partitions, each staged and swapped
 * in (write.ts). A table without rows publishes nothing, so its old partitions go.
 */
export async function publishSparkJob(job: SparkJob, outputs: SparkTableOutput[], hooks?: SwapHooks): Promise<TableResult[]> {
  const byTable = new Map(outputs.map((o) => [o.table, o]));
  const results: TableResult[] = [];
  for (const table of job.tables) {
    const started = performance.now();
    const out = byTable.get(table);
    if (!out) throw new Error(`the Spark job reported no result for table ${table}`);

    const qdirs = quarantineDirs(job.lakeDir, table);
    const qstaged = join(qdirs.staging, job.runId);
    const qout = join(job.output, 'quarantine', table);
    if (out.quarantined > 0) {
      const parts = (await readdir(qout)).filter((f) => f.startsWith('part-') && f.endsWith('.gz')).sort();
      await mkdir(qstaged, { recursive: true });
      for (const [i, f] of parts.entries()) await rename(join(qout, f), join(qstaged, `part-${job.runId}-${i}.jsonl.gz`));
    }
    // The DuckDB engine's build state describes a build this one replaces: the next DuckDB build is a full one.
    await forgetBuildState(job.lakeDir, table);
    await swapIn({ dirs: qdirs, runId: job.runId, staged: qstaged });

    const dirs = tableDirs(job.lakeDir, table);
    const staged = join(dirs.staging, job.runId);
    const tout = join(job.output, 'curated', table);
    await mkdir(dirs.staging, { recursive: true });
    if (out.rows > 0 && !existsSync(tout)) throw new Error(`the Spark job reported ${out.rows} row(s) of ${table} but wrote no ${tout}`);
    // No rows: publish nothing (Spark writes an empty file for an unpartitioned table).
    if (out.rows > 0) {
      await removeSparkFiles(tout);
      await rename(tout, staged);
    }
    const names = job.partitionNames[table];
    const stats = await parquetStats(staged);
    const written = existsSync(staged) && names.length ? ((await listPartitions(staged, names)) ?? []) : [];
    await swapIn({ dirs, runId: job.runId, staged, hooks });
    results.push({
      table,
      rows: out.rows,
      files: stats.files,
      bytes: stats.bytes,
      partitions: written.length,
      quarantined: out.quarantined,
      // The Spark engine does not check for schema drift (the DuckDB engine's advice).
      drift: [],
      seconds: Math.round((out.seconds ?? 0) * 1000 + (performance.now() - started)) / 1000,
    });
  }
  return results;
}

export async function cleanupSparkJob(job: SparkJob): Promise<void> {
  await rm(job.tmp, { recursive: true, force: true });
  // The temp area itself goes when no other build uses it.
  await rmdir(tempArea(job.lakeDir)).catch(() => undefined);
}

/** Runs a command, keeping stdout and the tail of stderr; rejects on a non-zero exit. */
export function runSpark(command: string, args: string[], opts: { env: NodeJS.ProcessEnv; cwd: string }): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    // Spark's log can be long: the end says what went wrong.
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-64 * 1024)));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) return resolvePromise({ stdout, stderr });
      reject(new SparkJobError(code, signal, stdout, stderr));
    });
  });
}

/** spark-submit failed: the job's own error (a JobError's message) when there is one, else the log's end. */
export class SparkJobError extends Error {
  constructor(
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    const jobError = /(?:^|\n)(?:lake_io\.)?JobError: ([^\n]+)/.exec(stderr);
    super(jobError ? `the Spark job failed: ${jobError[1]}` : `spark-submit exited with ${code ?? signal}: ${SparkJobError.reason(stderr)}`);
    this.name = 'SparkJobError';
  }

  /**
   * The Python exception the driver died of (the line after its last traceback's frames; Spark's
   * own errors arrive as one, with the JVM's stack trace after it), else the log's last lines.
   */
  static reason(stderr: string): string {
    const lines = stderr.split('\n');
    const at = lines.lastIndexOf('Traceback (most recent call last):');
    const exception = at < 0 ? undefined : lines.slice(at + 1).find((l) => l.trim() && !/^\s/.test(l));
    if (exception) return exception.length > 1000 ? `${exception.slice(0, 1000)}…` : exception;
    return `\n${lines.slice(-25).join('\n').trim()}`;
  }
}

export interface SparkBuildOptions extends SparkJobOptions {
  /** Spark master URL (default `local[*]`). */
  master?: string;
  /** The spark-submit to use (default: findSparkSubmit()). */
  sparkSubmit?: SparkSubmit;
  hooks?: SwapHooks;
  /** Extra JVM options of the driver (tests use a quick-starting JIT). */
  javaOptions?: string[];
}

/** Builds the tables on Spark: prepare, spark-submit transform_job.py, publish, clean up. */
export async function buildTablesSpark(opts: SparkBuildOptions): Promise<TableResult[]> {
  const submit = opts.sparkSubmit ?? (await findSparkSubmit());
  const job = await prepareSparkJob(opts);
  try {
    const files = glueJobFiles();
    const work = join(job.tmp, 'work');
    await mkdir(work, { recursive: true });
    const args = sparkSubmitArgs({ master: opts.master ?? 'local[*]', tmp: job.tmp, script: files.script, pyFiles: files.pyFiles, args: job.args, javaOptions: opts.javaOptions });
    const { stdout } = await runSpark(submit.command, args, { env: submit.env, cwd: work });
    const outputs = parseJobOutput(stdout);
    if (!outputs) throw new Error(`the Spark job printed no result line; its output ended with:\n${stdout.trim().split('\n').slice(-10).join('\n')}`);
    return await publishSparkJob(job, outputs, opts.hooks);
  } finally {
    await cleanupSparkJob(job);
  }
}
