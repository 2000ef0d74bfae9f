/** Registers `lake gc`; its implementation (core/cli/lake.ts) is loaded when it runs. */
import type { Command } from 'commander';
import type { CliContext } from './context.ts';
import type { GcOptions } from './lake.ts';

export function registerLake(program: Command, ctx: CliContext): void {
  const lake = program.command('lake').description('Housekeeping of the local lake');
  lake
    .command('gc')
    .description('List what nothing will ever read (raw files of runs that never committed, temp files, unpublished or unlinked builds); --delete removes it')
    .option('-c, --config <file>', 'pipeline file', 'pipeline.yaml')
    .option('--lake <dir>', 'local lake folder (default: storage.local of pipeline.yaml)')
    .option('--delete', 'remove what is listed (takes the lake lock: fails while a run or transform holds it)')
    .action(async (o: GcOptions) => {
      const { gcCommand } = await import('./lake.ts');
      await gcCommand(ctx, o);
    });
}
