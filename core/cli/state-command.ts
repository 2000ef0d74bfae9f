/** Registers `state show` and `state reset`; their implementation (core/cli/state.ts) is loaded when they run. */
import type { Command } from 'commander';
import type { CliContext } from './context.ts';

export function registerState(program: Command, ctx: CliContext): void {
  const state = program.command('state').description("Show or reset the streams' saved state (cursors, versions of skipped parents, ids still owed)");
  state
    .command('show')
    .description("Every stream's saved state in one line each, or one stream's state in full")
    .argument('[stream]', 'a stream of the pipeline (or of a pipeline it includes)')
    .option('-c, --config <file>', 'pipeline file', 'pipeline.yaml')
    .option('--lake <dir>', 'local lake folder (default: storage.local of pipeline.yaml)')
    .action(async (stream: string | undefined, o: { config: string; lake?: string }) => {
      const { stateShowCommand } = await import('./state.ts');
      await stateShowCommand(ctx, stream, o);
    });
  state
    .command('reset')
    .description('Forget streams\' saved state (moved to _quarantine/_state/, not deleted): their next run reads them from the start')
    .argument('<stream...>', 'streams of the pipeline (or of a pipeline it includes)')
    .option('-c, --config <file>', 'pipeline file', 'pipeline.yaml')
    .option('--lake <dir>', 'local lake folder (default: storage.local of pipeline.yaml)')
    .action(async (streams: string[], o: { config: string; lake?: string }) => {
      const { stateResetCommand } = await import('./state.ts');
      await stateResetCommand(ctx, streams, o);
    });
}
