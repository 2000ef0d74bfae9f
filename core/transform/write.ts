/**
 * Atomic replacement of a curated table's partitions on a local lake.
 *
 * A build writes the whole new table into `curated/_staging/<table>/<run>/` (no reader globs
 * there), then swaps partition by partition with two renames:
 *   curated/<table>/<p>  ->  curated/_trash/<table>/<run>/p/<p>     (old out)
 *   staged <p>           ->  curated/<table>/<p>                   (new in)
 * and deletes the trash. A rename is atomic, so a partition is always either the old complete
 * folder or the new complete folder; the only crash window leaves it missing with the old copy in
 * the trash, which `recoverTable` (run before every build) puts back. When the partition layout
 * itself changes (other partition columns, or none), the whole table folder is the unit instead
 * (`.../<run>/t`).
 */
import { mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';

export interface TableDirs {
  /** curated/<table> */
  table: string;
  /** curated/_staging/<table> (one folder per run below it) */
  staging: string;
  /** curated/_trash/<table> (one folder per run below it) */
  trash: string;
}

export function tableDirs(lakeDir: string, table: string): TableDirs {
  const curated = join(lakeDir, 'curated');
  return { table: join(curated, table), staging: join(curated, '_staging', table), trash: join(curated, '_trash', table) };
}

/** The quarantine output of a table is swapped like an unpartitioned table: quarantine/<table>. */
export function quarantineDirs(lakeDir: string, table: string): TableDirs {
  const root = join(lakeDir, 'quarantine');
  return { table: join(root, table), staging: join(root, '_staging', table), trash: join(root, '_trash', table) };
}

/** Test seam: called between moving a partition out and moving its replacement in. */
export interface SwapHooks {
  betweenRenames?: (partition: string) => void | Promise<void>;
}

export interface SwapResult {
  /** Partition folders (relative, `/`-separated; '' for an unpartitioned table) now holding new data. */
  replaced: string[];
  /** Partition folders removed because the new table has no rows for them. */
  removed: string[];
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
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
 * wrong depth, other names): the layout changed and the table must be swapped as a whole.
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

/** Folders below `root` that directly contain files: the unit a crashed swap left in the trash. */
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
 * Undo a build that crashed mid-swap, and clear leftovers. A trashed partition whose place is
 * empty is the old complete copy of a partition whose replacement never arrived: restore it.
 * A trashed partition whose place is taken was already replaced: delete it. Staging folders of
 * earlier runs are never published, so they are deleted.
 */
export async function recoverTable(dirs: TableDirs): Promise<{ restored: string[] }> {
  const restored: string[] = [];
  for (const run of (await entries(dirs.trash)).filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
    const runDir = join(dirs.trash, run);
    const whole = join(runDir, 't');
    if (await exists(whole)) {
      if (!(await exists(dirs.table))) {
        await mkdir(dirname(dirs.table), { recursive: true });
        await rename(whole, dirs.table);
        restored.push('');
      }
    }
    const parts = join(runDir, 'p');
    for (const leaf of await leafFolders(parts)) {
      const rel = relative(parts, leaf);
      const target = join(dirs.table, rel);
      if (!(await exists(target))) {
        await mkdir(dirname(target), { recursive: true });
        await rename(leaf, target);
        restored.push(toKey(rel));
      }
    }
    await rm(runDir, { recursive: true, force: true });
  }
  await rm(dirs.trash, { recursive: true, force: true });
  await rm(dirs.staging, { recursive: true, force: true });
  return { restored };
}

/**
 * Publishes the staged table (`staged`, a folder laid out like the table, or absent for an empty
 * table) in place of the current one. Call `recoverTable` first.
 */
export async function swapIn(opts: {
  dirs: TableDirs;
  runId: string;
  staged: string;
  partitionNames: string[];
  hooks?: SwapHooks;
}): Promise<SwapResult> {
  const { dirs, runId, staged, partitionNames, hooks } = opts;
  const trashRun = join(dirs.trash, runId);
  const newParts = (await exists(staged)) ? ((await listPartitions(staged, partitionNames)) ?? []) : [];
  const oldParts = await listPartitions(dirs.table, partitionNames);
  const result: SwapResult = { replaced: [], removed: [] };

  if (partitionNames.length === 0 || oldParts === undefined) {
    // Whole-table unit: unpartitioned tables, or a layout change (old folders would not match).
    const hadOld = await exists(dirs.table);
    if (hadOld) {
      await mkdir(trashRun, { recursive: true });
      await rename(dirs.table, join(trashRun, 't'));
    }
    await hooks?.betweenRenames?.('');
    if (newParts.length) {
      await mkdir(dirname(dirs.table), { recursive: true });
      await rename(staged, dirs.table);
      result.replaced.push(...newParts);
    } else if (hadOld) result.removed.push('');
  } else {
    for (const part of newParts) {
      const target = join(dirs.table, part);
      const hadOld = await exists(target);
      if (hadOld) {
        const out = join(trashRun, 'p', part);
        await mkdir(dirname(out), { recursive: true });
        await rename(target, out);
      }
      await hooks?.betweenRenames?.(part);
      await mkdir(dirname(target), { recursive: true });
      await rename(join(staged, part), target);
      if (hadOld) await rm(join(trashRun, 'p', part), { recursive: true, force: true });
      result.replaced.push(part);
    }
    // The table is derived from raw: a partition without rows now must not keep old rows.
    for (const part of oldParts.filter((p) => !newParts.includes(p))) {
      const out = join(trashRun, 'p', part);
      await mkdir(dirname(out), { recursive: true });
      await rename(join(dirs.table, part), out);
      await rm(out, { recursive: true, force: true });
      await pruneEmpty(dirname(join(dirs.table, part)), dirs.table);
      result.removed.push(part);
    }
  }
  await rm(trashRun, { recursive: true, force: true });
  await pruneEmpty(dirs.trash, dirname(dirs.trash));
  await rm(staged, { recursive: true, force: true });
  await pruneEmpty(dirs.staging, dirname(dirs.staging));
  return result;
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
  for (const e of list) {
    if (e.isFile() && e.name.endsWith('.parquet')) {
      files++;
      bytes += (await stat(join(e.parentPath, e.name))).size;
    }
  }
  return { files, bytes };
}
