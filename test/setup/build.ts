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
 *   so the tests themselves use no network but loopback;
 * - Chromium for the report's browser test (scripts/browser.mjs): found, or installed once from
 *   Debian's packages, or the run fails here in one line saying what to install (never skipped).
 *   Its path reaches the tests as `inject('chromiumPath')` (test/support/browser.ts reads it) and
 *   as CHROMIUM_PATH in their environment (the forks inherit this process's).
 */
// @ts-expect-error: scripts/build.mjs is plain JavaScript without type declarations
import { buildCli, isStale } from '../../scripts/build.mjs';
// @ts-expect-error: scripts/python.mjs is plain JavaScript without type declarations
import { ensureCheckov, ensureJars, ensurePython } from '../../scripts/python.mjs';
// @ts-expect-error: scripts/browser.mjs is plain JavaScript without type declarations
import { ensureChromium } from '../../scripts/browser.mjs';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The Chromium executable of the browser tests (scripts/browser.mjs). */
    chromiumPath: string;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  if ((isStale as () => boolean)()) await (buildCli as () => Promise<unknown>)();
  const chromium = (ensureChromium as () => string)();
  process.env.CHROMIUM_PATH = chromium;
  project.provide('chromiumPath', chromium);
  (ensurePython as () => unknown)();
  (ensureCheckov as () => unknown)();
  await (ensureJars as () => Promise<string[]>)();
}
