/**
 * `spotify-pipeline`: the command line. Exit codes: 0 success, 1 a run failed, 2 bad input or
 * configuration (the message says which key, file and line).
 *
 * The program is built from injected parts (`CliDeps`): core's commands here, the connector
 * registry and other parts' commands from the composition root (bin/main.ts). Only commander and
 * leaf modules are imported up front; every command imports what it needs when it runs.
 */
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, formatProblem } from '../config/problem.ts';
import { UserError } from '../errors.ts';
import { redact } from '../redact.ts';
import { pluginSource } from '../plugins.ts';
import { CommandFailed, type CliContext, type CliDeps } from './context.ts';
import { registerLogin, registerCheck } from './login-command.ts';
import { registerConnector } from './connector.ts';
import { registerTransform } from './transform-command.ts';
import { registerLake } from './lake-command.ts';

const err = (s: string) => process.stderr.write(redact(s) + '\n');

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
    .showHelpAfterError()
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
    .option('--seed <n>', 'sandbox data seed', (v) => Number(v))
    .option('--queries', "print every named query's result after the run")
    .option('--repair', 'first verify every committed raw file; take the runs of files that fail out of the lake (into _quarantine/) and read their streams again')
    .option('-v, --verbose', 'debug logging')
    .action(async (o: { config: string; lake?: string; sandbox?: boolean; sandboxFallback?: boolean; seed?: number; queries?: boolean; verbose?: boolean; repair?: boolean }) => {
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
    .action(async (name: string | undefined, o: { config: string; sql?: string; lake?: string; format: string }) => {
      const { queryCommand } = await import('./run.ts');
      await queryCommand(ctx, name, o);
    });

  program
    .command('sandbox')
    .description("Serve a connector's offline sandbox on 127.0.0.1 for manual use (Ctrl-C stops it): the pipeline's connector, or --connector NAME")
    .option('-c, --config <file>', 'pipeline file whose connector to serve', 'pipeline.yaml')
    .option('--connector <name>', `serve this connector's sandbox instead (shipped: ${Object.keys(deps.connectors).join(', ')})`)
    .option('--port <n>', 'port (0 = any free port)', (v) => Number(v), 8888)
    .option('--profile <name>', 'sandbox profile, if the connector has several (spotify: development, development-legacy, extended)')
    .addOption(new Option('--mode <name>', 'same as --profile').hideHelp())
    .option('--seed <n>', 'data seed', (v) => Number(v), 42)
    .action(async (o: { config: string; connector?: string; port: number; profile?: string; mode?: string; seed: number }) => {
      const { sandboxCommand } = await import('./sandbox.ts');
      await sandboxCommand(ctx, o);
    });

  registerLogin(program, ctx);
  registerCheck(program, ctx);
  registerConnector(program, ctx);
  registerTransform(program, ctx);
  registerLake(program, ctx);
  for (const register of deps.commands ?? []) register(program, ctx);
  return program;
}

export async function main(argv: string[], deps: CliDeps): Promise<number> {
  const program = buildProgram(deps);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommandFailed) {
      if (e.message) err(e.message);
      return e.exitCode;
    }
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
