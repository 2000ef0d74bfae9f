/**
 * What the CLI's commands are given instead of importing it: where plugins come from (the
 * composition root's connector registry, then discovery) and how a pipeline file is prepared.
 * Commands of other parts (terraform's `plan`) are registered the same way, by the composition
 * root (bin/main.ts), so core never imports them.
 */
import type { Command } from 'commander';
import type { ConnectorRegistry } from '../plugin-api.ts';
import type { PluginSource } from '../plugins.ts';
import type { Prepared } from '../pipeline.ts';

export interface CliContext {
  plugins: PluginSource;
  /** Parse and check a pipeline file with `plugins`; warnings go to stderr. */
  prepare(file: string): Promise<Prepared>;
}

/** Registers one or more commands on the program. Heavy modules are imported inside actions, so `--help` stays fast. */
export type CommandModule = (program: Command, ctx: CliContext) => void;

export interface CliDeps {
  /** The shipped connectors (connectors/index.ts). */
  connectors: ConnectorRegistry;
  /** Commands of other parts of the project, registered after core's own. */
  commands?: CommandModule[];
}

/** Ends a command with an exit code; main() prints `message` (no stack) unless it is empty. */
export class CommandFailed extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CommandFailed';
  }
}
