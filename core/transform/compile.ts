/**
 * DuckDB backend: renders a TablePlan (plan.ts) into two standalone SQL queries over the raw
 * JSON Lines files, one for the table's rows and one for the rows that go to quarantine.
 *
 * Raw records are read with read_json_objects, i.e. as JSON values without schema inference:
 * records are messy (missing keys, nulls, type drift) and inference over thousands of files would
 * both be slow and fail on the first surprise. Every value is pulled by path and TRY_CAST, so a
 * bad value marks its row instead of failing the whole table.
 */
import { withClause } from './sqltext.ts';
import type { TableSpec } from '../config/types.ts';
import { type JsonPath, toJsonPathString } from './paths.ts';
import { type ColumnPlan, DATE_PRECISIONS, type OrderKey, type PartitionPlan, type SourcePlan, type TablePlan, UNKNOWN_DATES, planTable } from './plan.ts';
import { COLUMN_TYPE_INFO } from './types.ts';

export interface CompiledTable {
  /** The table's rows: stored columns, then partition columns (as strings). */
  select: string;
  /** Rows rejected by a cast, a required column or malformed JSON: table, reasons, file, line, source_run_id, record. */
  quarantine: string;
  /**
   * The same two split at their shared part, so a builder can run the expensive JSON work once:
   * materialize `judged` as a relation named `__judged`, then run `fromJudged.*` over it.
   */
  judged: string;
  fromJudged: { select: string; quarantine: string };
}

export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

export function compileTable(name: string, spec: TableSpec, sources: Record<string, RawFileRef[]>): CompiledTable {
  return renderDuckdb(planTable(name, spec), sources);
}

/** JSON value at `path` inside the JSON expression `base` (`base` itself for the empty path). */
function jsonAt(base: string, path: JsonPath): string {
  return path.segments.length === 0 ? base : `json_extract(${base}, ${literal(toJsonPathString(path))})`;
}

/** The array at `path` as a list of JSON values; NULL (so unnest yields no row) when not an array. */
function jsonList(base: string, path: JsonPath): string {
  const v = jsonAt(base, path);
  return `CASE WHEN json_type(${v}) = 'ARRAY' THEN CAST(${v} AS JSON[]) END`;
}

/** Text of a scalar (JSON null -> SQL NULL), or the JSON text of an object/array. */
function jsonText(base: string, path: JsonPath): string {
  return `json_extract_string(${base}, ${literal(toJsonPathString(path))})`;
}

/** The file a line came from, as a lake key (`raw/<stream>/dt=.../<file>`), for quarantine. */
const FILE_KEY = `coalesce(nullif(regexp_extract(__file, '(raw/[^/]+/[^/]+/[^/]+)$', 1), ''), __file)`;
/** Run id = the file name without its `-<part>.jsonl.gz` suffix; run ids sort by time. */
const RUN_ID = `nullif(regexp_extract(__file, '([^/]+)-[0-9]+\\.jsonl(\\.gz)?$', 1), '')`;
/** Newest run first, then the latest file part and line: "the last delivery wins". */
const NEWEST_FIRST = '__run_id DESC NULLS LAST, __file DESC, __line DESC';

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

/** The row objects (`__row`) of one source, read from the relation `from` (a rawStream). */
export function sourceRows(s: SourcePlan, from: string): string {
  if (!s.eachOf) {
    return `SELECT __rec, __file, __line, __run_id, ${jsonAt('__rec', s.path)} AS __row FROM ${from} WHERE __rec IS NOT NULL`;
  }
  return `SELECT __rec, __file, __line, __run_id, ${jsonAt('__item', s.path)} AS __row FROM (SELECT *, unnest(${jsonList('__rec', s.eachOf)}) AS __item FROM ${from} WHERE __rec IS NOT NULL)`;
}

const UNKNOWN_DATE_LIST = `(${UNKNOWN_DATES.map(literal).join(', ')})`;

/** The first day of the period `raw` names at precision `precision` (both strings); NULL when it does not fit. */
function dateAtPrecision(raw: string, precision: string): string {
  const suffix = { year: "'-01-01'", month: "'-01'", day: "''" } as const;
  const whens = (Object.keys(DATE_PRECISIONS) as (keyof typeof DATE_PRECISIONS)[]).map(
    (p) => `WHEN ${precision} = ${literal(p)} AND regexp_full_match(${raw}, ${literal(DATE_PRECISIONS[p])}) THEN TRY_CAST(${raw} || ${suffix[p]} AS DATE)`,
  );
  return `CASE WHEN ${raw} IN ${UNKNOWN_DATE_LIST} THEN NULL ${whens.join(' ')} END`;
}

/** Raw precision column of a `precision_from` date column. */
const precisionCol = (c: ColumnPlan) => ident(`__rawp_${c.name}`);

/** Typed value from the raw value column `raw`. */
function typedValue(col: ColumnPlan, raw: string): string {
  if (col.kind === 'path' && col.precision) return dateAtPrecision(raw, precisionCol(col));
  if (col.kind === 'path' && col.type === 'array<string>') {
    const item = col.collect ?? { text: '', segments: [] };
    return `CASE WHEN json_type(${raw}) = 'ARRAY' THEN list_transform(CAST(${raw} AS JSON[]), lambda __x: ${jsonText('__x', item)}) END`;
  }
  if (col.kind === 'path' && col.type === 'string') return raw;
  // Timestamps are stored as UTC wall time (TIMESTAMP, as Athena expects); an ISO string with an
  // offset (Spotify's `...Z`) is converted to UTC, one without is taken as UTC (session TimeZone).
  if (col.type === 'timestamp') return `timezone('UTC', TRY_CAST(${raw} AS TIMESTAMPTZ))`;
  return `TRY_CAST(${raw} AS ${COLUMN_TYPE_INFO[col.type].duckdb})`;
}

/** Whether the raw value was there at all (JSON null, and an unknown-date placeholder, count as absent). */
function present(col: ColumnPlan, raw: string): string {
  if (col.kind === 'path' && col.precision) return `(${raw} IS NOT NULL AND ${raw} NOT IN ${UNKNOWN_DATE_LIST})`;
  return col.kind === 'path' && col.type === 'array<string>'
    ? `(${raw} IS NOT NULL AND json_type(${raw}) <> 'NULL')`
    : `${raw} IS NOT NULL`;
}

function reason(col: ColumnPlan, raw: string): string | undefined {
  const name = ident(col.name);
  const parts: string[] = [];
  const canFail = !(col.kind === 'path' && col.type === 'string');
  if (canFail) {
    // A JSON value (list columns) is shown as the other engines show it: strings unquoted.
    const text = col.kind === 'path' && col.type === 'array<string>' ? `json_extract_string(${raw}, '$')` : `CAST(${raw} AS VARCHAR)`;
    const shown = `left(${text}, 200)`;
    const as =
      col.kind === 'path' && col.precision
        ? `${literal(' as date of precision ')} || coalesce(${precisionCol(col)}, '(none)')`
        : literal(` as ${col.type}`);
    parts.push(`WHEN ${name} IS NULL AND ${present(col, raw)} THEN ${literal(`${col.name}: cannot read `)} || ${shown} || ${as}`);
  }
  if (col.required) parts.push(`WHEN ${name} IS NULL THEN ${literal(`${col.name}: required value is missing`)}`);
  return parts.length ? `CASE ${parts.join(' ')} END` : undefined;
}

/** NULLS LAST either way: a row without the value never wins (DuckDB and Spark differ in defaults). */
export function orderBy(keys: OrderKey[], quote: (name: string) => string = ident): string {
  return keys.map((k) => `${quote(k.column)} ${k.desc ? 'DESC' : 'ASC'} NULLS LAST`).join(', ');
}

function partitionValue(p: PartitionPlan): string {
  const col = ident(p.from);
  switch (p.as) {
    case 'date':
      return `strftime(${col}, '%Y-%m-%d')`;
    case 'month':
      return `strftime(${col}, '%Y-%m')`;
    case 'year':
      return `strftime(${col}, '%Y')`;
    default:
      // NULL stays NULL: DuckDB writes it as <name>=__HIVE_DEFAULT_PARTITION__ (Hive's convention).
      // An empty string is NULL too, as Spark and Hive write it (a folder `name=` reads back oddly).
      return `nullif(CAST(${col} AS VARCHAR), '')`;
  }
}

export function renderDuckdb(plan: TablePlan, files: Record<string, RawFileRef[]>): CompiledTable {
  const ctes: [string, string][] = [];
  const streams = [...new Set(plan.sources.map((s) => s.stream))];
  const rawName = (stream: string) => `__raw_${streams.indexOf(stream)}`;
  const byPath = (a: RawFileRef, b: RawFileRef) => (refPath(a) < refPath(b) ? -1 : refPath(a) > refPath(b) ? 1 : 0);
  for (const stream of streams) ctes.push([rawName(stream), rawStream([...(files[stream] ?? [])].sort(byPath))]);

  // One row object per record (or per element of a root array), unioned over the sources.
  const rowSelects = plan.sources.map((s) => sourceRows(s, ident(rawName(s.stream))));
  ctes.push(['__rows', rowSelects.join('\nUNION ALL\n')]);

  let prev = '__rows';
  if (plan.explode) {
    // unnest of NULL or [] yields no row: records without the array contribute nothing.
    ctes.push(['__exploded', `SELECT *, unnest(${jsonList('__row', plan.explode)}) AS __elem FROM __rows`]);
    prev = '__exploded';
  }

  // Raw values of all path columns, then their casts; derived columns follow in declaration order,
  // each in its own step because it may use the columns declared before it.
  const rawCol = (c: ColumnPlan) => ident(`__raw_${c.name}`);
  const pathCols = plan.columns.filter((c): c is ColumnPlan & { kind: 'path' } => c.kind === 'path');
  if (pathCols.length) {
    // Every path of one base is read in a single json_extract call with a list of paths: DuckDB's
    // JSON is text, and one call per column would parse each record once per column.
    const lists = new Map<string, { fn: string; base: string; paths: string[] }>();
    const read = (base: string, path: JsonPath, json: boolean): string => {
      if (path.segments.length === 0 && json) return base;
      const name = `__${json ? 'json' : 'text'}${base}`;
      const list = lists.get(name) ?? { fn: json ? 'json_extract' : 'json_extract_string', base, paths: [] };
      lists.set(name, list);
      const at = toJsonPathString(path);
      if (!list.paths.includes(at)) list.paths.push(at);
      return `${name}[${list.paths.indexOf(at) + 1}]`;
    };
    const values = pathCols.flatMap((c) => {
      const base = c.base === 'element' ? '__elem' : '__row';
      return [
        `${read(base, c.path, c.type === 'array<string>')} AS ${rawCol(c)}`,
        ...(c.precision ? [`${read(base, c.precision, false)} AS ${precisionCol(c)}`] : []),
      ];
    });
    const extracts = [...lists].map(([name, l]) => `${l.fn}(${l.base}, [${l.paths.map(literal).join(', ')}]) AS ${name}`);
    if (extracts.length) {
      ctes.push(['__extracted', `SELECT *, ${extracts.join(', ')} FROM ${prev}`]);
      prev = '__extracted';
    }
    ctes.push(['__values', `SELECT *, ${values.join(', ')} FROM ${prev}`]);
    ctes.push(['__typed', `SELECT *, ${pathCols.map((c) => `${typedValue(c, rawCol(c))} AS ${ident(c.name)}`).join(', ')} FROM __values`]);
    prev = '__typed';
  }
  plan.columns.forEach((c, i) => {
    if (c.kind !== 'sql') return;
    ctes.push([`__derived_${i}`, `SELECT *, (${c.sql}) AS ${rawCol(c)} FROM ${prev}`]);
    ctes.push([`__derived_${i}_typed`, `SELECT *, ${typedValue(c, rawCol(c))} AS ${ident(c.name)} FROM __derived_${i}`]);
    prev = `__derived_${i}_typed`;
  });

  const reasons = plan.columns.map((c) => reason(c, rawCol(c))).filter((r): r is string => !!r);
  const reasonList = reasons.length
    ? `list_filter([${reasons.join(',\n    ')}], lambda __r: __r IS NOT NULL)`
    : `CAST([] AS VARCHAR[])`;
  ctes.push(['__checked', `SELECT *,\n  ${reasonList} AS __reasons\nFROM ${prev}`]);

  // latest_per: a value (e.g. a playlist id) belongs to the newest run that delivered it; older
  // runs' rows for it are superseded entirely, even rows the newer run no longer contains.
  let judgedFrom = '__checked';
  if (plan.latestPer.length) {
    const by = plan.latestPer.map(ident).join(', ');
    ctes.push(['__latest', `SELECT * FROM __checked QUALIFY __run_id IS NOT DISTINCT FROM max(__run_id) OVER (PARTITION BY ${by})`]);
    judgedFrom = '__latest';
  }

  // Every candidate row with its reasons, plus malformed lines: the part both queries share.
  // Only what later steps need is kept; the raw record only for bad rows (quarantine shows it).
  const meta = '__reasons, __file, __line, __run_id';
  const judgedParts = [
    `SELECT ${plan.columns.map((c) => ident(c.name)).join(', ')}, ${meta}, CASE WHEN len(__reasons) > 0 THEN __rec END AS __rec FROM ${ident(judgedFrom)}`,
    ...streams.map(
      (s) => `SELECT ['record: malformed JSON line'] AS __reasons, __file, __line, __run_id, __rec, true AS __malformed FROM ${ident(rawName(s))} WHERE __rec IS NULL`,
    ),
  ];
  const judgedSql = judgedParts.join('\nUNION ALL BY NAME\n');

  const filter = plan.filter ? `(${plan.filter})` : undefined;
  // Bad rows never reach dedupe, so an older good delivery of a key wins over a newer bad one.
  const tail: [string, string][] = [
    ['__kept', `SELECT * FROM __judged WHERE len(__reasons) = 0${filter ? ` AND ${filter}` : ''}`],
  ];
  let last = '__kept';
  if (plan.dedupe) {
    const by = plan.dedupe.key.map(ident).join(', ');
    const order = plan.dedupe.orderBy ? `${orderBy(plan.dedupe.orderBy)}, ${NEWEST_FIRST}` : NEWEST_FIRST;
    tail.push(['__deduped', `SELECT * FROM __kept QUALIFY row_number() OVER (PARTITION BY ${by} ORDER BY ${order}) = 1`]);
    last = '__deduped';
  }
  const outputs = [
    ...plan.storedColumns.map(ident),
    ...plan.partitions.map((p) => `${partitionValue(p)} AS ${ident(p.name)}`),
  ];
  // ORDER BY ALL makes the written files byte-stable across reruns of the same raw data.
  const selectTail = `SELECT ${outputs.join(', ')}\nFROM ${ident(last)}\nORDER BY ALL`;

  // A row the filter drops on purpose is not an error; one it cannot judge (NULL) still is.
  const quarantineTail = [
    `SELECT ${literal(plan.table)} AS "table", __reasons AS reasons, ${FILE_KEY} AS file, __line AS line, __run_id AS source_run_id, __rec AS record`,
    `FROM __judged WHERE len(__reasons) > 0${filter ? ` AND (__malformed IS TRUE OR ${filter} IS NOT FALSE)` : ''}`,
    'ORDER BY file, line, reasons',
  ].join('\n');

  const shared: [string, string][] = [...ctes, ['__judged', judgedSql]];
  return {
    select: `${withClause([...shared, ...tail], ident)}\n${selectTail}`,
    quarantine: `${withClause(shared, ident)}\n${quarantineTail}`,
    judged: `${withClause(ctes, ident)}\n${judgedSql}`,
    fromJudged: { select: `${withClause(tail, ident)}\n${selectTail}`, quarantine: quarantineTail },
  };
}

