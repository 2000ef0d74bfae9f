/**
 * Querying a local lake: an in-memory DuckDB with one view per curated table and the Trino
 * compatibility macros, so the named queries written for Athena run unchanged.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DuckDBInstance,
  DuckDBTypeId,
  type DuckDBValue,
  type DuckDBValueConverter,
  arrayFromArrayValue,
  arrayFromListValue,
  createDuckDBValueConverter,
  dateFromTimestampMillisecondsValue,
  dateFromTimestampNanosecondsValue,
  dateFromTimestampSecondsValue,
  dateFromTimestampTZValue,
  dateFromTimestampValue,
  jsonNumberFromValue,
  objectArrayFromMapValue,
  objectFromStructValue,
  objectFromUnionValue,
} from '@duckdb/node-api';
import type { TableSpec } from '../config/types.ts';
import { ident, literal } from '../transform/dialects/duckdb.ts';
import { planTable, storedColumnPlans } from '../transform/plan.ts';
import { COLUMN_TYPE_INFO } from '../transform/types.ts';
import { TRINO_MACROS, TRINO_SETTINGS, trinoToDuckdb } from './dialect.ts';

export { trinoToDuckdb, TRINO_MACROS } from './dialect.ts';

export interface QueryResult {
  columns: string[];
  /** JSON-safe: bigints as numbers when safe (else strings), dates/timestamps as ISO strings. */
  rows: Record<string, unknown>[];
}

export interface Lake {
  /** Runs Athena (Trino) SQL against the lake's views. */
  query(sql: string): Promise<QueryResult>;
  close(): void;
}

/**
 * The view over a table's Parquet files. Partition columns come from the Hive folder names as
 * VARCHAR (hive_types_autocast off), as Athena's partition projection types them. A table with no
 * files yet gets an empty view with the declared types, so queries bind before the first build.
 */
export function viewSql(lakeDir: string, table: string, spec: TableSpec, hasFiles: boolean): string {
  const plan = planTable(table, spec);
  const cols = [
    ...storedColumnPlans(plan).map((c) => ({ name: c.name, type: COLUMN_TYPE_INFO[c.type].duckdb })),
    // Partition values are folder names: strings.
    ...plan.partitions.map((p) => ({ name: p.name, type: COLUMN_TYPE_INFO.string.duckdb })),
  ];
  if (!hasFiles) {
    return `CREATE OR REPLACE VIEW ${ident(table)} AS SELECT ${cols.map((c) => `CAST(NULL AS ${c.type}) AS ${ident(c.name)}`).join(', ')} WHERE false`;
  }
  const glob = join(lakeDir, 'curated', table, '**', '*.parquet');
  const source = `read_parquet(${literal(glob)}, hive_partitioning = true, hive_types_autocast = false, union_by_name = true)`;
  return `CREATE OR REPLACE VIEW ${ident(table)} AS SELECT ${cols.map((c) => `CAST(${ident(c.name)} AS ${c.type}) AS ${ident(c.name)}`).join(', ')} FROM ${source}`;
}

/**
 * A table as a catalog declares it (the Glue catalog of a deployment): the folder holding its
 * files (a local copy of its S3 location), the columns inside the files with their Glue (Hive)
 * types, and its partition keys (strings, as partition projection types them).
 */
export interface CatalogTableView {
  name: string;
  dir: string;
  columns: Array<{ name: string; glueType: string }>;
  partitionKeys: string[];
}

const DUCKDB_OF_GLUE = new Map(Object.values(COLUMN_TYPE_INFO).map((t) => [t.glue, t.duckdb]));

/** The view over a catalog table's files, typed from the catalog (what Athena would read). */
export function catalogViewSql(t: CatalogTableView, hasFiles: boolean): string {
  const type = (g: string) => {
    const d = DUCKDB_OF_GLUE.get(g);
    if (!d) throw new Error(`table ${t.name}: no DuckDB type for the Glue type ${g}`);
    return d;
  };
  const cols = [...t.columns.map((c) => ({ name: c.name, type: type(c.glueType) })), ...t.partitionKeys.map((p) => ({ name: p, type: COLUMN_TYPE_INFO.string.duckdb }))];
  if (!hasFiles) return `CREATE OR REPLACE VIEW ${ident(t.name)} AS SELECT ${cols.map((c) => `CAST(NULL AS ${c.type}) AS ${ident(c.name)}`).join(', ')} WHERE false`;
  const source = `read_parquet(${literal(join(t.dir, '**', '*.parquet'))}, hive_partitioning = ${t.partitionKeys.length > 0}, hive_types_autocast = false, union_by_name = true)`;
  return `CREATE OR REPLACE VIEW ${ident(t.name)} AS SELECT ${cols.map((c) => `CAST(${ident(c.name)} AS ${c.type}) AS ${ident(c.name)}`).join(', ')} FROM ${source}`;
}

async function hasParquet(dir: string): Promise<boolean> {
  try {
    const list = await readdir(dir, { recursive: true, withFileTypes: true });
    return list.some((e) => e.isFile() && e.name.endsWith('.parquet'));
  } catch {
    return false;
  }
}

export async function openLake(lakeDir: string, tables: Record<string, TableSpec>): Promise<Lake> {
  const views: string[] = [];
  for (const [name, spec] of Object.entries(tables)) views.push(viewSql(lakeDir, name, spec, await hasParquet(join(lakeDir, 'curated', name))));
  return openViews(views);
}

/** A lake whose tables are described by a catalog (the rehearsal's Glue tables), not by pipeline.yaml. */
export async function openCatalogLake(tables: CatalogTableView[]): Promise<Lake> {
  const views: string[] = [];
  for (const t of tables) views.push(catalogViewSql(t, await hasParquet(t.dir)));
  return openViews(views);
}

async function openViews(views: string[]): Promise<Lake> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    for (const sql of [...TRINO_SETTINGS, ...TRINO_MACROS, ...views]) await conn.run(sql);
  } catch (e) {
    conn.closeSync();
    instance.closeSync();
    throw e;
  }
  return {
    async query(sql: string): Promise<QueryResult> {
      const reader = await conn.runAndReadAll(trinoToDuckdb(sql));
      const columns = reader.deduplicatedColumnNames();
      const types = reader.columnTypes();
      const rows = reader.getRows().map((row) => {
        const obj: Record<string, unknown> = {};
        row.forEach((v, i) => {
          obj[columns[i]] = toJsonSafe(v, types[i], toJsonSafe);
        });
        return obj;
      });
      return { columns, rows };
    },
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

// ---- JSON-safe values ------------------------------------------------------------------------

function safeInteger(value: DuckDBValue): number | string {
  const big = value as bigint;
  const n = Number(big);
  return Number.isSafeInteger(n) && BigInt(n) === big ? n : big.toString();
}

function iso(date: Date, fallback: DuckDBValue): string {
  return Number.isNaN(date.getTime()) ? String(fallback) : date.toISOString();
}

const converters: Record<number, DuckDBValueConverter<unknown> | undefined> = {};
for (const id of Object.values(DuckDBTypeId)) {
  if (typeof id === 'number') converters[id] = (v) => String(v);
}
Object.assign(converters, {
  [DuckDBTypeId.SQLNULL]: () => null,
  [DuckDBTypeId.BOOLEAN]: (v: DuckDBValue) => Boolean(v),
  [DuckDBTypeId.TINYINT]: (v: DuckDBValue) => Number(v),
  [DuckDBTypeId.SMALLINT]: (v: DuckDBValue) => Number(v),
  [DuckDBTypeId.INTEGER]: (v: DuckDBValue) => Number(v),
  [DuckDBTypeId.UTINYINT]: (v: DuckDBValue) => Number(v),
  [DuckDBTypeId.USMALLINT]: (v: DuckDBValue) => Number(v),
  [DuckDBTypeId.UINTEGER]: (v: DuckDBValue) => Number(v),
  [DuckDBTypeId.BIGINT]: safeInteger,
  [DuckDBTypeId.UBIGINT]: safeInteger,
  [DuckDBTypeId.HUGEINT]: safeInteger,
  [DuckDBTypeId.UHUGEINT]: safeInteger,
  [DuckDBTypeId.FLOAT]: jsonNumberFromValue,
  [DuckDBTypeId.DOUBLE]: jsonNumberFromValue,
  // Exact when the scaled value fits a double's integer range, else a string (no silent rounding).
  [DuckDBTypeId.DECIMAL]: (v: DuckDBValue) => {
    const s = String(v);
    const digits = s.replace(/[-.]/g, '').replace(/^0+/, '');
    return digits.length <= 15 ? Number(s) : s;
  },
  // Lake timestamps are UTC wall time, so they are rendered with Z.
  [DuckDBTypeId.TIMESTAMP]: (v: DuckDBValue) => iso(dateFromTimestampValue(v), v),
  [DuckDBTypeId.TIMESTAMP_S]: (v: DuckDBValue) => iso(dateFromTimestampSecondsValue(v), v),
  [DuckDBTypeId.TIMESTAMP_MS]: (v: DuckDBValue) => iso(dateFromTimestampMillisecondsValue(v), v),
  [DuckDBTypeId.TIMESTAMP_NS]: (v: DuckDBValue) => iso(dateFromTimestampNanosecondsValue(v), v),
  [DuckDBTypeId.TIMESTAMP_TZ]: (v: DuckDBValue) => iso(dateFromTimestampTZValue(v), v),
  [DuckDBTypeId.DATE]: (v: DuckDBValue) => String(v),
  [DuckDBTypeId.LIST]: arrayFromListValue,
  [DuckDBTypeId.ARRAY]: arrayFromArrayValue,
  [DuckDBTypeId.STRUCT]: objectFromStructValue,
  [DuckDBTypeId.MAP]: objectArrayFromMapValue,
  [DuckDBTypeId.UNION]: objectFromUnionValue,
});
const toJsonSafe = createDuckDBValueConverter(converters as Record<DuckDBTypeId, DuckDBValueConverter<unknown>>);
