/**
 * Atomic replacement of a curated table (and of a table's quarantine output) on a local lake.
 *
 * A table's place, `curated/<table>`, is a symbolic link to one complete build of it:
 *   curated/<table>                  ->  _builds/<table>/<build id>     (relative link)
 *   curated/_builds/<table>/<build>/    the files of one build, never changed once linked
 *   curated/_staging/<table>/<build>/   where a build writes (no reader globs there)
 * Publishing a build moves its staged folder under `_builds/`, makes a new link next to it and
 * renames that link over `curated/<table>`: rename(2) replaces a link atomically, so a reader (and a
 * crash at any instant) sees the whole old table or the whole new one, never a table with a
 * partition missing or twice. An empty build is an empty folder, so the table's place is never
 * empty once built. Builds no longer linked are deleted after the swap, and by `recoverTable`
 * (run before every build) when a crash came first. Readers need nothing special: the link is
 * followed by every path lookup (DuckDB's globs included).
 *
 * A lake from before the links has a plain folder at `curated/<table>` (and may hold a crashed
 * swap of that time under `curated/_trash/`): the first build here restores such a crash, then
 * moves the folder to `_builds/<table>/.legacy` just before linking. That one-time step is the only
 * moment a table's place is empty; a crash inside it is undone by `recoverTable`.
 */
import { lstat, mkdir, readdir, readlink, rename, rm, rmdir, stat, symlink } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { crashPoint } from '../crash.ts';

export interface TableDirs {
  /** curated/<table>: the link to the current build */
  table: string;
  /** curated/_staging/<table> (one folder per build below it) */
  staging: string;
  /** curated/_builds/<table> (the linked build, and briefly the one replacing it) */
  builds: string;
  /** curated/_trash/<table>: only in lakes from before the links (a crashed swap of that time) */
  trash: string;
}

export function tableDirs(lakeDir: string, table: string): TableDirs {
  const curated = join(lakeDir, 'curated');
  return { table: join(curated, table), staging: join(curated, '_staging', table), builds: join(curated, '_builds', table), trash: join(curated, '_trash', table) };
}

/** The quarantine output of a table is published the same way: quarantine/<table>. */
export function quarantineDirs(lakeDir: string, table: string): TableDirs {
  const root = join(lakeDir, 'quarantine');
  return { table: join(root, table), staging: join(root, '_staging', table), builds: join(root, '_builds', table), trash: join(root, '_trash', table) };
}

/** The folder of a build that a folder like curated/ or quarantine/ keeps internally (not a table). */
export const INTERNAL_FOLDERS = ['_staging', '_builds', '_trash', '_state'];

/**
 * Test seam: called after each step of a publish (`built`, `linked`, `swapped`, `cleaned`), where
 * the crash hook (core/crash.ts) also counts; a test that throws here simulates a crash in-process.
 */
export interface SwapHooks {
  step?: (step: 'built' | 'linked' | 'swapped' | 'cleaned', table: string) => void | Promise<void>;
}

export interface SwapResult {
  /** The build id now linked. */
  build: string;
  /** With `deferRemoval`: the removal of the builds it replaced, running (await it). */
  removal?: Promise<void>;
}

const LEGACY = '.legacy';
const LINK_PREFIX = '.link-';

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function lexists(path: string) {
  try {
    return await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function entries(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

const toKey = (p: string) => p.split(sep).join('/');

/**
 * Leaf partition folders of a Hive layout with exactly these partition names, in order
 * (`dt=2026-01-01`, `a=1/b=2`). Returns undefined when the folder holds anything else (files at the
 * wrong depth, other names).
 */
export async function listPartitions(root: string, names: string[]): Promise<string[] | undefined> {
  const out: string[] = [];
  const walk = async (dir: string, depth: number): Promise<boolean> => {
    for (const e of await entries(dir)) {
      const path = join(dir, e.name);
      if (depth === names.length) continue; // leaf contents are the partition's own business
      if (!e.isDirectory() || !e.name.startsWith(`${names[depth]}=`)) return false;
      if (depth + 1 === names.length) out.push(toKey(relative(root, path)));
      else if (!(await walk(path, depth + 1))) return false;
    }
    return true;
  };
  if (names.length === 0) return (await exists(root)) ? [''] : [];
  return (await walk(root, 0)) ? out.sort() : undefined;
}

/** Folders below `root` that directly contain files: the unit a crashed legacy swap left in the trash. */
async function leafFolders(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    const list = await entries(dir);
    if (list.some((e) => !e.isDirectory())) out.push(dir);
    for (const e of list) if (e.isDirectory()) await walk(join(dir, e.name));
  };
  await walk(root);
  return out;
}

/** Removes now-empty folders from `dir` up to (and including) `stop`. */
async function pruneEmpty(dir: string, stop: string): Promise<void> {
  let cur = dir;
  while (cur.length >= stop.length && cur.startsWith(stop)) {
    try {
      await rmdir(cur);
    } catch {
      return; // not empty (or gone): stop climbing
    }
    if (cur === stop) return;
    cur = dirname(cur);
  }
}

/**
 * The swap of lakes from before the links crashed between moving a partition out (into
 * `_trash/<table>/<run>/p/...`, or the whole table to `.../t`) and moving its replacement in: put
 * the old complete copy back where its place is empty, drop it where the place is taken.
 */
async function recoverLegacyTrash(dirs: TableDirs, restored: string[]): Promise<void> {
  for (const run of (await entries(dirs.trash)).filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
    const runDir = join(dirs.trash, run);
    const whole = join(runDir, 't');
    if ((await exists(whole)) && !(await lexists(dirs.table))) {
      await mkdir(dirname(dirs.table), { recursive: true });
      await rename(whole, dirs.table);
      restored.push('');
    }
    const parts = join(runDir, 'p');
    for (const leaf of await leafFolders(parts)) {
      const rel = relative(parts, leaf);
      const target = join(dirs.table, rel);
      if ((await lexists(dirs.table))?.isSymbolicLink()) break; // already published the new way
      if (!(await exists(target))) {
        await mkdir(dirname(target), { recursive: true });
        await rename(leaf, target);
        restored.push(toKey(rel));
      }
    }
    await rm(runDir, { recursive: true, force: true });
  }
  await rm(dirs.trash, { recursive: true, force: true });
  await pruneEmpty(dirname(dirs.trash), dirname(dirs.trash));
}

/** The build id the table's link points to, or undefined (no link: never built, or a legacy folder). */
export async function currentBuild(dirs: TableDirs): Promise<string | undefined> {
  const st = await lexists(dirs.table);
  if (!st?.isSymbolicLink()) return undefined;
  return basename(await readlink(dirs.table));
}

/**
 * Leftovers of a build that died, removed before the next one: staged folders, builds no link
 * points to, links not yet swapped in. A legacy folder moved aside whose link never arrived is
 * linked back (the table's place is never left empty), and a crashed swap from before the links
 * is undone. Returns the partitions (or '' for a whole table) put back in place.
 */
export async function recoverTable(dirs: TableDirs, spare?: string): Promise<{ restored: string[] }> {
  const restored: string[] = [];
  await recoverLegacyTrash(dirs, restored);
  if (!(await lexists(dirs.table)) && (await exists(join(dirs.builds, LEGACY)))) {
    await linkBuild(dirs, LEGACY);
    restored.push('');
  }
  const current = await currentBuild(dirs);
  // `spare`: the build an incremental build replaced, kept for the next one to reuse its folders.
  for (const e of await entries(dirs.builds)) {
    if (e.name !== current && (e.name !== spare || !e.isDirectory())) await rm(join(dirs.builds, e.name), { recursive: true, force: true });
  }
  await pruneEmpty(dirs.builds, dirname(dirs.builds));
  await rm(dirs.staging, { recursive: true, force: true });
  await pruneEmpty(dirname(dirs.staging), dirname(dirs.staging));
  return { restored };
}

/** Makes the link to `build` next to it and renames it over the table's place (atomic). */
async function linkBuild(dirs: TableDirs, build: string, hooks?: SwapHooks, label = ''): Promise<void> {
  const tmp = join(dirs.builds, `${LINK_PREFIX}${build}`);
  await rm(tmp, { force: true });
  await symlink(toKey(relative(dirname(dirs.table), join(dirs.builds, build))), tmp);
  crashPoint(`publish ${label}: link made`);
  await hooks?.step?.('linked', label);
  await mkdir(dirname(dirs.table), { recursive: true });
  await rename(tmp, dirs.table);
}

/**
 * Publishes the staged build (`staged`, a folder laid out like the table, or absent for an empty
 * table) in place of the current one, atomically. Call `recoverTable` first.
 */
export async function swapIn(opts: {
  dirs: TableDirs;
  runId: string;
  staged: string;
  hooks?: SwapHooks;
  label?: string;
  deferRemoval?: boolean;
  /** A replaced build to keep (an incremental build's spare) instead of removing it. */
  keep?: string;
}): Promise<SwapResult> {
  const { dirs, runId, staged, hooks } = opts;
  const label = opts.label ?? toKey(relative(dirname(dirname(dirs.table)), dirs.table));
  if (runId.startsWith('.')) throw new Error(`invalid build id "${runId}"`);
  const build = join(dirs.builds, runId);
  await mkdir(dirs.builds, { recursive: true });
  await rm(build, { recursive: true, force: true });
  if (await exists(staged)) await rename(staged, build);
  else await mkdir(build);
  crashPoint(`publish ${label}: build moved into place`);
  await hooks?.step?.('built', label);
  // A lake from before the links: its plain folder is moved aside (recoverTable undoes a crash here).
  const st = await lexists(dirs.table);
  if (st && !st.isSymbolicLink()) {
    await rm(join(dirs.builds, LEGACY), { recursive: true, force: true });
    await rename(dirs.table, join(dirs.builds, LEGACY));
    crashPoint(`publish ${label}: legacy folder moved aside`);
  }
  await linkBuild(dirs, runId, hooks, label);
  crashPoint(`publish ${label}: link swapped`);
  await hooks?.step?.('swapped', label);
  const removeOld = async () => {
    for (const e of await entries(dirs.builds)) {
      if (e.name !== runId && e.name !== opts.keep) await rm(join(dirs.builds, e.name), { recursive: true, force: true });
    }
    crashPoint(`publish ${label}: old build removed`);
    await hooks?.step?.('cleaned', label);
    await pruneEmpty(dirname(staged), dirname(dirs.staging));
  };
  if (opts.deferRemoval) {
    // The new build is published; removing the old one (whose files it mostly shares, in an
    // incremental build) may run while the caller goes on. A crash before it ends leaves an
    // unlinked build that recoverTable removes.
    const removal = removeOld();
    removal.catch(() => undefined); // handled where it is awaited
    return { build: runId, removal };
  }
  await removeOld();
  return { build: runId };
}

/** Parquet files (and their bytes) below `dir`, or none when it is absent: a build's figures. */
export async function parquetStats(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  let list;
  try {
    list = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch {
    return { files, bytes };
  }
  // statSync: hundreds of partition files cost less in a loop than through libuv's threads.
  for (const e of list) {
    if (e.isFile() && e.name.endsWith('.parquet')) {
      files++;
      bytes += statSync(join(e.parentPath, e.name)).size;
    }
  }
  return { files, bytes };
}
