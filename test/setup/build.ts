/**
 * Global setup of the test run:
 * - tests that start the CLI run the built dist/cli.mjs (as users do), so it is rebuilt here once
 *   when a source is newer, instead of by each spawned CLI at once;
 * - the project's Python (a virtualenv with the Glue runtime's pyspark, pytest and moto; see
 *   scripts/python.mjs) is created once, or reused, before the suites that need it start. A
 *   missing python3 or java fails the run here, in one line saying what to install;
 * - checkov's own virtualenv (terraform/checkov/requirements.txt) likewise, for the checkov
 *   review of the default and hardened synths (test/terraform/checkov.test.ts);
 * - the S3A jars Spark needs for the rehearsal (glue-jobs/jars.json) are fetched once and cached,
 *   so the tests themselves use no network but loopback.
 */
// @ts-expect-error: scripts/build.mjs is plain JavaScript without type declarations
import { buildCli, isStale } from '../../scripts/build.mjs';
// @ts-expect-error: scripts/python.mjs is plain JavaScript without type declarations
import { ensureCheckov, ensureJars, ensurePython } from '../../scripts/python.mjs';

export default async function setup(): Promise<void> {
  if ((isStale as () => boolean)()) await (buildCli as () => Promise<unknown>)();
  (ensurePython as () => unknown)();
  (ensureCheckov as () => unknown)();
  await (ensureJars as () => Promise<string[]>)();
}
