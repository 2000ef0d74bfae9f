/**
 * The lake lock: one writer at a time on a local lake. `run`, `transform` (both engines), `run
 * --repair` and `lake gc --delete` hold it while they write; readers (`query`) need none (tables
 * are published by an atomic link swap, committed data by manifests written last).
 *
 * `<lake>/_lock.json` holds `{ pid, host, command, since, heartbeat, token }`. It is created
 * atomically: written complete to a temp file, then hard-linked to its name (link(2) fails if the
 * name exists, like O_EXCL, and the lock never exists half-written). While held, `heartbeat` is
 * refreshed every `heartbeatMs` (temp file + rename). A lock is stale, and taken over with a
 * warning, when its process is gone (same host, pid no longer alive) or its heartbeat is older
 * than `staleMs` (another host, or a pid reused by another process). A live holder's lock makes
 * the command fail at once with one line naming it (exit 2).
 *
 * In AWS the extractor takes a lease object in S3 instead (core/lambda/lease.ts).
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import type { Logger } from '../plugin-api.ts';
import { crashPoint } from '../crash.ts';

export const LOCK_FILE = '_lock.json';
export const DEFAULT_STALE_MS = 120_000;
export const DEFAULT_HEARTBEAT_MS = 15_000;

export interface LockInfo {
  pid: number;
  host: string;
  /** What holds it: `run`, `transform`, `lake gc`... */
  command: string;
  /** ISO time it was taken. */
  since: string;
  /** ISO time of the last heartbeat. */
  heartbeat: string;
  /** Random: tells this holder's lock from a later one with the same pid. */
  token: string;
}

export interface LockOptions {
  command: string;
  /** Takeovers of stale locks are warned here. */
  logger?: Logger;
  staleMs?: number;
  heartbeatMs?: number;
  /** Test seams. */
  host?: string;
  pid?: number;
  now?: () => number;
  isAlive?: (pid: number) => boolean;
}

export interface LakeLock {
  readonly info: LockInfo;
  readonly path: string;
  /** Stops the heartbeat and removes the lock (if it is still this holder's). */
  release(): Promise<void>;
}

/** The lake is locked by a live holder: one line naming it. */
export class LakeLockedError extends UserError {
  constructor(
    readonly lake: string,
    readonly holder: LockInfo | undefined,
  ) {
    super(
      holder
        ? `the lake ${lake} is locked by ${holder.command} (pid ${holder.pid} on host ${holder.host}, since ${holder.since}, last heartbeat ${holder.heartbeat}); wait for it to finish`
        : `the lake ${lake} is locked (${join(lake, LOCK_FILE)} exists but cannot be read; it is taken over once it is older than ${Math.round(DEFAULT_STALE_MS / 1000)} s)`,
    );
    this.name = 'LakeLockedError';
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readLock(path: string): Promise<{ info?: LockInfo; mtimeMs: number } | undefined> {
  let body: string;
  let mtimeMs: number;
  try {
    [body, mtimeMs] = await Promise.all([readFile(path, 'utf8'), stat(path).then((s) => s.mtimeMs)]);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const info = JSON.parse(body) as LockInfo;
    if (typeof info.pid === 'number' && typeof info.host === 'string' && typeof info.token === 'string') return { info, mtimeMs };
  } catch {
    // unreadable: judged by its age
  }
  return { mtimeMs };
}

/** Why a lock is stale (a phrase for the warning), or undefined when its holder is alive. */
export function staleReason(
  lock: { info?: LockInfo; mtimeMs: number },
  opts: { host: string; now: number; staleMs: number; isAlive: (pid: number) => boolean },
): string | undefined {
  const { info } = lock;
  if (!info) return opts.now - lock.mtimeMs > opts.staleMs ? `an unreadable lock file ${Math.round((opts.now - lock.mtimeMs) / 1000)} s old` : undefined;
  if (info.host === opts.host && !opts.isAlive(info.pid)) return `its process (pid ${info.pid} on this host) is gone`;
  const beat = Date.parse(info.heartbeat);
  if (!Number.isFinite(beat) || opts.now - beat > opts.staleMs) return `its last heartbeat (${info.heartbeat}) is more than ${Math.round(opts.staleMs / 1000)} s old`;
  return undefined;
}

/** Takes the lake's lock, taking over a stale one with a warning; LakeLockedError when a live holder has it. */
export async function acquireLakeLock(lakeDir: string, opts: LockOptions): Promise<LakeLock> {
  const path = join(lakeDir, LOCK_FILE);
  const host = opts.host ?? hostname();
  const pid = opts.pid ?? process.pid;
  const now = opts.now ?? Date.now;
  const staleMs = opts.staleMs ?? DEFAULT_STALE_MS;
  const isAlive = opts.isAlive ?? pidAlive;
  await mkdir(lakeDir, { recursive: true });
  const token = randomBytes(8).toString('hex');
  const stamp = () => new Date(now()).toISOString();
  const info: LockInfo = { pid, host, command: opts.command, since: stamp(), heartbeat: stamp(), token };

  for (let attempt = 0; ; attempt++) {
    const tmp = `${path}.${token}.tmp`;
    await writeFile(tmp, JSON.stringify(info, null, 2) + '\n');
    try {
      await link(tmp, path);
      crashPoint('lock: taken');
      await unlink(tmp);
      return held(path, info, opts, now);
    } catch (e) {
      await rm(tmp, { force: true });
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const current = await readLock(path);
    if (!current) continue; // released meanwhile: try again
    const why = staleReason(current, { host, now: now(), staleMs, isAlive });
    if (!why || attempt >= 3) throw new LakeLockedError(lakeDir, current.info);
    // Take it over: move it out of the way, then check it is the one judged stale (another process
    // may have taken it over first, and its fresh lock must not be removed).
    const moved = `${path}.${token}.stale`;
    try {
      await rename(path, moved);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    const taken = await readLock(moved);
    if (taken?.info?.token !== current.info?.token) {
      // Not the stale one: put it back (link: never over a lock taken since) and report it.
      await link(moved, path).catch(() => undefined);
      await rm(moved, { force: true });
      throw new LakeLockedError(lakeDir, taken?.info);
    }
    await rm(moved, { force: true });
    const holder = current.info ? `${current.info.command} (pid ${current.info.pid} on host ${current.info.host}, since ${current.info.since})` : 'an unknown holder';
    opts.logger?.warn(`taking over the lake lock ${path} of ${holder}: ${why}`);
  }
}

function held(path: string, info: LockInfo, opts: LockOptions, now: () => number): LakeLock {
  let lost = false;
  const beat = async () => {
    const current = await readLock(path).catch(() => undefined);
    if (current?.info?.token !== info.token) {
      if (!lost) opts.logger?.warn(`the lake lock ${path} was taken over by another process (this one was judged stale); stop this command and run it again`);
      lost = true;
      return;
    }
    info.heartbeat = new Date(now()).toISOString();
    const tmp = `${path}.${info.token}.tmp`;
    await writeFile(tmp, JSON.stringify(info, null, 2) + '\n');
    await rename(tmp, path);
  };
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(beat).catch(() => undefined);
  }, opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  timer.unref();
  return {
    info,
    path,
    async release() {
      clearInterval(timer);
      await running;
      const current = await readLock(path).catch(() => undefined);
      if (current?.info?.token === info.token) await rm(path, { force: true });
    },
  };
}

/** The lock's holder if the lake is locked by a live one (for readers that only report, like `lake gc`). */
export async function lockHolder(lakeDir: string, opts: { staleMs?: number; host?: string; isAlive?: (pid: number) => boolean } = {}): Promise<LockInfo | undefined> {
  const current = await readLock(join(lakeDir, LOCK_FILE));
  if (!current?.info) return undefined;
  const stale = staleReason(current, { host: opts.host ?? hostname(), now: Date.now(), staleMs: opts.staleMs ?? DEFAULT_STALE_MS, isAlive: opts.isAlive ?? pidAlive });
  return stale ? undefined : current.info;
}

/** Runs `fn` holding the lake's lock. */
export async function withLakeLock<T>(lakeDir: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireLakeLock(lakeDir, opts);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
