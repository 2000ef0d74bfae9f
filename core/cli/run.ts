/**
 * The commands that run a pipeline or ask its lake: `validate`, `run` (with the pipelines it
 * includes, into one lake) and `query`. Loaded when one of them runs (see main.ts).
 */
import { join, resolve } from 'node:path';
import { formatProblem, lakeDir, throwIfErrors } from '../config/index.ts';
import { sqlProblems } from '../query/problems.ts';
import { UserError } from '../errors.ts';
import { createLogger, redact } from '../log.ts';
import type { JsonRecord } from '../plugin-api.ts';
import { connectorConfig, lakeTables, viewTables, notConfigured, registerLocalSecrets, runLocal, type Prepared } from '../pipeline.ts';
import { assertLakeFolder, openLake, tablesNamed, UnreadableTableError, type Lake, type QueryResult } from '../query/index.ts';
import { selectStreams, type RunSummary } from '../engine/run.ts';
import { deadlineSignal } from '../engine/deadline.ts';
import { localSecretUpdater } from '../auth/store.ts';
import { withLakeLock } from '../engine/lock.ts';
import { repairLake } from '../engine/repair.ts';
import { listManifests } from '../engine/manifest.ts';
import { LocalStorage } from '../storage/local.ts';
import { builtTablesTable, csvLines, driftSection, humanBytes, jsonRows, textTable } from './format.ts';
import { authorizationWarningLines } from './login.ts';
import { CommandFailed, type CliContext } from './context.ts';
import { STOP_EXIT_CODE, stdoutIsClosed, stopOnSignals, type SignalStop, type StopReason } from './process.ts';
import { terminalSafe } from '../terminal.ts';
import { createReporter, progressMode } from './progress.ts';

// Both redacted: a query result, like a log line, must never show a registered secret. Control
// characters from data or config are shown as escapes.
const out = (s = '') => {
  if (!stdoutIsClosed()) process.stdout.write(terminalSafe(redact(s)) + '\n');
};
const err = (s: string) => process.stderr.write(terminalSafe(redact(s)) + '\n');

export async function validateCommand(ctx: CliContext, o: { config: string }): Promise<void> {
  const prep = await ctx.prepare(o.config);
  // Named queries must parse as Athena (Trino) SQL; bind problems on DuckDB are warnings.
  for (const w of throwIfErrors(await sqlProblems([prep.loaded, ...(prep.includes ?? []).map((i) => i.loaded)], viewTables(prep)))) err(`warning: ${formatProblem(w)}`);
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
  /** Write the dashboards report after the run (true: the default place under the lake). */
  report?: boolean | string;
  verbose?: boolean;
  repair?: boolean;
  /** Live progress on stderr (commander's --no-progress sets false). */
  progress?: boolean;
  /** Plain progress lines: at most one per this many seconds. */
  progressEvery?: number;
  /** `--streams a,b`: only these streams (and those they read from). */
  streams?: string[];
  /** `--full-refresh [STREAM...]`: ignore the saved state of these streams (true: of every stream run). */
  fullRefresh?: boolean | string[];
  /** `--time-limit`: stop cleanly this long after the start (milliseconds). */
  timeLimit?: number;
  /** `--full`: rebuild every table from all its raw files (no skipped or incremental builds). */
  full?: boolean;
}

/** What `--time-limit` leaves for the commit: the run stops reading this long before the limit. */
export const TIME_LIMIT_MARGIN_MS = 10_000;

/** The streams one pipeline runs: `undefined` all; what `--streams` added as dependencies; full refresh. */
interface Selection {
  streams?: string[];
  added: string[];
  fullRefresh?: string[];
}

/**
 * `--streams` and `--full-refresh` per pipeline (the main one and those it includes share the
 * command line): a name no pipeline has is a mistake (exit 2), and so is a full refresh of a
 * stream the run does not read.
 */
export function selectRun(pipes: Prepared[], flags: Pick<RunFlags, 'config' | 'streams' | 'fullRefresh'>): Selection[] {
  // `--full-refresh a,b` and `--full-refresh a b` alike.
  const o = { ...flags, fullRefresh: Array.isArray(flags.fullRefresh) ? flags.fullRefresh.flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean) : flags.fullRefresh };
  const all = [...new Set(pipes.flatMap((p) => Object.keys(p.loaded.config.streams)))];
  const named = [...(o.streams ?? []), ...(Array.isArray(o.fullRefresh) ? o.fullRefresh : [])];
  const unknown = [...new Set(named.filter((n) => !all.includes(n)))];
  if (unknown.length) {
    throw new UserError(`unknown stream${unknown.length === 1 ? '' : 's'} ${unknown.map((n) => `"${n}"`).join(', ')} (--streams / --full-refresh)`, `streams of ${o.config}${pipes.length > 1 ? ' and the pipelines it includes' : ''}: ${all.join(', ')}`);
  }
  const picks = pipes.map((p): Selection => {
    const streams = p.loaded.config.streams;
    const wanted = o.streams?.filter((n) => Object.hasOwn(streams, n));
    const order = wanted ? (wanted.length ? selectStreams(streams, wanted) : []) : Object.keys(streams);
    const fullRefresh = o.fullRefresh === true ? order : Array.isArray(o.fullRefresh) ? o.fullRefresh.filter((n) => Object.hasOwn(streams, n)) : undefined;
    return { streams: wanted ? order : undefined, added: wanted ? order.filter((n) => !wanted.includes(n)) : [], fullRefresh };
  });
  const running = new Set(picks.flatMap((x, i) => x.streams ?? Object.keys(pipes[i].loaded.config.streams)));
  const idle = Array.isArray(o.fullRefresh) ? o.fullRefresh.filter((n) => !running.has(n)) : [];
  if (idle.length) throw new UserError(`--full-refresh names ${idle.join(', ')}, which this run does not read`, `add ${idle.length === 1 ? 'it' : 'them'} to --streams`);
  return picks;
}

const STOP_SAYS: Record<StopReason, string> = {
  SIGINT: 'interrupted (Ctrl-C)',
  SIGTERM: 'terminated (SIGTERM)',
  EPIPE: 'the output was closed',
};

/**
 * `run`: the pipeline, then the pipelines it includes, into one lake. SIGINT or SIGTERM (or a
 * closed stdout) stops it cleanly: the streams read completely are committed and the tables
 * built, no further pipeline starts, and the command exits 130 / 143 (0 for a closed stdout).
 * A second signal exits at once.
 */
export async function runCommand(ctx: CliContext, o: RunFlags): Promise<void> {
  const stop = stopOnSignals({
    abortWith: (r) => Object.assign(new UserError(STOP_SAYS[r]), { stop: r }),
    onStop: (r) => {
      if (r !== 'EPIPE') err(`\n${STOP_SAYS[r]}: stopping once what is complete is committed (again to quit at once, committing nothing more)`);
    },
  });
  try {
    await runAll(ctx, o, stop);
  } finally {
    stop.dispose();
  }
}

async function runAll(ctx: CliContext, o: RunFlags, stop: SignalStop): Promise<void> {
  const stopped = () => {
    const r = stop.reason();
    return r === undefined ? undefined : new CommandFailed(r === 'EPIPE' ? '' : `stopped: ${STOP_SAYS[r]}`, STOP_EXIT_CODE[r]);
  };
  const prep = await ctx.prepare(o.config);
  const mode = o.sandbox ? 'always' : o.sandboxFallback ? 'fallback' : 'never';
  const lake = lakeDir(prep.loaded, o.lake);
  const [mainPick, ...incPicks] = selectRun([prep, ...(prep.includes ?? [])], o);
  const early = stopped();
  if (early) throw early;
  // --time-limit: the run stops like the Lambda at its deadline (engine/deadline.ts).
  const limit = o.timeLimit === undefined ? undefined : timeLimit(o.timeLimit);
  const signal = limit ? AbortSignal.any([stop.signal, limit.signal]) : stop.signal;
  const timedOut = () => limit?.signal.aborted === true && !stop.reason();
  // One writer at a time: the lake's lock is held for every pipeline's run and build.
  const logger = createLogger();
  const summaries = await withLakeLock(lake, { command: o.repair ? 'run --repair' : 'run', logger }, async () => {
    // A corrupt manifest is moved aside (and its streams' state reset) before anything is read,
    // so this run already reads those streams again.
    await listManifests(new LocalStorage(lake), { quarantine: logger });
    if (o.repair) await repair(prep, lake);
    // What the main pipeline's sandbox shares with the sandboxes of the pipelines it includes.
    const peers: Record<string, JsonRecord> = {};
    const opts = { ...o, mode, lake, peers, signal, timeLimited: limit !== undefined } as const;
    const done: RunSummary[] = [];
    if (selected(prep, mainPick)) done.push(await runOne(prep, { ...opts, pick: mainPick }));
    // Included pipelines land in the same lake, after this one (one connector each).
    for (const [i, inc] of (prep.includes ?? []).entries()) {
      if (!selected(inc, incPicks[i], true)) continue;
      if (signal.aborted) {
        out(`\nNot run: ${inc.loaded.config.name} (${inc.plugin.name}), ${timedOut() ? 'the time limit was reached' : 'stopped'} before it started.`);
        continue;
      }
      const missing = mode === 'never' ? notConfigured(inc) : undefined;
      if (missing) {
        out(`\nSkipping ${inc.loaded.file} (${inc.plugin.name}): not configured (${missing.join(', ')} not set).`);
        continue;
      }
      out(`\nIncluded pipeline ${inc.loaded.config.name} (${inc.plugin.name}):`);
      done.push(await runOne(inc, { ...opts, pick: incPicks[i] }));
    }
    return done;
  }).finally(() => limit?.clear());
  out(`Lake: ${lake}`);
  const interrupted = stopped();
  if (interrupted) throw interrupted;
  if (timedOut() && summaries.every((x) => x.ok || x.stoppedEarly)) {
    // Planned, like the Lambda's deadline: not a failure. What was read is committed; the next run resumes.
    err(`time limit reached (--time-limit ${seconds(o.timeLimit!)}): what was read is committed with its state; run again to resume where this run stopped${summaries.some((x) => !x.tables.length) ? ' (the tables are built by the next run, or by `transform`)' : ''}`);
    return;
  }
  const failed = summaries.find((x) => !x.ok);
  if (failed) {
    err(`error: ${failed.error}`);
    if (failed.hint) err(`  fix: ${failed.hint}`);
    throw new CommandFailed('', failed.userError ? 2 : 1);
  }
  // What pipeline.yaml declares is built by the run: the recommendations too (before the queries and the report read them).
  if (prep.loaded.config.recommendations && !stopped()) await buildRecommendationsAfterRun(prep, lake);
  if (o.queries) await printQueries(prep, lake, stop);
  if (o.report && !stopped()) await writeReportAfterRun(prep, lake, o.report);
  const late = stopped();
  if (late) throw late;
}

/** Whether a pipeline has streams to run under `--streams`; says so when it has none. */
function selected(p: Prepared, pick: Selection, included = false): boolean {
  if (!pick.streams || pick.streams.length) return true;
  out(`${included ? '\n' : ''}Not selected: ${p.loaded.config.name} (${p.plugin.name}): none of its streams is in --streams.`);
  return false;
}

function seconds(ms: number): string {
  return ms % 1000 ? `${ms} ms` : `${ms / 1000} s`;
}

function timeLimit(ms: number) {
  return deadlineSignal(ms, TIME_LIMIT_MARGIN_MS, (s) => `the time limit (--time-limit ${seconds(ms)}) is ${s} s away; stopping with data and state saved, the next run resumes`);
}

/** `run --repair`: committed files that fail verification are taken out and their streams reset (engine/repair.ts). */
async function repair(prep: Prepared, lake: string): Promise<void> {
  const streams = Object.assign({}, ...[prep, ...(prep.includes ?? [])].map((p) => p.loaded.config.streams)) as Prepared['loaded']['config']['streams'];
  const report = await repairLake(new LocalStorage(lake), { logger: createLogger(), streams });
  if (!report.problems.length) out(`Repair: all ${report.checked} committed raw file(s) verified; nothing to repair.`);
  else out(`Repair: ${report.problems.length} of ${report.checked} committed raw file(s) failed verification; stream(s) ${report.reset.join(', ')} are read again.`);
}

/** Rows `query` prints in table format unless --limit says otherwise (csv and json print all unless it is given). */
export const QUERY_TABLE_ROWS = 1000;

export async function queryCommand(
  ctx: CliContext,
  name: string | undefined,
  o: { config: string; sql?: string; lake?: string; format: string; unsafe?: boolean; limit?: number; maxRows?: number },
): Promise<void> {
  const prep = await ctx.prepare(o.config);
  const queries = prep.loaded.config.queries;
  if (!name && !o.sql) throw new UserError('give a query name or --sql', `named queries: ${Object.keys(queries).join(', ')}`);
  if (name && !Object.hasOwn(queries, name)) throw new UserError(`no query named "${name}" in ${o.config}`, `expected one of ${Object.keys(queries).join(', ')}`);
  if (o.unsafe && !o.sql) throw new UserError('--unsafe is for ad-hoc SQL (--sql) only: named queries always run sandboxed');
  registerLocalSecrets(prep);
  const dir = lakeDir(prep.loaded, o.lake);
  await assertLakeFolder(dir);
  const lake = await openLake(dir, viewTables(prep), { unsafe: o.unsafe });
  try {
    const sql = o.sql ?? queries[name!].sql;
    const res = redactResult(await runQuery(lake, sql));
    noteEmptyTables(lake, sql, dir);
    const given = o.limit ?? o.maxRows;
    const limit = given ?? (o.format === 'table' ? QUERY_TABLE_ROWS : Infinity);
    const rows = res.rows.length > limit ? res.rows.slice(0, limit) : res.rows;
    if (o.format === 'json') await writeLines(jsonRows(rows));
    else if (o.format === 'csv') await writeLines(csvLines(res.columns, rows, { terminal: process.stdout.isTTY === true }));
    else out(textTable(res.columns, rows));
    if (res.rows.length > rows.length) {
      const left = res.rows.length - rows.length;
      const more = `… ${left.toLocaleString('en-US')} more row${left === 1 ? '' : 's'} not shown (${res.rows.length.toLocaleString('en-US')} in all): --limit N shows more${o.format === 'table' && given === undefined ? ', --format csv or json prints every row' : ''}`;
      // Data formats keep stdout parseable: the note goes to stderr.
      if (o.format === 'table') out(more);
      else err(more);
    }
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
export function redactResult(res: QueryResult): QueryResult {
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

/**
 * Writes data lines (csv, json: not made terminal-safe here, the formats did that) in chunks,
 * waiting when the reader is slower, so a large result never sits in memory twice.
 */
async function writeLines(lines: string[]): Promise<void> {
  const CHUNK = 2000;
  for (let i = 0; i < lines.length && !stdoutIsClosed(); i += CHUNK) {
    const ok = process.stdout.write(lines.slice(i, i + CHUNK).join('\n') + '\n');
    if (!ok && !stdoutIsClosed()) {
      await new Promise<void>((done) => {
        const finish = () => {
          process.stdout.off('drain', finish);
          process.stdout.off('error', finish);
          done();
        };
        process.stdout.once('drain', finish);
        process.stdout.once('error', finish);
      });
    }
  }
}

export function printSummary(s: RunSummary, stoppedBy?: StopReason, partitioned: (table: string) => boolean = () => true): void {
  const status = s.ok ? 'ok' : s.stoppedEarly ? 'stopped early (state saved)' : stoppedBy ? `stopped, ${STOP_SAYS[stoppedBy]} (the streams read completely are committed)` : 'FAILED';
  out(`\nRun ${s.runId}: ${status} in ${s.seconds.toFixed(1)} s`);
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
  const details = s.streams.flatMap((x) => (x.details ?? []).map((d) => `  ${x.stream}: ${d}`));
  if (details.length) out(`Notes:\n${details.join('\n')}`);
  if (s.tables.length) {
    out('');
    out(builtTablesTable(s.tables, partitioned));
  }
  const drift = driftSection(s.tables);
  if (drift) out(drift);
  const token = s.requestsByEndpoint.token ?? 0;
  const me = s.requestsByEndpoint.me ?? 0;
  // Each stream's requests already count the token and /me calls made while it read: say what the
  // column holds, never add them again.
  const parts = [token && `${token} token request(s)`, me && `${me} /me request(s)`].filter(Boolean);
  if (parts.length) out(`(the requests column includes ${parts.join(' and ')})`);
}

/** Runs one pipeline into `lake` and prints its summary; `signal` stops it cleanly. */
async function runOne(
  prep: Prepared,
  o: { mode: 'always' | 'fallback' | 'never'; seed?: number; verbose?: boolean; progress?: boolean; progressEvery?: number; lake: string; peers: Record<string, JsonRecord>; signal: AbortSignal; pick?: Selection; timeLimited?: boolean; full?: boolean },
): Promise<RunSummary> {
  const choice = await connectorConfig(prep, { sandbox: o.mode, seed: o.seed, peers: o.peers });
  if (choice.reason) out(choice.reason);
  else for (const line of authorizationWarningLines(prep.loaded)) err(line);
  if (choice.sandbox?.shared) o.peers[prep.plugin.name] = choice.sandbox.shared;
  const pick = o.pick ?? { added: [] };
  if (pick.streams) {
    const wanted = pick.streams.filter((n) => !pick.added.includes(n));
    out(`Streams: ${wanted.join(', ')}${pick.added.length ? `; added, as ${pick.added.length === 1 ? 'it feeds' : 'they feed'} them (for_each / ids_from): ${pick.added.join(', ')}` : ''}`);
  }
  if (pick.fullRefresh?.length) out(`Full refresh (saved state ignored this run): ${pick.fullRefresh.join(', ')}`);
  // Progress and log lines share stderr: the reporter prints log lines above its display.
  const reporter = createReporter({ mode: progressMode(process.stderr, o.progress !== false), out: process.stderr, everyMs: (o.progressEvery ?? 10) * 1000 });
  const logger = createLogger({ level: o.verbose ? 'debug' : 'info', sink: (_level, line) => reporter.log(line) });
  let summary: RunSummary;
  try {
    summary = await runLocal(prep, {
      lake: o.lake,
      logger,
      connectorConfig: choice.config,
      signal: o.signal,
      // Never in sandbox runs: the demo token must not overwrite the user's secrets file.
      updateSecret: choice.sandbox ? undefined : localSecretUpdater(prep.loaded, logger),
      progress: reporter.listener,
      streams: pick.streams,
      fullRefresh: pick.fullRefresh,
      skipTransformWhenStopped: o.timeLimited,
      fullBuild: o.full,
    });
  } finally {
    reporter.stop();
    await choice.sandbox?.close();
  }
  const tables = prep.loaded.config.tables;
  printSummary(summary, o.signal.aborted ? (o.signal.reason as { stop?: StopReason } | undefined)?.stop : undefined, (t) => (tables[t]?.partition_by?.length ?? 0) > 0);
  return summary;
}

/** The recommendations of `recommendations:`, rebuilt from the lake after the run (under the lake lock, as `recs` does). */
async function buildRecommendationsAfterRun(prep: Prepared, lake: string): Promise<void> {
  const { buildRecommendations, recsSettings } = await import('../recs/index.ts');
  const r = await withLakeLock(lake, { command: 'run (recommendations)', logger: createLogger() }, () =>
    buildRecommendations({ lakeDir: lake, tables: lakeTables(prep), settings: recsSettings(prep.loaded.config.recommendations) }),
  );
  out(`\nRecommendations: ${r.recommendations.length} tracks as of ${r.asOf} (from ${r.sources.join(', ')}); \`spotify-pipeline recs\` prints them with their reasons`);
}

/** `run --report`: the report after the run; a panel that fails is an error line, the run still succeeded. */
async function writeReportAfterRun(prep: Prepared, lake: string, where: boolean | string): Promise<void> {
  if (!Object.keys(prep.loaded.config.dashboards ?? {}).length) return;
  const { REPORT_FILE, reportLine, writeLocalReport } = await import('./report.ts');
  const file = resolve(typeof where === 'string' ? where : join(lake, REPORT_FILE));
  const report = await writeLocalReport(prep, lake, file);
  for (const p of report.panels.filter((x) => x.status === 'failed')) err(`error: report panel "${p.title}" (${p.dashboard}): ${p.message}`);
  out(`\n${reportLine(report)}`);
  if (report.panels.some((p) => p.status === 'failed')) throw new CommandFailed('some report panels failed (the report shows which)', 1);
}

async function printQueries(prep: Prepared, lake: string, stop: SignalStop): Promise<void> {
  const queries = prep.loaded.config.queries;
  registerLocalSecrets(prep);
  // `lake` is the folder already resolved (and --lake applied) by the run.
  const db = await openLake(lake, viewTables(prep));
  let failed = 0;
  try {
    for (const [name, q] of Object.entries(queries)) {
      if (stop.reason()) break;
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
