/**
 * The Chromium of the report's browser test: Debian's `chromium` package, driven by playwright-core
 * (which bundles no browser). Found through CHROMIUM_PATH, then /usr/bin/chromium, then `chromium`
 * on PATH; when none is there and we are root with apt-get, it is installed once from Debian's
 * packages. Otherwise a MissingTool says, in one line, what to install. Used by the test suite
 * (vitest's global setup), so `npm test` on a fresh machine installs it or fails: never skips.
 *
 *   node scripts/browser.mjs      find or install it; prints its path
 *
 * Plain JavaScript, like scripts/python.mjs: it runs before anything is compiled.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MissingTool } from './python.mjs';

export { MissingTool };

const DEBIAN_PATH = '/usr/bin/chromium';
const HOW_TO_INSTALL = "Chromium is needed for the report's browser test: run `sudo apt-get install chromium` (Debian/Ubuntu) or set CHROMIUM_PATH to a Chromium or Chrome executable";

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', ...opts });
}

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name, env) {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** The version line of a Chromium executable, or undefined when it does not run. */
function version(file) {
  const r = run(file, ['--version'], { timeout: 60_000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The first Chromium that exists: CHROMIUM_PATH (which must then be right), /usr/bin/chromium, `chromium` on PATH. */
export function findChromium(env = process.env) {
  if (env.CHROMIUM_PATH) {
    if (!executable(env.CHROMIUM_PATH)) throw new MissingTool(`CHROMIUM_PATH=${env.CHROMIUM_PATH} is not an executable: ${HOW_TO_INSTALL}`);
    return env.CHROMIUM_PATH;
  }
  if (executable(DEBIAN_PATH)) return DEBIAN_PATH;
  return onPath('chromium', env);
}

/** Installs Debian's chromium (no recommends) with apt-get; `apt-get update` first when no candidate is known. */
function installChromium(env, log) {
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  // Another apt (a parallel run, unattended upgrades) holds dpkg's lock: wait for it rather than fail.
  const lock = ['-o', 'DPkg::Lock::Timeout=600'];
  const t0 = Date.now();
  log('browser: installing Chromium from Debian (apt-get install chromium; once per machine)');
  const policy = run('apt-cache', ['policy', 'chromium'], { env: aptEnv });
  if (policy.status !== 0 || !/Candidate: (?!\(none\))/.test(policy.stdout)) {
    const update = run('apt-get', [...lock, 'update', '-q'], { env: aptEnv, stdio: ['ignore', 'ignore', 'inherit'] });
    if (update.status !== 0) throw new MissingTool(`apt-get update failed (exit ${update.status}): ${HOW_TO_INSTALL}`);
  }
  const install = run('apt-get', [...lock, 'install', '-y', '-q', '--no-install-recommends', 'chromium'], {
    env: aptEnv,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (install.status !== 0) throw new MissingTool(`apt-get install chromium failed (exit ${install.status}): ${HOW_TO_INSTALL}`);
  log(`browser: Chromium installed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

/**
 * Chromium's executable path, installing it first when it is missing and this process may
 * (root, apt-get present). Throws a MissingTool (one line: what to install) when it cannot, and
 * when the executable found does not run (`--version`).
 */
export function ensureChromium({ env = process.env, log = (line) => process.stderr.write(line + '\n') } = {}) {
  let file = findChromium(env);
  if (!file) {
    const root = typeof process.getuid === 'function' && process.getuid() === 0;
    if (!root || !onPath('apt-get', env)) throw new MissingTool(HOW_TO_INSTALL);
    installChromium(env, log);
    file = findChromium(env);
    if (!file) throw new MissingTool(`apt-get installed chromium but no executable was found at ${DEBIAN_PATH} or on PATH: ${HOW_TO_INSTALL}`);
  }
  if (!version(file)) throw new MissingTool(`${file} --version failed (a broken Chromium?): ${HOW_TO_INSTALL}`);
  return file;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.stdout.write(ensureChromium() + '\n');
  } catch (e) {
    process.stderr.write(`${e instanceof MissingTool ? '' : 'error: '}${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  }
}
