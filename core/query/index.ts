/**
 * Querying a local lake: an in-memory DuckDB with one view per curated table and the Trino
 * compatibility macros, so the named queries written for Athena run unchanged.
 *
 * The DuckDB is sandboxed (./sandbox.ts): it can read the lake's curated/ folder and nothing else,
 * and its settings are locked. SQL is checked before it runs: one SELECT (or EXPLAIN) statement,
 * none of the file, engine or statement constructs of ./access.ts. `unsafe` (`query --unsafe`)
 * opens a plain DuckDB and runs the SQL as given.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  type DuckDBConnection,
  DuckDBTypeId,
  StatementType,
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
import { UserError } from '../errors.ts';
import { ident, literal } from '../transform/dialects/duckdb.ts';
import { planTable, storedColumnPlans } from '../transform/plan.ts';
import { COLUMN_TYPE_INFO } from '../transform/types.ts';
import { accessFindings } from './access.ts';
import { TRINO_MACROS, TRINO_SETTINGS, tablesNamed, trinoToDuckdb } from './dialect.ts';
import { openDuckdb, type Duckdb } from './sandbox.ts';

export { tablesNamed, trinoToDuckdb, TRINO_MACROS } from './dialect.ts';

export interface QueryResult {
  columns: string[];
  /** JSON-safe: bigints as numbers when safe (else strings), dates/timestamps as ISO strings. */
  rows: Record<string, unknown>[];
  /** The columns' DuckDB types (`BIGINT`, `DECIMAL(18,3)`, `TIMESTAMP`, ...), as the engine typed them. */
  types?: string[];
}

export interface Lake {
  /** Runs Athena (Trino) SQL against the lake's views. */
  query(sql: string): Promise<QueryResult>;
  /** Tables without a single Parquet file (their views are empty, typed as declared). */
  readonly emptyTables: string[];
  /** Tables whose files DuckDB cannot read (a corrupt Parquet file): a query reading one fails with this message. */
  readonly unreadable: Record<string, string>;
  close(): void;
}

export interface OpenOptions {
  /** No sandbox and no checks of the SQL: `query --unsafe`. */
  unsafe?: boolean;
}

/** A table whose Parquet files DuckDB cannot read (a damaged file): the message names the table and the file. */
export class UnreadableTableError extends Error {
  constructor(
    readonly table: string,
    message: string,
  ) {
    super(message);
    this.name = 'UnreadableTableError';
  }
}

/** The message of a damaged table: which table, which file (in DuckDB's words), how to repair it. */
function unreadableMessage(v: ViewSpec, why: string): string {
  // DuckDB's messages start with their class ("Invalid Input Error: "): the table is the news here.
  const plain = why.split('\n')[0].replace(/^[A-Za-z ]*Error: /, '');
  return `table ${v.name} cannot be read: ${plain} (a damaged Parquet file under ${v.dir}: rebuild the table with \`spotify-pipeline transform -t ${v.name}\`)`;
}

/** Sandboxed SQL that the rules refuse, or that the sandbox refused: exit 2 with the way out. */
const SANDBOX_HINT = 'queries read the lake\'s tables by name; `spotify-pipeline query --unsafe --sql ...` runs ad-hoc SQL without the sandbox (see "SQL is sandboxed" in the README)';

interface ViewColumn {
  name: string;
  type: string;
}

interface ViewSpec {
  name: string;
  /** The folder of its Parquet files. */
  dir: string;
  columns: ViewColumn[];
  /** The scan of its files, without the CAST to the declared types. */
  source: string;
}

const castColumns = (cols: ViewColumn[], value: (c: ViewColumn) => string) => cols.map((c) => `CAST(${value(c)} AS ${c.type}) AS ${ident(c.name)}`).join(', ');

/** The view's SQL: over its files, or empty with the declared types when there are none. */
function createView(v: ViewSpec, hasFiles: boolean): string {
  if (!hasFiles) return `CREATE OR REPLACE VIEW ${ident(v.name)} AS SELECT ${castColumns(v.columns, () => 'NULL')} WHERE false`;
  return `CREATE OR REPLACE VIEW ${ident(v.name)} AS SELECT ${castColumns(v.columns, (c) => ident(c.name))} FROM ${v.source}`;
}

/**
 * A view of the declared types that fails every query reading it with `message` (its files cannot
 * be read), so queries of the other tables still run. Every column is the error, for queries that
 * read a column (a join key: the optimizer moves a constant filter above a join, where an empty
 * join never evaluates it), and so is the filter, for queries that read none (count(*)).
 */
function failingView(v: ViewSpec, message: string): string {
  const fail = `error(${literal(message)})`;
  return `CREATE OR REPLACE VIEW ${ident(v.name)} AS SELECT ${castColumns(v.columns, () => fail)} FROM range(1) WHERE ${fail} IS NULL`;
}

function tableView(lakeDir: string, table: string, spec: TableSpec): ViewSpec {
  const plan = planTable(table, spec);
  const columns = [
    ...storedColumnPlans(plan).map((c) => ({ name: c.name, type: COLUMN_TYPE_INFO[c.type].duckdb })),
    // Partition values are folder names: strings.
    ...plan.partitions.map((p) => ({ name: p.name, type: COLUMN_TYPE_INFO.string.duckdb })),
  ];
  const dir = join(lakeDir, 'curated', table);
  const glob = join(dir, '**', '*.parquet');
  return { name: table, dir, columns, source: `read_parquet(${literal(glob)}, hive_partitioning = true, hive_types_autocast = false, union_by_name = true)` };
}

/**
 * The view over a table's Parquet files. Partition columns come from the Hive folder names as
 * VARCHAR (hive_types_autocast off), as Athena's partition projection types them. A table with no
 * files yet gets an empty view with the declared types, so queries bind before the first build.
 */
export function viewSql(lakeDir: string, table: string, spec: TableSpec, hasFiles: boolean): string {
  return createView(tableView(lakeDir, table, spec), hasFiles);
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

function catalogView(t: CatalogTableView): ViewSpec {
  const type = (g: string) => {
    const d = DUCKDB_OF_GLUE.get(g);
    if (!d) throw new Error(`table ${t.name}: no DuckDB type for the Glue type ${g}`);
    return d;
  };
  const columns = [...t.columns.map((c) => ({ name: c.name, type: type(c.glueType) })), ...t.partitionKeys.map((p) => ({ name: p, type: COLUMN_TYPE_INFO.string.duckdb }))];
  const source = `read_parquet(${literal(join(t.dir, '**', '*.parquet'))}, hive_partitioning = ${t.partitionKeys.length > 0}, hive_types_autocast = false, union_by_name = true)`;
  return { name: t.name, dir: t.dir, columns, source };
}

/** The view over a catalog table's files, typed from the catalog (what Athena would read). */
export function catalogViewSql(t: CatalogTableView, hasFiles: boolean): string {
  return createView(catalogView(t), hasFiles);
}

async function hasParquet(dir: string): Promise<boolean> {
  try {
    const list = await readdir(dir, { recursive: true, withFileTypes: true });
    return list.some((e) => e.isFile() && e.name.endsWith('.parquet'));
  } catch {
    return false;
  }
}

/**
 * Refuses a lake folder that is not there (`query --lake /typo` must not answer 0) or where no
 * table was ever built: one line naming the folder, exit 2.
 */
export async function assertLakeFolder(lakeDir: string): Promise<void> {
  const isDir = async (p: string) => (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
  const abs = resolve(lakeDir);
  if (!(await isDir(abs))) {
    throw new UserError(`no lake at ${abs}: the folder does not exist`, 'run `spotify-pipeline run` to create it, or give --lake the folder of an existing lake');
  }
  if (!(await isDir(join(abs, 'curated')))) {
    throw new UserError(`no table has been built in the lake ${abs} (it has no curated/ folder)`, 'run `spotify-pipeline run` (or `transform`) first, or give --lake the folder of an existing lake');
  }
}

export async function openLake(lakeDir: string, tables: Record<string, TableSpec>, opts: OpenOptions = {}): Promise<Lake> {
  const views = Object.entries(tables).map(([name, spec]) => tableView(lakeDir, name, spec));
  return openViews(views, [join(lakeDir, 'curated')], opts);
}

/** A lake whose tables are described by a catalog (the rehearsal's Glue tables), not by pipeline.yaml. */
export async function openCatalogLake(tables: CatalogTableView[], opts: OpenOptions = {}): Promise<Lake> {
  const views = tables.map(catalogView);
  return openViews(views, views.map((v) => v.dir), opts);
}

async function openViews(views: ViewSpec[], allow: string[], opts: OpenOptions): Promise<Lake> {
  const db: Duckdb = await openDuckdb({ allow, settings: [...TRINO_SETTINGS], unsafe: opts.unsafe });
  const { conn } = db;
  const emptyTables: string[] = [];
  const unreadable: Record<string, string> = {};
  try {
    for (const sql of TRINO_MACROS) await conn.run(sql);
    for (const v of views) {
      const hasFiles = await hasParquet(v.dir);
      if (!hasFiles) emptyTables.push(v.name);
      try {
        await conn.run(createView(v, hasFiles));
      } catch (e) {
        // Creating the view reads every file's schema: a corrupt file fails here. Only the queries
        // reading this table may fail for it, so its view fails them, naming the file.
        const why = (e as Error).message;
        unreadable[v.name] = why.includes(v.dir) ? unreadableMessage(v, why) : ((await damagedTable(conn, [v]))?.message ?? unreadableMessage(v, why));
        await conn.run(failingView(v, unreadable[v.name]));
      }
    }
  } catch (e) {
    db.close();
    throw e;
  }
  return {
    emptyTables,
    unreadable,
    async query(sql: string): Promise<QueryResult> {
      let reader;
      try {
        reader = db.sandboxed ? await runChecked(db, sql) : await conn.runAndReadAll(trinoToDuckdb(sql));
      } catch (e) {
        if (e instanceof UserError || !(e instanceof Error)) throw e;
        const failed = Object.entries(unreadable).find(([, m]) => e.message.includes(m));
        if (failed) throw new UnreadableTableError(failed[0], failed[1]);
        // A file whose footer reads but whose data does not fails only when scanned: find it.
        throw (await damagedTable(conn, views.filter((v) => tablesNamed(sql, [v.name]).length > 0))) ?? e;
      }
      const columns = reader.deduplicatedColumnNames();
      const types = reader.columnTypes();
      const rows = reader.getRows().map((row) => {
        const obj: Record<string, unknown> = {};
        row.forEach((v, i) => {
          obj[columns[i]] = toJsonSafe(v, types[i], toJsonSafe);
        });
        return obj;
      });
      return { columns, rows, types: types.map((t) => t.toString()) };
    },
    close() {
      db.close();
    },
  };
}

/**
 * After a query failed: the first table it names with a Parquet file that cannot be read whole
 * (every column of every row group), as an UnreadableTableError naming that file. Only on the
 * failure path, so a healthy query never pays for it.
 */
async function damagedTable(conn: DuckDBConnection, views: ViewSpec[]): Promise<UnreadableTableError | undefined> {
  for (const v of views) {
    let files: string[];
    try {
      files = (await readdir(v.dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile() && e.name.endsWith('.parquet')).map((e) => join(e.parentPath, e.name)).sort();
    } catch {
      continue;
    }
    for (const file of files) {
      try {
        await conn.run(`SELECT count(COLUMNS(*)) FROM read_parquet(${literal(file)})`);
      } catch (e) {
        const why = (e as Error).message.split('\n')[0];
        return new UnreadableTableError(v.name, unreadableMessage(v, why.includes(file) ? why : `${file}: ${why}`));
      }
    }
  }
  return undefined;
}

/** Runs SQL on a sandboxed connection: the rules of ./access.ts first, then one SELECT or EXPLAIN statement. */
async function runChecked(db: Duckdb, sql: string) {
  const [finding] = accessFindings(sql, 'query');
  if (finding) throw new UserError(`the SQL is not allowed (line ${finding.line}, column ${finding.col}): ${finding.message}`, SANDBOX_HINT);
  try {
    const statements = await db.conn.extractStatements(trinoToDuckdb(sql));
    if (statements.count !== 1) throw new UserError(`the SQL is not allowed: it has ${statements.count} statements, a query is one SELECT statement`, SANDBOX_HINT);
    const prepared = await statements.prepare(0);
    try {
      if (prepared.statementType !== StatementType.SELECT && prepared.statementType !== StatementType.EXPLAIN) {
        throw new UserError(`the SQL is not allowed: it is a ${StatementType[prepared.statementType]} statement, a query is one SELECT statement`, SANDBOX_HINT);
      }
      return await prepared.runAndReadAll();
    } finally {
      prepared.destroySync();
    }
  } catch (e) {
    if (e instanceof Error && /^Permission Error/.test(e.message)) {
      throw new UserError(`the SQL sandbox refused it: ${e.message.split('\n')[0]}`, SANDBOX_HINT);
    }
    throw e;
  }
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
