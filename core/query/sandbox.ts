/**
 * DuckDB connections that can reach only the files they are given. Every local DuckDB of the
 * engine that runs SQL from pipeline.yaml or the command line opens through here: the query views
 * (named queries, `query --sql`: the lake's curated/ folder only), the table build (`sql:` columns
 * and `filter`s: the lake's raw/, curated/ and quarantine/) and `validate`'s binding (nothing).
 *
 * The settings, all of DuckDB 1.5 (the engine @duckdb/node-api bundles; test/query/sandbox.test.ts
 * checks each one against it):
 *
 * - `autoinstall_known_extensions = false`, `autoload_known_extensions = false` (at creation): a
 *   query cannot make DuckDB download or load an extension (httpfs would reach the network). What
 *   the engine needs (json, parquet, icu) is built in.
 * - `allowed_directories = [...]`: the folders the connection may read and write although external
 *   access is off. A folder, never a parent of it: `/lake/curated/` does not admit `/lake/raw/`,
 *   and `..` does not climb out of it. `allowed_paths` (single files) is not used: every place the
 *   engine needs is a folder. DuckDB adds the connection's `temp_directory` to the list itself.
 * - `temp_directory`: where DuckDB spills when memory runs short: a folder of this connection only
 *   (by default a fresh one under the OS temp folder, removed on close), not DuckDB's default
 *   `.tmp` in the working directory, which the sandbox would otherwise open to writes.
 * - `enable_external_access = false`: no other file (`read_text('.secrets.json')`, `FROM
 *   '.secrets.json'`, `COPY ... TO`, `EXPORT DATABASE`), no URL, no `ATTACH`, no `INSTALL`/`LOAD`.
 * - `lock_configuration = true`, last: no statement can change any setting any more (`SET
 *   enable_external_access = true` fails), so SQL cannot undo the above. Session settings the
 *   engine needs (TimeZone, Trino's integer division) are set before it.
 *
 * The order matters: `allowed_directories` cannot change once external access is off, and nothing
 * can once the configuration is locked. Not covered by the settings: `CALL enable_logging(...)`
 * is accepted even when locked (and then breaks the connection); the static rules of
 * core/query/access.ts reject it in pipeline SQL and in sandboxed ad-hoc SQL.
 *
 * `unsafe` opens a plain in-memory DuckDB instead (`query --unsafe`, for power users).
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { literal } from '../transform/dialects/duckdb.ts';

export interface SandboxOptions {
  /** Folders the SQL may read and write (absolute, or relative to the working directory). */
  allow: string[];
  /** Where DuckDB may spill. Default: a fresh folder under the OS temp folder, removed on close. */
  tempDir?: string;
  /** Statements run before the configuration is locked (SET TimeZone = 'UTC', ...). */
  settings?: string[];
  /** No sandbox at all: a plain in-memory DuckDB (`query --unsafe`). */
  unsafe?: boolean;
}

export interface Duckdb {
  conn: DuckDBConnection;
  /** Whether the connection is sandboxed (false only with `unsafe`). */
  sandboxed: boolean;
  /**
   * One more connection to the same database, for work that runs beside `conn` (it shares the
   * instance's locked, sandboxed configuration, not `conn`'s session settings or temp tables).
   * Closed by `close`.
   */
  connect: () => Promise<DuckDBConnection>;
  close: () => void;
}

/** `dir` as DuckDB should compare it: absolute, with one trailing separator. */
export function allowedDir(dir: string): string {
  const abs = resolve(dir);
  return abs.endsWith(sep) ? abs : `${abs}${sep}`;
}

export async function openDuckdb(opts: SandboxOptions): Promise<Duckdb> {
  if (opts.unsafe) {
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      for (const sql of opts.settings ?? []) await conn.run(sql);
    } catch (e) {
      conn.closeSync();
      instance.closeSync();
      throw e;
    }
    const more: DuckDBConnection[] = [];
    const connect = async () => {
      const c = await instance.connect();
      more.push(c);
      return c;
    };
    return { conn, sandboxed: false, connect, close: () => (more.forEach((c) => c.closeSync()), conn.closeSync(), instance.closeSync()) };
  }
  const ownTemp = opts.tempDir === undefined;
  const tempDir = resolve(opts.tempDir ?? join(tmpdir(), `spotify-pipeline-duckdb-${randomUUID()}`));
  const instance = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
  const conn = await instance.connect();
  const more: DuckDBConnection[] = [];
  const connect = async () => {
    const c = await instance.connect();
    more.push(c);
    return c;
  };
  const close = () => {
    for (const c of more) c.closeSync();
    conn.closeSync();
    instance.closeSync();
    if (ownTemp) rmSync(tempDir, { recursive: true, force: true });
  };
  try {
    const dirs = [...new Set(opts.allow.map(allowedDir))];
    await conn.run(`SET allowed_directories = [${dirs.map(literal).join(', ')}]`);
    await conn.run(`SET temp_directory = ${literal(tempDir)}`);
    for (const sql of opts.settings ?? []) await conn.run(sql);
    await conn.run('SET enable_external_access = false');
    await conn.run('SET lock_configuration = true');
  } catch (e) {
    close();
    throw e;
  }
  return { conn, sandboxed: true, connect, close };
}
