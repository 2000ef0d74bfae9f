/**
 * Spark SQL, for the Glue job (glue-jobs/transform_job.py). Raw records are the lines' text;
 * values are read with get_json_object (JSON null = NULL, objects/arrays as JSON text).
 *
 * Meaning kept equal to DuckDB on purpose, where the engines differ by default:
 * - casts that fail give NULL (try_cast) and mark the row for quarantine with the same reasons;
 * - dates and timestamps must start with a full YYYY-M-D (Spark alone would read `1997` as
 *   1997-01-01, which is exactly the guess `precision_from` exists to avoid);
 * - integers round half away from zero through a decimal, as DuckDB does (Spark truncates);
 * - timestamps are TIMESTAMP_NTZ (UTC wall time, as DuckDB's TIMESTAMP): Spark's TIMESTAMP would be
 *   written to Parquet as adjusted to UTC, a different type to every reader of the files;
 * - sort keys put NULLs last explicitly (Spark puts them first for ASC; the renderer writes that).
 */
import { type JsonPath, PathError, concatPaths } from '../paths.ts';
import { type PathColumnPlan, type TablePlan, DATE_PRECISIONS, UNKNOWN_DATES } from '../plan.ts';
import { COLUMN_TYPE_INFO, type ColumnType, readKind } from '../types.ts';
import { type SqlDialect, type Step, rawPrecisionName, rawValueName } from './dialect.ts';

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

const UNKNOWN_DATE_LIST = `(${UNKNOWN_DATES.map(sparkLiteral).join(', ')})`;
/** A full calendar date first: what DuckDB's DATE/TIMESTAMP casts require. */
const FULL_DATE = sparkLiteral('^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T].*)?$');

/** As DuckDB's: the precision is matched in any case (Spotify has sent `DAY` in some years). */
function dateAtPrecision(raw: string, precision: string): string {
  const shape = { year: ['-01-01', 4], month: ['-01', 7], day: ['', 10] } as const;
  const whens = (Object.keys(DATE_PRECISIONS) as (keyof typeof DATE_PRECISIONS)[]).map((p) => {
    const [suffix, length] = shape[p];
    const value = suffix ? `concat(${raw}, ${sparkLiteral(suffix)})` : raw;
    // The length check pins the match: Java's `$` also matches before a trailing newline.
    return `WHEN lower(${precision}) = ${sparkLiteral(p)} AND length(${raw}) = ${length} AND ${raw} RLIKE ${sparkLiteral(`^${DATE_PRECISIONS[p]}$`)} THEN try_cast(${value} AS DATE)`;
  });
  return `CASE WHEN ${raw} IN ${UNKNOWN_DATE_LIST} THEN NULL ${whens.join(' ')} END`;
}

/**
 * Reading: each value is one get_json_object over the line, with the source's root prepended (no
 * re-serialized intermediate objects), per source; root lists and the exploded list are LATERAL VIEWs.
 */
function readValues(plan: TablePlan, raw: (stream: string) => string): { steps: Step[]; last: string } {
  const pathCols = plan.columns.filter((c): c is PathColumnPlan => c.kind === 'path');
  const branches = plan.sources.map((s, i) => {
    const views: string[] = [];
    let base = '__rec';
    const prefix = s.path;
    if (s.eachOf) {
      views.push(`LATERAL VIEW explode(${jsonList('__rec', s.eachOf)}) __each_${i} AS __item`);
      base = '__item';
    }
    if (plan.explode) {
      views.push(`LATERAL VIEW explode(${jsonList(base, concatPaths(prefix, plan.explode))}) __explode_${i} AS __elem`);
    }
    const at = (c: PathColumnPlan, path: JsonPath) => (c.base === 'element' ? jsonText('__elem', path) : jsonText(base, concatPaths(prefix, path)));
    const values = pathCols.flatMap((c) => [
      `${at(c, c.path)} AS ${sparkIdent(rawValueName(c))}`,
      ...(c.precision ? [`${at(c, c.precision)} AS ${sparkIdent(rawPrecisionName(c))}`] : []),
    ]);
    const cols = ['__rec', '__file', '__line', '__run_id', ...values].join(', ');
    return [`SELECT ${cols}`, `FROM ${raw(s.stream)}`, ...views, 'WHERE __rec IS NOT NULL'].join('\n');
  });
  return { steps: [['__values', branches.join('\nUNION ALL\n')]], last: '__values' };
}

const typeName = (t: ColumnType) => COLUMN_TYPE_INFO[t].spark;

function cast(value: string, type: ColumnType): string {
  if (readKind(type) === 'integer') return `try_cast(round(try_cast(${value} AS DECIMAL(38,9))) AS ${typeName(type)})`;
  // A string cast straight to TIMESTAMP_NTZ drops its offset (12:00+02:00 would stay 12:00); as a
  // TIMESTAMP it is converted to the session zone (UTC), then taken as that wall time.
  if (readKind(type) === 'timestamp') return `CAST(try_cast(${value} AS TIMESTAMP) AS ${typeName(type)})`;
  return `try_cast(${value} AS ${typeName(type)})`;
}

export const spark: SqlDialect = {
  name: 'spark',
  ident: sparkIdent,
  literal: sparkLiteral,
  type: typeName,
  readValues,
  readPath(c, raw, precision) {
    if (c.precision) return dateAtPrecision(raw, precision);
    switch (readKind(c.type)) {
      case 'list': {
        const item = c.collect && c.collect.segments.length ? jsonText('__x', c.collect) : '__x';
        return `transform(from_json(${raw}, 'array<string>'), __x -> ${item})`;
      }
      case 'text':
        return raw;
      case 'date':
      case 'timestamp':
        return `CASE WHEN trim(${raw}) RLIKE ${FULL_DATE} THEN ${cast(`trim(${raw})`, c.type)} END`;
      default:
        return cast(raw, c.type);
    }
  },
  cast,
  rawPresent: (_c, raw) => `${raw} IS NOT NULL`,
  rawText: (_c, raw) => `CAST(${raw} AS ${typeName('string')})`,
  jsonText,
  concat: (parts) => `concat(${parts.join(', ')})`,
  array: (items, separator = ', ') => `array(${items.join(separator)})`,
  filterArray: (array, v, condition) => `filter(${array}, ${v} -> ${condition})`,
  size: (array) => `size(${array})`,
  notDistinct: (a, b) => `${a} <=> ${b}`,
  formatDate: (value, as) => `date_format(${value}, ${sparkLiteral({ date: 'yyyy-MM-dd', month: 'yyyy-MM', year: 'yyyy' }[as])})`,
  qualify: (from, window, test, names) => `SELECT * FROM (SELECT *, ${window} AS ${names.column} FROM ${from}) ${names.alias} WHERE ${test(names.column)}`,
  unionByName: false,
  stepRef: sparkIdent,
};
