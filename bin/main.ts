/**
 * The composition root: the only module that knows every part. It hands core's CLI the shipped
 * connector registry and the commands of the other parts (terraform's `plan`). Built into
 * dist/cli.mjs at install (scripts/build.ts); bin/spotify-pipeline.mjs runs that.
 */
import { main } from '../core/cli/main.ts';
import { connectors } from '../connectors/index.ts';
import { registerPlan } from '../terraform/plan-command.ts';
import { registerRehearse } from '../terraform/rehearse/command.ts';

export function run(argv: string[]): Promise<number> {
  return main(argv, { connectors, commands: [registerPlan, registerRehearse] });
}
