/**
 * The column plan of a curated table: a TableSpec validated and resolved into a
 * backend-neutral object. Everything a table becomes is rendered from this plan: DuckDB SQL and
 * Spark SQL (render.ts, a dialect each), the Glue catalog table and Athena DDL (catalog.ts), the
 * local query views and the table docs (docs.ts). None of them reads the YAML-shaped spec or
 * re-parses paths, so they cannot drift in meaning.
 */
import type { ColumnSpec, PartitionSpec, TableSpec } from '../config/types.ts';
import { COLUMN_TYPES, type ColumnType, isColumnType, readKind } from './types.ts';
import { type JsonPath, PathError, countEach, formatPath, parsePath, splitAtEach } from './paths.ts';

export interface SourcePlan {
  stream: string;
  /**
   * Where each row object sits in a record. Without `eachOf`: at `path`. With `eachOf` (the source
   * `root` contains `[]`): one row object per element of the array at `eachOf`, at `path` inside it.
   */
  path: JsonPath;
  eachOf?: JsonPath;
}

interface ColumnBase {
  name: string;
  type: ColumnType;
  required: boolean;
  /** From pipeline.yaml: the column comment in the catalog and the docs. */
  description?: string;
  /** Store the (string) value lowercased: enum-like values a source sent in either case. */
  lower?: boolean;
}

export interface PathColumnPlan extends ColumnBase {
  kind: 'path';
  /** `row`: relative to the row object; `element`: relative to the exploded array element. */
  base: 'row' | 'element';
  path: JsonPath;
  /**
   * For `array<string>` columns whose path contains `[]`: `path` is the array and `collect` the
   * path inside each element; the values are collected into one list (no explode).
   */
  collect?: JsonPath;
  /**
   * Dates given at year, month or day precision (Spotify's `release_date` with
   * `release_date_precision`): the path of the precision, on the same base as `path`. The column is
   * the first day of the period; a value that does not have exactly its precision's shape is
   * unreadable (quarantined), never guessed.
   */
  precision?: JsonPath;
}

export interface SqlColumnPlan extends ColumnBase {
  kind: 'sql';
  /** SQL over the previously declared columns, passed through as written. */
  sql: string;
}

export type ColumnPlan = PathColumnPlan | SqlColumnPlan;

export interface PartitionPlan extends PartitionSpec {
  fromType: ColumnType;
}

/** One key of a dedupe order: a declared column, greatest first unless `ASC` was written. */
export interface OrderKey {
  column: string;
  desc: boolean;
}

export interface TablePlan {
  table: string;
  /** From pipeline.yaml: the table comment in the catalog and the docs. */
  description?: string;
  sources: SourcePlan[];
  /** The one array (relative to the row object) exploded into a row per element, if any. */
  explode?: JsonPath;
  /** In declaration order: derived columns may use the ones before them. */
  columns: ColumnPlan[];
  filter?: string;
  latestPer: string[];
  /**
   * With `parents` (one latest_per column): the stream and field listing the current parents. A
   * row whose latest_per value is not among them in that stream's latest complete read is dropped.
   */
  latestParents?: { stream: string; path: JsonPath };
  dedupe?: { key: string[]; orderBy?: OrderKey[] };
  partitions: PartitionPlan[];
  /** Split a partition's data into files near this size (MB); unset: the build's default. */
  targetFileMb?: number;
  /** Columns written inside the data files: all columns except those that are partition folders. */
  storedColumns: string[];
}

export class TableSpecError extends Error {
  constructor(
    readonly table: string,
    readonly key: string,
    reason: string,
  ) {
    super(`tables.${table}${key ? `.${key}` : ''}: ${reason}`);
    this.name = 'TableSpecError';
  }
}

export { COLUMN_TYPES };

/**
 * Keys the transform reads beyond core/config/types.ts (`precision_from` on a column,
 * `target_file_mb` on a table); structurally compatible, so adding them there changes nothing here.
 */
export type TransformColumnSpec = ColumnSpec & { precision_from?: string };
export type TransformTableSpec = TableSpec & { target_file_mb?: number };

/** Spotify's `release_date_precision` values, and the shape a value of each must have. */
export const DATE_PRECISIONS = {
  year: '[0-9]{4}',
  month: '[0-9]{4}-[0-9]{2}',
  day: '[0-9]{4}-[0-9]{2}-[0-9]{2}',
} as const;
/** Spotify's placeholder for an unknown release date: NULL, not an error. */
export const UNKNOWN_DATES = ['0000', '0000-00', '0000-00-00'] as const;

// Table names become folder names next to curated/_staging and curated/_trash.
const TABLE_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
// Names become Parquet/Glue column names and SQL identifiers; `__` is reserved for the compiler.
const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function planTable(table: string, tableSpec: TableSpec): TablePlan {
  const spec = tableSpec as TransformTableSpec;
  const fail = (key: string, reason: string): never => {
    throw new TableSpecError(table, key, reason);
  };
  const parse = (key: string, text: string): JsonPath => {
    try {
      return parsePath(text);
    } catch (e) {
      if (e instanceof PathError) return fail(key, e.message);
      throw e;
    }
  };

  if (!TABLE_NAME.test(table)) fail('', 'table names start with a letter and use only letters, digits and _');
  if (!Array.isArray(spec.from) || spec.from.length === 0) fail('from', 'needs at least one source stream');

  let explode: JsonPath | undefined;
  const sources: SourcePlan[] = spec.from.map((src, i) => {
    const key = `from[${i}]`;
    if (!src || typeof src.stream !== 'string' || !src.stream) return fail(key, 'needs a stream');
    const root = parse(`${key}.root`, src.root ?? '');
    const n = countEach(root);
    if (n > 1) return fail(`${key}.root`, 'at most one [] per table');
    const split = splitAtEach(root);
    return split ? { stream: src.stream, eachOf: split.array, path: split.element } : { stream: src.stream, path: root };
  });
  const rootExplodes = sources.some((s) => s.eachOf);

  const entries = Object.entries(spec.columns ?? {});
  if (entries.length === 0) fail('columns', 'needs at least one column');
  const columns: ColumnPlan[] = [];
  const types = new Map<string, ColumnType>();
  for (const [name, col] of entries) {
    const key = `columns.${name}`;
    if (!COLUMN_NAME.test(name) || name.startsWith('__')) {
      fail(key, 'column names use letters, digits and _ and may not start with "__"');
    }
    const type: unknown = col?.type; // from YAML: may be anything until checked
    if (!isColumnType(type)) fail(`${key}.type`, `unknown type "${String(type)}" (one of ${COLUMN_TYPES.join(', ')})`);
    if ((col.path === undefined) === (col.sql === undefined)) fail(key, 'needs exactly one of path or sql');
    if (col.lower !== undefined && col.lower !== false && !(col.lower === true && col.type === 'string')) {
      fail(`${key}.lower`, col.lower === true ? `needs type: string (the column is ${col.type})` : 'must be true or false');
    }
    const base = {
      name,
      type: col.type,
      required: col.required === true,
      ...(col.description !== undefined && { description: col.description }),
      ...(col.lower === true && { lower: true }),
    };
    if (col.sql !== undefined) {
      if (typeof col.sql !== 'string' || !col.sql.trim()) fail(`${key}.sql`, 'is empty');
      columns.push({ ...base, kind: 'sql', sql: col.sql.trim() });
    } else {
      const path = parse(`${key}.path`, col.path as string);
      const n = countEach(path);
      if (n > 1) fail(`${key}.path`, 'at most one [] per table');
      const split = splitAtEach(path);
      const precisionFrom = (col as TransformColumnSpec).precision_from;
      let precision: JsonPath | undefined;
      if (precisionFrom !== undefined) {
        if (col.type !== 'date') fail(`${key}.precision_from`, `needs type: date (the column is ${col.type})`);
        if (typeof precisionFrom !== 'string' || !precisionFrom.trim()) fail(`${key}.precision_from`, 'is empty');
        precision = parse(`${key}.precision_from`, precisionFrom);
        const psplit = splitAtEach(precision);
        // The precision sits beside the value: same record, or the same element of the same list.
        if (split ? !psplit || formatPath(psplit.array.segments) !== formatPath(split.array.segments) : psplit) {
          fail(`${key}.precision_from`, `must be a path on the same object as "${col.path}" (the same [] list, if any)`);
        }
        if (psplit) precision = psplit.element;
      }
      if (!split) {
        columns.push({ ...base, kind: 'path', base: 'row', path, ...(precision && { precision }) });
      } else if (readKind(col.type) === 'list') {
        // A list column gathers the elements instead of exploding: `artists[].name` -> [names].
        columns.push({ ...base, kind: 'path', base: 'row', path: split.array, collect: split.element });
      } else {
        if (rootExplodes) fail(`${key}.path`, 'at most one [] per table (a source root already has one)');
        if (explode && formatPath(explode.segments) !== formatPath(split.array.segments)) {
          fail(`${key}.path`, `at most one [] per table: "${explode.text}[]" is already exploded`);
        }
        explode = split.array;
        columns.push({ ...base, kind: 'path', base: 'element', path: split.element, ...(precision && { precision }) });
      }
    }
    types.set(name, col.type);
  }

  const known = (key: string, cols: unknown, what: string): string[] => {
    if (!Array.isArray(cols) || cols.length === 0 || cols.some((c) => typeof c !== 'string')) {
      return fail(key, `${what} must be a non-empty list of column names`);
    }
    for (const c of cols as string[]) if (!types.has(c)) fail(key, `unknown column "${c}"`);
    return cols as string[];
  };

  // pipeline.yaml allows the short form `dedupe: [a, b]`; the loader normalizes it, but accept it
  // here too so a spec built in code does not silently lose its dedupe.
  const rawDedupe = spec.dedupe as unknown;
  let dedupe: TablePlan['dedupe'];
  if (Array.isArray(rawDedupe)) dedupe = { key: known('dedupe', rawDedupe, 'dedupe') };
  else if (rawDedupe) {
    const d = rawDedupe as { key: unknown; order_by?: unknown };
    dedupe = { key: known('dedupe.key', d.key, 'dedupe.key') };
    if (d.order_by !== undefined) dedupe.orderBy = orderKeys(d.order_by, types, (reason) => fail('dedupe.order_by', reason));
  }
  const latestPer = spec.latest_per ? known('latest_per', spec.latest_per, 'latest_per') : [];
  let latestParents: TablePlan['latestParents'];
  if (spec.parents !== undefined) {
    const m = typeof spec.parents === 'string' ? /^([A-Za-z][A-Za-z0-9_]*)\.(.+)$/.exec(spec.parents) : null;
    if (!m) fail('parents', 'must be <stream>.<field>, e.g. my_playlists.id');
    if (latestPer.length !== 1) fail('parents', 'needs latest_per with exactly one column (the parent id each row belongs to)');
    const path = parse('parents', m![2]);
    if (countEach(path) > 0) fail('parents', 'names one field per parent record, without []');
    latestParents = { stream: m![1], path };
  }

  const partitions: PartitionPlan[] = (spec.partition_by ?? []).map((p, i) => {
    const key = `partition_by[${i}]`;
    if (!p || !COLUMN_NAME.test(p.name) || p.name.startsWith('__')) return fail(`${key}.name`, 'invalid partition name');
    const fromType = types.get(p.from);
    if (!fromType) return fail(`${key}.from`, `unknown column "${p.from}"`);
    if (!['value', 'date', 'month', 'year'].includes(p.as)) return fail(`${key}.as`, `unknown "${p.as}" (value, date, month, year)`);
    const read = readKind(fromType);
    if (p.as !== 'value' && read !== 'date' && read !== 'timestamp') {
      return fail(`${key}.as`, `"${p.as}" needs a date or timestamp column, "${p.from}" is ${fromType}`);
    }
    if (read === 'list') return fail(`${key}.from`, 'cannot partition by a list column');
    // A partition folder named like a column replaces that column (Hive layout): only sound when
    // the folder holds that very column's value.
    if (types.has(p.name) && !(p.as === 'value' && p.from === p.name)) {
      return fail(`${key}.name`, `"${p.name}" is also a column; use another name or as: value from the same column`);
    }
    return { name: p.name, from: p.from, as: p.as, fromType };
  });
  const names = partitions.map((p) => p.name);
  if (new Set(names).size !== names.length) fail('partition_by', 'partition names must be unique');
  const storedColumns = columns.map((c) => c.name).filter((c) => !names.includes(c));
  if (storedColumns.length === 0) fail('partition_by', 'at least one column must stay inside the data files');

  if (spec.filter !== undefined && (typeof spec.filter !== 'string' || !spec.filter.trim())) fail('filter', 'is empty');
  const target = spec.target_file_mb;
  if (target !== undefined && !(typeof target === 'number' && Number.isFinite(target) && target > 0)) {
    fail('target_file_mb', 'must be a positive number of megabytes');
  }

  return {
    table,
    ...(spec.description !== undefined && { description: spec.description }),
    sources,
    explode,
    columns,
    filter: spec.filter?.trim(),
    latestPer,
    ...(latestParents && { latestParents }),
    dedupe,
    partitions,
    storedColumns,
    ...(target !== undefined && { targetFileMb: target }),
  };
}

/** The columns written inside the data files, in declaration order (partition folders excluded). */
export function storedColumnPlans(plan: TablePlan): ColumnPlan[] {
  return plan.columns.filter((c) => plan.storedColumns.includes(c.name));
}

/**
 * `order_by` of a dedupe: column names, each optionally followed by ASC or DESC, comma-separated.
 * A bare column keeps the row with its greatest value (as the schema documents); NULLs never win.
 * Only columns, so that every backend sorts the same way (free SQL would sort NULLs differently).
 */
function orderKeys(raw: unknown, types: Map<string, ColumnType>, fail: (reason: string) => never): OrderKey[] {
  if (typeof raw !== 'string' || !raw.trim()) return fail('is empty');
  return raw.split(',').map((part) => {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)(?:\s+(ASC|DESC))?\s*$/i.exec(part);
    if (!m) return fail(`"${part.trim()}" is not a column name optionally followed by ASC or DESC`);
    if (!types.has(m[1])) return fail(`unknown column "${m[1]}"`);
    return { column: m[1], desc: (m[2] ?? 'DESC').toUpperCase() === 'DESC' };
  });
}
