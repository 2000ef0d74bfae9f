/**
 * `lake gc`: what a local lake holds that nothing will ever read, and (with `--delete`) removing it.
 *
 *   orphan raw      raw files no committed manifest lists (a run killed before its commit, a
 *                   stream that failed and died before cleaning up)
 *   temp file       `*.tmp` files of writes that never finished (LocalStorage writes a temp file and
 *                   renames it), and temp files of the lake lock
 *   staging         `curated/_staging/`, `quarantine/_staging/`: builds that never got published
 *   unlinked build  builds under `_builds/<table>/` that the table's link does not point to
 *   old trash       `_trash/` of the layout before links (restored by the next build first)
 *   spark temp      `_tmp/spark-*`: temp folders of Spark builds that died
 *   duckdb temp     `_tmp/duckdb-*`: spill folders of DuckDB builds that died
 *
 * A writer holding the lake lock may be making exactly these files: `lake gc --delete` takes the
 * lock itself (so no writer is running), and a listing while a live writer holds it leaves out
 * whatever was modified since the writer took the lock. `_quarantine/` is never collected: it is
 * for a human to inspect (its size is reported).
 */
import { lstat, readFile, readdir, readlink, rm } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Storage } from '../storage/storage.ts';
import { committedFiles, listManifests } from './manifest.ts';
import { LOCK_FILE, type LockInfo } from './lock.ts';
import type { Logger } from '../plugin-api.ts';
import { QUARANTINE } from './quarantine.ts';

export type GarbageKind = 'orphan raw' | 'temp file' | 'staging' | 'unlinked build' | 'old trash' | 'spark temp' | 'duckdb temp';

export interface Garbage {
  kind: GarbageKind;
  /** Lake-relative, `/`-separated; a folder ends in `/`. */
  path: string;
  bytes: number;
  why: string;
}

export interface GcReport {
  items: Garbage[];
  /** Files kept in `_quarantine/` (never collected). */
  quarantined: { files: number; bytes: number };
}

const key = (lake: string, path: string) => relative(lake, path).split(sep).join('/');

async function list(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw e;
  }
}

/** Bytes and newest modification time below a path (a file or a folder; links not followed). */
async function measure(path: string): Promise<{ bytes: number; mtimeMs: number; files: number }> {
  const st = await lstat(path);
  if (!st.isDirectory()) return { bytes: st.size, mtimeMs: st.mtimeMs, files: 1 };
  let bytes = 0;
  let files = 0;
  let mtimeMs = st.mtimeMs;
  for (const e of await list(path)) {
    const m = await measure(join(path, e.name));
    bytes += m.bytes;
    files += m.files;
    mtimeMs = Math.max(mtimeMs, m.mtimeMs);
  }
  return { bytes, mtimeMs, files };
}

/** Every file below `dir` (links not followed), as absolute paths. */
async function walkFiles(dir: string, out: string[] = []): Promise<string[]> {
  for (const e of await list(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory()) await walkFiles(path, out);
    else out.push(path);
  }
  return out;
}

/**
 * Finds the lake's garbage. `holder`: a live writer's lock (then whatever changed since it took the
 * lock is left out). Manifests are read from `storage` (the same lake); a corrupt one is moved
 * aside only when `quarantine` is given (the caller holds the lock), else it fails the listing.
 */
export async function findGarbage(lakeDir: string, storage: Storage, opts: { holder?: LockInfo; quarantine?: Logger } = {}): Promise<GcReport> {
  const items: Garbage[] = [];
  const since = opts.holder ? Date.parse(opts.holder.since) : Infinity;
  const add = async (kind: GarbageKind, path: string, why: string, folder = false) => {
    const m = await measure(path).catch(() => undefined);
    if (!m || m.mtimeMs >= since) return;
    items.push({ kind, path: key(lakeDir, path) + (folder ? '/' : ''), bytes: m.bytes, why });
  };

  // Raw files no committed manifest lists.
  const committed = new Set(committedFiles(await listManifests(storage, { quarantine: opts.quarantine })).map((f) => f.key));
  for (const file of (await walkFiles(join(lakeDir, 'raw'))).sort()) {
    const k = key(lakeDir, file);
    if (k.endsWith('.tmp')) continue; // a temp file, below
    if (!committed.has(k)) {
      const run = /([^/]+)-\d+\.jsonl(\.gz)?$/.exec(k)?.[1];
      await add('orphan raw', file, run ? `run ${run} did not commit it (no _runs/${run}.json lists it)` : 'no run manifest lists it');
    }
  }
  // Temp files anywhere (but the quarantine and the engines' temp folders, collected whole below),
  // and the lock's own.
  for (const file of (await walkFiles(lakeDir)).sort()) {
    const k = key(lakeDir, file);
    if (k.startsWith(`${QUARANTINE}/`) || /^_tmp\/(spark|duckdb)-[^/]+\//.test(k)) continue;
    if (opts.holder && k.startsWith(`${LOCK_FILE}.${opts.holder.token}.`)) continue;
    if (k.endsWith('.tmp') || (k.startsWith(`${LOCK_FILE}.`) && k.endsWith('.stale'))) await add('temp file', file, 'a write that never finished');
  }
  // Unpublished and unlinked builds, old trash.
  for (const area of ['curated', 'quarantine']) {
    const root = join(lakeDir, area);
    for (const t of await list(join(root, '_staging'))) await add('staging', join(root, '_staging', t.name), 'a build that was never published', true);
    for (const t of await list(join(root, '_trash'))) await add('old trash', join(root, '_trash', t.name), 'left by a crashed swap of the layout before links (the next build of the table restores it first)', true);
    for (const t of await list(join(root, '_builds'))) {
      const link = join(root, t.name);
      const current = (await lstat(link).catch(() => undefined))?.isSymbolicLink() ? (await readlink(link)).split('/').pop() : undefined;
      // The build an incremental build replaced is kept for the next one (its state names it).
      const spare = area === 'curated' ? await spareOf(lakeDir, t.name) : undefined;
      for (const b of await list(join(root, '_builds', t.name))) {
        if (b.name !== current && b.name !== spare) await add('unlinked build', join(root, '_builds', t.name, b.name), `not the build ${area}/${t.name} links to`, b.isDirectory());
      }
    }
  }
  for (const e of await list(join(lakeDir, '_tmp'))) {
    if (e.name.startsWith('spark-')) await add('spark temp', join(lakeDir, '_tmp', e.name), 'a Spark build that died', true);
    if (e.name.startsWith('duckdb-')) await add('duckdb temp', join(lakeDir, '_tmp', e.name), 'the spill folder of a DuckDB build that died', true);
  }

  const q = await measure(join(lakeDir, QUARANTINE)).catch(() => ({ bytes: 0, files: 0 }));
  return { items, quarantined: { files: q.files, bytes: q.bytes } };
}

/** The spare build a table's build state names (core/transform/incremental.ts), if any. */
async function spareOf(lakeDir: string, table: string): Promise<string | undefined> {
  try {
    const state = JSON.parse(await readFile(join(lakeDir, 'curated', '_state', `${table}.json`), 'utf8')) as { spare?: unknown };
    return typeof state.spare === 'string' ? state.spare : undefined;
  } catch {
    return undefined;
  }
}

/** Removes what findGarbage found (the caller holds the lake lock). */
export async function deleteGarbage(lakeDir: string, items: Garbage[]): Promise<void> {
  for (const item of items) await rm(join(lakeDir, ...item.path.replace(/\/$/, '').split('/')), { recursive: true, force: true });
}
