/**
 * Spark SQL backend: renders the same TablePlan as compile.ts (DuckDB) for the Glue job
 * (glue-jobs/transform_job.py), so the table means the same thing at Spark scale.
 *
 * Input: a temp view of raw lines, one row per line of every committed raw file of the table's
 * streams, with the columns
 *   value    string  the JSON line as written
 *   _file    string  lake key of the file (raw/<stream>/dt=<ingest date>/<run>-<part>.jsonl.gz)
 *   _line    bigint  1-based line number within the file
 *   _run_id  string  run id of the manifest that lists the file
 *   _stream  string  stream of the file
 * The job builds that view from the run manifests (only committed files are visible).
 *
 * Meaning kept equal to DuckDB on purpose, where the engines differ by default:
 * - values are read with get_json_object (JSON null = NULL, objects/arrays as JSON text);
 * - casts that fail give NULL (try_cast) and mark the row for quarantine with the same reasons;
 * - dates and timestamps must start with a full YYYY-M-D (Spark alone would read `1997` as
 *   1997-01-01, which is exactly the guess `precision_from` exists to avoid);
 * - int/bigint round half away from zero through a decimal, as DuckDB does (Spark truncates);
 * - sort keys put NULLs last explicitly (Spark puts them first for ASC).
 */
import { withClause } from './sqltext.ts';
import { type JsonPath, PathError, concatPaths } from './paths.ts';
import { type ColumnPlan, DATE_PRECISIONS, type OrderKey, type PartitionPlan, type TablePlan, UNKNOWN_DATES } from './plan.ts';
import { COLUMN_TYPE_INFO, type ColumnType } from './types.ts';

const sparkType = (t: ColumnType) => COLUMN_TYPE_INFO[t].spark;

/** The temp view the Glue job registers (see the file comment for its columns). */
export const RAW_VIEW = 'raw_lines';

export interface SparkTable {
  /**
   * The table's rows: stored columns, partition columns (strings, named as the folders), then
   * `_source_run_id` (the run that delivered the row; the job uses it to find the partitions a run
   * touched and drops it before writing).
   */
  select: string;
  /** Rejected rows: table, reasons, file, line, source_run_id, record (the raw JSON line). */
  quarantine: string;
  /**
   * The same two split at their shared part, so the job parses the JSON once: run `judged`, keep it
   * as the temp view `__judged` (persisted), then run `fromJudged.*` over it.
   */
  judged: string;
  fromJudged: { select: string; quarantine: string };
}

export function sparkIdent(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

/** Spark string literals take backslash escapes (a doubled quote is two adjacent literals). */
export function sparkLiteral(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'").replaceAll('\n', '\\n').replaceAll('\r', '\\r')}'`;
}

/** A JSONPath as Spark's get_json_object accepts it: `$.a[0]['b c']`. */
export function sparkJsonPath(path: JsonPath): string {
  let out = '$';
  for (const s of path.segments) {
    if (s.kind === 'index') out += `[${s.index}]`;
    else if (s.kind === 'each') throw new PathError(path.text, '[] cannot be rendered as a single JSON path');
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(s.name)) out += `.${s.name}`;
    else if (s.name.includes("'") || s.name.includes(']')) throw new PathError(path.text, "keys may not contain ' or ] in Spark paths");
    else out += `['${s.name}']`;
  }
  return out;
}

/** Text of the value at `path` in the JSON text `base` (scalars unquoted, objects/arrays as JSON). */
function jsonText(base: string, path: JsonPath): string {
  return path.segments.length === 0 ? base : `get_json_object(${base}, ${sparkLiteral(sparkJsonPath(path))})`;
}

/** The elements of the array at `path` as JSON texts; NULL (no rows when exploded) when not an array. */
function jsonList(base: string, path: JsonPath): string {
  return `from_json(${jsonText(base, path)}, 'array<string>')`;
}

const NEWEST_FIRST = '__run_id DESC NULLS LAST, __file DESC, __line DESC';
const UNKNOWN_DATE_LIST = `(${UNKNOWN_DATES.map(sparkLiteral).join(', ')})`;
/** A full calendar date first: what DuckDB's DATE/TIMESTAMP casts require. */
const FULL_DATE = sparkLiteral('^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T].*)?$');

const rawCol = (c: ColumnPlan) => sparkIdent(`__raw_${c.name}`);
const precisionCol = (c: ColumnPlan) => sparkIdent(`__rawp_${c.name}`);

function dateAtPrecision(raw: string, precision: string): string {
  const shape = { year: ['-01-01', 4], month: ['-01', 7], day: ['', 10] } as const;
  const whens = (Object.keys(DATE_PRECISIONS) as (keyof typeof DATE_PRECISIONS)[]).map((p) => {
    const [suffix, length] = shape[p];
    const value = suffix ? `concat(${raw}, ${sparkLiteral(suffix)})` : raw;
    // The length check pins the match: Java's `$` also matches before a trailing newline.
    return `WHEN ${precision} = ${sparkLiteral(p)} AND length(${raw}) = ${length} AND ${raw} RLIKE ${sparkLiteral(`^${DATE_PRECISIONS[p]}$`)} THEN try_cast(${value} AS DATE)`;
  });
  return `CASE WHEN ${raw} IN ${UNKNOWN_DATE_LIST} THEN NULL ${whens.join(' ')} END`;
}

function typedValue(col: ColumnPlan, raw: string): string {
  if (col.kind === 'path' && col.precision) return dateAtPrecision(raw, precisionCol(col));
  if (col.kind === 'path' && col.type === 'array<string>') {
    const item = col.collect && col.collect.segments.length ? jsonText('__x', col.collect) : '__x';
    return `transform(from_json(${raw}, 'array<string>'), __x -> ${item})`;
  }
  if (col.kind === 'path' && col.type === 'string') return raw;
  switch (col.type) {
    case 'date':
    case 'timestamp':
      if (col.kind === 'sql') return `try_cast(${raw} AS ${sparkType(col.type)})`;
      return `CASE WHEN trim(${raw}) RLIKE ${FULL_DATE} THEN try_cast(trim(${raw}) AS ${sparkType(col.type)}) END`;
    case 'int':
    case 'bigint':
      return `try_cast(round(try_cast(${raw} AS DECIMAL(38,9))) AS ${sparkType(col.type)})`;
    default:
      return `try_cast(${raw} AS ${sparkType(col.type)})`;
  }
}

function present(col: ColumnPlan, raw: string): string {
  if (col.kind === 'path' && col.precision) return `(${raw} IS NOT NULL AND ${raw} NOT IN ${UNKNOWN_DATE_LIST})`;
  return `${raw} IS NOT NULL`;
}

function reason(col: ColumnPlan): string | undefined {
  const raw = rawCol(col);
  const name = sparkIdent(col.name);
  const parts: string[] = [];
  if (!(col.kind === 'path' && col.type === 'string')) {
    const shown = `left(CAST(${raw} AS STRING), 200)`;
    const as =
      col.kind === 'path' && col.precision
        ? `${sparkLiteral(' as date of precision ')}, coalesce(${precisionCol(col)}, '(none)')`
        : sparkLiteral(` as ${col.type}`);
    parts.push(`WHEN ${name} IS NULL AND ${present(col, raw)} THEN concat(${sparkLiteral(`${col.name}: cannot read `)}, ${shown}, ${as})`);
  }
  if (col.required) parts.push(`WHEN ${name} IS NULL THEN ${sparkLiteral(`${col.name}: required value is missing`)}`);
  return parts.length ? `CASE ${parts.join(' ')} END` : undefined;
}

function partitionValue(p: PartitionPlan): string {
  const col = sparkIdent(p.from);
  switch (p.as) {
    case 'date':
      return `date_format(${col}, 'yyyy-MM-dd')`;
    case 'month':
      return `date_format(${col}, 'yyyy-MM')`;
    case 'year':
      return `date_format(${col}, 'yyyy')`;
    default:
      // NULL (and an empty string, which Spark writes the same way) is <name>=__HIVE_DEFAULT_PARTITION__.
      return `nullif(CAST(${col} AS STRING), '')`;
  }
}

function orderBy(keys: OrderKey[]): string {
  return keys.map((k) => `${sparkIdent(k.column)} ${k.desc ? 'DESC' : 'ASC'} NULLS LAST`).join(', ');
}

export function renderSpark(plan: TablePlan, inputView: string = RAW_VIEW): SparkTable {
  const ctes: [string, string][] = [];
  const streams = [...new Set(plan.sources.map((s) => s.stream))];
  const rawName = (stream: string) => `__raw_${streams.indexOf(stream)}`;
  for (const stream of streams) {
    // A line that is not JSON gets a NULL record (quarantined below), as in DuckDB.
    ctes.push([
      rawName(stream),
      [
        `SELECT CASE WHEN get_json_object(value, '$') IS NOT NULL THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id`,
        `FROM ${sparkIdent(inputView)} WHERE _stream = ${sparkLiteral(stream)}`,
      ].join('\n'),
    ]);
  }

  // Raw values of the path columns, read per source with the source's root prepended, so each
  // value is one get_json_object over the line (no re-serialized intermediate objects).
  const pathCols = plan.columns.filter((c): c is ColumnPlan & { kind: 'path' } => c.kind === 'path');
  const branches = plan.sources.map((s, i) => {
    const views: string[] = [];
    let base = '__rec';
    let prefix = s.path;
    if (s.eachOf) {
      views.push(`LATERAL VIEW explode(${jsonList('__rec', s.eachOf)}) __each_${i} AS __item`);
      base = '__item';
    }
    if (plan.explode) {
      views.push(`LATERAL VIEW explode(${jsonList(base, concatPaths(prefix, plan.explode))}) __explode_${i} AS __elem`);
    }
    const at = (c: ColumnPlan & { kind: 'path' }, path: JsonPath) =>
      c.base === 'element' ? jsonText('__elem', path) : jsonText(base, concatPaths(prefix, path));
    const values = pathCols.flatMap((c) => [
      `${at(c, c.path)} AS ${rawCol(c)}`,
      ...(c.precision ? [`${at(c, c.precision)} AS ${precisionCol(c)}`] : []),
    ]);
    const cols = ['__rec', '__file', '__line', '__run_id', ...values].join(', ');
    return [`SELECT ${cols}`, `FROM ${sparkIdent(rawName(s.stream))}`, ...views, 'WHERE __rec IS NOT NULL'].join('\n');
  });
  ctes.push(['__values', branches.join('\nUNION ALL\n')]);

  let prev = '__values';
  if (pathCols.length) {
    ctes.push(['__typed', `SELECT *, ${pathCols.map((c) => `${typedValue(c, rawCol(c))} AS ${sparkIdent(c.name)}`).join(', ')} FROM ${prev}`]);
    prev = '__typed';
  }
  plan.columns.forEach((c, i) => {
    if (c.kind !== 'sql') return;
    ctes.push([`__derived_${i}`, `SELECT *, (${c.sql}) AS ${rawCol(c)} FROM ${sparkIdent(prev)}`]);
    ctes.push([`__derived_${i}_typed`, `SELECT *, ${typedValue(c, rawCol(c))} AS ${sparkIdent(c.name)} FROM ${sparkIdent(`__derived_${i}`)}`]);
    prev = `__derived_${i}_typed`;
  });

  const reasons = plan.columns.map(reason).filter((r): r is string => !!r);
  const reasonList = reasons.length
    ? `filter(array(${reasons.join(',\n    ')}), __r -> __r IS NOT NULL)`
    : 'CAST(array() AS ARRAY<STRING>)';
  ctes.push(['__checked', `SELECT *,\n  ${reasonList} AS __reasons\nFROM ${sparkIdent(prev)}`]);

  let judgedFrom = '__checked';
  if (plan.latestPer.length) {
    const by = plan.latestPer.map(sparkIdent).join(', ');
    ctes.push([
      '__latest',
      `SELECT * FROM (SELECT *, max(__run_id) OVER (PARTITION BY ${by}) AS __newest_run FROM __checked) __l WHERE __run_id <=> __newest_run`,
    ]);
    judgedFrom = '__latest';
  }

  const columnList = plan.columns.map((c) => sparkIdent(c.name)).join(', ');
  const judged = [
    `SELECT ${columnList}, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM ${sparkIdent(judgedFrom)}`,
    ...streams.map(
      (s) =>
        `SELECT ${plan.columns.map((c) => `CAST(NULL AS ${sparkType(c.type)}) AS ${sparkIdent(c.name)}`).join(', ')}, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM ${sparkIdent(rawName(s))} WHERE __rec IS NULL`,
    ),
  ].join('\nUNION ALL\n');

  const filter = plan.filter ? `(${plan.filter})` : undefined;
  const tail: [string, string][] = [['__kept', `SELECT * FROM __judged WHERE size(__reasons) = 0${filter ? ` AND ${filter}` : ''}`]];
  let last = '__kept';
  if (plan.dedupe) {
    const by = plan.dedupe.key.map(sparkIdent).join(', ');
    const order = plan.dedupe.orderBy ? `${orderBy(plan.dedupe.orderBy)}, ${NEWEST_FIRST}` : NEWEST_FIRST;
    tail.push([
      '__deduped',
      `SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY ${by} ORDER BY ${order}) AS __rn FROM __kept) __d WHERE __rn = 1`,
    ]);
    last = '__deduped';
  }
  const outputs = [
    ...plan.storedColumns.map(sparkIdent),
    ...plan.partitions.map((p) => `${partitionValue(p)} AS ${sparkIdent(p.name)}`),
    '__run_id AS _source_run_id',
  ];
  const selectTail = `SELECT ${outputs.join(', ')}\nFROM ${sparkIdent(last)}`;
  const quarantineTail = [
    `SELECT ${sparkLiteral(plan.table)} AS \`table\`, __reasons AS reasons, __file AS file, __line AS line, __run_id AS source_run_id, __rec AS record`,
    `FROM __judged WHERE size(__reasons) > 0${filter ? ` AND (__malformed OR ${filter} IS NOT FALSE)` : ''}`,
  ].join('\n');
  const shared: [string, string][] = [...ctes, ['__judged', judged]];
  return {
    select: `${withClause([...shared, ...tail], sparkIdent)}\n${selectTail}`,
    quarantine: `${withClause(shared, sparkIdent)}\n${quarantineTail}`,
    judged: `${withClause(ctes, sparkIdent)}\n${judged}`,
    fromJudged: { select: `${withClause(tail, sparkIdent)}\n${selectTail}`, quarantine: quarantineTail },
  };
}

