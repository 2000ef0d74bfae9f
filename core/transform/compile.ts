/**
 * The DuckDB target of the renderer (render.ts with dialects/duckdb.ts): a table's queries over
 * the raw JSON Lines files themselves, for the local build (index.ts) and `validate`.
 */
import type { TableSpec } from '../config/types.ts';
import { duckdb, ident, literal } from './dialects/duckdb.ts';
import { type TablePlan, planTable } from './plan.ts';
import { type RenderedTable, canRenderLean, renderTable } from './render.ts';

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

/**
 * The table's queries as the local build runs them (index.ts), which differ from the standalone
 * ones above only in what the build's materialized __judged carries per row:
 * - `__file` is the file's number in the table's sorted file list and `__run_id` the rank of its
 *   run among the runs involved (integers sort as the paths and run ids do, and cost a fraction of
 *   their text in a table of millions of rows); quarantine maps both back to text;
 * - a plan with one row per raw line (`canRenderLean`) renders lean (render.ts) and reads without
 *   WITH ORDINALITY, which doubled the cost of reading: `__line` is left NULL and `lineFromRowid`
 *   numbers it from the row's position once __judged is materialized (CREATE TABLE AS keeps the
 *   scan's order: files in list order, lines in file order), given every file's line count.
 */
export interface BuildSql extends CompiledTable {
  /**
   * Set for a lean build: the expression of `__line` over the materialized __judged (its rowid);
   * the build also exposes the rowid as `__pos`, which dedupe ranks by.
   */
  lineFromRowid?: string;
  /** Rows __judged must have for `lineFromRowid` to hold (the files' line counts summed). */
  lines?: number;
  /** `__file`'s value for a file path (a literal to compare with). */
  fileRef: (path: string) => string;
}

/**
 * The written rows' order, which makes the files byte-stable across rebuilds: after a dedupe the
 * key is unique, so the partition columns and the key order every row (sorting on them alone cost
 * ~0.5 s less per million rows than ORDER BY ALL); without a dedupe, every column.
 */
function buildOrder(plan: TablePlan): string {
  if (!plan.dedupe) return 'ORDER BY ALL';
  const keys = [...new Set([...plan.partitions.map((p) => p.name), ...plan.dedupe.key])];
  return `ORDER BY ${keys.map((k) => `${ident(k)} NULLS LAST`).join(', ')}`;
}

export function renderDuckdbBuild(
  plan: TablePlan,
  files: Record<string, Array<{ path: string; records: number }>>,
  completeReads: Record<string, string[]> = {},
  opts: { lean?: boolean } = {},
): BuildSql {
  const streams = [...new Set([...plan.sources.map((s) => s.stream), ...(plan.latestParents ? [plan.latestParents.stream] : [])])];
  const all = streams.flatMap((s) => files[s] ?? []).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const number = new Map(all.map((f, i) => [f.path, i]));
  const runOf = (path: string) => /([^/]+)-[0-9]+\.jsonl(\.gz)?$/.exec(path)?.[1];
  const runs = [...new Set([...all.map((f) => runOf(f.path)).filter((r): r is string => !!r), ...streams.flatMap((s) => completeReads[s] ?? [])])].sort();
  const rank = new Map(runs.map((r, i) => [r, i]));
  const lean = opts.lean !== false && canRenderLean(plan) && new Set(plan.sources.map((s) => s.stream)).size === plan.sources.length && plan.sources.length === 1;
  const keys = all.map((f) => /(raw\/[^/]+\/[^/]+\/[^/]+)$/.exec(f.path)?.[1] ?? f.path);
  const textOf = (list: string[], at: string) => (list.length ? `CAST([${list.map(literal).join(', ')}] AS VARCHAR[])[${at} + 1]` : 'CAST(NULL AS VARCHAR)');

  const rawLines = (stream: string): string => {
    const own = new Set(files[stream] ?? []);
    const mine = all.filter((f) => own.has(f));
    if (!mine.length) return `SELECT CAST(NULL AS JSON) AS __rec, CAST(NULL AS INTEGER) AS __file, CAST(NULL AS BIGINT) AS __line, CAST(NULL AS INTEGER) AS __run_id WHERE false`;
    const base = number.get(mine[0].path) as number;
    const index = 'CAST(file_index AS INTEGER)';
    const offsets: number[] = [];
    let before = 0;
    for (const f of mine) {
      offsets.push(before);
      before += f.records;
    }
    const ranks = mine.map((f) => rank.get(runOf(f.path) ?? '') ?? 'NULL');
    const scan = `read_json_objects([${mine.map((f) => literal(f.path)).join(', ')}], format = 'newline_delimited', ignore_errors = true, hive_partitioning = false)`;
    const line = lean ? 'CAST(NULL AS BIGINT)' : `ordinality - CAST([${offsets.join(', ')}] AS BIGINT[])[${index} + 1]`;
    return [
      `SELECT json AS __rec, ${index} + ${base} AS __file, ${line} AS __line, CAST([${ranks.join(', ')}] AS INTEGER[])[${index} + 1] AS __run_id`,
      `FROM ${scan}${lean ? '' : ' WITH ORDINALITY'}`,
    ].join('\n');
  };
  const sql = renderTable(plan, duckdb, {
    rawLines,
    completeRuns: (stream) => {
      const mine = (completeReads[stream] ?? []).map((r) => rank.get(r)).filter((r) => r !== undefined);
      if (!mine.length) return 'SELECT CAST(NULL AS INTEGER) AS __run_id WHERE false';
      return `SELECT * FROM (VALUES ${mine.map((r) => `(${r})`).join(', ')}) AS __v(__run_id)`;
    },
    fileKey: textOf(keys, '__file'),
    runIdText: textOf(runs, '__run_id'),
    rowsOrder: buildOrder(plan),
    quarantineOrder: 'ORDER BY file, line, reasons',
    lean,
    // Lean: __pos is the row's place in the scan (index.ts), one sort key instead of file and line.
    ...(lean ? { newestFirst: '__run_id DESC NULLS LAST, __pos DESC' } : {}),
  });
  const fileRef = (path: string) => String(number.get(path) ?? -1);
  if (!lean) return { ...sql, fileRef };
  const offsets: number[] = [];
  let lines = 0;
  for (const f of all) {
    offsets.push(lines);
    lines += f.records;
  }
  return { ...sql, fileRef, lines, lineFromRowid: `rowid - CAST([${offsets.join(', ')}] AS BIGINT[])[__file + 1] + 1` };
}
