/**
 * Runs before every test file (vitest.config.ts `setupFiles`). Test files share their worker's
 * process and modules (`isolate: false`), so whatever one file leaves changed is what the next
 * file on that worker starts with. After each file this fails it, naming what it left behind:
 * environment variables set, changed or removed, another working directory, or a spy still on
 * process.stdout/stderr.write, JSON.parse or fetch.
 */
import { afterAll, vi } from 'vitest';

const env = { ...process.env };
const cwd = process.cwd();
const watched: Array<[string, () => unknown]> = [
  ['process.stdout.write', () => Reflect.get(process.stdout, 'write')],
  ['process.stderr.write', () => Reflect.get(process.stderr, 'write')],
  ['JSON.parse', () => JSON.parse],
  ['globalThis.fetch', () => globalThis.fetch],
];

afterAll(() => {
  const left: string[] = [];
  const keys = new Set([...Object.keys(env), ...Object.keys(process.env)]);
  for (const k of [...keys].sort()) {
    if (env[k] === process.env[k]) continue;
    left.push(k in env ? (k in process.env ? `environment variable ${k} changed` : `environment variable ${k} removed`) : `environment variable ${k} set`);
  }
  if (process.cwd() !== cwd) left.push(`working directory ${process.cwd()} (was ${cwd})`);
  for (const [name, get] of watched) if (vi.isMockFunction(get())) left.push(`a spy on ${name}`);
  if (left.length) {
    // Put things back, so one leaky file fails alone and not every file after it.
    for (const k of Object.keys(process.env)) if (!(k in env)) delete process.env[k];
    Object.assign(process.env, env);
    process.chdir(cwd);
    throw new Error(`this test file left its worker changed (files share a worker's process: vitest.config.ts, isolate: false): ${left.join('; ')}`);
  }
});
