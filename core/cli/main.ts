/**
 * `spotify-pipeline`: the command line. Exit codes: 0 success, 1 a run failed, 2 bad input or
 * configuration (the message says which key, file and line).
 */
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, formatProblem, throwIfErrors } from '../config/index.ts';
import { sqlProblems } from '../query/problems.ts';
import { UserError } from '../errors.ts';
import { createLogger, redact } from '../log.ts';
import { lakeDir } from '../config/index.ts';
import { connectorConfig, lakeTables, notConfigured, preparePipeline, runLocal, type Prepared } from '../pipeline.ts';
import { openLake } from '../query/index.ts';
import { csv, humanBytes, textTable } from './format.ts';
import type { RunSummary } from '../engine/run.ts';
import { localSecretUpdater } from '../auth/store.ts';
import { authorizationWarningLines, registerCheck, registerLogin } from './login.ts';
import { registerPlan } from './plan.ts';
import { registerConnector } from './connector.ts';
import { registerTransform } from './transform.ts';

const out = (s = '') => process.stdout.write(s + '\n');
const err = (s: string) => process.stderr.write(redact(s) + '\n');

class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

async function prepare(file: string): Promise<Prepared> {
  const prep = await preparePipeline(file);
  for (const w of prep.warnings) err(`warning: ${formatProblem(w)}`);
  return prep;
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

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('spotify-pipeline')
    .description('Build a Spotify data lake from one declarative pipeline.yaml')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('validate')
    .description('Check pipeline.yaml against its schema and the connector (exit 0 valid, 2 invalid)')
    .option('-c, --config <file>', 'pipeline file', 'pipeline.yaml')
    .action(async (o: { config: string }) => {
      const prep = await prepare(o.config);
      // Named queries must parse as Athena (Trino) SQL; bind problems on DuckDB are warnings.
      for (const w of throwIfErrors(await sqlProblems([prep.loaded, ...(prep.includes ?? []).map((i) => i.loaded)], lakeTables(prep)))) err(`warning: ${formatProblem(w)}`);
      for (const line of authorizationWarningLines(prep.loaded)) err(line);
      const c = prep.loaded.config;
      out(`${o.config}: valid (${Object.keys(c.streams).length} streams, ${Object.keys(c.tables).length} tables, ${Object.keys(c.queries).length} queries; connector ${prep.plugin.name} ${prep.plugin.version})`);
    });

  program
    .command('run')
    .description('Extract every stream, land it raw, build every table, and print a summary')
    .option('-c, --config <file>', 'pipeline file', 'pipeline.yaml')
    .option('--lake <dir>', 'local lake folder (default: storage.local of pipeline.yaml)')
    .option('--sandbox', 'run against the offline Spotify sandbox, ignoring credentials')
    .option('--sandbox-fallback', 'use the sandbox when no credentials are configured (says so)')
    .option('--seed <n>', 'sandbox data seed', (v) => Number(v))
    .option('--queries', 'print every named query\'s result after the run')
    .option('-v, --verbose', 'debug logging')
    .action(async (o: { config: string; lake?: string; sandbox?: boolean; sandboxFallback?: boolean; seed?: number; queries?: boolean; verbose?: boolean }) => {
      const prep = await prepare(o.config);
      const mode = o.sandbox ? 'always' : o.sandboxFallback ? 'fallback' : 'never';
      const lake = lakeDir(prep.loaded, o.lake);
      const summaries: RunSummary[] = [await runOne(prep, { ...o, mode, lake })];
      // Included pipelines land in the same lake, after this one (one connector each).
      for (const inc of prep.includes ?? []) {
        const missing = mode === 'never' ? notConfigured(inc) : undefined;
        if (missing) {
          out(`\nSkipping ${inc.loaded.file} (${inc.plugin.name}): not configured (${missing.join(', ')} not set).`);
          continue;
        }
        out(`\nIncluded pipeline ${inc.loaded.config.name} (${inc.plugin.name}):`);
        summaries.push(await runOne(inc, { ...o, mode, lake }));
      }
      out(`Lake: ${lake}`);
      const failed = summaries.find((x) => !x.ok);
      if (failed) {
        err(`error: ${failed.error}`);
        if (failed.hint) err(`  fix: ${failed.hint}`);
        throw new ExitCode(failed.userError ? 2 : 1);
      }
      if (o.queries) await printQueries(prep, lake);
    });

  program
    .command('query')
    .description('Run a named query (or --sql) on the local lake with DuckDB')
    .argument('[name]', 'a query name from pipeline.yaml')
    .option('-c, --config <file>', 'pipeline file', 'pipeline.yaml')
    .option('--sql <sql>', 'ad-hoc SQL instead of a named query')
    .option('--lake <dir>', 'local lake folder')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'csv', 'json']).default('table'))
    .action(async (name: string | undefined, o: { config: string; sql?: string; lake?: string; format: string }) => {
      const prep = await prepare(o.config);
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
    });

  program
    .command('sandbox')
    .description('Serve the offline Spotify sandbox on 127.0.0.1 for manual use (Ctrl-C stops it)')
    .option('--port <n>', 'port (0 = any free port)', (v) => Number(v), 8888)
    .addOption(new Option('--mode <mode>', 'API profile').choices(['development', 'development-legacy', 'extended']).default('development'))
    .option('--seed <n>', 'data seed', (v) => Number(v), 42)
    .action(async (o: { port: number; mode: string; seed: number }) => {
      const { startSandbox } = await import('../../connectors/spotify/sandbox/index.ts');
      const sb = await startSandbox({ port: o.port, profile: o.mode as 'development', seed: o.seed });
      out(`Spotify sandbox (${sb.profile}, seed ${o.seed}) on ${sb.url}`);
      out(`  API base:   ${sb.apiUrl}`);
      out(`  token URL:  ${sb.accountsUrl}/api/token`);
      out(`  client_id:  ${sb.credentials.client_id}  (demo credentials, accepted by the sandbox only)`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await sb.close();
    });

  registerLogin(program);
  registerCheck(program);
  registerConnector(program);
  registerTransform(program);
  registerPlan(program);
  return program;
}

/** Runs one pipeline into `lake` and prints its summary. */
async function runOne(
  prep: Prepared,
  o: { mode: 'always' | 'fallback' | 'never'; seed?: number; verbose?: boolean; lake: string },
): Promise<RunSummary> {
  const choice = await connectorConfig(prep, { sandbox: o.mode, seed: o.seed });
  if (choice.reason) out(choice.reason);
  else for (const line of authorizationWarningLines(prep.loaded)) err(line);
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

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof ExitCode) return e.code;
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof ConfigError) {
      for (const p of e.problems) err(formatProblem(p));
      return 2;
    }
    if (e instanceof UserError) {
      err(`error: ${e.message}`);
      if (e.hint) err(`  fix: ${e.hint}`);
      return 2;
    }
    err(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return 1;
  }
}
