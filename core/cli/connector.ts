/**
 * `spotify-pipeline connector init NAME` (a working plugin to start from) and
 * `spotify-pipeline connector test PATH|NAME` (the conformance kit; exit 0 pass, 1 fail).
 */
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { createLogger } from '../log.ts';
import { RULES, SUITES, type SuiteName } from '../conformance/types.ts';
import type { CliContext } from './context.ts';
import { seed } from './options.ts';

const out = (s = '') => process.stdout.write(s + '\n');

/** Ends `connector test` with exit code 1; main() prints its one-line message (no stack). */
export class ConnectorTestFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectorTestFailed';
    this.stack = message;
  }
}

export function registerConnector(program: Command, ctx: CliContext): void {
  const connector = program.command('connector').description('Write connector plugins: scaffold one, run the conformance kit');

  connector
    .command('init')
    .description('Create connectors/NAME/: a working plugin (one incremental stream against its own sandbox), its test and a README')
    .argument('<name>', 'connector name (lowercase letters, digits, dashes)')
    .option('--dir <dir>', 'parent folder of the new plugin folder', 'connectors')
    .action(async (name: string, o: { dir: string }) => {
      const { scaffoldConnector } = await import('../conformance/scaffold.ts');
      const res = await scaffoldConnector(name, o.dir);
      const rel = relative(process.cwd(), res.dir);
      const shown = rel.startsWith('..') ? res.dir : rel;
      const byName = resolve(o.dir) === resolve('connectors');
      out(`Created ${shown}/: ${res.files.join(', ')}`);
      out('Next:');
      out(`  npx spotify-pipeline connector test ${byName ? name : res.dir}`);
      out(`  then edit ${shown}/index.ts and ${shown}/sandbox.ts for the real API, and fill in ${shown}/README.md`);
    });

  connector
    .command('test')
    .description('Run the conformance kit on a plugin against its sandbox (exit 0 pass, 1 fail)')
    .argument('<plugin>', 'a shipped connector, a folder name under connectors/, a path, or an npm package')
    .option('-p, --pipeline <file>', 'read the streams of this pipeline file (default: one per endpoint that needs no parent)')
    .addOption(new Option('--suite <names...>', 'run only these suites').choices([...SUITES]))
    .option('--seed <n>', 'sandbox seed', seed)
    .option('--json', 'print the report as JSON')
    .option('-v, --verbose', 'progress and notes')
    .option('--rules', 'list the rules of every suite and exit')
    .action(async (target: string, o: { pipeline?: string; suite?: SuiteName[]; seed?: number; json?: boolean; verbose?: boolean; rules?: boolean }) => {
      if (o.rules) {
        for (const s of SUITES) for (const [rule, what] of Object.entries(RULES[s])) out(`${s}.${rule}: ${what}`);
        return;
      }
      // `connectors/x` or `my-plugin/` typed without ./ is a path when it exists (else a name or package).
      const asPath = /[/\\]/.test(target) && !target.startsWith('@') && existsSync(target) ? resolve(target) : target;
      const { formatReport, runConformance } = await import('../conformance/index.ts');
      const report = await runConformance(asPath, {
        plugins: ctx.plugins,
        pipeline: o.pipeline,
        suites: o.suite,
        seed: o.seed,
        progress: o.verbose ? createLogger({ level: 'info' }) : undefined,
      });
      out(o.json ? JSON.stringify(report, null, 2) : formatReport(report, { verbose: o.verbose }));
      if (!report.ok) {
        const failed = report.suites.filter((r) => r.status === 'failed');
        throw new ConnectorTestFailed(`connector ${report.plugin} failed the conformance kit (${failed.map((r) => r.suite).join(', ')})`);
      }
    });
}

