/**
 * `validate` checks of the named queries: each must parse as Trino SQL (Athena runs them), reported
 * at the file line and column of the mistake inside the query. A query that parses but that the
 * local DuckDB engine cannot bind (an unknown column of a declared table, a function without a
 * bridge) is a warning: Athena may still run it, but `spotify-pipeline query` will not.
 */
import type { Problem } from '../config/problem.ts';
import type { LoadedPipeline, TableSpec } from '../config/types.ts';
import { tableProblems, textPosition } from '../transform/problems.ts';
import { accessFindings, type SqlRole } from './access.ts';
import { trinoChecker } from './parsers.ts';
import { openLake } from './index.ts';

/**
 * SQL of pipeline.yaml that would read or write files, run other SQL or change the engine
 * (core/query/access.ts): in named queries, `sql:` columns and `filter`s, each at the file line
 * and column of the construct. Cheap (tokens only), so every command that loads a pipeline runs it
 * (core/pipeline.ts), `validate` included.
 */
export function sqlAccessProblems(loaded: LoadedPipeline): Problem[] {
  const out: Problem[] = [];
  const at = (key: string, sql: unknown, role: SqlRole) => {
    if (typeof sql !== 'string') return;
    for (const f of accessFindings(sql, role)) out.push({ ...textPosition(loaded, key, f.line, f.col), path: key, message: f.message, severity: 'error' });
  };
  for (const [name, t] of Object.entries(loaded.config.tables ?? {})) {
    for (const [col, c] of Object.entries(t?.columns ?? {})) at(`tables.${name}.columns.${col}.sql`, c?.sql, 'expression');
    at(`tables.${name}.filter`, t?.filter, 'expression');
  }
  for (const [name, q] of Object.entries(loaded.config.queries ?? {})) at(`queries.${name}.sql`, q?.sql, 'query');
  return out;
}

/**
 * `tables`: every table of the lake the queries run on (with `include:`, also the included
 * pipelines' tables: core/pipeline.ts lakeTables); default: the pipeline's own.
 */
export async function queryProblems(
  loaded: LoadedPipeline,
  opts: { bind?: boolean; tables?: Record<string, TableSpec> } = {},
): Promise<Problem[]> {
  const queries = Object.entries(loaded.config.queries ?? {}).filter(([, q]) => typeof q?.sql === 'string' && q.sql.trim());
  if (queries.length === 0) return [];
  const trino = await trinoChecker();
  const out: Problem[] = [];
  const parsed: Array<[string, string]> = [];
  for (const [name, q] of queries) {
    const key = `queries.${name}.sql`;
    const [err] = trino.errors(q.sql);
    if (err) {
      out.push({ ...textPosition(loaded, key, err.line, err.col), path: key, message: `not valid Athena (Trino) SQL: ${err.message}`, severity: 'error' });
    } else parsed.push([key, q.sql]);
  }
  if (opts.bind === false || parsed.length === 0) return out;

  // Views over a lake folder that does not exist: every table is an empty view of its declared types.
  let lake;
  try {
    lake = await openLake('/nonexistent-spotify-pipeline-lake', opts.tables ?? loaded.config.tables ?? {});
  } catch {
    return out; // a table that does not compile is reported by tableProblems
  }
  try {
    for (const [key, sql] of parsed) {
      try {
        await lake.query(`EXPLAIN ${sql}`);
      } catch (e) {
        const first = (e as Error).message.split('\n')[0];
        out.push({ ...loaded.pos(key), path: key, message: `the local DuckDB engine cannot run it: ${first}`, severity: 'warning' });
      }
    }
  } finally {
    lake.close();
  }
  return out;
}

/**
 * What `validate` adds to the schema and plugin checks: tableProblems and queryProblems of a
 * pipeline and of the pipelines it includes (one lake: `tables` is every table in it).
 */
export async function sqlProblems(pipelines: LoadedPipeline[], tables: Record<string, TableSpec>): Promise<Problem[]> {
  const out: Problem[] = [];
  for (const loaded of pipelines) out.push(...(await tableProblems(loaded)), ...(await queryProblems(loaded, { tables })));
  return out;
}
