/**
 * DuckDB, the local engine. Raw records are JSON values (read_json_objects, no schema inference:
 * records are messy, and inference over thousands of files would be slow and fail on the first
 * surprise). Every value is pulled by path and TRY_CAST, so a bad value marks its row instead of
 * failing the whole table.
 */
import { type JsonPath, toJsonPathString } from '../paths.ts';
import { type ColumnPlan, type PathColumnPlan, type SourcePlan, type TablePlan, DATE_PRECISIONS, UNKNOWN_DATES } from '../plan.ts';
import { COLUMN_TYPE_INFO, type ColumnType, readKind } from '../types.ts';
import { type SqlDialect, type Step, rawPrecisionName, rawValueName } from './dialect.ts';

export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
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

/**
 * The row objects (`__row`) of one source, read from the relation `from` (raw lines). A malformed
 * line (NULL __rec) is left out, or kept as a row of NULLs with `keepMalformed` (no root list only).
 */
export function sourceRows(s: SourcePlan, from: string, keepMalformed = false): string {
  if (!s.eachOf) {
    return `SELECT __rec, __file, __line, __run_id, ${jsonAt('__rec', s.path)} AS __row FROM ${from}${keepMalformed ? '' : ' WHERE __rec IS NOT NULL'}`;
  }
  return `SELECT __rec, __file, __line, __run_id, ${jsonAt('__item', s.path)} AS __row FROM (SELECT *, unnest(${jsonList('__rec', s.eachOf)}) AS __item FROM ${from} WHERE __rec IS NOT NULL)`;
}

/** List columns keep their raw value as JSON (to tell a list from a JSON null); others as text. */
const readsJson = (c: ColumnPlan) => c.kind === 'path' && readKind(c.type) === 'list';

const UNKNOWN_DATE_LIST = `(${UNKNOWN_DATES.map(literal).join(', ')})`;

/**
 * The first day of the period `raw` names at precision `precision` (both strings; the precision in
 * any case, as Spotify has sent `DAY` in some years); NULL when it does not fit.
 */
function dateAtPrecision(raw: string, precision: string): string {
  const suffix = { year: "'-01-01'", month: "'-01'", day: "''" } as const;
  const whens = (Object.keys(DATE_PRECISIONS) as (keyof typeof DATE_PRECISIONS)[]).map(
    (p) => `WHEN lower(${precision}) = ${literal(p)} AND regexp_full_match(${raw}, ${literal(DATE_PRECISIONS[p])}) THEN TRY_CAST(${raw} || ${suffix[p]} AS DATE)`,
  );
  return `CASE WHEN ${raw} IN ${UNKNOWN_DATE_LIST} THEN NULL ${whens.join(' ')} END`;
}

/** Reading: one row object per record (or root element), the explode, then every path at once. */
function readValues(plan: TablePlan, raw: (stream: string) => string, opts: { keepMalformed?: boolean } = {}): { steps: Step[]; last: string } {
  const steps: Step[] = [];
  // One row object per record (or per element of a root array), unioned over the sources.
  steps.push(['__rows', plan.sources.map((s) => sourceRows(s, raw(s.stream), opts.keepMalformed)).join('\nUNION ALL\n')]);
  let prev = '__rows';
  if (plan.explode) {
    // unnest of NULL or [] yields no row: records without the array contribute nothing.
    steps.push(['__exploded', `SELECT *, unnest(${jsonList('__row', plan.explode)}) AS __elem FROM __rows`]);
    prev = '__exploded';
  }
  const pathCols = plan.columns.filter((c): c is PathColumnPlan => c.kind === 'path');
  if (!pathCols.length) return { steps, last: prev };
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
      `${read(base, c.path, readsJson(c))} AS ${ident(rawValueName(c))}`,
      ...(c.precision ? [`${read(base, c.precision, false)} AS ${ident(rawPrecisionName(c))}`] : []),
    ];
  });
  const extracts = [...lists].map(([name, l]) => `${l.fn}(${l.base}, [${l.paths.map(literal).join(', ')}]) AS ${name}`);
  if (extracts.length) {
    steps.push(['__extracted', `SELECT *, ${extracts.join(', ')} FROM ${prev}`]);
    prev = '__extracted';
  }
  steps.push(['__values', `SELECT *, ${values.join(', ')} FROM ${prev}`]);
  return { steps, last: '__values' };
}

function cast(value: string, type: ColumnType): string {
  // Timestamps are stored as UTC wall time (TIMESTAMP, as Athena expects); an ISO string with an
  // offset (Spotify's `...Z`) is converted to UTC, one without is taken as UTC (session TimeZone).
  if (readKind(type) === 'timestamp') return `timezone('UTC', TRY_CAST(${value} AS TIMESTAMPTZ))`;
  return `TRY_CAST(${value} AS ${COLUMN_TYPE_INFO[type].duckdb})`;
}

export const duckdb: SqlDialect = {
  name: 'duckdb',
  ident,
  literal,
  type: (t) => COLUMN_TYPE_INFO[t].duckdb,
  readValues,
  readPath(c, raw, precision) {
    if (c.precision) return dateAtPrecision(raw, precision);
    switch (readKind(c.type)) {
      case 'list': {
        const item = c.collect ?? { text: '', segments: [] };
        return `CASE WHEN json_type(${raw}) = 'ARRAY' THEN list_transform(CAST(${raw} AS JSON[]), lambda __x: ${jsonText('__x', item)}) END`;
      }
      case 'text':
        return raw;
      default:
        return cast(raw, c.type);
    }
  },
  cast,
  rawPresent: (c, raw) => (readsJson(c) ? `(${raw} IS NOT NULL AND json_type(${raw}) <> 'NULL')` : `${raw} IS NOT NULL`),
  // A JSON value (list columns) is shown as the other engines show it: strings unquoted.
  rawText: (c, raw) => (readsJson(c) ? `json_extract_string(${raw}, '$')` : `CAST(${raw} AS ${COLUMN_TYPE_INFO.string.duckdb})`),
  jsonText,
  concat: (parts) => parts.join(' || '),
  array: (items, separator = ', ') => `[${items.join(separator)}]`,
  filterArray: (array, v, condition) => `list_filter(${array}, lambda ${v}: ${condition})`,
  size: (array) => `len(${array})`,
  notDistinct: (a, b) => `${a} IS NOT DISTINCT FROM ${b}`,
  formatDate: (value, as) => `strftime(${value}, ${literal({ date: '%Y-%m-%d', month: '%Y-%m', year: '%Y' }[as])})`,
  qualify: (from, window, test) => `SELECT * FROM ${from} QUALIFY ${test(window)}`,
  unionByName: true,
  stepRef: (name) => name,
};
