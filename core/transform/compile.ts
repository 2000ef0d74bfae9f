/**
 * The DuckDB target of the renderer (render.ts with dialects/duckdb.ts): a table's queries over
 * the raw JSON Lines files themselves, for the local build (index.ts) and `validate`.
 */
import type { TableSpec } from '../config/types.ts';
import { duckdb, literal } from './dialects/duckdb.ts';
import { type TablePlan, planTable } from './plan.ts';
import { type RenderedTable, renderTable } from './render.ts';

export { ident, literal, sourceRows } from './dialects/duckdb.ts';

/** The table's queries on DuckDB (rows: stored columns, then partition columns as strings). */
export type CompiledTable = RenderedTable;

export function compileTable(name: string, spec: TableSpec, sources: Record<string, RawFileRef[]>): CompiledTable {
  return renderDuckdb(planTable(name, spec), sources);
}

/** The file a line came from, as a lake key (`raw/<stream>/dt=.../<file>`), for quarantine. */
const FILE_KEY = `coalesce(nullif(regexp_extract(__file, '(raw/[^/]+/[^/]+/[^/]+)$', 1), ''), __file)`;
/** Run id = the file name without its `-<part>.jsonl.gz` suffix; run ids sort by time. */
const RUN_ID = `nullif(regexp_extract(__file, '([^/]+)-[0-9]+\\.jsonl(\\.gz)?$', 1), '')`;

/** A raw file to read: its path, and (when the run manifest gives it) how many lines it has. */
export type RawFileRef = string | { path: string; records: number };

const refPath = (f: RawFileRef) => (typeof f === 'string' ? f : f.path);

/** The lines of these raw files as (__rec JSON, __file, __line, __run_id); a malformed line has a NULL __rec. */
export function rawStream(files: RawFileRef[]): string {
  if (files.length === 0) {
    // No committed data yet: same columns, no rows, so the rest of the query still binds.
    return `SELECT CAST(NULL AS JSON) AS __rec, CAST(NULL AS VARCHAR) AS __file, CAST(NULL AS BIGINT) AS __line, CAST(NULL AS VARCHAR) AS __run_id WHERE false`;
  }
  const list = `[${files.map((f) => literal(refPath(f))).join(', ')}]`;
  // ignore_errors turns a malformed line into a NULL record (quarantined below) instead of an
  // error for the whole table. The dt=<ingest date> folders are not data: no hive columns.
  const scan = `read_json_objects(${list}, format = 'newline_delimited', filename = true, ignore_errors = true, hive_partitioning = false) WITH ORDINALITY`;
  let line: string;
  if (files.every((f) => typeof f !== 'string')) {
    // The scan numbers rows across the files in list order (insertion order is preserved), so a
    // line number is that number minus the lines of the files before (from the run manifests).
    // No window over the records: sorting every record by file took most of a build's time.
    const offsets: number[] = [];
    let before = 0;
    for (const f of files as Array<{ records: number }>) {
      offsets.push(before);
      before += f.records;
    }
    line = `ordinality - CAST([${offsets.join(', ')}] AS BIGINT[])[CAST(file_index AS BIGINT) + 1]`;
  } else {
    // Without line counts: number the rows of each file (WITH ORDINALITY follows the file's order).
    line = 'row_number() OVER (PARTITION BY filename ORDER BY ordinality)';
  }
  return [
    `SELECT __rec, __file, __line, ${RUN_ID} AS __run_id FROM (`,
    `  SELECT json AS __rec, filename AS __file, ${line} AS __line`,
    `  FROM ${scan}`,
    `)`,
  ].join('\n');
}

/**
 * The runs whose read of a stream was complete, as a relation (__run_id): what a table with
 * `parents` needs to know the parent stream's latest complete read, even one that had no records.
 */
export function completeRunsRelation(runs: string[]): string {
  if (runs.length === 0) return 'SELECT CAST(NULL AS VARCHAR) AS __run_id WHERE false';
  return `SELECT * FROM (VALUES ${[...runs].sort().map((r) => `(${literal(r)})`).join(', ')}) AS __v(__run_id)`;
}

export function renderDuckdb(plan: TablePlan, files: Record<string, RawFileRef[]>, completeReads: Record<string, string[]> = {}): CompiledTable {
  const byPath = (a: RawFileRef, b: RawFileRef) => (refPath(a) < refPath(b) ? -1 : refPath(a) > refPath(b) ? 1 : 0);
  return renderTable(plan, duckdb, {
    rawLines: (stream) => rawStream([...(files[stream] ?? [])].sort(byPath)),
    completeRuns: (stream) => completeRunsRelation(completeReads[stream] ?? []),
    fileKey: FILE_KEY,
    // ORDER BY ALL makes the written files byte-stable across reruns of the same raw data.
    rowsOrder: 'ORDER BY ALL',
    quarantineOrder: 'ORDER BY file, line, reasons',
  });
}
