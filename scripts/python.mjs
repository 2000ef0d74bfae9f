/**
 * The project's Python: a virtualenv under .venv/, created from glue-jobs/requirements-dev.txt
 * (the Glue runtime's pyspark plus pytest and moto) and keyed by a hash of the requirement files
 * and the Python version, so a second run installs nothing and a changed pin gets a fresh one.
 * Used by the test suite (vitest's global setup) and the rehearsal; `npm install && npm start`
 * never need it.
 *
 * checkov (terraform/checkov/requirements.txt) gets a virtualenv of its own, keyed the same way
 * (`.venv/checkov-py<version>-<hash>`): its dependencies must not clash with the Glue pins.
 * `spotify-pipeline plan` uses it when it exists and never creates it.
 *
 *   node scripts/python.mjs            create or reuse it; prints its folder
 *   node scripts/python.mjs checkov    the same for checkov's; prints its folder
 *
 * Plain JavaScript, like scripts/build.mjs: it runs before anything is compiled.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const VENVS = join(ROOT, '.venv');
const REQUIREMENTS = ['glue-jobs/requirements.txt', 'glue-jobs/requirements-dev.txt'];
const CHECKOV_REQUIREMENTS = 'terraform/checkov/requirements.txt';
/** Creating one takes about a minute (pyspark is 300 MB); waiting for another process's is bounded. */
const LOCK_WAIT_MS = 15 * 60 * 1000;

/** A missing tool, said in one line with what to install. */
export class MissingTool extends Error {
  constructor(message) {
    super(message);
    this.name = 'MissingTool';
  }
}

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', ...opts });
}

/** python3 with the venv module and its version, or a MissingTool naming what to install. */
function checkPython(env, purpose) {
  const py = run(env.PYTHON || 'python3', ['-c', 'import sys, venv; print("%d.%d" % sys.version_info[:2])']);
  if (py.error || py.status !== 0) {
    throw new MissingTool(`python3 (3.11, the Python of AWS Glue 5) with the venv module is needed ${purpose}: install it (Debian: apt-get install python3 python3-venv)`);
  }
  return { python: env.PYTHON || 'python3', version: py.stdout.trim() };
}

/** python3 and java, or a MissingTool naming what to install. */
export function checkTools(env = process.env) {
  const py = checkPython(env, 'for the Glue job tests');
  const java = run('java', ['-version']);
  if (java.error || java.status !== 0) {
    throw new MissingTool('java (17, the Java of AWS Glue 5) is needed to run Spark: install a JDK 17 (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME');
  }
  return py;
}

/** The venv's folder for these requirements and this Python: `.venv/py<version>-<hash>`. */
export function venvDir(version) {
  const h = createHash('sha256');
  for (const f of REQUIREMENTS) h.update(f).update('\0').update(readFileSync(join(ROOT, f)));
  return join(VENVS, `py${version}-${h.digest('hex').slice(0, 12)}`);
}

/**
 * What runs from the venv: its python, its scripts, and Spark's home inside pyspark. Spark's own
 * launchers (spark-submit) find their home through SPARK_HOME, and the Python of their workers
 * through PYSPARK_PYTHON: `sparkEnv` sets both to the venv's.
 */
function venvPaths(dir, version) {
  const python = join(dir, 'bin', 'python');
  const sparkHome = join(dir, 'lib', `python${version}`, 'site-packages', 'pyspark');
  return {
    dir,
    python,
    sparkHome,
    bin: (name) => join(dir, 'bin', name),
    sparkEnv: (env = process.env) => ({ ...env, SPARK_HOME: sparkHome, PYSPARK_PYTHON: python, PYSPARK_DRIVER_PYTHON: python }),
  };
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Creates the venv if it is not there (one process at a time: a lock folder) and returns its
 * paths. `log` gets progress lines (the install is the slow part).
 */
export function ensurePython({ env = process.env, log = (line) => process.stderr.write(line + '\n') } = {}) {
  const tools = checkTools(env);
  const dir = venvDir(tools.version);
  const paths = venvPaths(dir, tools.version);
  const created = createVenv({ python: tools.python, dir, requirements: 'glue-jobs/requirements-dev.txt', describe: REQUIREMENTS.join(', '), log });
  if (created) {
    // Venvs of older pins are 300+ MB each: keep only this one.
    for (const e of readdirSync(VENVS, { withFileTypes: true })) {
      if (e.isDirectory() && /^py\d/.test(e.name) && join(VENVS, e.name) !== dir && !e.name.endsWith('.lock')) rmSync(join(VENVS, e.name), { recursive: true, force: true });
    }
  }
  return paths;
}

/** checkov's venv folder for its pinned requirements and this Python: `.venv/checkov-py<version>-<hash>`. */
export function checkovVenvDir(version) {
  const h = createHash('sha256').update(CHECKOV_REQUIREMENTS).update('\0').update(readFileSync(join(ROOT, CHECKOV_REQUIREMENTS)));
  return join(VENVS, `checkov-py${version}-${h.digest('hex').slice(0, 12)}`);
}

/**
 * checkov's executable when its venv is complete, else undefined; never creates anything (what
 * `plan` calls: a missing checkov is a one-line note there, not an install).
 */
export function findCheckov({ env = process.env } = {}) {
  let py;
  try {
    py = checkPython(env, 'for checkov');
  } catch {
    return undefined;
  }
  const dir = checkovVenvDir(py.version);
  return existsSync(join(dir, '.complete')) ? join(dir, 'bin', 'checkov') : undefined;
}

/** Creates checkov's venv (terraform/checkov/requirements.txt) if it is not there; returns its folder and executable. */
export function ensureCheckov({ env = process.env, log = (line) => process.stderr.write(line + '\n') } = {}) {
  const py = checkPython(env, 'for checkov');
  const dir = checkovVenvDir(py.version);
  createVenv({ python: py.python, dir, requirements: CHECKOV_REQUIREMENTS, describe: CHECKOV_REQUIREMENTS, log });
  return { dir, checkov: join(dir, 'bin', 'checkov') };
}

/** Creates `dir` from a requirements file unless it is complete; true when it was created now. */
function createVenv({ python, dir, requirements, describe, log }) {
  const done = join(dir, '.complete');
  if (existsSync(done)) return false;
  mkdirSync(VENVS, { recursive: true });
  const lock = `${dir}.lock`;
  const start = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (existsSync(done)) return false;
      if (Date.now() - start > LOCK_WAIT_MS) throw new Error(`waited ${LOCK_WAIT_MS / 60000} min for another process creating ${dir} (remove ${lock} if none is running)`);
      sleep(500);
    }
  }
  try {
    if (existsSync(done)) return false;
    rmSync(dir, { recursive: true, force: true });
    log(`python: creating ${dir} (${describe}; once per change of the pins)`);
    const t0 = Date.now();
    const mk = run(python, ['-m', 'venv', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (mk.status !== 0) throw new Error(`python3 -m venv ${dir} failed (exit ${mk.status})`);
    // --no-compile: pip byte-compiles every installed module (all of pyspark, boto3, checkov) and
    // that was half of a venv's 30-40 s; Python compiles what is imported, once, when it is.
    const pip = run(join(dir, 'bin', 'python'), ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-q', '--no-compile', '-r', join(ROOT, requirements)], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (pip.status !== 0) throw new Error(`pip install -r ${requirements} into ${dir} failed (exit ${pip.status})`);
    writeFileSync(done, `${new Date().toISOString()}\n`);
    log(`python: ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    return true;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * The jars of glue-jobs/jars.json (S3A for Spark), downloaded once into .venv/jars/ and checked
 * against their pinned SHA-1 (a partial or tampered download is deleted, never used). Returns
 * their paths. Network: Maven Central, only when a jar is not cached yet.
 */
export async function ensureJars({ log = (line) => process.stderr.write(line + '\n') } = {}) {
  const spec = JSON.parse(readFileSync(join(ROOT, 'glue-jobs', 'jars.json'), 'utf8'));
  const dir = join(VENVS, 'jars');
  mkdirSync(dir, { recursive: true });
  const out = [];
  for (const jar of spec.jars) {
    const file = join(dir, jar.path.split('/').pop());
    const sha1 = (f) => createHash('sha1').update(readFileSync(f)).digest('hex');
    if (!existsSync(file) || sha1(file) !== jar.sha1) {
      log(`jars: fetching ${jar.path} from ${spec.repository}`);
      const res = await fetch(`${spec.repository}/${jar.path}`, { signal: AbortSignal.timeout(10 * 60 * 1000) });
      if (!res.ok) throw new Error(`jars: ${spec.repository}/${jar.path}: HTTP ${res.status}`);
      const tmp = `${file}.part-${process.pid}`;
      writeFileSync(tmp, Buffer.from(await res.arrayBuffer()));
      const got = sha1(tmp);
      if (got !== jar.sha1) {
        rmSync(tmp, { force: true });
        throw new Error(`jars: ${jar.path} has SHA-1 ${got}, expected ${jar.sha1}`);
      }
      renameSync(tmp, file);
    }
    out.push(file);
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const which = process.argv[2];
    if (which !== undefined && which !== 'checkov') throw new MissingTool(`usage: node scripts/python.mjs [checkov] (not ${which})`);
    process.stdout.write((which === 'checkov' ? ensureCheckov() : ensurePython()).dir + '\n');
  } catch (e) {
    process.stderr.write(`${e instanceof MissingTool ? '' : 'error: '}${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  }
}
