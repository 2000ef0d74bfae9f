/**
 * `spotify-pipeline`: the command line. Exit codes: 0 success, 1 a run failed, 2 bad input or
 * configuration (the message says which key, file and line); 130/143 a run stopped by
 * SIGINT/SIGTERM (core/cli/process.ts). Every error is one line (and a `fix:` line when there
 * is one); stack traces only with `--debug`.
 *
 * The program is built from injected parts (`CliDeps`): core's commands here, the connector
 * registry and other parts' commands from the composition root (bin/main.ts). Only commander and
 * leaf modules are imported up front; every command imports what it needs when it runs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { projectRoot } from '../root.ts';
import { ConfigError, formatProblem } from '../config/problem.ts';
import { UserError } from '../errors.ts';
import { redact } from '../redact.ts';
import { terminalSafe } from '../terminal.ts';
import { pluginSource } from '../plugins.ts';
import { CommandFailed, type CliContext, type CliDeps } from './context.ts';
import { registerLogin, registerCheck } from './login-command.ts';
import { registerConnector } from './connector.ts';
import { registerTransform } from './transform-command.ts';
import { duration, integer, nameList, port, seed } from './options.ts';
import { guardOutput } from './process.ts';
import { registerLake } from './lake-command.ts';
import { registerState } from './state-command.ts';
import { registerRecs } from './recs.ts';

const err = (s: string) => process.stderr.write(terminalSafe(redact(s)) + '\n');

export function cliContext(deps: CliDeps): CliContext {
  const plugins = pluginSource(deps.connectors);
  return {
    plugins,
    async prepare(file) {
      const { preparePipeline } = await import('../pipeline.ts');
      const prep = await preparePipeline(file, { plugins });
      for (const w of prep.warnings) err(`warning: ${formatProblem(w)}`);
      return prep;
    },
  };
}

export function buildProgram(deps: CliDeps): Command {
  const ctx = cliContext(deps);
  const program = new Command();
  program
    .name('spotify-pipeline')
    .description('Build a Spotify data lake from one declarative pipeline.yaml')
    .version(`spotify-pipeline ${packageVersion()} (Node.js ${process.versions.node})`, '-V, --version', 'print the version and exit')
    .option('--debug', 'print the stack trace of an error (for bug reports)')
    // Commander's own messages echo what was typed: shown terminal-safe, one line and a hint.
    .configureOutput({ writeErr: (s) => process.stderr.write(terminalSafe(s)), writeOut: (s) => process.stdout.write(s) })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();

  program
    .command('validate')
    .description('Check pipeline.yaml against its schema and the connector (exit 0 valid, 2 invalid)')
    .option('-c, --config <file>', 'pipeline file', 'pipeline.yaml')
    .action(async (o: { config: string }) => {
      const { validateCommand } = await import('./run.ts');
      await validateCommand(ctx, o);
    });

  program
    .command('run')
    .description('Extract every stream, land it raw, build every table, and print a summary')
    .option('-c, --config <file>', 'pipeline file', 'pipeline.yaml')
    .option('--lake <dir>', 'local lake folder (default: storage.local of pipeline.yaml)')
    .option('--sandbox', "run against the connector's offline sandbox, ignoring credentials")
    .option('--sandbox-fallback', 'use the sandbox when no credentials are configured (says so)')
    .option('--seed <n>', 'sandbox data seed', seed)
    .option('--queries', "print every named query's result after the run")
    .option('--report [file]', 'write the dashboards report after the run (default: <lake>/reports/report.html) and print its path')
    .option('--repair', 'first verify every committed raw file; take the runs of files that fail out of the lake (into _quarantine/) and read their streams again')
    .option('--streams <names>', 'run only these streams (comma-separated) and the streams they read from (for_each / ids_from parents)', nameList)
    .option('--full-refresh [stream...]', "ignore the saved state (cursors, versions of skipped parents) of these streams this run; without names, of every stream it runs")
    .option('--full', 'rebuild every table from all its raw files (by default a table with nothing new is skipped and new runs rewrite only the partitions they touch)')
    .option('--time-limit <duration>', 'stop cleanly before this much time has passed (90s, 10m, 2h): what was read is committed and the next run resumes, as the Lambda does at its deadline', duration)
    .option('-v, --verbose', 'debug logging')
    .option('--no-progress', 'no live progress on stderr (by default a display on a terminal, plain lines otherwise)')
    .option('--progress-every <seconds>', 'without a terminal: at most one progress line per this many seconds (0: one per page and table)', integer(0, 86_400, 'a number of seconds'), 10)
    .action(async (o: { config: string; lake?: string; sandbox?: boolean; sandboxFallback?: boolean; seed?: number; queries?: boolean; report?: boolean | string; verbose?: boolean; repair?: boolean; progress?: boolean; progressEvery?: number; streams?: string[]; fullRefresh?: boolean | string[]; timeLimit?: number; full?: boolean }) => {
      const { runCommand } = await import('./run.ts');
      await runCommand(ctx, o);
    });

  program
    .command('query')
    .description('Run a named query (or --sql) on the local lake with DuckDB')
    .argument('[name]', 'a query name from pipeline.yaml')
    .option('-c, --config <file>', 'pipeline file', 'pipeline.yaml')
    .option('--sql <sql>', 'ad-hoc SQL instead of a named query')
    .option('--lake <dir>', 'local lake folder')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'csv', 'json']).default('table'))
    .option('--unsafe', "run --sql without the sandbox (it may then read and write any file you can; see README, \"SQL is sandboxed\")")
    .option('--limit <n>', 'print at most this many rows and say how many more there are (table format: 1000 unless given; csv and json: all unless given)', integer(1, 1_000_000_000, 'a number of rows'))
    // The name before --limit; kept so scripts using it go on working.
    .addOption(new Option('--max-rows <n>', 'same as --limit').argParser(integer(1, 1_000_000_000, 'a number of rows')).hideHelp())
    .action(async (name: string | undefined, o: { config: string; sql?: string; lake?: string; format: string; unsafe?: boolean; limit?: number; maxRows?: number }) => {
      const { queryCommand } = await import('./run.ts');
      await queryCommand(ctx, name, o);
    });

  program
    .command('sandbox')
    .description("Serve a connector's offline sandbox on 127.0.0.1 for manual use (Ctrl-C stops it): the pipeline's connector, or --connector NAME")
    .option('-c, --config <file>', 'pipeline file whose connector to serve', 'pipeline.yaml')
    .option('--connector <name>', `serve this connector's sandbox instead (shipped: ${Object.keys(deps.connectors).join(', ')})`)
    .option('--port <n>', 'port (0 = any free port)', port, 8888)
    .option('--profile <name>', 'sandbox profile, if the connector has several (spotify: development, development-legacy, extended)')
    .addOption(new Option('--mode <name>', 'same as --profile').hideHelp())
    .option('--seed <n>', 'data seed', seed, 42)
    .action(async (o: { config: string; connector?: string; port: number; profile?: string; mode?: string; seed: number }) => {
      const { sandboxCommand } = await import('./sandbox.ts');
      await sandboxCommand(ctx, o);
    });

  program
    .command('report')
    .description('Write the dashboards of pipeline.yaml as one self-contained HTML file (works offline); --aws: a presigned URL of the one the deployment wrote')
    .option('-c, --config <file>', 'pipeline file', 'pipeline.yaml')
    .option('--lake <dir>', 'local lake folder (default: storage.local of pipeline.yaml)')
    .option('--out <file>', 'where to write the report (default: <lake>/reports/report.html)')
    .option('--open', "open it in the system's browser")
    .option('--aws', 'print a short-lived presigned URL of the report the deployed pipeline wrote to s3://<bucket>/reports/')
    .option('--expires <seconds>', 'with --aws: how long the URL works', integer(60, 604_800, 'a number of seconds'), 900)
    .action(async (o: { config: string; lake?: string; out?: string; open?: boolean; aws?: boolean; expires?: number }) => {
      const { reportCommand } = await import('./report.ts');
      await reportCommand(ctx, o);
    });

  registerLogin(program, ctx);
  registerCheck(program, ctx);
  registerConnector(program, ctx);
  registerTransform(program, ctx);
  registerLake(program, ctx);
  registerState(program, ctx);
  registerRecs(program, ctx);
  for (const register of deps.commands ?? []) register(program, ctx);
  return program;
}

/** This package's version, from its package.json (the project root's, wherever the CLI runs from). */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function main(argv: string[], deps: CliDeps): Promise<number> {
  guardOutput();
  // From argv, not the parsed options: an error in parsing is reported the same way.
  const debug = argv.slice(2).includes('--debug');
  const program = buildProgram(deps);
  const restore = quietConsole(debug);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    return report(e, debug);
  } finally {
    restore();
  }
}

const CONSOLE = ['log', 'info', 'debug', 'warn', 'error'] as const;

/**
 * The CLI writes through process.stdout/stderr, never the console; what reaches the console is a
 * library's chatter (dt-sql-parser's ANTLR lexer prints `line 1:4 extraneous input ...` with
 * console.error). It is dropped, or shown on stderr as `[debug] ...` with --debug, so stdout
 * carries only results and stderr only our messages. Returns the function that puts it back.
 */
function quietConsole(debug: boolean): () => void {
  // The very functions, to put back as they were (Node's console methods are bound already).
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const saved = CONSOLE.map((k) => [k, console[k]] as const);
  for (const k of CONSOLE) {
    console[k] = debug ? (...args: unknown[]) => void process.stderr.write(terminalSafe(`[debug] ${args.map(String).join(' ')}`) + '\n') : () => undefined;
  }
  return () => {
    for (const [k, f] of saved) console[k] = f;
  };
}

/** Problems printed of one ConfigError: a generated file with 20,000 broken streams is not 20,000 lines. */
export const MAX_PROBLEMS = 100;

/** Error codes of the file system and network that name a path or port the user gave. */
const USER_FS_CODES = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'EEXIST', 'EROFS', 'ENAMETOOLONG', 'ELOOP', 'ENOTEMPTY', 'EADDRINUSE', 'EADDRNOTAVAIL']);

/** Prints an error as one line (plus a `fix:` line) and returns the exit code; the stack only with --debug. */
export function report(e: unknown, debug = false): number {
  const stack = () => {
    if (debug && e instanceof Error && e.stack) err(e.stack);
  };
  if (e instanceof CommandFailed) {
    if (e.message) err(e.message);
    stack();
    return e.exitCode;
  }
  // Commander has printed its message (and the hint) already.
  if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
  if (e instanceof ConfigError) {
    for (const p of e.problems.slice(0, MAX_PROBLEMS)) err(formatProblem(p));
    const more = e.problems.length - MAX_PROBLEMS;
    if (more > 0) err(`… and ${more.toLocaleString('en-US')} more problem${more === 1 ? '' : 's'} (the first ${MAX_PROBLEMS} shown: fix those, then validate again)`);
    stack();
    return 2;
  }
  if (e instanceof UserError) {
    err(`error: ${e.message}`);
    if (e.hint) err(`  fix: ${e.hint}`);
    stack();
    return 2;
  }
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (e instanceof Error && typeof code === 'string' && USER_FS_CODES.has(code)) {
    err(`error: ${e.message}`);
    stack();
    return 2;
  }
  // A failure a command reports on purpose (a policy check, the conformance kit): its message
  // is the whole report, and it set its stack to the message so that none is ever printed.
  if (e instanceof Error && e.stack === e.message) {
    err(`error: ${e.message}`);
    return 1;
  }
  // A bug, or something the engine did not foresee: its message, and how to learn more.
  const message = e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e);
  if (debug) {
    err(`error: ${e instanceof Error ? (e.stack ?? message) : message}`);
  } else {
    err(`error: ${message}`);
    err('  (unexpected: run again with --debug for the stack trace, and report it)');
  }
  return 1;
}
