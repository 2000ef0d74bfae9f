/**
 * `spotify-pipeline rehearse`: the deploy rehearsal (see ./index.ts). Part of terraform/,
 * registered by the composition root; its heavy modules load only when it runs.
 */
import type { Command } from 'commander';
import type { CliContext } from '../../core/cli/context.ts';

/** Ends the command with exit 1 after the summary (no stack trace). */
class RehearsalFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RehearsalFailed';
    this.stack = message;
  }
}

export function registerRehearse(program: Command, ctx: CliContext): void {
  program
    .command('rehearse')
    .description('Run the deployed dataflow locally from the synthesized stack: moto for S3/Secrets Manager/Glue, the bundled extractor against the sandboxes, the Glue job on Spark, every named query (exit 1 on any failure)')
    .option('-c, --config <file>', 'pipeline file', 'pipeline.yaml')
    .option('--seed <n>', 'sandbox data seed', (v) => Number(v))
    .option('--keep', 'keep the work folder (synth output, unpacked extractor, Spark logs) and print where it is')
    .action(async (o: { config: string; seed?: number; keep?: boolean }) => {
      const prep = await ctx.prepare(o.config);
      const [{ rehearse }, { printRehearsal }] = await Promise.all([import('./index.ts'), import('./print.ts')]);
      const report = await rehearse({ prep, pipelineFile: o.config, connectors: ctx.plugins.registry, seed: o.seed, keep: o.keep, log: (l) => process.stderr.write(`${l}\n`) });
      printRehearsal(report, (l) => process.stdout.write(`${l}\n`));
      if (o.keep) process.stdout.write(`Work folder: ${report.workDir}\n`);
      if (!report.ok) throw new RehearsalFailed(`rehearse: ${report.failures.length} failure(s):\n${report.failures.map((f) => `  ${f.split('\n')[0]}`).join('\n')}`);
    });
}
