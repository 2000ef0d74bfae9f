/**
 * `validate` checks of the named queries: each must parse as Trino SQL (Athena runs them), reported
 * at the file line and column of the mistake inside the query. A query that parses but that the
 * local DuckDB engine cannot bind (an unknown column of a declared table, a function without a
 * bridge) is a warning: Athena may still run it, but `spotify-pipeline query` will not.
 */
import type { Problem } from '../config/problem.ts';
import type { LoadedPipeline, PanelSpec, TableSpec } from '../config/types.ts';
import { chartFields } from '../report/chart.ts';
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
  for (const [name, d] of Object.entries(loaded.config.dashboards ?? {})) {
    (Array.isArray(d?.panels) ? d.panels : []).forEach((p, i) => at(`dashboards.${name}.panels[${i}].sql`, p?.sql, 'query'));
  }
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
 * The dashboards' panels: their own SQL must parse as Athena (Trino) SQL, and every column a panel
 * shows (a chart's encoding fields, a table's columns, a number's field) must be a column its query
 * returns, found by binding the query (DESCRIBE: it does not run) on an empty lake (each table an
 * empty view of its declared types). A query the local engine cannot bind is a warning, as for named queries.
 */
export async function dashboardProblems(loaded: LoadedPipeline, tables: Record<string, TableSpec>): Promise<Problem[]> {
  const panels = Object.entries(loaded.config.dashboards ?? {}).flatMap(([name, d]) => (Array.isArray(d?.panels) ? d.panels : []).map((p, i) => ({ key: `dashboards.${name}.panels[${i}]`, p })));
  const queries = loaded.config.queries ?? {};
  const withSql = panels
    .map(({ key, p }) => ({ key, p, sql: typeof p?.sql === 'string' ? p.sql : typeof p?.query === 'string' ? queries[p.query]?.sql : undefined }))
    .filter((x): x is { key: string; p: PanelSpec; sql: string } => typeof x.sql === 'string' && x.sql.trim() !== '');
  if (!withSql.length) return [];
  const trino = await trinoChecker();
  const out: Problem[] = [];
  let lake;
  try {
    lake = await openLake('/nonexistent-spotify-pipeline-lake', tables);
  } catch {
    return out;
  }
  try {
    for (const { key, p, sql } of withSql) {
      if (p.sql) {
        const [e] = trino.errors(sql);
        if (e) {
          out.push({ ...textPosition(loaded, `${key}.sql`, e.line, e.col), path: `${key}.sql`, message: `not valid Athena (Trino) SQL: ${e.message}`, severity: 'error' });
          continue;
        }
      }
      let columns: string[];
      try {
        // DESCRIBE binds without running: a panel's query may be slow (or never end) on real data.
        columns = (await lake.query(`DESCRIBE ${sql}`)).rows.map((r) => String(r.column_name));
      } catch (e) {
        if (p.sql) out.push({ ...loaded.pos(`${key}.sql`), path: `${key}.sql`, message: `the local DuckDB engine cannot run it: ${(e as Error).message.split('\n')[0]}`, severity: 'warning' });
        continue;
      }
      const shown: Array<{ field: string; path: string }> = [
        ...(p.chart?.encoding ? chartFields(p.chart).map((f) => ({ field: f.field, path: `chart.${f.path}` })) : []),
        ...(p.table?.columns ?? []).map((c, i) => ({ field: c, path: `table.columns[${i}]` })),
        ...(p.number?.field ? [{ field: p.number.field, path: 'number.field' }] : []),
      ];
      const from = p.sql ? 'its query' : `query ${p.query}`;
      for (const f of shown) {
        if (columns.includes(f.field)) continue;
        const key2 = `${key}.${f.path}`;
        out.push({ ...loaded.pos(key2), path: key2, message: `"${f.field}" is not a column of ${from} (it returns ${columns.join(', ')})`, severity: 'error' });
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
  for (const loaded of pipelines) out.push(...(await tableProblems(loaded)), ...(await queryProblems(loaded, { tables })), ...(await dashboardProblems(loaded, tables)));
  return out;
}
