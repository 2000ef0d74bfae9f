/**
 * `validate` checks of the tables that need the compilers: a declaration the plan rejects, SQL
 * (derived columns, filter) that Spark SQL cannot parse, or that DuckDB cannot bind against the
 * declared columns, is reported with the key and line, before any data is touched.
 */
import { readFileSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Problem } from '../config/problem.ts';
import type { LoadedPipeline, SourcePos } from '../config/types.ts';
import { sparkChecker, type SqlChecker } from '../query/parsers.ts';
import { openDuckdb } from '../query/sandbox.ts';
import { renderDuckdb } from './compile.ts';
import { PathError } from './paths.ts';
import { type TablePlan, TableSpecError, planTable } from './plan.ts';
import { renderSpark } from './spark.ts';

/**
 * Where line/col of a text sits in pipeline.yaml, given the key whose scalar value holds the text.
 * Block literals (`|`) map line by line; a one-line scalar maps by column; anything else (folded or
 * multi-line flow scalars) falls back to the value's start.
 */
export function textPosition(loaded: LoadedPipeline, key: string, line: number, col: number): SourcePos {
  const at = loaded.pos(key);
  let lines: string[];
  try {
    lines = readFileSync(loaded.file, 'utf8').split(/\r?\n/);
  } catch {
    return at;
  }
  const ch = lines[at.line - 1]?.[at.col - 1];
  if (ch === '|') {
    const first = lines.slice(at.line).find((l) => l.trim() !== '');
    const indent = first ? first.length - first.trimStart().length : 0;
    return { file: at.file, line: at.line + line, col: indent + col };
  }
  if (line !== 1 || ch === '>') return at;
  return { file: at.file, line: at.line, col: at.col + col - (ch === '"' || ch === "'" ? 0 : 1) };
}

const problem = (loaded: LoadedPipeline, path: string, message: string, pos?: SourcePos): Problem => ({
  ...(pos ?? loaded.pos(path)),
  path,
  message,
  severity: 'error',
});

/**
 * The cheap part, synchronous and without SQL engines: every table's plan, rendered for both
 * engines. Fit for every command (run, transform), not just validate.
 */
export function tablePlanProblems(loaded: LoadedPipeline): Problem[] {
  return compilePlans(loaded).problems;
}

function compilePlans(loaded: LoadedPipeline): { plans: TablePlan[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const plans: TablePlan[] = [];
  for (const [name, spec] of Object.entries(loaded.config.tables ?? {})) {
    try {
      const plan = planTable(name, spec);
      renderDuckdb(plan, {});
      renderSpark(plan);
      plans.push(plan);
    } catch (e) {
      if (e instanceof TableSpecError) {
        const path = `tables.${name}${e.key ? `.${e.key}` : ''}`;
        problems.push(problem(loaded, path, e.message.slice(e.message.indexOf(': ') + 2)));
      } else if (e instanceof PathError) problems.push(problem(loaded, `tables.${name}`, e.message));
      else throw e;
    }
  }
  return { plans, problems };
}

/**
 * Everything `validate` checks about the tables: the plans (tablePlanProblems), SQL of derived
 * columns and filters that Spark cannot parse, and compiled tables that DuckDB cannot bind.
 * Loads the Spark grammar and an in-memory DuckDB: about a second.
 */
export async function tableProblems(loaded: LoadedPipeline): Promise<Problem[]> {
  const { plans, problems: out } = compilePlans(loaded);
  if (plans.length === 0) return out;
  const spark = await sparkChecker();
  // Binding reads no file (the sources are typed empty relations): the sandbox admits none.
  const db = await openDuckdb({ allow: [] });
  try {
    for (const plan of plans) out.push(...(await planProblems(loaded, plan, spark, db.conn)));
  } finally {
    db.close();
  }
  return out;
}

/** The user's SQL fragments of a table, each with the key it was written at. */
function fragments(plan: TablePlan): Array<{ key: string; wrap: [string, string]; sql: string }> {
  const out: Array<{ key: string; wrap: [string, string]; sql: string }> = [];
  for (const c of plan.columns) {
    if (c.kind === 'sql') out.push({ key: `columns.${c.name}.sql`, wrap: ['SELECT ', ' AS x FROM t'], sql: c.sql });
  }
  if (plan.filter) out.push({ key: 'filter', wrap: ['SELECT * FROM t WHERE ', ''], sql: plan.filter });
  return out;
}

async function planProblems(loaded: LoadedPipeline, plan: TablePlan, spark: SqlChecker, conn: DuckDBConnection): Promise<Problem[]> {
  const base = `tables.${plan.table}`;
  const out: Problem[] = [];
  for (const f of fragments(plan)) {
    const [err] = spark.errors(`${f.wrap[0]}${f.sql}${f.wrap[1]}`);
    if (!err) continue;
    const col = err.line === 1 ? Math.max(1, err.col - f.wrap[0].length) : err.col;
    out.push(problem(loaded, `${base}.${f.key}`, `not valid Spark SQL (the Glue job runs it): ${err.message}`, textPosition(loaded, `${base}.${f.key}`, err.line, col)));
  }
  if (out.length) return out;

  // The compiled Spark SQL as a whole is not parsed here (seconds of parser warm-up for every
  // validate): the conformance vectors hold the renderer to parsing, for every declaration feature.
  const bindError = await bind(conn, plan);
  if (bindError) {
    // Find the first fragment that breaks binding: derived columns in order (later ones stubbed
    // with NULL), then the filter.
    const sqlCols = plan.columns.flatMap((c, i) => (c.kind === 'sql' ? [i] : []));
    let blamed = false;
    for (let k = 0; k <= sqlCols.length && !blamed; k++) {
      const upto = k < sqlCols.length ? sqlCols[k] : Infinity;
      const columns = plan.columns.map((c, i) => (c.kind === 'sql' && i > upto ? { ...c, sql: 'NULL' } : c));
      const withFilter = k === sqlCols.length;
      const err = await bind(conn, { ...plan, columns, filter: withFilter ? plan.filter : undefined });
      if (err) {
        const key = withFilter ? (plan.filter ? 'filter' : '') : `columns.${plan.columns[upto].name}.sql`;
        if (key) out.push(problem(loaded, `${base}.${key}`, `DuckDB cannot run it: ${err}`));
        else out.push(problem(loaded, base, `DuckDB cannot run the compiled table: ${err}`));
        blamed = true;
      }
    }
    if (!blamed) out.push(problem(loaded, base, `DuckDB cannot run the compiled table: ${bindError}`));
  }
  return out;
}

/** Binds the table's DuckDB SQL over no files (typed empty sources); the first line of the error, if any. */
async function bind(conn: DuckDBConnection, plan: TablePlan): Promise<string | undefined> {
  const sql = renderDuckdb(plan, {});
  for (const text of [sql.select, sql.quarantine]) {
    try {
      const prepared = await conn.prepare(text);
      prepared.destroySync();
    } catch (e) {
      return (e as Error).message.split('\n')[0];
    }
  }
  return undefined;
}
