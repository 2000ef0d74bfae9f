/**
 * The column types of pipeline.yaml, and what each one is in every place a table shows up: the
 * one registry that the config schema (by test), the plan, both SQL dialects, the Glue catalog,
 * Athena DDL, the local query views and the table docs look types up in.
 *
 * Adding a type is one entry here plus tests. Its `read` kind says how a JSON value becomes the
 * type; the dialects implement each kind once, so a type that reads like an existing one (a
 * `float` reads like `double`) needs no renderer change. Only a new kind of reading would.
 */

/** A JSON Schema (draft 7), as data. */
export type JsonSchema = { readonly [keyword: string]: unknown };

/** Parquet's physical types, as parquet tools and DuckDB's parquet_schema() name them. */
export type ParquetPhysical = 'BOOLEAN' | 'INT32' | 'INT64' | 'FLOAT' | 'DOUBLE' | 'BYTE_ARRAY' | 'FIXED_LEN_BYTE_ARRAY';

/** How a column is laid out in Parquet: a leaf, or a LIST group of leaves. */
export type ParquetType =
  | { physical: ParquetPhysical; /** The annotation (converted type), when there is one. */ annotation?: string }
  | { list: ParquetType };

/**
 * How a JSON value is read into the type. Each dialect implements every kind (dialects/):
 * - `text`: the value's text as is (objects and arrays as their JSON text);
 * - `integer`: a number, rounded half away from zero (DuckDB's cast; Spark would truncate);
 * - `number`, `boolean`: a plain cast of the text;
 * - `date`, `timestamp`: must start with a full calendar date (no guessing `1997` as a day);
 *   timestamps are UTC wall time, an offset converted to UTC;
 * - `list`: a JSON array, each element as text.
 */
export type ReadKind = 'text' | 'integer' | 'number' | 'boolean' | 'date' | 'timestamp' | 'list';

export interface ColumnTypeInfo {
  /** One line for the docs. */
  description: string;
  /** The local engine's type (DuckDB): the build's casts and the query views. */
  duckdb: string;
  /** Spark SQL's type: the Glue job's casts. */
  spark: string;
  /** Hive's spelling, as the Glue catalog and Athena DDL take it. */
  glue: string;
  /** How the Parquet files store it (what the local build writes; checked against real files by a test). */
  parquet: ParquetType;
  /** One non-null value as the query layer returns it (JSON-safe), for docs and row checks. */
  json: JsonSchema;
  read: ReadKind;
}

const UTF8: ParquetType = { physical: 'BYTE_ARRAY', annotation: 'UTF8' };

const REGISTRY = {
  string: {
    description: 'text',
    duckdb: 'VARCHAR',
    spark: 'STRING',
    glue: 'string',
    parquet: UTF8,
    json: { type: 'string' },
    read: 'text',
  },
  int: {
    description: '32-bit integer',
    duckdb: 'INTEGER',
    spark: 'INT',
    glue: 'int',
    parquet: { physical: 'INT32', annotation: 'INT_32' },
    json: { type: 'integer', minimum: -2147483648, maximum: 2147483647 },
    read: 'integer',
  },
  bigint: {
    description: '64-bit integer',
    duckdb: 'BIGINT',
    spark: 'BIGINT',
    glue: 'bigint',
    parquet: { physical: 'INT64', annotation: 'INT_64' },
    // Beyond 2^53 the query layer returns the digits as a string rather than round them.
    json: { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^-?[0-9]+$' }] },
    read: 'integer',
  },
  double: {
    description: '64-bit floating point',
    duckdb: 'DOUBLE',
    spark: 'DOUBLE',
    glue: 'double',
    parquet: { physical: 'DOUBLE' },
    json: { type: 'number' },
    read: 'number',
  },
  boolean: {
    description: 'true or false',
    duckdb: 'BOOLEAN',
    spark: 'BOOLEAN',
    glue: 'boolean',
    parquet: { physical: 'BOOLEAN' },
    json: { type: 'boolean' },
    read: 'boolean',
  },
  date: {
    description: 'calendar date',
    duckdb: 'DATE',
    spark: 'DATE',
    glue: 'date',
    parquet: { physical: 'INT32', annotation: 'DATE' },
    json: { type: 'string', format: 'date' },
    read: 'date',
  },
  timestamp: {
    description: 'UTC date and time (microseconds)',
    duckdb: 'TIMESTAMP',
    // Without a time zone, as DuckDB's: Spark's TIMESTAMP is instant-based and is written to Parquet
    // as adjusted-to-UTC, which DuckDB then reads back as TIMESTAMP WITH TIME ZONE.
    spark: 'TIMESTAMP_NTZ',
    glue: 'timestamp',
    parquet: { physical: 'INT64', annotation: 'TIMESTAMP_MICROS' },
    json: { type: 'string', format: 'date-time' },
    read: 'timestamp',
  },
  decimal: {
    description: 'exact decimal, 18 digits with 3 after the point',
    duckdb: 'DECIMAL(18,3)',
    spark: 'DECIMAL(18,3)',
    glue: 'decimal(18,3)',
    parquet: { physical: 'INT64', annotation: 'DECIMAL(18,3)' },
    // More digits than a double holds exactly come back as a string.
    json: { anyOf: [{ type: 'number' }, { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]+)?$' }] },
    read: 'number',
  },
  'array<string>': {
    description: 'list of text',
    duckdb: 'VARCHAR[]',
    spark: 'ARRAY<STRING>',
    glue: 'array<string>',
    parquet: { list: UTF8 },
    json: { type: 'array', items: { type: ['string', 'null'] } },
    read: 'list',
  },
} satisfies Record<string, ColumnTypeInfo>;

/** A column type of pipeline.yaml (the `type:` of a column). */
export type ColumnType = keyof typeof REGISTRY;

export const COLUMN_TYPE_INFO: Readonly<Record<ColumnType, ColumnTypeInfo>> = REGISTRY;

/** Every column type, in the registry's order (the order the schema's enum lists them). */
export const COLUMN_TYPES: readonly ColumnType[] = Object.keys(REGISTRY) as ColumnType[];

export function isColumnType(value: unknown): value is ColumnType {
  return typeof value === 'string' && Object.hasOwn(REGISTRY, value);
}

export function typeInfo(type: ColumnType): ColumnTypeInfo {
  return COLUMN_TYPE_INFO[type];
}

/** How values of the type are read (see ReadKind). */
export const readKind = (type: ColumnType): ReadKind => COLUMN_TYPE_INFO[type].read;
