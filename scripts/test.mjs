#!/usr/bin/env node
// `npm test`: the linter (eslint) and the type check (tsc --noEmit) side by side, and meanwhile the
// test run's own setup that needs no CPU to speak of (the project's Python venvs, pip installing
// from its cache, and the S3A jars: scripts/python.mjs), then the suites (vitest run, with any
// arguments given: `npm test -- test/cli`). A lint or type error fails the run before any suite
// starts, as `npm run lint && npm run typecheck && vitest run` did; on a fresh clone the setup
// no longer waits for them (it took about 30 s of the 10-minute budget on two cores).
import { spawn } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const env = { ...process.env, PATH: `${join(ROOT, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}` };

function run(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: 'inherit' });
    child.on('error', (e) => {
      process.stderr.write(`npm test: cannot start ${cmd}: ${e.message}\n`);
      resolve(1);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const python = pathToFileURL(join(ROOT, 'scripts', 'python.mjs')).href;
const setupStep = (code) => run(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(python)}); ${code}`]);
// Two processes: each venv is one pip install, and the two took 43 s and 28 s one after the other.
const setup = Promise.all([setupStep('m.ensurePython();'), setupStep('m.ensureCheckov(); await m.ensureJars();')]);
const [lint, types] = await Promise.all([run('eslint', ['.']), run('tsc', ['--noEmit'])]);
// The setup's own failure is left to vitest's global setup, which repeats it and says what to install.
await setup;
if (lint !== 0 || types !== 0) {
  process.stderr.write(`npm test: ${[lint !== 0 && 'the linter', types !== 0 && 'the type check'].filter(Boolean).join(' and ')} failed; no suite was run\n`);
  process.exit(1);
}
process.exit(await run('vitest', ['run', ...process.argv.slice(2)]));
