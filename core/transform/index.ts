/**
 * Builds curated Parquet tables from committed raw data with DuckDB.
 *
 * Every call rebuilds each table from all committed raw files of its streams: the table is a
 * pure function of raw, so reruns are idempotent and late or re-delivered records land where
 * they belong (an old play goes to its old date partition). Local lakes are small enough for this
 * (a million plays take seconds: `npm run bench`); the Glue job does the same at Spark scale.
 * Per table: a full build of a table the streamed statement covers (compile.ts,
 * renderDuckdbStreamed) first runs read, checks, dedupe and the partitioned write as one COPY, and
 * takes the judged path below when the data has a row to quarantine. The judged path runs the JSON
 * work once into a temp relation that the quarantine output and the rows both read. Either way
 * the quarantine output and then the partitions are staged and swapped in atomically; files are
 * evened out around the target size; schema drift of the newest run is reported in the result.
 */
import { link, mkdir, readFile, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { existsSync, linkSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import type { DuckDBConnection, DuckDBListValue } from '@duckdb/node-api';
import { openDuckdb } from '../query/sandbox.ts';
import type { TableSpec } from '../config/types.ts';
import { type BuildSql, renderDuckdbBuild, renderDuckdbStreamed } from './compile.ts';
import { duckdb, ident, literal } from './dialects/duckdb.ts';
import { partitionValue } from './render.ts';
import { type DriftFile, declaredGaps, shapeDrift } from './drift.ts';
import { type TablePlan, planTable } from './plan.ts';
import { type SwapHooks, type TableDirs, listPartitions, parquetStats, quarantineDirs, recoverTable, swapIn, tableDirs } from './write.ts';
import { IntegrityError, checkFile, verifyFiles, type FileProblem } from '../engine/integrity.ts';
import { rawKeyProblem } from '../engine/manifest.ts';
import { crashPoint } from '../crash.ts';
import { BUILD_STATE_FORMAT, type Decision, type StateFigures, type StateInput, decide, dedupeStaysInPartition, fingerprint, readBuildState, writeBuildState } from './incremental.ts';
import type { ProgressListener } from '../progress.ts';

export { compileTable, renderDuckdb, type CompiledTable } from './compile.ts';
export { renderSpark, RAW_VIEW, type SparkTable } from './spark.ts';
export { renderTable, type RenderedTable, type RenderTarget } from './render.ts';
export { type SqlDialect } from './dialects/dialect.ts';
export { duckdb } from './dialects/duckdb.ts';
export { spark } from './dialects/spark.ts';
export { COLUMN_TYPES, COLUMN_TYPE_INFO, typeInfo, type ColumnType, type ColumnTypeInfo } from './types.ts';
export { sparkJobSpec, type SparkJobSpec } from './jobspec.ts';
export { catalogTable, projectionParameters, PARQUET_FORMAT, type CatalogColumn, type CatalogTable } from './catalog.ts';
export { athenaDdl } from './athena.ts';
export { rowJsonSchema, tableDoc } from './docs.ts';
export {
  planTable,
  TableSpecError,
  type TablePlan,
  type ColumnPlan,
  type SourcePlan,
  type PartitionPlan,
  type TransformColumnSpec,
  type TransformTableSpec,
} from './plan.ts';
export { parsePath, type JsonPath, type PathSegment } from './paths.ts';
export { recoverTable, swapIn, tableDirs, quarantineDirs, currentBuild, INTERNAL_FOLDERS, type SwapHooks } from './write.ts';

/** A raw file listed in a committed run manifest. */
export interface CommittedFile {
  stream: string;
  /** Lake-relative key: raw/<stream>/dt=<ingest date>/<run id>-<part>.jsonl.gz */
  key: string;
  runId: string;
  records: number;
  /** Stored bytes, as the manifest recorded them (checked before the build). */
  bytes?: number;
  /** SHA-256 of the stored bytes (manifest format 2; checked before the build). */
  sha256?: string;
}

export interface TableResult {
  table: string;
  rows: number;
  /** Parquet files written. */
  files: number;
  bytes: number;
  /** Hive partition folders written (0 for an unpartitioned table). */
  partitions: number;
  quarantined: number;
  /**
   * How the raw records became `rows` (the DuckDB build; absent from Spark's): the raw records
   * read, the rows they gave (one per record, or per array element where the table unnests;
   * fewer where latest_per drops superseded reads), and those the table's filter and its dedupe
   * dropped. inputRows = quarantined + filtered + duplicates + rows.
   */
  records?: number;
  inputRows?: number;
  filtered?: number;
  duplicates?: number;
  /**
   * Schema drift seen in the raw data (new undeclared fields, changed JSON types, declared paths
   * absent from the newest run), one line each. Reported only: the build is unaffected.
   */
  drift: string[];
  seconds: number;
  /**
   * How the table was built (incremental.ts): `full` (with the reason when an incremental build
   * was not possible), `incremental` (with the partitions rewritten), or `skipped` (nothing new).
   */
  build?: { mode: 'full' | 'incremental' | 'skipped'; reason?: string; rewritten?: number };
  /** Seconds per phase of the build (judge, quarantine, copy, rebalance, carry, publish, drift, ...): where the time went. */
  phases?: Record<string, number>;
}

/** Seconds per named phase, each lap ending the one before. */
function stopwatch() {
  let t = performance.now();
  const phases: Record<string, number> = {};
  const lap: Lap = (name) => {
    const now = performance.now();
    phases[name] = Math.round((phases[name] ?? 0) * 1000 + (now - t)) / 1000;
    t = now;
  };
  return { phases, lap };
}
type Lap = (name: string) => void;

/** Default target size of a Parquet file: each partition gets size/target (rounded, at least 1) files. */
export const DEFAULT_TARGET_FILE_MB = 128;

export interface BuildOptions {
  lakeDir: string;
  tables: Record<string, TableSpec>;
  files: CommittedFile[];
  /** This build's run id: names the written files and the quarantine folder. */
  runId: string;
  /** Build only these tables (default: all). */
  only?: string[];
  /** Test seam for crash simulation during the publish (write.ts). */
  hooks?: SwapHooks;
  /** Split partitions into Parquet files near this size (MB); a table's `target_file_mb` wins. */
  targetFileMb?: number;
  /** Check the raw data for schema drift (default true). */
  drift?: boolean;
  /** Told when each table's build starts and ends, for live progress. */
  progress?: ProgressListener;
  /**
   * Per stream, the committed runs that read it completely (core/engine/manifest.ts
   * `completeReads`): a table with `parents` keeps only the parents of the newest one. Without
   * it, such a table drops no parent.
   */
  completeReads?: Record<string, string[]>;
  /**
   * Per stream: record paths its connector leaves out by design in the pipeline's API mode
   * (core/engine/absences.ts). A declared column reading one is not reported as drift.
   */
  expectedAbsent?: Record<string, string[]>;
  /** DuckDB's memory limit (MB) for the build; beyond it, work spills to the lake's _tmp folder. */
  memoryLimitMb?: number;
  /** Rebuild every selected table from all its raw files (no skip, no incremental build). */
  full?: boolean;
  /** Internal: the verification of the files this build reads, running (see buildTables). */
  verified?: Promise<void>;
  /**
   * Try a full build as one streamed statement first (renderDuckdbStreamed), taking the judged
   * path when it does not cover the table or the data has a row to quarantine (default true;
   * false: the judged path only, which tests compare the streamed one with).
   */
  streamed?: boolean;
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** DuckDB's memory for a build (MB): BuildOptions, else SPOTIFY_PIPELINE_MEMORY_MB, else 768 (a 10M-play build then peaks near 1 GB of RSS). */
export const DEFAULT_MEMORY_LIMIT_MB = 768;
function memoryLimitMb(opts: BuildOptions): number {
  const env = Number(process.env.SPOTIFY_PIPELINE_MEMORY_MB);
  const mb = opts.memoryLimitMb ?? (Number.isInteger(env) && env > 0 ? env : DEFAULT_MEMORY_LIMIT_MB);
  if (!Number.isInteger(mb) || mb < 128) throw new Error(`memory limit ${mb} MB: expected a whole number of MB, at least 128`);
  return mb;
}

export async function buildTables(opts: BuildOptions): Promise<TableResult[]> {
  const { tables, runId } = opts;
  if (!RUN_ID.test(runId)) throw new Error(`invalid run id "${runId}"`);
  const names = opts.only ?? Object.keys(tables);
  const unknown = names.filter((n) => !(n in tables));
  if (unknown.length) throw new Error(`unknown table(s) ${unknown.join(', ')} (known: ${Object.keys(tables).join(', ')})`);
  // Validate every selected table before touching the lake: a typo in one must not leave the
  // others half rebuilt.
  const plans = names.map((n) => planTable(n, tables[n]));
  // What each table has to do since its last build (incremental.ts).
  const decisions = new Map<string, Decision>();
  for (const plan of plans) {
    decisions.set(plan.table, await decide(opts.lakeDir, plan, tableInputs(plan, opts.files), tableFingerprint(plan, opts), !!opts.full, parentReads(plan, opts)));
  }
  // Every raw file the build reads must be what its manifest says, or nothing is built. A file it
  // does not read again (built before, unchanged) must still be there at its recorded size, and is
  // hashed again when its modification time is not the one recorded when it was last read.
  const read = new Set<CommittedFile>();
  const kept = new Map<CommittedFile, number | undefined>();
  for (const plan of plans) {
    const d = decisions.get(plan.table) as Decision;
    const streams = planStreams(plan);
    const added = d.mode === 'incremental' ? new Set(d.added.map((f) => f.key)) : undefined;
    const seen = d.mode === 'full' ? undefined : new Map(d.state.inputs.map((f) => [f.key, f.mtimeMs]));
    for (const f of opts.files) {
      if (!streams.includes(f.stream)) continue;
      if (d.mode === 'full' || added?.has(f.key)) read.add(f);
      else kept.set(f, kept.has(f) && kept.get(f) !== seen?.get(f.key) ? undefined : seen?.get(f.key));
    }
  }
  for (const f of await touchedSince(opts.lakeDir, [...kept].filter(([f]) => !read.has(f)))) read.add(f);
  // Hashing runs while DuckDB reads the same files into its temp tables; each table waits for it
  // before it writes anything to the lake (judge below), so a bad file still changes nothing.
  const verified = verifyCommitted(opts.lakeDir, [...read]);
  verified.catch(() => undefined); // awaited by every table before it writes, and below

  // The build runs the table's SQL (with the `sql:` columns and `filter` of pipeline.yaml) in a
  // sandboxed DuckDB (core/query/sandbox.ts) that can reach exactly the lake folders a build
  // needs: raw/ (read), curated/ and quarantine/ (staged, swapped, rebalanced), and a spill folder
  // of its own in the lake's temp area. No other file, no network, settings locked. Opened only
  // when a table has something to build.
  const tempDir = join(opts.lakeDir, '_tmp', `duckdb-${runId}`);
  let db: Awaited<ReturnType<typeof openDuckdb>> | undefined;
  const connection = async () => {
    // DuckDB makes its spill folder, but not the folders above it.
    await mkdir(join(opts.lakeDir, '_tmp'), { recursive: true });
    db ??= await openDuckdb({
      allow: ['raw', 'curated', 'quarantine'].map((area) => join(opts.lakeDir, area)),
      tempDir,
      settings: [
        // Strings without an offset are UTC, and TIMESTAMPTZ -> TIMESTAMP conversions are UTC.
        `SET TimeZone = 'UTC'`,
        // Bounded memory whatever the history's size: sorts, windows and the judged rows spill to
        // the temp folder above beyond this.
        `SET memory_limit = '${memoryLimitMb(opts)}MB'`,
        // A lean build numbers lines by row position (judge below): results keep the scan's order.
        'SET preserve_insertion_order = true',
      ],
    });
    return db.conn;
  };
  // A second connection for the drift sample (raw files only), which runs beside the build.
  let side: DuckDBConnection | undefined;
  const sideConnection = async () => (side ??= await (db as NonNullable<typeof db>).connect());
  try {
    const results: TableResult[] = [];
    opts.progress?.({ type: 'tables-start', tables: plans.map((p) => p.table) });
    for (const plan of plans) {
      try {
        opts.progress?.({ type: 'table-start', table: plan.table });
        const d = decisions.get(plan.table) as Decision;
        const started = performance.now();
        let r: TableResult;
        let rejected: true | undefined;
        if (d.mode === 'skip') r = { table: plan.table, ...d.state.figures, drift: [], seconds: 0, build: { mode: 'skipped' } };
        else if (d.mode === 'incremental') r = await buildIncremental(await connection(), plan, d, { ...opts, verified }, await sideConnection());
        else {
          const { streamedRejected, ...built } = await buildOne(await connection(), plan, { ...opts, verified }, await sideConnection());
          r = { ...built, build: { mode: 'full', reason: d.reason } };
          rejected = streamedRejected;
        }
        r.seconds = Math.round(performance.now() - started) / 1000;
        // A partitioned table built incrementally keeps the build it replaced as its spare.
        if (d.mode !== 'skip') {
          const spare = d.mode === 'incremental' && plan.partitions.length ? d.state.build : undefined;
          await recordBuild(opts, plan, r, { spare, streamedRejected: d.mode === 'incremental' ? d.state.streamedRejected : rejected });
        }
        results.push(r);
        opts.progress?.({ type: 'table-end', table: plan.table, rows: r.rows });
      } catch (e) {
        throw new Error(`building table ${plan.table}: ${(e as Error).message}`, { cause: e });
      }
    }
    await verified;
    opts.progress?.({ type: 'tables-end' });
    return results;
  } finally {
    db?.close();
    await rm(tempDir, { recursive: true, force: true });
    await rmdir(join(opts.lakeDir, '_tmp')).catch(() => undefined); // only when empty: a Spark job may be using it
  }
}

/** The committed files a table reads, as its build state records them. */
function tableInputs(plan: TablePlan, files: CommittedFile[]): StateInput[] {
  const streams = new Set(planStreams(plan));
  return files.filter((f) => streams.has(f.stream)).map((f) => ({ key: f.key, runId: f.runId, records: f.records, bytes: f.bytes, sha256: f.sha256 }));
}

/** Everything besides the raw files that a table's build depends on. */
function tableFingerprint(plan: TablePlan, opts: BuildOptions): string {
  const streams = planStreams(plan);
  return fingerprint(plan, {
    targetFileMb: plan.targetFileMb ?? opts.targetFileMb ?? DEFAULT_TARGET_FILE_MB,
    drift: opts.drift !== false,
    expectedAbsent: streams.map((s) => opts.expectedAbsent?.[s] ?? []),
  });
}

/** A table with `parents`: the complete reads of its parent stream (they decide which parents stay). */
function parentReads(plan: TablePlan, opts: BuildOptions): string[] {
  return plan.latestParents ? [...(opts.completeReads?.[plan.latestParents.stream] ?? [])].sort() : [];
}

/** After a build is published: what it was made of, for the next build to compare with. */
async function recordBuild(
  opts: BuildOptions,
  plan: TablePlan,
  r: TableResult,
  { spare, streamedRejected }: { spare?: string; streamedRejected?: true },
): Promise<void> {
  const inputs = await Promise.all(
    tableInputs(plan, opts.files).map(async (f) => ({ ...f, mtimeMs: Math.floor((await stat(join(opts.lakeDir, f.key))).mtimeMs) })),
  );
  const figures: StateFigures = {
    rows: r.rows,
    files: r.files,
    bytes: r.bytes,
    partitions: r.partitions,
    quarantined: r.quarantined,
    records: r.records ?? 0,
    inputRows: r.inputRows ?? 0,
    filtered: r.filtered ?? 0,
    duplicates: r.duplicates ?? 0,
  };
  await writeBuildState(opts.lakeDir, {
    format: BUILD_STATE_FORMAT,
    table: plan.table,
    build: opts.runId,
    quarantine: opts.runId,
    fingerprint: tableFingerprint(plan, opts),
    newestRun: inputs.map((f) => f.runId).sort().pop() ?? '',
    ...(plan.latestParents ? { parentReads: parentReads(plan, opts) } : {}),
    ...(spare ? { spare } : {}),
    ...(streamedRejected ? { streamedRejected } : {}),
    inputs,
    figures,
  });
}

/**
 * Files built before and not read again: each must still be there at the size its manifest
 * recorded; those whose modification time is not the recorded one are returned (to be hashed).
 */
async function touchedSince(lakeDir: string, files: Array<[CommittedFile, number | undefined]>): Promise<CommittedFile[]> {
  const bad: FileProblem[] = [];
  const touched: CommittedFile[] = [];
  for (const [f, mtimeMs] of files) {
    const problem = rawKeyProblem(f.key, f.stream);
    if (problem) {
      bad.push({ file: f, problem });
      continue;
    }
    try {
      const st = await stat(join(lakeDir, f.key));
      if (f.bytes !== undefined && st.size !== f.bytes) bad.push({ file: f, problem: `${st.size} bytes, the manifest says ${f.bytes}` });
      else if (mtimeMs === undefined || Math.floor(st.mtimeMs) !== mtimeMs) touched.push(f);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      bad.push({ file: f, problem: (await checkFile(f, undefined)) as string });
    }
  }
  if (bad.length) throw new IntegrityError(bad);
  return touched;
}

/** The streams a table reads: its sources, and the stream listing its parents. */
function planStreams(plan: TablePlan): string[] {
  return [...plan.sources.map((s) => s.stream), ...(plan.latestParents ? [plan.latestParents.stream] : [])];
}

/**
 * Checks the committed files of these streams against their manifests (integrity.ts): a missing,
 * truncated, replaced or non-gzip file, or one with other than its recorded number of lines, fails
 * the build with an IntegrityError naming every such file.
 */
export async function verifyCommitted(lakeDir: string, files: CommittedFile[], streams?: Set<string>): Promise<void> {
  const mine = streams ? files.filter((f) => streams.has(f.stream)) : files;
  const bad: FileProblem[] = [];
  for (const f of mine) {
    const problem = rawKeyProblem(f.key, f.stream);
    if (problem) bad.push({ file: f, problem });
  }
  if (bad.length) throw new IntegrityError(bad);
  const problems = await verifyFiles(mine, async (key) => {
    try {
      return await readFile(join(lakeDir, key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  });
  if (problems.length) throw new IntegrityError(problems);
}

async function buildOne(
  conn: DuckDBConnection,
  plan: TablePlan,
  opts: BuildOptions,
  side: DuckDBConnection,
): Promise<TableResult & { streamedRejected?: true }> {
  const { lakeDir, files, runId } = opts;
  const started = performance.now();
  const dirs = tableDirs(lakeDir, plan.table);
  await recoverTable(dirs);
  const qdirs = quarantineDirs(lakeDir, plan.table);
  await recoverTable(qdirs);

  const streams = new Set(plan.sources.map((s) => s.stream));
  const mine = files.filter((f) => streams.has(f.stream));
  const sources: Record<string, Array<{ path: string; records: number }>> = {};
  for (const s of planStreams(plan)) {
    // Line counts from the manifests (checked by verifyCommitted) number the lines.
    sources[s] = files.filter((f) => f.stream === s).map((f) => ({ path: join(lakeDir, f.key), records: f.records }));
  }
  const watch = stopwatch();
  const driftFiles: DriftFile[] = mine.map((f) => ({ stream: f.stream, runId: f.runId, path: join(lakeDir, f.key), records: f.records }));
  // Drift is advice: failing to compute it must not fail a build.
  const advise = async (check: () => Promise<string[]>) =>
    opts.drift === false ? [] : check().catch((e: Error) => [`drift check failed: ${e.message.split('\n')[0]}`]);
  const targetMb = plan.targetFileMb ?? opts.targetFileMb ?? DEFAULT_TARGET_FILE_MB;
  // Clean data first takes one streamed statement. A table whose last build (of the same
  // definition) quarantined rows, or whose streamed statement stopped, goes straight to the judged
  // path: raw is append-only, so the streamed one would stop at the same row again.
  const streamed = opts.streamed === false ? undefined : renderDuckdbStreamed(plan, sources);
  let streamedRejected: true | undefined;
  if (streamed && !(await stopsStreamed(lakeDir, plan, opts))) {
    const result = await buildStreamed(conn, side, plan, opts, streamed.select, { dirs, qdirs, mine, driftFiles, targetMb, watch, advise });
    if (result) return { ...result, seconds: Math.round(performance.now() - started) / 1000, phases: watch.phases };
    streamedRejected = true;
  }
  // The shapes (raw samples) are taken on the side connection while the table builds.
  const shapes = advise(() => shapeDrift(side, plan, driftFiles));
  // The JSON extraction and casts run once; the table and the quarantine both read the result.
  const sql = await judge(conn, plan, sources, opts.completeReads, opts.verified).catch(async (e: unknown) => {
    await shapes;
    throw e;
  });
  watch.lap('judge');
  let result: Omit<TableResult, 'drift' | 'seconds'>;
  let drift: string[];
  try {
    const quarantined = await writeQuarantine(conn, sql.fromJudged.quarantine, qdirs, runId, opts.hooks);
    watch.lap('quarantine');
    // The row account and drift (DuckDB) run while the build is published (file system calls).
    let account: Promise<Awaited<ReturnType<typeof rowAccount>>> | undefined;
    let driftDone: Promise<string[]> = Promise.resolve([]);
    const meanwhile = () => {
      account = rowAccount(conn, plan, mine, quarantined);
      account.catch(() => undefined); // awaited below
      driftDone = (async () => [...(await advise(() => declaredGaps(conn, plan, driftFiles, '__judged', opts.expectedAbsent, sql.fileRef))), ...(await shapes)])();
    };
    const { table, rows, files: count, bytes, partitions, removal } = await writeTable(conn, plan, sql.fromJudged.select, dirs, runId, targetMb, opts.hooks, undefined, meanwhile, watch.lap);
    const { kept, ...counts } = await (account ?? rowAccount(conn, plan, mine, quarantined));
    result = { table, rows, files: count, bytes, partitions, quarantined, ...counts, duplicates: Math.max(0, kept - rows) };
    drift = await driftDone;
    await removal;
  } finally {
    await shapes;
    await dropJudged(conn);
  }
  watch.lap('drift');
  return { ...result, drift, seconds: Math.round(performance.now() - started) / 1000, phases: watch.phases, ...(streamedRejected ? { streamedRejected } : {}) };
}

/** Whether the table's last build of this definition shows that a streamed statement would stop. */
async function stopsStreamed(lakeDir: string, plan: TablePlan, opts: BuildOptions): Promise<boolean> {
  const last = await readBuildState(lakeDir, plan.table);
  return !!last && last.fingerprint === tableFingerprint(plan, opts) && (last.figures.quarantined > 0 || !!last.streamedRejected);
}

/** Rows of the newest run a streamed build looks for each declared path's value in first. */
const GAPS_SAMPLE = 5_000;

/**
 * A full build as one streamed statement (compile.ts, renderDuckdbStreamed): read, cast, check,
 * dedupe, sort and the partitioned write in a single COPY, with nothing materialized in between.
 * The statement stops with an error on any row the judged build would quarantine (and on any
 * input the typed read might read differently); its staged files are then removed and undefined
 * is returned, for the judged build to run instead. After a clean COPY there is nothing to
 * quarantine: the quarantine is published empty, as a judged build of the same data would.
 * Every raw line is a row (the files are the ones the manifests counted, verified before
 * anything is published), so the row account needs no pass of its own.
 */
async function buildStreamed(
  conn: DuckDBConnection,
  side: DuckDBConnection,
  plan: TablePlan,
  opts: BuildOptions,
  select: string,
  ctx: {
    dirs: TableDirs;
    qdirs: TableDirs;
    mine: CommittedFile[];
    driftFiles: DriftFile[];
    targetMb: number;
    watch: ReturnType<typeof stopwatch>;
    advise: (check: () => Promise<string[]>) => Promise<string[]>;
  },
): Promise<Omit<TableResult, 'seconds'> | undefined> {
  const { runId } = opts;
  const { dirs, qdirs, mine, driftFiles, watch } = ctx;
  let copied = false;
  // Drift, on the side connection once the rows are written (beside the COPY, even these small
  // reads cost it more than their own time): the shapes of raw samples, then the newest run's
  // declared paths, read the same streamed way from that run's files only.
  const stream = plan.sources[0].stream;
  const runs = driftFiles.filter((f) => f.stream === stream).map((f) => f.runId).sort();
  const newest = driftFiles.filter((f) => f.stream === stream && f.runId === runs[runs.length - 1]);
  const gapsSql = renderDuckdbStreamed(plan, { [stream]: newest.map((f) => ({ path: f.path, records: f.records })) });
  const gaps = async () => {
    if (!gapsSql) return [];
    await side.run(`CREATE OR REPLACE TEMP VIEW __newest AS ${gapsSql.judged}`);
    try {
      // A sample first: a column with a value among its first rows has one in the run. Only
      // when some column has none there is the whole run read.
      const sample = await declaredGaps(side, plan, newest, `(SELECT * FROM __newest LIMIT ${GAPS_SAMPLE})`, opts.expectedAbsent, gapsSql.fileRef);
      return sample.length ? await declaredGaps(side, plan, newest, '__newest', opts.expectedAbsent, gapsSql.fileRef) : sample;
    } finally {
      await side.run('DROP VIEW IF EXISTS __newest');
    }
  };
  let drift: Promise<string[]> = Promise.resolve([]);
  const meanwhile = () => {
    drift = (async () => [...(await ctx.advise(gaps)), ...(await ctx.advise(() => shapeDrift(side, plan, driftFiles)))])();
  };
  let written: Awaited<ReturnType<typeof writeTable>>;
  let quarantined = 0;
  try {
    written = await writeTable(conn, plan, select, dirs, runId, ctx.targetMb, opts.hooks, undefined, meanwhile, (name) => watch.lap(name === 'copy' ? 'streamed copy' : name), async () => {
      copied = true;
      await opts.verified; // a file that is not what its manifest says fails the build here
      // An empty quarantine replaces the last build's, as the judged build's would.
      quarantined = await writeQuarantine(conn, 'SELECT 1 AS nothing WHERE false', qdirs, runId, opts.hooks);
      watch.lap('quarantine');
    });
  } catch (e) {
    await rm(join(dirs.staging, runId), { recursive: true, force: true });
    await drift; // started only once the rows were written
    if (copied) throw e;
    watch.lap('streamed attempt'); // what the judged build's data cost in vain
    return undefined;
  }
  const records = mine.reduce((n, f) => n + f.records, 0);
  const notes = await drift;
  await written.removal;
  watch.lap('drift');
  const { table, rows, files, bytes, partitions } = written;
  return { table, rows, files, bytes, partitions, quarantined, records, inputRows: records, filtered: 0, duplicates: Math.max(0, records - rows), drift: notes };
}

/**
 * An incremental build (incremental.ts has the rules): judges only the new files, rewrites the
 * partitions their rows land in from those partitions' current files plus the new rows (deduped
 * together by the table's own rows query), carries every other partition over as hard links, and
 * adds a quarantine part for the new rows that fail. Publishing is the same atomic swap.
 */
async function buildIncremental(conn: DuckDBConnection, plan: TablePlan, d: Extract<Decision, { mode: 'incremental' }>, opts: BuildOptions, side: DuckDBConnection): Promise<TableResult> {
  const { lakeDir, runId } = opts;
  const dirs = tableDirs(lakeDir, plan.table);
  const qdirs = quarantineDirs(lakeDir, plan.table);
  await recoverTable(dirs, d.state.spare);
  await recoverTable(qdirs);
  const prev = d.state.figures;
  const added = new Set(d.added.map((f) => f.key));
  const fresh = opts.files.filter((f) => added.has(f.key));
  const sources: Record<string, Array<{ path: string; records: number }>> = {};
  for (const s of planStreams(plan)) sources[s] = fresh.filter((f) => f.stream === s).map((f) => ({ path: join(lakeDir, f.key), records: f.records }));
  const watch = stopwatch();
  const mine = opts.files.filter((f) => plan.sources.some((s) => s.stream === f.stream));
  const driftFiles: DriftFile[] = mine.map((f) => ({ stream: f.stream, runId: f.runId, path: join(lakeDir, f.key), records: f.records }));
  const advise = async (check: () => Promise<string[]>) =>
    opts.drift === false ? [] : check().catch((e: Error) => [`drift check failed: ${e.message.split('\n')[0]}`]);
  const shapes = advise(() => shapeDrift(side, plan, driftFiles)); // beside the build, as in buildOne
  const sql = await judge(conn, plan, sources, opts.completeReads, opts.verified).catch(async (e: unknown) => {
    await shapes;
    throw e;
  });
  watch.lap('judge');
  const kept = `len(__reasons) = 0${plan.filter ? ` AND (${plan.filter})` : ''}`;
  let result: Omit<TableResult, 'drift' | 'seconds'>;
  let drift: string[];
  try {
    // Quarantine: the earlier parts stay, the new failures are one more part.
    const quarantined = await writeQuarantine(conn, sql.fromJudged.quarantine, qdirs, runId, opts.hooks, { from: join(qdirs.builds, d.state.quarantine), rows: prev.quarantined });
    watch.lap('quarantine');
    const [[input, keptNew]] = (await conn.runAndReadAll(`SELECT count(*), count(*) FILTER (WHERE ${kept}) FROM __judged`)).getRows();

    // The current build's Parquet files, and those of the partitions the new rows touch.
    const current = join(dirs.builds, d.state.build);
    const oldFiles = await parquetFiles(current);
    const touched = await touchedFiles(conn, plan, kept, current, oldFiles);
    watch.lap('touched');

    // The rows of the touched partitions: their current rows (below every new run in dedupe
    // order) and the new ones, through the table's own rows query.
    const old = [...touched].sort();
    const stored = new Set(plan.storedColumns);
    const oldColumns = plan.columns.map((c) =>
      stored.has(c.name) ? ident(c.name) : `CAST(nullif(${ident(c.name)}, '__HIVE_DEFAULT_PARTITION__') AS ${duckdb.type(c.type)}) AS ${ident(c.name)}`,
    );
    const oldRows = old.length
      ? `SELECT ${oldColumns.join(', ')}, CAST([] AS VARCHAR[]) AS __reasons, -1 AS __file, CAST(0 AS BIGINT) AS __line, CAST(-1 AS BIGINT) AS __pos, -1 AS __run_id, false AS __malformed FROM read_parquet([${old.map(literal).join(', ')}], hive_partitioning = ${plan.partitions.length > 0}, hive_types_autocast = false)`
      : undefined;
    await conn.run(`CREATE OR REPLACE TEMP VIEW __merged AS SELECT * FROM __judged${oldRows ? `\nUNION ALL BY NAME\n${oldRows}` : ''}`);
    const from = 'SELECT * FROM __judged WHERE';
    if (sql.fromJudged.select.split(from).length !== 2) throw new Error('incremental build: the rows query does not read __judged once');
    const select = sql.fromJudged.select.replace(from, 'SELECT * FROM __merged WHERE');
    const oldRowsCount = old.length ? Number((await conn.runAndReadAll(`SELECT count(*) FROM read_parquet([${old.map(literal).join(', ')}])`)).getRows()[0][0]) : 0;
    const targetMb = plan.targetFileMb ?? opts.targetFileMb ?? DEFAULT_TARGET_FILE_MB;
    const carried = oldFiles.filter((f) => !touched.has(f)).map((f) => relative(current, f));
    // Drift (DuckDB) runs while the untouched partitions are linked (file system calls).
    let driftDone: Promise<string[]> = Promise.resolve([]);
    const checkDrift = async () => [...(await advise(() => declaredGaps(conn, plan, driftFiles, '__judged', opts.expectedAbsent, sql.fileRef))), ...(await shapes)];
    const meanwhile = () => void (driftDone = checkDrift());
    const written = await writeTable(conn, plan, select, dirs, runId, targetMb, opts.hooks, { from: current, files: carried, spare: d.state.spare }, meanwhile, watch.lap);
    const rows = prev.rows - oldRowsCount + written.newRows;
    const newInput = Number(input);
    const newQuarantined = quarantined - prev.quarantined;
    const newFiltered = Math.max(0, newInput - newQuarantined - Number(keptNew));
    const keptAll = prev.inputRows - prev.quarantined - prev.filtered + Number(keptNew);
    result = {
      table: plan.table,
      rows,
      files: written.files,
      bytes: written.bytes,
      partitions: written.partitions,
      quarantined,
      records: prev.records + fresh.reduce((n, f) => n + f.records, 0),
      inputRows: prev.inputRows + newInput,
      filtered: prev.filtered + newFiltered,
      duplicates: Math.max(0, keptAll - rows),
      build: { mode: 'incremental', ...(plan.partitions.length ? { rewritten: written.rewritten } : {}) },
    };
    drift = await driftDone;
    await written.removal;
  } finally {
    await shapes;
    await conn.run('DROP VIEW IF EXISTS __merged');
    await dropJudged(conn);
  }
  watch.lap('drift');
  return { ...result, drift, seconds: 0, phases: watch.phases };
}

/**
 * The current build's files that an incremental build rewrites: every file of each partition a new
 * row (in `__judged`, passing `kept`) lands in, and, when the dedupe key does not pin the
 * partition, of each partition holding an old row with a new row's key. Unpartitioned: all.
 */
async function touchedFiles(conn: DuckDBConnection, plan: TablePlan, kept: string, current: string, oldFiles: string[]): Promise<Set<string>> {
  if (plan.partitions.length === 0 || !oldFiles.length) return new Set(oldFiles);
  const names = plan.partitions.map((p) => ident(p.name));
  const values = `SELECT DISTINCT ${plan.partitions.map((p) => `${partitionValue(duckdb, p)} AS ${ident(p.name)}`).join(', ')} FROM __judged WHERE ${kept}`;
  const inFolders = (folders: Set<string>) => new Set(oldFiles.filter((f) => folders.has(dirname(f))));
  if (dedupeStaysInPartition(plan)) {
    // The common case reads no Parquet: the key pins the partition and the values are plain
    // (dates), so a value's folder is `name=value`, as DuckDB writes it.
    const tuples = (await conn.runAndReadAll(values)).getRows().map((row) => row.map((v) => (v === null ? '__HIVE_DEFAULT_PARTITION__' : String(v))));
    if (tuples.every((t) => t.every((v) => /^[A-Za-z0-9_.-]+$/.test(v)))) {
      return inFolders(new Set(tuples.map((t) => join(current, ...t.map((v, i) => `${plan.partitions[i].name}=${v}`)))));
    }
  }
  // Otherwise DuckDB reads the partition values (and the keys) back from the files.
  const tests = [
    `(${names.join(', ')}) IN (${values})`,
    ...plan.partitions.map((p) => `${ident(p.name)} IS NULL AND EXISTS (SELECT 1 FROM (${values}) __v WHERE __v.${ident(p.name)} IS NULL)`),
  ];
  if (!dedupeStaysInPartition(plan) && plan.dedupe) {
    // A new row's key may match an old row in another partition: that partition is rewritten too.
    const match = plan.dedupe.key.map((k) => `__n.${ident(k)} IS NOT DISTINCT FROM __o.${ident(k)}`).join(' AND ');
    tests.push(`EXISTS (SELECT 1 FROM __judged __n WHERE ${kept.replaceAll('__reasons', '__n.__reasons')} AND ${match})`);
  }
  const files = `read_parquet([${oldFiles.map(literal).join(', ')}], hive_partitioning = true, hive_types_autocast = false, filename = true)`;
  const hits = (await conn.runAndReadAll(`SELECT DISTINCT filename FROM ${files} __o WHERE ${tests.map((t) => `(${t})`).join(' OR ')}`)).getRows();
  // A partition is rewritten whole: every file of a touched folder.
  return inFolders(new Set(hits.map(([f]) => dirname(String(f)))));
}

/**
 * Makes a reused build folder hold exactly `files` (relative paths) as hard links to those of the
 * build `from`: partition folders not carried go (the rows query writes the touched ones anew),
 * files that are not the same file (inode) are replaced, missing ones linked.
 */
function reuseSpare(staged: string, from: string, files: string[], depth: number): void {
  const want = new Map<string, Set<string>>();
  for (const rel of files) {
    const folder = dirname(rel);
    if (!want.has(folder)) want.set(folder, new Set());
    want.get(folder)?.add(basename(rel));
  }
  for (const e of readdirSync(staged, { recursive: true, withFileTypes: true })) {
    const rel = relative(staged, join(e.parentPath, e.name));
    if (!e.isDirectory() || rel.split(sep).length !== depth) continue;
    const names = want.get(rel);
    if (!names) {
      rmSync(join(staged, rel), { recursive: true, force: true });
      continue;
    }
    for (const f of readdirSync(join(staged, rel))) {
      if (!names.has(f) || statSync(join(staged, rel, f)).ino !== statSync(join(from, rel, f)).ino) rmSync(join(staged, rel, f), { recursive: true, force: true });
    }
  }
  // Files (not folders) at other depths are not a build's: none should be there, none stay.
  for (const e of readdirSync(staged, { recursive: true, withFileTypes: true })) {
    const rel = relative(staged, join(e.parentPath, e.name));
    if (!e.isDirectory() && rel.split(sep).length !== depth + 1) rmSync(join(staged, rel), { force: true });
  }
  for (const [folder, names] of want) {
    mkdirSync(join(staged, folder), { recursive: true });
    for (const name of names) if (!existsSync(join(staged, folder, name))) linkSync(join(from, folder, name), join(staged, folder, name));
  }
}

/** Parquet files below a build folder (absolute paths, sorted). */
async function parquetFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile() && e.name.endsWith('.parquet'))
      .map((e) => join(e.parentPath, e.name))
      .sort();
  } catch {
    return [];
  }
}

/**
 * Materializes the table's judged relation as `__judged`: a temp table, or (lean plans) a temp
 * table in scan order under a view that numbers the lines from the row position. Should the row
 * count not be the files' line count (the manifests were checked, so it cannot be short unless the
 * reader skipped a line), the build falls back to numbering lines while reading.
 */
async function judge(
  conn: DuckDBConnection,
  plan: TablePlan,
  sources: Record<string, Array<{ path: string; records: number }>>,
  completeReads: Record<string, string[]> | undefined,
  verified: Promise<void> | undefined,
): Promise<BuildSql> {
  try {
    const sql = await judgeRows(conn, plan, sources, completeReads);
    await verified;
    return sql;
  } catch (e) {
    await verified; // a file that is not what its manifest says is the error to report
    throw e;
  }
}

async function judgeRows(conn: DuckDBConnection, plan: TablePlan, sources: Record<string, Array<{ path: string; records: number }>>, completeReads?: Record<string, string[]>): Promise<BuildSql> {
  const sql = renderDuckdbBuild(plan, sources, completeReads);
  if (sql.lineFromRowid) {
    await conn.run(`CREATE OR REPLACE TEMP TABLE __judged_rows AS ${sql.judged}`);
    const [[rows]] = (await conn.runAndReadAll('SELECT count(*) FROM __judged_rows')).getRows();
    if (Number(rows) === sql.lines) {
      await conn.run(`CREATE OR REPLACE TEMP VIEW __judged AS SELECT * REPLACE (${sql.lineFromRowid} AS __line), rowid AS __pos FROM __judged_rows`);
      return sql;
    }
    await conn.run('DROP TABLE __judged_rows');
  }
  const plain = sql.lineFromRowid ? renderDuckdbBuild(plan, sources, completeReads, { lean: false }) : sql;
  await conn.run(`CREATE OR REPLACE TEMP TABLE __judged AS ${plain.judged}`);
  return plain;
}

async function dropJudged(conn: DuckDBConnection): Promise<void> {
  const [[kind]] = (await conn.runAndReadAll(`SELECT coalesce(max(table_type), '') FROM information_schema.tables WHERE table_name = '__judged'`)).getRows();
  if (kind === 'VIEW') await conn.run('DROP VIEW __judged');
  else if (kind) await conn.run('DROP TABLE __judged');
  await conn.run('DROP TABLE IF EXISTS __judged_rows');
}

/**
 * Where the raw records went: the summary explains "2970 records -> 2000 rows" instead of leaving
 * the difference a mystery. Counted on `__judged` (bad rows are quarantined unless the filter
 * drops them anyway: those count as filtered, as the quarantine does not keep them).
 */
async function rowAccount(conn: DuckDBConnection, plan: TablePlan, files: CommittedFile[], quarantined: number) {
  const pass = `len(__reasons) = 0${plan.filter ? ` AND (${plan.filter})` : ''}`;
  const [[input, kept]] = (await conn.runAndReadAll(`SELECT count(*), count(*) FILTER (WHERE ${pass}) FROM __judged`)).getRows();
  const inputRows = Number(input);
  const keptRows = Number(kept);
  // duplicates = kept - rows, once the rows are known
  return { records: files.reduce((a, f) => a + f.records, 0), inputRows, filtered: Math.max(0, inputRows - quarantined - keptRows), kept: keptRows };
}

async function writeTable(
  conn: DuckDBConnection,
  plan: TablePlan,
  /** The rows to write (a query over __judged, or a streamed build's whole statement). */
  select: string,
  dirs: TableDirs,
  runId: string,
  targetMb: number,
  hooks: SwapHooks | undefined,
  /**
   * An incremental build: these files (relative to the build folder `from`) are carried over as
   * hard links.
   */
  carry: { from: string; files: string[]; spare?: string } | undefined,
  /**
   * Called once the rows are written (DuckDB is done with the connection): starts work to overlap
   * with the file system work of carrying and publishing. The old build's removal is then left
   * running too (`removal`, to await).
   */
  meanwhile: (() => void) | undefined,
  lap: Lap = () => undefined,
  /** Runs once the rows are written, before anything is published (a streamed build's quarantine). */
  afterCopy?: () => Promise<void>,
): Promise<Omit<TableResult, 'drift' | 'seconds' | 'quarantined'> & { newRows: number; rewritten: number; removal?: Promise<void> }> {
  const staged = join(dirs.staging, runId);
  await mkdir(dirs.staging, { recursive: true });
  const partitionNames = plan.partitions.map((p) => p.name);
  const options = ['FORMAT parquet', 'COMPRESSION zstd'];
  let target = staged;
  // An incremental build with a spare (the build the last one replaced): its folders are reused,
  // made to hold exactly the carried files, instead of making every partition folder again.
  const spare = carry?.spare ? join(dirs.builds, carry.spare) : undefined;
  const reuse = !!carry && !!spare && partitionNames.length > 0 && existsSync(spare);
  if (reuse && carry && spare) {
    renameSync(spare, staged);
    reuseSpare(staged, carry.from, carry.files, partitionNames.length);
    options.push('OVERWRITE_OR_IGNORE true');
  }
  if (partitionNames.length) {
    options.push(`PARTITION_BY (${partitionNames.map(ident).join(', ')})`, `FILENAME_PATTERN ${literal(`part-${runId}-{i}`)}`);
  } else {
    await mkdir(staged, { recursive: true });
    target = join(staged, `part-${runId}-0.parquet`);
  }
  // RETURN_FILES: the files the COPY wrote (no listing of the staged tree, which an incremental
  // build fills with every carried partition).
  const [[count, paths]] = (await conn.runAndReadAll(`COPY (${select}) TO ${literal(target)} (${[...options, 'RETURN_FILES true'].join(', ')})`)).getRows();
  const rows = Number(count);
  const files = rows > 0 ? (paths as DuckDBListValue).items.map((p) => ({ path: String(p), size: statSync(String(p)).size })) : [];
  lap('copy');
  await afterCopy?.();
  // No rows: publish an empty build (an unpartitioned COPY would have written an empty file).
  if (rows === 0 && !reuse) await rm(staged, { recursive: true, force: true });
  else if (rows > 0) await rebalanceFiles(conn, files, runId, targetMb * 1024 * 1024);
  lap('rebalance');
  const rewrittenFolders = rows > 0 && partitionNames.length ? [...new Set(files.map((f) => relative(staged, dirname(f.path)).split(sep).join('/')))].sort() : [];
  meanwhile?.();
  if (reuse) {
    const taken = new Set(rewrittenFolders);
    for (const rel of carry?.files ?? []) {
      const folder = dirname(rel).split(sep).join('/');
      if (taken.has(folder)) throw new Error(`incremental build: partition ${folder} has new rows but was to be carried over`);
    }
  } else if (carry?.files.length) {
    const taken = new Set(rewrittenFolders);
    const folders = [...new Set(carry.files.map((rel) => dirname(rel)))];
    for (const folder of folders) {
      // A folder the rows query wrote has new rows: carrying its old files too would duplicate rows.
      if (taken.has(folder.split(sep).join('/'))) throw new Error(`incremental build: partition ${folder} has new rows but was to be carried over`);
    }
    // Synchronous on purpose: thousands of tiny metadata calls cost more through libuv's threads
    // (and mkdir -p) than they take (measured: 730 folders 0.5 s that way, 35 ms so).
    const made = new Set<string>();
    const makeDir = (dir: string) => {
      if (made.has(dir) || dir === '.') return;
      if (dirname(dir) !== dir) makeDir(dirname(dir));
      if (!existsSync(join(staged, dir))) mkdirSync(join(staged, dir));
      made.add(dir);
    };
    mkdirSync(staged, { recursive: true });
    for (const folder of folders) makeDir(folder);
    for (const rel of carry.files) linkSync(join(carry.from, rel), join(staged, rel));
  }
  lap('carry');
  crashPoint(`stage curated/${plan.table}: written`);

  const stats = await parquetStats(staged);
  const written = partitionNames.length ? ((await listPartitions(staged, partitionNames)) ?? []) : [];
  // An incremental build keeps the build it replaces as the next one's spare.
  const { removal } = await swapIn({ dirs, runId, staged, hooks, deferRemoval: !!meanwhile, keep: carry && partitionNames.length ? basename(carry.from) : undefined });
  lap('publish');

  return {
    removal,
    table: plan.table,
    rows,
    newRows: rows,
    rewritten: partitionNames.length ? rewrittenFolders.length : rows > 0 ? 1 : 0,
    files: stats.files,
    bytes: stats.bytes,
    partitions: written.length,
  };
}

/**
 * Evens out the files of each partition folder around the target size. DuckDB cannot rotate files
 * while writing PARTITION_BY, and with many partitions it may close and reopen one (more than one
 * file for a small partition). So afterwards every folder is made n files, n = its size / target
 * rounded (at least 1): small data becomes one file per partition, a large partition about
 * target-sized files. Only folders that are off are rewritten, in their rows' order (ORDER BY ALL,
 * as written), so reruns stay byte-stable.
 */
async function rebalanceFiles(conn: DuckDBConnection, written: Array<{ path: string; size: number }>, runId: string, targetBytes: number): Promise<void> {
  // Only the folders this build wrote: an incremental build's carried folders were evened out by
  // the build that wrote them.
  const folders = new Map<string, Array<{ path: string; size: number }>>();
  for (const f of [...written].sort((a, b) => (basename(a.path) < basename(b.path) ? -1 : basename(a.path) > basename(b.path) ? 1 : 0))) {
    const list = folders.get(dirname(f.path)) ?? [];
    list.push(f);
    folders.set(dirname(f.path), list);
  }
  for (const [folder, files] of folders) {
    const total = files.reduce((n, f) => n + f.size, 0);
    const n = Math.max(1, Math.round(total / targetBytes));
    if (files.length === n && files.every((f) => f.size <= targetBytes * 1.5)) continue;
    const source = `read_parquet([${files.map((f) => literal(f.path)).sort().join(', ')}])`;
    const tmp = join(folder, `.rebalance-${runId}`);
    await rm(tmp, { recursive: true, force: true });
    if (n === 1) {
      await mkdir(tmp, { recursive: true });
      await conn.run(`COPY (SELECT * FROM ${source} ORDER BY ALL) TO ${literal(join(tmp, `part-${runId}-0.parquet`))} (FORMAT parquet, COMPRESSION zstd)`);
    } else {
      const [[count]] = (await conn.runAndReadAll(`SELECT count(*) FROM ${source}`)).getRows();
      const perFile = Math.ceil(Number(count) / n);
      // Row groups of at most 122,880 rows (DuckDB's default), a whole number of them per file.
      const groups = Math.ceil(perFile / 122_880);
      const groupSize = Math.ceil(perFile / groups);
      await conn.run(
        `COPY (SELECT * FROM ${source} ORDER BY ALL) TO ${literal(tmp)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${groupSize}, ROW_GROUPS_PER_FILE ${groups}, FILENAME_PATTERN ${literal(`part-${runId}-{i}`)})`,
      );
    }
    for (const f of files) await rm(f.path);
    for (const part of (await readdir(tmp)).sort()) await rename(join(tmp, part), join(folder, part));
    await rm(tmp, { recursive: true, force: true });
  }
}

async function copyCount(conn: DuckDBConnection, sql: string): Promise<number> {
  const reader = await conn.runAndReadAll(sql);
  const row = reader.getRows()[0];
  return row ? Number(row[0]) : 0;
}

/**
 * quarantine/<table>/part-<run id>-0.jsonl.gz: every row of the current raw data that the table
 * rejects, replaced as a whole per build (staged, then swapped in like an unpartitioned table), so a
 * rerun never duplicates quarantine rows and a crash never leaves half a file visible.
 */
async function writeQuarantine(
  conn: DuckDBConnection,
  sql: string,
  dirs: TableDirs,
  runId: string,
  hooks?: SwapHooks,
  /** An incremental build: the earlier parts' folder, and how many rows they hold (the build state's figure). */
  carry?: { from: string; rows: number },
): Promise<number> {
  const staged = join(dirs.staging, runId);
  await mkdir(staged, { recursive: true });
  const count = await copyCount(conn, `COPY (${sql}) TO ${literal(join(staged, `part-${runId}-0.jsonl.gz`))} (FORMAT json, COMPRESSION gzip)`);
  if (count === 0) await rm(join(staged, `part-${runId}-0.jsonl.gz`), { force: true });
  // An incremental build keeps the earlier parts (hard links to the same files).
  const carried = carry?.rows ?? 0;
  if (carry) {
    for (const part of (await readdir(carry.from).catch(() => [] as string[])).filter((f) => f.endsWith('.jsonl.gz')).sort()) {
      await link(join(carry.from, part), join(staged, part));
    }
  }
  if (count + carried === 0) await rm(staged, { recursive: true, force: true });
  crashPoint(`stage ${relative(dirname(dirname(dirs.table)), dirs.table)}: written`);
  await swapIn({ dirs, runId, staged, hooks });
  return count + carried;
}
