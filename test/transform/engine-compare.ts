/**
 * What a build left in a lake, read back with DuckDB the same way for either engine, and compared:
 * the Parquet schema (DuckDB's types of the files, partition columns as folder strings), every row
 * (order-insensitive; doubles to 12 significant digits), the partition folders, the quarantine rows.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { literal } from '../../core/transform/dialects/duckdb.ts';
import { listPartitions } from '../../core/transform/write.ts';
import { listFiles } from './helpers.ts';

/** Doubles are compared to this many significant digits (Spark and DuckDB parse and sum alike, but need not print alike). */
export const DOUBLE_DIGITS = 12;

export interface TableOutput {
  /** Column name: DuckDB type, in file order (partition columns last, as VARCHAR). */
  columns: string[];
  /** Canonical rows (JSON text, doubles rounded), sorted. */
  rows: string[];
  /** Partition folders as written (`dt=2026-11-24`, `a=x/b=y`), sorted. */
  folders: string[];
  /** Quarantine rows, parsed (record as JSON value), sorted by file, line, reasons. */
  quarantine: QuarantineRow[];
}

export interface QuarantineRow {
  table: string;
  reasons: string[];
  file: string;
  line: number;
  source_run_id: string | null;
  record: unknown;
}

const FLOATS = new Set(['DOUBLE', 'FLOAT', 'REAL']);

function canonical(value: unknown, type: string): unknown {
  if (value === null || value === undefined) return null;
  if (FLOATS.has(type) && typeof value === 'number') return Number(value.toPrecision(DOUBLE_DIGITS));
  return value;
}

export async function readTableOutput(lake: string, table: string, partitionNames: string[]): Promise<TableOutput> {
  const dir = join(lake, 'curated', table);
  const parquet = (await listFiles(dir)).filter((f) => f.endsWith('.parquet'));
  let columns: string[] = [];
  let rows: string[] = [];
  if (parquet.length) {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    try {
      await conn.run(`SET TimeZone = 'UTC'`);
      // As the query layer reads a table: Hive folders, partition values as strings.
      const source = `read_parquet(${literal(join(dir, '**', '*.parquet'))}, hive_partitioning = true, hive_types_autocast = false, union_by_name = true)`;
      const described = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)).getRows();
      columns = described.map((r) => `${String(r[0])}: ${String(r[1])}`);
      const types = Object.fromEntries(described.map((r) => [String(r[0]), String(r[1])]));
      const objects = (await conn.runAndReadAll(`SELECT * FROM ${source}`)).getRowObjectsJson();
      rows = objects.map((o) => JSON.stringify(Object.keys(o).sort().map((k) => [k, canonical(o[k], types[k])]))).sort();
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  }
  const folders = partitionNames.length ? ((await listPartitions(dir, partitionNames)) ?? ['(not a Hive layout)']) : [];
  return { columns, rows, folders, quarantine: await readQuarantine(lake, table) };
}

export async function readQuarantine(lake: string, table: string): Promise<QuarantineRow[]> {
  const dir = join(lake, 'quarantine', table);
  const out: QuarantineRow[] = [];
  for (const f of await listFiles(dir)) {
    const text = gunzipSync(await readFile(join(dir, f))).toString('utf8');
    for (const line of text.split('\n')) if (line.trim()) out.push(JSON.parse(line) as QuarantineRow);
  }
  const key = (q: QuarantineRow) => `${q.file}\0${String(q.line).padStart(12, '0')}\0${q.reasons.join('\0')}`;
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** A partition folder's values as written by either engine, decoded (DuckDB escapes more than Hive): [name, value] pairs. */
export const decodeFolder = (folder: string): Array<[string, string]> =>
  folder.split('/').map((part) => {
    const at = part.indexOf('=');
    return [part.slice(0, at), decodeURIComponent(part.slice(at + 1))];
  });

/** The partitions of a table as decoded values, in a stable order (for comparing engines). */
export const decodedPartitions = (folders: string[]): string[] => folders.map((f) => JSON.stringify(decodeFolder(f))).sort();

/**
 * A value as Hive (and so Spark, and lake_io.hive_escape) writes it in a folder name: only control
 * characters and "#%'*\/:=?\\{[]^ are escaped; a space or a non-ASCII letter stays as it is.
 */
export function hiveEscape(value: string): string {
  if (value === '') return '__HIVE_DEFAULT_PARTITION__';
  return [...value].map((c) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f || '"#%\'*/:=?\\{[]^'.includes(c) ? `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}` : c)).join('');
}

/** The folder Spark writes for these decoded values. */
export const sparkFolder = (values: Array<[string, string]>): string =>
  values.map(([name, value]) => `${name}=${value === '__HIVE_DEFAULT_PARTITION__' ? value : hiveEscape(value)}`).join('/');
