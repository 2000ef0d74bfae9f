#!/usr/bin/env node
/**
 * Builds the CLI once (npm's `prepare`, so `npm install` does it; the test suite's global setup
 * and the launcher rebuild when sources are newer): bin/main.ts and everything it imports, bundled
 * by esbuild into dist/cli.mjs plus lazily loaded chunks (a command's heavy modules, such as
 * DuckDB or the CDKTF stack, load only when that command runs). npm packages stay external,
 * but for BUNDLED_PACKAGES.
 *
 * Plain JavaScript on purpose: it must run before anything is compiled.
 */
import { lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(ROOT, 'dist');
export const ENTRY = join(DIST, 'cli.mjs');
/** Folders whose files go into the build: a change in any of them makes dist/ stale (glue-jobs/: the stack imports job-args.json). */
export const SOURCE_DIRS = ['bin', 'core', 'connectors', 'terraform', 'config', 'glue-jobs'];

/** Newest modification time (ms) of the build's sources; test files do not count. */
export function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && e.name !== 'sandbox-data') walk(p);
      } else if (/\.(ts|mts|json|mjs)$/.test(e.name) && !/\.test\.ts$/.test(e.name)) {
        newest = Math.max(newest, statSync(p).mtimeMs);
      }
    }
  };
  for (const d of SOURCE_DIRS) walk(join(ROOT, d));
  return newest;
}

/**
 * Packages bundled instead of loaded from node_modules at run time: dt-sql-parser's ESM build
 * imports its own files without extensions, which only a bundler (or tsx) resolves.
 */
const BUNDLED_PACKAGES = ['dt-sql-parser'];

/** Every other package of package.json stays external (with its subpaths). */
function externals() {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const names = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((n) => !BUNDLED_PACKAGES.includes(n));
  return names.flatMap((n) => [n, `${n}/*`]);
}

/** Whether dist/cli.mjs is missing or older than a source. */
export function isStale() {
  let built;
  try {
    built = statSync(ENTRY).mtimeMs;
  } catch {
    return true;
  }
  return newestSource() > built;
}

/**
 * Builds into a fresh folder and swaps it in, so a CLI started meanwhile never sees half a build:
 * chunk names carry a content hash, and the entry is replaced last, by a rename.
 */
export async function buildCli() {
  const tmp = join(DIST, `.build-${process.pid}-${Date.now()}`);
  rmSync(tmp, { recursive: true, force: true });
  // Loaded here, not at the top: the CLI launcher imports this module on every start.
  const { build } = await import('esbuild');
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { cli: 'bin/main.ts' },
    outdir: tmp,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: externals(),
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    // Error class names (UserError, ConfigError, ...) are what messages and Lambda report.
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
  });
  mkdirSync(join(DIST, 'chunks'), { recursive: true });
  const keep = new Set();
  for (const out of Object.keys(result.metafile.outputs)) {
    const rel = relative(tmp, join(ROOT, out));
    if (rel === 'cli.mjs') continue;
    keep.add(rel);
    renameSync(join(tmp, rel), join(DIST, rel));
  }
  renameSync(join(tmp, 'cli.mjs'), ENTRY);
  rmSync(tmp, { recursive: true, force: true });
  // Chunks of earlier builds: nothing imports them any more.
  for (const f of readdirSync(join(DIST, 'chunks'))) if (!keep.has(join('chunks', f))) rmSync(join(DIST, 'chunks', f), { force: true });
  return { outputs: Object.keys(result.metafile.outputs).length };
}

/**
 * `npx spotify-pipeline` inside this project: npm exec runs a bin found in node_modules/.bin
 * directly, but for the project's own `bin` field it first loads the whole dependency tree
 * (about 1 s here, every call). So package.json declares no `bin`, and the install links it here.
 */
export function linkBin() {
  const binDir = join(ROOT, 'node_modules', '.bin');
  const link = join(binDir, 'spotify-pipeline');
  try {
    lstatSync(link);
    return false;
  } catch {
    // not linked yet
  }
  mkdirSync(binDir, { recursive: true });
  symlinkSync(join('..', '..', 'bin', 'spotify-pipeline.mjs'), link);
  return true;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  linkBin();
  const { outputs } = await buildCli();
  process.stderr.write(`built ${relative(process.cwd(), ENTRY) || ENTRY} (+${outputs - 1} chunks) in ${Date.now() - t0} ms\n`);
}
