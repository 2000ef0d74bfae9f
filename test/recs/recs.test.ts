/**
 * The recommendation model (core/recs/model.ts) on real DuckDB over plays of known structure, and
 * the evaluation (core/recs/evaluate.ts) on generated listening with latent tastes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tasteHistory, type TastePlay } from '../../connectors/spotify-history/sandbox/tastes.ts';
import type { Duckdb } from '../../core/query/sandbox.ts';
import { evaluate, formatEvaluation } from '../../core/recs/evaluate.ts';
import { recommend } from '../../core/recs/index.ts';
import { recsSettings } from '../../core/recs/settings.ts';
import { loadPlays } from './load.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);
const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Sessions (plays a few minutes apart, sessions a day apart) of the given tracks, ending `daysAgo` before NOW. */
function sessions(list: string[][], daysAgo: number, opts: { ms?: number; skipped?: boolean } = {}): TastePlay[] {
  return list.flatMap((tracks, s) =>
    tracks.map((id, i) => ({
      ts: iso(NOW - (daysAgo + list.length - s) * DAY + i * 4 * 60_000),
      track_id: id,
      track_name: `Song ${id}`,
      artist_name: `Artist ${id}`,
      ms_played: opts.ms ?? 200_000,
      skipped: opts.skipped ?? false,
    })),
  );
}

describe('the model', () => {
  let db: Duckdb;
  beforeAll(async () => {
    const plays = [
      // A long time ago: b, c and d played 12 times in 2023 (rediscoveries).
      ...sessions(Array.from({ length: 12 }, () => ['b', 'c', 'd']), 900),
      // Last months: a, x and y are played together; z is played with them too but was skipped early every time.
      ...sessions(Array.from({ length: 8 }, () => ['a', 'x', 'y', 'q']), 40),
      ...sessions(Array.from({ length: 8 }, () => ['z']), 40, { ms: 3_000, skipped: true }),
      ...sessions(Array.from({ length: 5 }, () => ['a', 'z']), 60),
      // Last days: a and q again (the seeds; both recently played, so never recommended).
      ...sessions([['a'], ['q']], 0),
    ].sort((p, q) => p.ts.localeCompare(q.ts));
    db = await loadPlays(plays);
  });
  afterAll(() => db?.close());

  it('recommends what is played with the recent plays, with the reason, and rediscoveries; never recent or disliked tracks', async () => {
    const recs = await recommend(db.conn, recsSettings({ k: 10 }), { now: NOW / 1000 });
    const byId = new Map(recs.map((r) => [r.track_id, r]));
    expect([...byId.keys()].sort()).toEqual(['b', 'c', 'd', 'x', 'y']);
    expect(byId.get('x')).toMatchObject({ source: 'co_occurrence', reason: expect.stringMatching(/^often played with Song (a|q) by Artist (a|q)$/) });
    expect(byId.get('b')).toMatchObject({ source: 'rediscovery', reason: 'you played it 12 times in 2023', track_name: 'Song b', artist_name: 'Artist b' });
    expect(recs.map((r) => r.rank)).toEqual([1, 2, 3, 4, 5]);
    // Co-occurrence (weight 1) outranks rediscovery (weight 0.3); equal scores go by track id.
    expect(recs.map((r) => r.track_id).slice(2)).toEqual(['b', 'c', 'd']);
  });

  it('follows its settings: no rediscovery at weight 0, k rows, a shorter exclusion window lets played tracks back in', async () => {
    expect((await recommend(db.conn, recsSettings({ sources: { rediscovery: { weight: 0 } } }), { now: NOW / 1000 })).map((r) => r.source)).not.toContain('rediscovery');
    expect(await recommend(db.conn, recsSettings({}), { now: NOW / 1000, k: 1 })).toHaveLength(1);
    const open = await recommend(db.conn, recsSettings({ exclude: { recently_played_days: 0 } }), { now: NOW / 1000 });
    expect(open.map((r) => r.track_id)).toContain('q');
    const lenient = await recommend(db.conn, recsSettings({ exclude: { disliked: { min_skips: 100 } }, sources: { co_occurrence: { seed_days: 90 } } }), { now: NOW / 1000 });
    expect(lenient.map((r) => r.track_id)).toContain('z');
  });
});

describe('the evaluation on listening with latent tastes', () => {
  it('puts the model above every baseline and random near zero', async () => {
    const history = tasteHistory({ plays: 40_000, seed: 3, tastes: 24, tracksPerTaste: 100, driftDays: 30 });
    const db = await loadPlays(history.plays);
    try {
      const e = await evaluate(db.conn, recsSettings({ evaluation: { cutoffs: 4, horizon_days: 14 } }), { k: 10 });
      const row = (n: string) => e.rows.find((r) => r.recommender === n)!;
      const text = formatEvaluation(e).join('\n');
      for (const b of ['most-played', 'popularity (recent)', 'most-recent', 'random']) {
        expect(row('model').hitRate, `${b}\n${text}`).toBeGreaterThan(row(b).hitRate);
        expect(row('model').ndcg, `${b}\n${text}`).toBeGreaterThan(row(b).ndcg);
      }
      expect(row('random').hitRate).toBeLessThan(0.01);
      expect(e.cutoffs).toHaveLength(4);
      expect(text).toMatch(/hit-rate@10\s+NDCG@10\s+coverage/);
    } finally {
      db.close();
    }
  });
});
