/**
 * The commands that run a pipeline or ask its lake: `validate`, `run` (with the pipelines it
 * includes, into one lake) and `query`. Loaded when one of them runs (see main.ts).
 */
import { join } from 'node:path';
import { formatProblem, lakeDir, throwIfErrors } from '../config/index.ts';
import { sqlProblems } from '../query/problems.ts';
import { UserError } from '../errors.ts';
import { createLogger, redact } from '../log.ts';
import type { JsonRecord } from '../plugin-api.ts';
import { connectorConfig, lakeTables, notConfigured, registerLocalSecrets, runLocal, type Prepared } from '../pipeline.ts';
import { assertLakeFolder, openLake, tablesNamed, UnreadableTableError, type Lake, type QueryResult } from '../query/index.ts';
import type { RunSummary } from '../engine/run.ts';
import { localSecretUpdater } from '../auth/store.ts';
import { csv, humanBytes, textTable } from './format.ts';
import { authorizationWarningLines } from './login.ts';
import { CommandFailed, type CliContext } from './context.ts';

// Both redacted: a query result, like a log line, must never show a registered secret.
const out = (s = '') => process.stdout.write(redact(s) + '\n');
const err = (s: string) => process.stderr.write(redact(s) + '\n');

export async function validateCommand(ctx: CliContext, o: { config: string }): Promise<void> {
  const prep = await ctx.prepare(o.config);
  // Named queries must parse as Athena (Trino) SQL; bind problems on DuckDB are warnings.
  for (const w of throwIfErrors(await sqlProblems([prep.loaded, ...(prep.includes ?? []).map((i) => i.loaded)], lakeTables(prep)))) err(`warning: ${formatProblem(w)}`);
  for (const line of authorizationWarningLines(prep.loaded)) err(line);
  const c = prep.loaded.config;
  out(`${o.config}: valid (${Object.keys(c.streams).length} streams, ${Object.keys(c.tables).length} tables, ${Object.keys(c.queries).length} queries; connector ${prep.plugin.name} ${prep.plugin.version})`);
}

interface RunFlags {
  config: string;
  lake?: string;
  sandbox?: boolean;
  sandboxFallback?: boolean;
  seed?: number;
  queries?: boolean;
  verbose?: boolean;
}

export async function runCommand(ctx: CliContext, o: RunFlags): Promise<void> {
  const prep = await ctx.prepare(o.config);
  const mode = o.sandbox ? 'always' : o.sandboxFallback ? 'fallback' : 'never';
  const lake = lakeDir(prep.loaded, o.lake);
  // What the main pipeline's sandbox shares with the sandboxes of the pipelines it includes.
  const peers: Record<string, JsonRecord> = {};
  const summaries: RunSummary[] = [await runOne(prep, { ...o, mode, lake, peers })];
  // Included pipelines land in the same lake, after this one (one connector each).
  for (const inc of prep.includes ?? []) {
    const missing = mode === 'never' ? notConfigured(inc) : undefined;
    if (missing) {
      out(`\nSkipping ${inc.loaded.file} (${inc.plugin.name}): not configured (${missing.join(', ')} not set).`);
      continue;
    }
    out(`\nIncluded pipeline ${inc.loaded.config.name} (${inc.plugin.name}):`);
    summaries.push(await runOne(inc, { ...o, mode, lake, peers }));
  }
  out(`Lake: ${lake}`);
  const failed = summaries.find((x) => !x.ok);
  if (failed) {
    err(`error: ${failed.error}`);
    if (failed.hint) err(`  fix: ${failed.hint}`);
    throw new CommandFailed('', failed.userError ? 2 : 1);
  }
  if (o.queries) await printQueries(prep, lake);
}

export async function queryCommand(
  ctx: CliContext,
  name: string | undefined,
  o: { config: string; sql?: string; lake?: string; format: string; unsafe?: boolean },
): Promise<void> {
  const prep = await ctx.prepare(o.config);
  const queries = prep.loaded.config.queries;
  if (!name && !o.sql) throw new UserError('give a query name or --sql', `named queries: ${Object.keys(queries).join(', ')}`);
  if (name && !queries[name]) throw new UserError(`no query named "${name}" in ${o.config}`, `expected one of ${Object.keys(queries).join(', ')}`);
  if (o.unsafe && !o.sql) throw new UserError('--unsafe is for ad-hoc SQL (--sql) only: named queries always run sandboxed');
  registerLocalSecrets(prep);
  const dir = lakeDir(prep.loaded, o.lake);
  await assertLakeFolder(dir);
  const lake = await openLake(dir, lakeTables(prep), { unsafe: o.unsafe });
  try {
    const sql = o.sql ?? queries[name!].sql;
    const res = redactResult(await runQuery(lake, sql));
    noteEmptyTables(lake, sql, dir);
    if (o.format === 'json') out(JSON.stringify(res.rows, null, 2));
    else if (o.format === 'csv') out(csv(res.columns, res.rows));
    else out(textTable(res.columns, res.rows));
  } finally {
    lake.close();
  }
}

/**
 * A query's result; its failure as one line: a table that cannot be read (a damaged file) fails
 * the command (exit 1), SQL the lake cannot answer is a mistake to fix (exit 2).
 */
async function runQuery(lake: Lake, sql: string) {
  try {
    return await lake.query(sql);
  } catch (e) {
    if (e instanceof UserError) throw e;
    if (e instanceof UnreadableTableError) throw new CommandFailed(`error: ${e.message}`, 1);
    throw new UserError(`the query failed: ${(e as Error).message.split('\n')[0]}`);
  }
}

/**
 * A result with every registered secret redacted in its names and values, before formatting: a
 * table cell cut to its column width would otherwise show the start of a secret.
 */
function redactResult(res: QueryResult): QueryResult {
  const value = (v: unknown): unknown => {
    if (typeof v === 'string') return redact(v);
    if (Array.isArray(v)) return v.map(value);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [redact(k), value(x)]));
    return v;
  };
  return { columns: res.columns.map(redact), rows: res.rows.map((r) => Object.fromEntries(res.columns.map((c) => [redact(c), value(r[c])]))) };
}

/** One line per table the query reads that has no data yet (its view is empty, typed as declared). */
function noteEmptyTables(lake: Lake, sql: string, dir: string): void {
  for (const t of tablesNamed(sql, lake.emptyTables)) err(`note: table ${t} has no data yet (no Parquet files under ${join(dir, 'curated', t)}): it reads as empty`);
}

export function printSummary(s: RunSummary): void {
  out(`\nRun ${s.runId}: ${s.ok ? 'ok' : s.stoppedEarly ? 'stopped early (state saved)' : 'FAILED'} in ${s.seconds.toFixed(1)} s`);
  out(
    textTable(
      ['stream', 'endpoint', 'status', 'records', 'files', 'bytes', 'requests', 'seconds', 'notes'],
      s.streams.map((x) => ({
        ...x,
        bytes: humanBytes(x.bytes),
        seconds: Number(x.seconds.toFixed(2)),
        notes: Object.entries(x.notes).map(([k, v]) => `${k}=${v}`).join(' ') || '',
      })),
    ),
  );
  if (s.tables.length) {
    out('');
    out(
      textTable(
        ['table', 'rows', 'files', 'bytes', 'partitions', 'quarantined', 'seconds'],
        s.tables.map((t) => ({ ...t, bytes: humanBytes(t.bytes), seconds: Number(t.seconds.toFixed(2)) })),
      ),
    );
  }
  const drift = s.tables.flatMap((t) => (t.drift ?? []).map((d) => `  ${t.table}: ${d}`));
  if (drift.length) out(`Schema drift (reported, not applied; the declared columns stay the schema):\n${drift.join('\n')}`);
  const token = s.requestsByEndpoint.token ?? 0;
  const me = s.requestsByEndpoint.me ?? 0;
  if (token || me) out(`(plus ${token} token request(s) and ${me} /me request(s))`);
}

/** Runs one pipeline into `lake` and prints its summary. */
async function runOne(
  prep: Prepared,
  o: { mode: 'always' | 'fallback' | 'never'; seed?: number; verbose?: boolean; lake: string; peers: Record<string, JsonRecord> },
): Promise<RunSummary> {
  const choice = await connectorConfig(prep, { sandbox: o.mode, seed: o.seed, peers: o.peers });
  if (choice.reason) out(choice.reason);
  else for (const line of authorizationWarningLines(prep.loaded)) err(line);
  if (choice.sandbox?.shared) o.peers[prep.plugin.name] = choice.sandbox.shared;
  const logger = createLogger({ level: o.verbose ? 'debug' : 'info' });
  const ac = new AbortController();
  const onSignal = () => ac.abort(new UserError('interrupted'));
  process.once('SIGINT', onSignal);
  let summary: RunSummary;
  try {
    summary = await runLocal(prep, {
      lake: o.lake,
      logger,
      connectorConfig: choice.config,
      signal: ac.signal,
      // Never in sandbox runs: the demo token must not overwrite the user's secrets file.
      updateSecret: choice.sandbox ? undefined : localSecretUpdater(prep.loaded, logger),
    });
  } finally {
    process.off('SIGINT', onSignal);
    await choice.sandbox?.close();
  }
  printSummary(summary);
  return summary;
}

async function printQueries(prep: Prepared, lake?: string): Promise<void> {
  const queries = prep.loaded.config.queries;
  registerLocalSecrets(prep);
  const dir = lakeDir(prep.loaded, lake);
  const db = await openLake(dir, lakeTables(prep));
  let failed = 0;
  try {
    for (const [name, q] of Object.entries(queries)) {
      let res;
      try {
        res = await db.query(q.sql);
      } catch (e) {
        // One query failing (a damaged table) must not hide the others' results.
        failed++;
        out(`\n== ${name}${q.description ? `: ${q.description}` : ''}`);
        err(`error: query ${name}: ${(e as Error).message.split('\n')[0]}`);
        continue;
      }
      res = redactResult(res);
      out(`\n== ${name}${q.description ? `: ${q.description}` : ''} (${res.rows.length} rows)`);
      out(textTable(res.columns, res.rows.slice(0, 25)));
      if (res.rows.length > 25) out(`… ${res.rows.length - 25} more rows (npx spotify-pipeline query ${name})`);
    }
  } finally {
    db.close();
  }
  if (failed) throw new CommandFailed(`${failed} named ${failed === 1 ? 'query' : 'queries'} failed`, 1);
}
