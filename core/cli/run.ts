/**
 * The commands that run a pipeline or ask its lake: `validate`, `run` (with the pipelines it
 * includes, into one lake) and `query`. Loaded when one of them runs (see main.ts).
 */
import { formatProblem, lakeDir, throwIfErrors } from '../config/index.ts';
import { sqlProblems } from '../query/problems.ts';
import { UserError } from '../errors.ts';
import { createLogger, redact } from '../log.ts';
import type { JsonRecord } from '../plugin-api.ts';
import { connectorConfig, lakeTables, notConfigured, runLocal, type Prepared } from '../pipeline.ts';
import { openLake } from '../query/index.ts';
import type { RunSummary } from '../engine/run.ts';
import { localSecretUpdater } from '../auth/store.ts';
import { withLakeLock } from '../engine/lock.ts';
import { repairLake } from '../engine/repair.ts';
import { listManifests } from '../engine/manifest.ts';
import { LocalStorage } from '../storage/local.ts';
import { csv, humanBytes, textTable } from './format.ts';
import { authorizationWarningLines } from './login.ts';
import { CommandFailed, type CliContext } from './context.ts';

const out = (s = '') => process.stdout.write(s + '\n');
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
  repair?: boolean;
}

export async function runCommand(ctx: CliContext, o: RunFlags): Promise<void> {
  const prep = await ctx.prepare(o.config);
  const mode = o.sandbox ? 'always' : o.sandboxFallback ? 'fallback' : 'never';
  const lake = lakeDir(prep.loaded, o.lake);
  // One writer at a time: the lake's lock is held for every pipeline's run and build.
  const logger = createLogger();
  const summaries = await withLakeLock(lake, { command: o.repair ? 'run --repair' : 'run', logger }, async () => {
    // A corrupt manifest is moved aside (and its streams' state reset) before anything is read,
    // so this run already reads those streams again.
    await listManifests(new LocalStorage(lake), { quarantine: logger });
    if (o.repair) await repair(prep, lake);
    // What the main pipeline's sandbox shares with the sandboxes of the pipelines it includes.
    const peers: Record<string, JsonRecord> = {};
    const done: RunSummary[] = [await runOne(prep, { ...o, mode, lake, peers })];
    // Included pipelines land in the same lake, after this one (one connector each).
    for (const inc of prep.includes ?? []) {
      const missing = mode === 'never' ? notConfigured(inc) : undefined;
      if (missing) {
        out(`\nSkipping ${inc.loaded.file} (${inc.plugin.name}): not configured (${missing.join(', ')} not set).`);
        continue;
      }
      out(`\nIncluded pipeline ${inc.loaded.config.name} (${inc.plugin.name}):`);
      done.push(await runOne(inc, { ...o, mode, lake, peers }));
    }
    return done;
  });
  out(`Lake: ${lake}`);
  const failed = summaries.find((x) => !x.ok);
  if (failed) {
    err(`error: ${failed.error}`);
    if (failed.hint) err(`  fix: ${failed.hint}`);
    throw new CommandFailed('', failed.userError ? 2 : 1);
  }
  if (o.queries) await printQueries(prep, lake);
}

/** `run --repair`: committed files that fail verification are taken out and their streams reset (engine/repair.ts). */
async function repair(prep: Prepared, lake: string): Promise<void> {
  const streams = Object.assign({}, ...[prep, ...(prep.includes ?? [])].map((p) => p.loaded.config.streams)) as Prepared['loaded']['config']['streams'];
  const report = await repairLake(new LocalStorage(lake), { logger: createLogger(), streams });
  if (!report.problems.length) out(`Repair: all ${report.checked} committed raw file(s) verified; nothing to repair.`);
  else out(`Repair: ${report.problems.length} of ${report.checked} committed raw file(s) failed verification; stream(s) ${report.reset.join(', ')} are read again.`);
}

export async function queryCommand(ctx: CliContext, name: string | undefined, o: { config: string; sql?: string; lake?: string; format: string }): Promise<void> {
  const prep = await ctx.prepare(o.config);
  const queries = prep.loaded.config.queries;
  if (!name && !o.sql) throw new UserError('give a query name or --sql', `named queries: ${Object.keys(queries).join(', ')}`);
  if (name && !queries[name]) throw new UserError(`no query named "${name}" in ${o.config}`, `expected one of ${Object.keys(queries).join(', ')}`);
  const lake = await openLake(lakeDir(prep.loaded, o.lake), lakeTables(prep));
  try {
    const res = await lake.query(o.sql ?? queries[name!].sql);
    if (o.format === 'json') out(JSON.stringify(res.rows, null, 2));
    else if (o.format === 'csv') out(csv(res.columns, res.rows));
    else out(textTable(res.columns, res.rows));
  } finally {
    lake.close();
  }
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
  const db = await openLake(lakeDir(prep.loaded, lake), lakeTables(prep));
  try {
    for (const [name, q] of Object.entries(queries)) {
      const res = await db.query(q.sql);
      out(`\n== ${name}${q.description ? `: ${q.description}` : ''} (${res.rows.length} rows)`);
      out(textTable(res.columns, res.rows.slice(0, 25)));
      if (res.rows.length > 25) out(`… ${res.rows.length - 25} more rows (npx spotify-pipeline query ${name})`);
    }
  } finally {
    db.close();
  }
}
