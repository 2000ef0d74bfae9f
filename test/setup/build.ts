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
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

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
  // checkov's venv and the jars in a second process while this one creates the Glue venv: on a
  // fresh clone the two pip installs took 32 s and 31 s one after the other.
  const side = spawn(process.execPath, ['--input-type=module', '-e', SIDE_SETUP], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  const sideDone = once(side, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let failed: Error | undefined;
  try {
    (ensurePython as () => unknown)();
  } catch (e) {
    failed = e instanceof Error ? e : new Error(String(e));
  }
  const [code, signal] = await sideDone;
  if (failed) throw failed;
  if (code !== 0) throw new Error(`setting up checkov's virtualenv and the Spark jars failed (exit ${code ?? signal}); the lines above say why`);
  // Both are ready now: these only check.
  (ensureCheckov as () => unknown)();
  await (ensureJars as () => Promise<string[]>)();
}

const ROOT = join(import.meta.dirname, '..', '..');
const SIDE_SETUP = `
const m = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'scripts', 'python.mjs')).href)});
m.ensureCheckov();
await m.ensureJars();
`;
