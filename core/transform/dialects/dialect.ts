/**
 * What an SQL engine supplies to the table renderer (render.ts): its spelling of identifiers,
 * literals, types and the few expressions the engines write differently, and how it reads values
 * out of raw JSON. The renderer owns the table's meaning (typed values, quarantine reasons, filter,
 * latest_per, dedupe, partitions, the split at __judged); a dialect only says how to write it.
 */
import type { ColumnPlan, PathColumnPlan, TablePlan } from '../plan.ts';
import type { JsonPath } from '../paths.ts';
import type { ColumnType } from '../types.ts';

/** One step of the WITH clause: its name and its SQL. */
export type Step = [name: string, sql: string];

/** The kinds of date partition folders, formatted from a date or timestamp column. */
export type DateFolder = 'date' | 'month' | 'year';

export interface SqlDialect {
  readonly name: string;
  /** Identifiers and literals are spelled by plain functions, passed around as such (`names.map(d.ident)`). */
  ident: (name: string) => string;
  literal: (text: string) => string;
  /** The engine's type of a column type (from the type registry). */
  type(type: ColumnType): string;

  /**
   * The steps that read every path column's raw value out of the raw lines. The last step has
   * __rec, __file, __line, __run_id, and per path column `rawValueName(column)` (plus
   * `rawPrecisionName(column)` when it has a precision); one row per row object (per element of
   * a source's root list) and, when the plan explodes a list, per element. This is where the
   * engines differ most (DuckDB parses each record once into JSON; Spark reads each path from the
   * line's text), so the whole reading is the dialect's. `raw(stream)` names a stream's raw lines.
   * With `keepMalformed` (a lean target, render.ts) a malformed line stays a row (NULL __rec, so
   * NULL values) instead of being left to a separate branch.
   */
  readValues(plan: TablePlan, raw: (stream: string) => string, opts?: { keepMalformed?: boolean }): { steps: Step[]; last: string };
  /**
   * A path column's typed value from its raw value `raw` (as readValues left it); NULL where the
   * value cannot be read as the column's type. `precision` is the raw precision of a date column
   * with `precision_from`.
   */
  readPath(column: PathColumnPlan, raw: string, precision: string): string;
  /** A SQL value (a derived column) cast to a column type; NULL where it cannot be. */
  cast(value: string, type: ColumnType): string;
  /** Whether the raw value was there at all (JSON null counts as absent). */
  rawPresent(column: ColumnPlan, raw: string): string;
  /** The raw value as text, for a quarantine reason (strings unquoted, as every engine shows them). */
  rawText(column: ColumnPlan, raw: string): string;

  /** The value at `path` in the JSON record `rec` as text (strings unquoted; NULL when absent or JSON null). */
  jsonText(rec: string, path: JsonPath): string;
  /** String concatenation. */
  concat(parts: string[]): string;
  /** A list (array) value of these items. */
  array(items: string[], separator?: string): string;
  /** The items of `array` for which `condition` (over `variable`) holds. */
  filterArray(array: string, variable: string, condition: string): string;
  size(array: string): string;
  /** `a = b`, with NULL equal to NULL. */
  notDistinct(a: string, b: string): string;
  /** A date or timestamp as a date partition folder's value (UTC). */
  formatDate(value: string, as: DateFolder): string;
  /**
   * The rows of the relation `from` for which `test` holds over a window function's value. Engines
   * without QUALIFY compute the window in a subquery, as the column `names.column` of the
   * subquery aliased `names.alias`.
   */
  qualify(from: string, window: string, test: (value: string) => string, names: { column: string; alias: string }): string;
  /**
   * Whether the engine has UNION ALL BY NAME: branches then list only the columns they have (the
   * others are NULL); without it every branch spells every column in order, typed.
   */
  readonly unionByName: boolean;
  /**
   * How the column steps (derived columns, checks) name the step before them in FROM. Spelling only:
   * DuckDB's SQL has always written these bare and Spark's quoted, and both stay byte-identical to
   * the SQL reviewed before the renderers were merged.
   */
  stepRef(name: string): string;
}

/** The raw value of a column, before its cast (a step column, never in the output). */
export const rawValueName = (column: ColumnPlan): string => `__raw_${column.name}`;
/** The raw precision of a `precision_from` date column. */
export const rawPrecisionName = (column: ColumnPlan): string => `__rawp_${column.name}`;
