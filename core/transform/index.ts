/**
 * Builds curated Parquet tables from committed raw data with DuckDB.
 *
 * Every call rebuilds each table from all committed raw files of its streams: the table is a
 * pure function of raw, so reruns are idempotent and late or re-delivered records land where
 * they belong (an old play goes to its old date partition). Local lakes are small enough for this;
 * the Glue job does the same at Spark scale.
 */
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { TableSpec } from '../config/types.ts';
import { type CompiledTable, ident, literal, renderDuckdb } from './compile.ts';
import { type TablePlan, planTable } from './plan.ts';
import { type SwapHooks, type TableDirs, listPartitions, recoverTable, swapIn, tableDirs } from './write.ts';

export { compileTable, renderDuckdb, DUCKDB_TYPES, type CompiledTable } from './compile.ts';
export { planTable, TableSpecError, type TablePlan, type ColumnPlan, type SourcePlan, type PartitionPlan } from './plan.ts';
export { parsePath, type JsonPath, type PathSegment } from './paths.ts';
export { recoverTable, swapIn, tableDirs, type SwapHooks } from './write.ts';

/** A raw file listed in a committed run manifest. */
export interface CommittedFile {
  stream: string;
  /** Lake-relative key: raw/<stream>/dt=<ingest date>/<run id>-<part>.jsonl.gz */
  key: string;
  runId: string;
  records: number;
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
  seconds: number;
}

export interface BuildOptions {
  lakeDir: string;
  tables: Record<string, TableSpec>;
  files: CommittedFile[];
  /** This build's run id: names the written files and the quarantine folder. */
  runId: string;
  /** Build only these tables (default: all). */
  only?: string[];
  /** Test seam for crash simulation during the partition swap. */
  hooks?: SwapHooks;
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export async function buildTables(opts: BuildOptions): Promise<TableResult[]> {
  const { lakeDir, tables, files, runId } = opts;
  if (!RUN_ID.test(runId)) throw new Error(`invalid run id "${runId}"`);
  const names = opts.only ?? Object.keys(tables);
  const unknown = names.filter((n) => !(n in tables));
  if (unknown.length) throw new Error(`unknown table(s) ${unknown.join(', ')} (known: ${Object.keys(tables).join(', ')})`);
  // Validate every selected table before touching the lake: a typo in one must not leave the
  // others half rebuilt.
  const plans = names.map((n) => planTable(n, tables[n]));

  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    // Strings without an offset are UTC, and TIMESTAMPTZ -> TIMESTAMP conversions are UTC.
    await conn.run(`SET TimeZone = 'UTC'`);
    const results: TableResult[] = [];
    for (const plan of plans) {
      try {
        results.push(await buildOne(conn, plan, lakeDir, files, runId, opts.hooks));
      } catch (e) {
        throw new Error(`building table ${plan.table}: ${(e as Error).message}`, { cause: e });
      }
    }
    return results;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

async function buildOne(
  conn: DuckDBConnection,
  plan: TablePlan,
  lakeDir: string,
  files: CommittedFile[],
  runId: string,
  hooks: SwapHooks | undefined,
): Promise<TableResult> {
  const started = performance.now();
  const dirs = tableDirs(lakeDir, plan.table);
  await recoverTable(dirs);

  const sources: Record<string, string[]> = {};
  for (const s of plan.sources) {
    sources[s.stream] = files.filter((f) => f.stream === s.stream).map((f) => join(lakeDir, f.key));
  }
  const sql = renderDuckdb(plan, sources);

  // The JSON extraction and casts run once; the table and the quarantine both read the result.
  await conn.run(`CREATE OR REPLACE TEMP TABLE __judged AS ${sql.judged}`);
  try {
    return await writeTable(conn, plan, sql, dirs, lakeDir, runId, hooks, started);
  } finally {
    await conn.run('DROP TABLE IF EXISTS __judged');
  }
}

async function writeTable(
  conn: DuckDBConnection,
  plan: TablePlan,
  sql: CompiledTable,
  dirs: TableDirs,
  lakeDir: string,
  runId: string,
  hooks: SwapHooks | undefined,
  started: number,
): Promise<TableResult> {
  const quarantined = await writeQuarantine(conn, sql.fromJudged.quarantine, lakeDir, plan.table, runId);

  const staged = join(dirs.staging, runId);
  await mkdir(dirs.staging, { recursive: true });
  const partitionNames = plan.partitions.map((p) => p.name);
  const options = ['FORMAT parquet', 'COMPRESSION zstd'];
  let target = staged;
  if (partitionNames.length) {
    options.push(`PARTITION_BY (${partitionNames.map(ident).join(', ')})`, `FILENAME_PATTERN ${literal(`part-${runId}-{i}`)}`);
  } else {
    await mkdir(staged, { recursive: true });
    target = join(staged, `part-${runId}-0.parquet`);
  }
  const rows = await copyCount(conn, `COPY (${sql.fromJudged.select}) TO ${literal(target)} (${options.join(', ')})`);
  // No rows: publish nothing (an unpartitioned COPY would have written an empty file).
  if (rows === 0) await rm(staged, { recursive: true, force: true });

  const stats = await parquetStats(staged);
  const written = rows > 0 && partitionNames.length ? ((await listPartitions(staged, partitionNames)) ?? []) : [];
  await swapIn({ dirs, runId, staged, partitionNames, hooks });

  return {
    table: plan.table,
    rows,
    files: stats.files,
    bytes: stats.bytes,
    partitions: written.length,
    quarantined,
    seconds: Math.round(performance.now() - started) / 1000,
  };
}

async function copyCount(conn: DuckDBConnection, sql: string): Promise<number> {
  const reader = await conn.runAndReadAll(sql);
  const row = reader.getRows()[0];
  return row ? Number(row[0]) : 0;
}

/** quarantine/<table>/run=<run id>/part-00000.jsonl.gz, written whole then renamed into place. */
async function writeQuarantine(conn: DuckDBConnection, sql: string, lakeDir: string, table: string, runId: string): Promise<number> {
  const dir = join(lakeDir, 'quarantine', table, `run=${runId}`);
  await rm(dir, { recursive: true, force: true }); // a rerun of the same run id starts clean
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, '.part-00000.jsonl.gz.tmp');
  const count = await copyCount(conn, `COPY (${sql}) TO ${literal(tmp)} (FORMAT json, COMPRESSION gzip)`);
  if (count === 0) {
    await rm(dir, { recursive: true, force: true });
    return 0;
  }
  await rename(tmp, join(dir, 'part-00000.jsonl.gz'));
  return count;
}

async function parquetStats(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  let list;
  try {
    list = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch {
    return { files, bytes };
  }
  for (const e of list) {
    if (e.isFile() && e.name.endsWith('.parquet')) {
      files++;
      bytes += (await stat(join(e.parentPath, e.name))).size;
    }
  }
  return { files, bytes };
}
