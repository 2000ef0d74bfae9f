/**
 * Global setup of the test run: tests that start the CLI run the built dist/cli.mjs (as users do),
 * so it is rebuilt here once when a source is newer, instead of by each spawned CLI at once.
 */
// @ts-expect-error: scripts/build.mjs is plain JavaScript without type declarations
import { buildCli, isStale } from '../../scripts/build.mjs';

export default async function setup(): Promise<void> {
  if ((isStale as () => boolean)()) await (buildCli as () => Promise<unknown>)();
}
