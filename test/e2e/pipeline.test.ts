/**
 * End to end: the shipped pipeline.yaml against the sandbox, on the embedded default, in a temp
 * folder. Expected counts come from the sandbox's own ground truth, not from the pipeline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type SpotifySandbox } from '../../connectors/spotify/sandbox/index.ts';
import { lakeTables, preparePipeline, runLocal, type Prepared } from '../../core/pipeline.ts';
import { memoryLogger } from '../../core/log.ts';
import { openLake } from '../../core/query/index.ts';
import type { RunSummary } from '../../core/engine/run.ts';
import { runIncludes, sandboxConfig } from '../support/shipped.ts';

const PIPELINE = join(import.meta.dirname, '..', '..', 'pipeline.yaml');

interface Truth {
  plays: number;
  playlistItems: number;
  readablePlaylists: number;
  artists: Set<string>;
  tracks: Set<string>;
  playlists: number;
}

/** What the shipped pipeline must find, computed from the sandbox's data alone. */
function truth(sb: SpotifySandbox): Truth {
  const d = sb.data;
  const window = d.plays.slice(0, 50);
  const artists = new Set<string>();
  const tracks = new Set<string>();
  for (const p of window) {
    const t = d.tracks.get(p.track_id)!;
    tracks.add(t.id);
    for (const a of t.artists as Array<{ id: string | null }>) if (a.id) artists.add(a.id);
  }
  let playlistItems = 0;
  let readable = 0;
  for (const pl of d.playlists) {
    const owned = (pl.owner as { id: string }).id === d.user.id || pl.collaborative === true;
    if (!owned) continue;
    readable++;
    playlistItems += pl.items.length;
    for (const it of pl.items) {
      const item = it.item as { id?: string | null; type?: string; artists?: Array<{ id: string | null }> } | null;
      if (!item || item.type !== 'track') continue;
      if (item.id) tracks.add(item.id);
      for (const a of item.artists ?? []) if (a.id) artists.add(a.id);
    }
  }
  return { plays: window.length, playlistItems, readablePlaylists: readable, artists, tracks, playlists: d.playlists.length };
}

async function counts(lake: string, prep: Prepared): Promise<Record<string, number>> {
  const db = await openLake(lake, prep.loaded.config.tables);
  try {
    const out: Record<string, number> = {};
    for (const t of Object.keys(prep.loaded.config.tables)) {
      const r = await db.query(`SELECT count(*) AS n FROM ${t}`);
      out[t] = Number(r.rows[0].n);
    }
    return out;
  } finally {
    db.close();
  }
}

describe('shipped pipeline against the sandbox', () => {
  let sb: SpotifySandbox;
  let lake: string;
  let prep: Prepared;
  let first: RunSummary;
  let expected: Truth;

  beforeAll(async () => {
    sb = await startSandbox({ seed: 7 });
    lake = await mkdtemp(join(tmpdir(), 'lake-'));
    prep = await preparePipeline(PIPELINE);
    expected = truth(sb);
    first = await runLocal(prep, { lake, logger: memoryLogger(), connectorConfig: sandboxConfig(sb) });
  });

  afterAll(async () => {
    await sb?.close();
    await rm(lake, { recursive: true, force: true });
  });

  it('extracts exactly what the sandbox serves, with no truncation at page boundaries', () => {
    expect(first.ok, first.error).toBe(true);
    const by = Object.fromEntries(first.streams.map((s) => [s.stream, s]));
    expect(by.recently_played.records).toBe(expected.plays);
    expect(by.my_playlists.records).toBe(expected.playlists);
    expect(by.playlist_items.records).toBe(expected.playlistItems);
    expect(by.artists.records).toBe(expected.artists.size);
  });

  it('reports no schema drift: fields Development Mode removes (popularity, followers) are expected absences', () => {
    expect(first.tables.flatMap((t) => t.drift.map((d) => `${t.table}: ${d}`))).toEqual([]);
  });

  it('uses the fewest requests Development Mode allows', () => {
    const req = first.requestsByEndpoint;
    // One page of 50 covers the whole recently-played window.
    expect(req['me/player/recently-played']).toBe(1);
    expect(req['me/playlists']).toBe(Math.max(1, Math.ceil(expected.playlists / 50)));
    // Pages of 50 per readable playlist (an empty playlist still costs its one request).
    const pages = sb.data.playlists
      .filter((p) => (p.owner as { id: string }).id === sb.data.user.id || p.collaborative === true)
      .reduce((n, p) => n + Math.max(1, Math.ceil(p.items.length / 50)), 0);
    expect(req['playlists/{id}/items']).toBe(pages);
    // Batch /artists is gone in Development Mode: one request per distinct artist, never twice.
    expect(req.artists).toBe(expected.artists.size);
    const artistPaths = sb.requests.filter((r) => /^\/v1\/artists\/[^/]+$/.test(r.path)).map((r) => r.path);
    expect(new Set(artistPaths).size).toBe(artistPaths.length);
    // No request went to a playlist the user cannot read (it would be a 403).
    expect(sb.requests.filter((r) => r.status === 403)).toEqual([]);
  });

  it('builds every table with the rows the sandbox holds', async () => {
    const c = await counts(lake, prep);
    expect(c.plays).toBe(expected.plays);
    expect(c.playlist_tracks).toBe(expected.playlistItems);
    expect(c.artists).toBe(expected.artists.size);
    expect(c.tracks).toBe(expected.tracks.size);
    expect(c.playlists).toBe(expected.playlists);
    for (const t of Object.keys(prep.loaded.config.tables)) {
      const files = await listParquet(join(lake, 'curated', t));
      expect(files.length, `parquet files of ${t}`).toBeGreaterThan(0);
    }
    // plays is partitioned by play date, Hive-style.
    const parts = (await readdir(join(lake, 'curated', 'plays'))).filter((p) => p.startsWith('dt='));
    const days = new Set(sb.data.plays.slice(0, 50).map((p) => p.played_at.slice(0, 10)));
    expect(new Set(parts.map((p) => p.slice(3)))).toEqual(days);
  });

  it('reruns add no duplicates and spend no request on unchanged data', async () => {
    const before = await counts(lake, prep);
    for (let i = 0; i < 2; i++) {
      sb.resetLog();
      const again = await runLocal(prep, { lake, logger: memoryLogger(), connectorConfig: sandboxConfig(sb) });
      expect(again.ok, again.error).toBe(true);
      expect(again.requestsByEndpoint['playlists/{id}/items'] ?? 0).toBe(0);
      expect(again.streams.find((s) => s.stream === 'playlist_items')!.notes.skipped_unchanged).toBe(expected.readablePlaylists);
      expect(again.streams.find((s) => s.stream === 'recently_played')!.records).toBe(0);
    }
    expect(await counts(lake, prep)).toEqual(before);
  });

  it('answers every named query with rows, the included export pipeline run into the same lake', async () => {
    await runIncludes(prep, lake, 7);
    const db = await openLake(lake, lakeTables(prep));
    try {
      for (const [name, q] of Object.entries(prep.loaded.config.queries)) {
        const res = await db.query(q.sql);
        expect(res.rows.length, `query ${name}`).toBeGreaterThan(0);
      }
      const top = await db.query(prep.loaded.config.queries.top_artists_last_7_days.sql);
      // The top artist's play count equals what the sandbox's plays say.
      const name = String(top.rows[0].artist);
      const artistIds = [...sb.data.artists.values()].filter((a) => a.name === name).map((a) => a.id);
      const weekAgo = new Date(Date.now() - 7 * 86400_000).toISOString().slice(0, 10);
      const n = sb.data.plays
        .slice(0, 50)
        .filter((p) => p.played_at.slice(0, 10) >= weekAgo)
        .filter((p) => artistIds.includes((sb.data.tracks.get(p.track_id)!.artists as Array<{ id: string }>)[0].id)).length;
      expect(Number(top.rows[0].plays)).toBe(n);
    } finally {
      db.close();
    }
  });
});

async function listParquet(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const ent of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (ent.isFile() && ent.name.endsWith('.parquet')) out.push(ent.name);
  }
  return out;
}
