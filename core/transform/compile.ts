/**
 * The DuckDB target of the renderer (render.ts with dialects/duckdb.ts): a table's queries over
 * the raw JSON Lines files themselves, for the local build (index.ts) and `validate`.
 */
import type { TableSpec } from '../config/types.ts';
import { duckdb, ident, literal } from './dialects/duckdb.ts';
import { type SqlDialect, rawPrecisionName, rawValueName } from './dialects/dialect.ts';
import type { PathSegment } from './paths.ts';
import { type TablePlan, planTable } from './plan.ts';
import { type RenderedTable, canRenderLean, renderTable } from './render.ts';
import { readKind } from './types.ts';

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

/** Files in path order (the order the builds read and number them in). */
const byPath = (a: RawFileRef, b: RawFileRef) => (refPath(a) < refPath(b) ? -1 : refPath(a) > refPath(b) ? 1 : 0);

/** A raw file's run id: its name without the `-<part>.jsonl.gz` suffix. */
const runOfPath = (path: string): string | undefined => /([^/]+)-[0-9]+\.jsonl(\.gz)?$/.exec(path)?.[1];

/** Per file, the lines of the files before it (from the manifests' line counts). */
function lineOffsets(files: Array<{ records: number }>): number[] {
  const offsets: number[] = [];
  let before = 0;
  for (const f of files) {
    offsets.push(before);
    before += f.records;
  }
  return offsets;
}

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
    const offsets = lineOffsets(files);
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
  const all = streams.flatMap((s) => files[s] ?? []).sort(byPath);
  const number = new Map(all.map((f, i) => [f.path, i]));
  const runs = [...new Set([...all.map((f) => runOfPath(f.path)).filter((r): r is string => !!r), ...streams.flatMap((s) => completeReads[s] ?? [])])].sort();
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
    const offsets = lineOffsets(mine);
    const ranks = mine.map((f) => rank.get(runOfPath(f.path) ?? '') ?? 'NULL');
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
  const lines = all.reduce((n, f) => n + f.records, 0);
  return { ...sql, fileRef, lines, lineFromRowid: `rowid - CAST([${lineOffsets(all).join(', ')}] AS BIGINT[])[__file + 1] + 1` };
}

/**
 * The whole build of a clean table as one streamed statement, for DuckDB's COPY (index.ts): the
 * raw files are read by `read_json` with the declared paths as a typed schema (each leaf as text)
 * instead of as JSON objects that every path is then extracted from, and nothing is materialized
 * between the read and the sorted write. Same renderer, same casts, reasons, dedupe and order as
 * `renderDuckdbBuild`; what differs is only how the raw values are read, and that a row with a
 * reason raises an error instead of going to quarantine. So the statement either writes exactly
 * the rows the judged build would (no row of the data has a reason) or fails, and the build then
 * takes the judged path, which quarantines. It also fails, by design, on every input where the
 * typed read could read a value differently from `json_extract_string`:
 * - a malformed line, a line or value whose JSON type does not fit the paths (an object where a
 *   path needs an array, a string where it needs an object) or an object with a duplicate key:
 *   read_json's own errors (it has no ignore_errors here);
 * - a number read into a text column that DuckDB prints with an exponent (`1e-07`; yyjson, which
 *   `json_extract_string` uses, prints `1e-7`): the only difference a 200,000-number comparison of
 *   the two found, caught by the guard below (a string of that shape takes the judged path too).
 * Lines are numbered per file from the scan (`row_number() OVER ()` over a contiguous batch of
 * files in path order, which DuckDB numbers in scan order) for dedupe's "last delivery wins".
 *
 * `judged` is the same reading up to the judged rows (no dedupe, no write), with `fileRef` giving
 * a file's `__file`.
 *
 * Undefined for a plan it does not cover: more than one source, a root list, explode, latest_per,
 * parents or a filter (the build's row account needs the judged rows for those), a list column, a
 * path with `[]`, a column reading a whole object, or paths that need one key as both a value and
 * an object.
 */
export function renderDuckdbStreamed(
  plan: TablePlan,
  files: Record<string, Array<{ path: string; records: number }>>,
): { select: string; judged: string; fileRef: (path: string) => string } | undefined {
  if (!canRenderLean(plan) || plan.sources.length !== 1 || plan.filter) return undefined;
  const source = plan.sources[0];
  const all = [...(files[source.stream] ?? [])].sort(byPath);
  if (!all.length) return undefined;
  const schema = typedSchema(plan);
  if (!schema) return undefined;

  const runs = [...new Set(all.map((f) => runOfPath(f.path)).filter((r): r is string => !!r))].sort();
  const rank = new Map(runs.map((r, i) => [r, i]));
  // Contiguous batches (about equal in records): each is one single-threaded numbered scan, and
  // DuckDB runs the batches side by side.
  const batches: Array<Array<{ path: string; records: number; number: number }>> = [];
  const total = all.reduce((n, f) => n + f.records, 0);
  const per = Math.max(1, Math.ceil(total / Math.min(STREAM_BATCHES, all.length)));
  let batch: Array<{ path: string; records: number; number: number }> = [];
  let inBatch = 0;
  all.forEach((f, number) => {
    batch.push({ ...f, number });
    inBatch += f.records;
    if (inBatch >= per) {
      batches.push(batch);
      batch = [];
      inBatch = 0;
    }
  });
  if (batch.length) batches.push(batch);

  const index = 'CAST(file_index AS BIGINT)';
  const scans = batches.map((b) => {
    const offsets = lineOffsets(b);
    const list = `[${b.map((f) => literal(f.path)).join(', ')}]`;
    return [
      `SELECT '' AS __rec, CAST(${index} + ${b[0].number} AS INTEGER) AS __file,`,
      `  row_number() OVER () - CAST([${offsets.join(', ')}] AS BIGINT[])[${index} + 1] AS __line,`,
      `  CAST([${b.map((f) => rank.get(runOfPath(f.path) ?? '') ?? 'NULL').join(', ')}] AS INTEGER[])[${index} + 1] AS __run_id,`,
      `  ${schema.values.join(',\n  ')}`,
      `FROM read_json(${list}, format = 'newline_delimited', columns = ${schema.columns}, auto_detect = false, hive_partitioning = false)`,
    ].join('\n');
  });
  const union = scans.join('\nUNION ALL\n');
  // One filter for every text column (cheaper than a CASE per column): the regular expression only
  // runs on the rare value that contains e- or e+.
  const text = schema.text;
  const rawLines = text.length
    ? [
        `SELECT * FROM (\n${union}\n)`,
        `WHERE CASE WHEN (${text.map((v) => `contains(${v}, 'e-') OR contains(${v}, 'e+')`).join(' OR ')})`,
        `  AND (${text.map((v) => `regexp_full_match(${v}, '-?[0-9]+(\\.[0-9]+)?e[-+][0-9]+')`).join(' OR ')})`,
        `  THEN error(${literal(STREAM_REJECTED)}) ELSE true END`,
      ].join('\n')
    : union;
  const reader: SqlDialect = { ...duckdb, readValues: (_plan, raw) => ({ steps: [], last: raw(source.stream) }) };
  const sql = renderTable(plan, reader, {
    rawLines: () => rawLines,
    fileKey: '__file',
    rowsOrder: buildOrder(plan),
    lean: true,
    rejectReasons: STREAM_REJECTED,
  });
  const number = new Map(all.map((f, i) => [f.path, i]));
  return { select: sql.select, judged: sql.judged, fileRef: (path: string) => String(number.get(path) ?? -1) };
}

/** How many numbered scans a streamed build reads its files in (at most). */
const STREAM_BATCHES = 16;
/** The error a streamed build raises on a row with a reason (it then builds the judged way). */
export const STREAM_REJECTED = 'streamed build stopped: a row needs the judged build (it has a reason to be quarantined, or a number read as text)';

type SchemaNode = { kind: 'leaf' } | { kind: 'struct'; fields: Map<string, SchemaNode> } | { kind: 'list'; item?: SchemaNode };

/**
 * read_json's `columns` for the plan's paths (every leaf VARCHAR), each raw value's expression
 * over them, and the raw values (names) of the text columns; undefined when a path cannot be read
 * that way.
 */
function typedSchema(plan: TablePlan): { columns: string; values: string[]; text: string[] } | undefined {
  const root: Extract<SchemaNode, { kind: 'struct' }> = { kind: 'struct', fields: new Map() };
  const make = (kind: SchemaNode['kind']): SchemaNode => (kind === 'leaf' ? { kind } : kind === 'list' ? { kind } : { kind, fields: new Map() });
  // The expression of one path over the scan's columns, its nodes added to the schema.
  const place = (segments: PathSegment[]): string | undefined => {
    // The row itself, a root list or a path with []: the judged path reads those.
    if (!segments.length || segments[0].kind !== 'key' || segments.some((s) => s.kind === 'each')) return undefined;
    // The scan's own columns: a top-level key of that name would shadow them.
    if (['file_index', 'filename'].includes(segments[0].name)) return undefined;
    let node: SchemaNode = root;
    let expr = '';
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i];
      const next = segments[i + 1];
      const want: SchemaNode['kind'] = !next ? 'leaf' : next.kind === 'index' ? 'list' : 'struct';
      let child: SchemaNode | undefined;
      if (s.kind === 'key' && node.kind === 'struct') {
        child = node.fields.get(s.name) ?? make(want);
        node.fields.set(s.name, child);
        expr = i === 0 ? ident(s.name) : `struct_extract(${expr}, ${literal(s.name)})`;
      } else if (s.kind === 'index' && node.kind === 'list') {
        child = node.item ?? make(want);
        node.item = child;
        expr = `${expr}[${s.index + 1}]`;
      } else return undefined;
      // One key cannot be both a value and an object (or a list) for read_json.
      if (child.kind !== want) return undefined;
      node = child;
    }
    return expr;
  };
  const values: string[] = [];
  const text: string[] = [];
  const prefix = plan.sources[0].path.segments;
  for (const c of plan.columns) {
    if (c.kind !== 'path') continue;
    if (c.base !== 'row' || c.collect || readKind(c.type) === 'list') return undefined;
    const at = place([...prefix, ...c.path.segments]);
    if (!at) return undefined;
    values.push(`${at} AS ${ident(rawValueName(c))}`);
    // DuckDB prints a number with an exponent as 1e-07 where json_extract_string prints 1e-7: a
    // text column must keep neither, so such a value leaves the table to the judged build.
    if (readKind(c.type) === 'text') text.push(ident(rawValueName(c)));
    if (c.precision) {
      const p = place([...prefix, ...c.precision.segments]);
      if (!p) return undefined;
      values.push(`${p} AS ${ident(rawPrecisionName(c))}`);
    }
  }
  if (!values.length) return undefined;
  const type = (node: SchemaNode): string => {
    if (node.kind === 'leaf') return 'VARCHAR';
    if (node.kind === 'list') return `${type(node.item ?? { kind: 'leaf' })}[]`;
    return `STRUCT(${[...node.fields].map(([k, v]) => `${ident(k)} ${type(v)}`).join(', ')})`;
  };
  const columns = `{${[...root.fields].map(([k, v]) => `${literal(k)}: ${literal(type(v))}`).join(', ')}}`;
  return { columns, values, text };
}
