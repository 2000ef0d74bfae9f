/** Raw lake fixtures with realistic Spotify shapes, and DuckDB read-back helpers. */
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach } from 'vitest';
import type { CommittedFile } from '../../core/transform/index.ts';

export async function tempLake(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'lake-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Two fresh temp lakes for every test of the calling file (made before each, removed after), for
 * tests that build the same raw data two ways: `lakes.lake` and `lakes.other`.
 */
export function twoTempLakes(): { lake: string; other: string } {
  const lakes = { lake: '', other: '' };
  const cleanups: Array<() => Promise<void>> = [];
  beforeEach(async () => {
    const a = await tempLake();
    const b = await tempLake();
    lakes.lake = a.dir;
    lakes.other = b.dir;
    cleanups.push(a.cleanup, b.cleanup);
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  return lakes;
}

/** Run ids sort by time: `20261124T101502Z-ab12cd`. `n` picks the hour so later n = later run. */
export function runId(n: number, suffix = 'ab12cd'): string {
  return `20261124T${String(n).padStart(2, '0')}1502Z-${suffix}`;
}

/**
 * Lands records as the engine does: raw/<stream>/dt=<ingest date>/<run>-<part>.jsonl.gz.
 * `lines` overrides the JSON serialization (for malformed input).
 */
export async function writeRaw(
  lake: string,
  stream: string,
  run: string,
  records: unknown[],
  opts: { part?: number; ingestDate?: string; lines?: string[] } = {},
): Promise<CommittedFile> {
  const ingest = opts.ingestDate ?? '2026-11-24';
  const key = `raw/${stream}/dt=${ingest}/${run}-${String(opts.part ?? 0).padStart(5, '0')}.jsonl.gz`;
  const lines = opts.lines ?? records.map((r) => JSON.stringify(r));
  await mkdir(dirname(join(lake, key)), { recursive: true });
  const body = gzipSync(lines.map((l) => `${l}\n`).join(''));
  await writeFile(join(lake, key), body);
  // What a run manifest records of the file (the build verifies it).
  return { stream, key, runId: run, records: lines.filter((l) => l.trim()).length, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') };
}

/**
 * Files below `dir`, relative and `/`-separated, sorted: the lake as a reader sees it. A table's
 * place is a link to its current build (core/transform/write.ts): links are followed, and the
 * builds folder behind them is not listed again.
 */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let list;
    try {
      list = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of list) {
      const path = join(d, e.name);
      if (e.name === '_builds' || e.name === '_state') continue;
      const isDir = e.isDirectory() || (e.isSymbolicLink() && (await stat(path).catch(() => undefined))?.isDirectory());
      if (isDir) await walk(path);
      else if (e.isFile()) out.push(relative(dir, path).split(sep).join('/'));
    }
  };
  await walk(dir);
  return out.sort();
}

/** Runs DuckDB SQL on a fresh in-memory database (UTC), rows as JSON-ish objects. */
export async function duck(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run(`SET TimeZone = 'UTC'`);
    const reader = await conn.runAndReadAll(sql);
    return reader.getRowObjectsJson();
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

// ---- Spotify-shaped records ------------------------------------------------------------------

export interface ArtistRef {
  id: string;
  name: string;
}

export function artist(id: string, name: string) {
  return {
    id,
    name,
    type: 'artist',
    uri: `spotify:artist:${id}`,
    external_urls: { spotify: `https://open.spotify.com/artist/${id}` },
  };
}

export function track(
  id: string,
  name: string,
  artists: ArtistRef[],
  opts: { albumId?: string; albumName?: string; release?: string; precision?: string; durationMs?: number } = {},
) {
  return {
    id,
    name,
    type: 'track',
    uri: `spotify:track:${id}`,
    duration_ms: opts.durationMs ?? 200_000,
    explicit: false,
    artists: artists.map((a) => artist(a.id, a.name)),
    album: {
      id: opts.albumId ?? `al_${id}`,
      name: opts.albumName ?? `Album of ${name}`,
      album_type: 'album',
      release_date: opts.release ?? '2020-05-01',
      release_date_precision: opts.precision ?? 'day',
      artists: artists.slice(0, 1).map((a) => artist(a.id, a.name)),
    },
  };
}

/** A recently-played item. */
export function play(playedAt: string, t: unknown, context: unknown = { type: 'playlist', uri: 'spotify:playlist:pl1' }) {
  return { played_at: playedAt, track: t, context };
}

/** A playlist item as the connector yields it (playlist_id added by the connector). */
export function playlistItem(playlistId: string, position: number, item: unknown, opts: { addedAt?: string; isLocal?: boolean } = {}) {
  return {
    playlist_id: playlistId,
    position,
    added_at: opts.addedAt ?? '2026-01-01T00:00:00Z',
    added_by: { id: 'me' },
    is_local: opts.isLocal ?? false,
    item,
  };
}

export const RADIOHEAD = { id: '4Z8W4fKeB5YxbusRsdQVPb', name: 'Radiohead' };
export const BJORK = { id: '7w29UYBi0qsHi5RTcv3lmA', name: 'Björk' };
export const MASSIVE = { id: '6FXMGgJwohJLUSr5nVlf9X', name: 'Massive Attack' };
