/**
 * Offline evaluation of the recommendations on one listener's history, as a recommender-systems
 * reviewer expects it: a time-based split (train on plays before the cutoff T, test on the plays
 * of the `horizon_days` after it), repeated at `cutoffs` cutoffs spread over the last
 * `test_fraction` of the history, every recommender fitted on the train plays only.
 *
 * What a recommendation can hit: the test plays of tracks not excluded at T (played in the last
 * `recently_played_days`, disliked, in the target playlist): every recommender gets the same
 * exclusions, so none wins by recommending what was just played.
 *
 * Metrics at k, averaged over the cutoffs:
 * - hit-rate@k: the share of those test plays whose track is in the list (a random list of k out
 *   of C eligible tracks scores about k/C);
 * - NDCG@k: graded by each track's test plays, DCG = sum rel_i / log2(i + 1) over the list,
 *   divided by the DCG of the best possible list (the k most played test tracks);
 * - coverage: distinct tracks recommended over all cutoffs / tracks played before the first cutoff.
 *
 * Baselines: most-played (all-time plays before T), popularity (plays of the last `seed_days`:
 * what is popular in your recent listening), most-recent (latest last play first), random.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { seededRandom } from '../plugin-api.ts';
import { baseSteps, modelSql, num } from './model.ts';
import type { RecsSettings } from './settings.ts';

const DAY = 86_400;

export interface MetricRow {
  recommender: string;
  hitRate: number;
  ndcg: number;
  coverage: number;
}

export interface Evaluation {
  k: number;
  cutoffs: string[];
  horizonDays: number;
  /** Test plays of eligible tracks, summed over the cutoffs. */
  testPlays: number;
  /** Eligible tracks (played before T, not excluded), averaged over the cutoffs. */
  catalog: number;
  rows: MetricRow[];
}

type Ranker = (eligible: Eligible[], r: () => number) => string[];
interface Eligible {
  track_id: string;
  plays: number;
  last_t: number;
  recent: number;
}

const BASELINES: Array<[string, Ranker]> = [
  ['most-played', (e) => [...e].sort((a, b) => b.plays - a.plays || cmp(a.track_id, b.track_id)).map((x) => x.track_id)],
  ['popularity (recent)', (e) => [...e].sort((a, b) => b.recent - a.recent || b.plays - a.plays || cmp(a.track_id, b.track_id)).map((x) => x.track_id)],
  ['most-recent', (e) => [...e].sort((a, b) => b.last_t - a.last_t || cmp(a.track_id, b.track_id)).map((x) => x.track_id)],
  [
    'random',
    (e, r) => {
      const ids = e.map((x) => x.track_id).sort(cmp);
      for (let i = ids.length - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [ids[i], ids[j]] = [ids[j], ids[i]];
      }
      return ids;
    },
  ],
];

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Evenly spread cutoffs: the first where `testFraction` of the plays remain, the last a horizon before the end. */
export async function cutoffs(conn: DuckDBConnection, s: RecsSettings): Promise<number[]> {
  const ev = s.evaluation;
  const row = (await conn.runAndReadAll(`SELECT quantile_disc(t, ${num(1 - ev.testFraction)}) AS t0, max(t) AS t1, count(*) AS n FROM rec_plays WHERE track_id IS NOT NULL`)).getRowObjectsJS()[0];
  if (!row || Number(row.n) === 0) return [];
  const t0 = Number(row.t0);
  const last = Number(row.t1) - ev.horizonDays * DAY;
  if (ev.cutoffs === 1 || last <= t0) return [t0];
  return Array.from({ length: ev.cutoffs }, (_, i) => t0 + ((last - t0) * i) / (ev.cutoffs - 1));
}

/** Runs the evaluation over rec_plays (and rec_playlist_tracks, rec_target) on `conn`. */
export async function evaluate(conn: DuckDBConnection, s: RecsSettings, opts: { k?: number; models?: Array<[string, RecsSettings]> } = {}): Promise<Evaluation> {
  const k = opts.k ?? 10;
  const models = opts.models ?? [['model', s]];
  const times = await cutoffs(conn, s);
  const r = seededRandom(s.evaluation.seed);
  const names = [...models.map(([n]) => n), ...BASELINES.map(([n]) => n)];
  const sums = new Map(names.map((n) => [n, { hits: 0, plays: 0, ndcg: 0, seen: new Set<string>() }]));
  let testPlays = 0;
  let catalogSum = 0;
  let firstCatalog = 0;
  const q = async (sql: string) => (await conn.runAndReadAll(sql)).getRowObjectsJS();
  for (const [i, now] of times.entries()) {
    const base = baseSteps(s, now).join(',\n');
    const eligible = (
      await q(`WITH ${base}
SELECT p.track_id, count(*) AS plays, max(p.t) AS last_t, sum(CASE WHEN p.t >= ${num(now - s.coOccurrence.seedDays * DAY)} THEN 1 ELSE 0 END) AS recent
FROM plays p LEFT JOIN excluded e ON e.track_id = p.track_id WHERE e.track_id IS NULL GROUP BY p.track_id`)
    ).map((x) => ({ track_id: x.track_id as string, plays: Number(x.plays), last_t: Number(x.last_t), recent: Number(x.recent) }));
    if (i === 0) firstCatalog = Number((await q(`SELECT count(DISTINCT track_id) AS n FROM rec_plays WHERE track_id IS NOT NULL AND t < ${num(now)}`))[0].n);
    catalogSum += eligible.length;
    const test = new Map(
      (
        await q(`WITH ${base}
SELECT r.track_id, count(*) AS n FROM rec_plays r LEFT JOIN excluded e ON e.track_id = r.track_id
WHERE r.track_id IS NOT NULL AND r.t >= ${num(now)} AND r.t < ${num(now + s.evaluation.horizonDays * DAY)} AND e.track_id IS NULL GROUP BY r.track_id`)
      ).map((x) => [x.track_id as string, Number(x.n)]),
    );
    const total = [...test.values()].reduce((a, b) => a + b, 0);
    testPlays += total;
    const ideal = dcg([...test.values()].sort((a, b) => b - a).slice(0, k));
    const lists: Array<[string, string[]]> = [];
    for (const [name, settings] of models) lists.push([name, (await q(modelSql(settings, { now, k }))).map((x) => x.track_id as string)]);
    for (const [name, rank] of BASELINES) lists.push([name, rank(eligible, r).slice(0, k)]);
    for (const [name, list] of lists) {
      const m = sums.get(name)!;
      const rels = list.map((id) => test.get(id) ?? 0);
      m.hits += rels.reduce((a, b) => a + b, 0);
      m.plays += total;
      m.ndcg += ideal > 0 ? dcg(rels) / ideal : 0;
      for (const id of list) m.seen.add(id);
    }
  }
  const n = Math.max(times.length, 1);
  return {
    k,
    cutoffs: times.map((t) => new Date(t * 1000).toISOString()),
    horizonDays: s.evaluation.horizonDays,
    testPlays,
    catalog: Math.round(catalogSum / n),
    rows: names.map((name) => {
      const m = sums.get(name)!;
      return { recommender: name, hitRate: m.plays ? m.hits / m.plays : 0, ndcg: m.ndcg / n, coverage: firstCatalog ? m.seen.size / firstCatalog : 0 };
    }),
  };
}

function dcg(rels: number[]): number {
  return rels.reduce((acc, rel, i) => acc + rel / Math.log2(i + 2), 0);
}

/** The evaluation as a table (fixed-width text), then one line per baseline margin. */
export function formatEvaluation(e: Evaluation): string[] {
  const k = e.k;
  const header = ['recommender', `hit-rate@${k}`, `NDCG@${k}`, 'coverage'];
  const body = e.rows.map((r) => [r.recommender, r.hitRate.toFixed(4), r.ndcg.toFixed(4), r.coverage.toFixed(4)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [
    `time-based split: ${e.cutoffs.length} cutoff(s) ${e.cutoffs[0]?.slice(0, 10) ?? '-'} .. ${e.cutoffs.at(-1)?.slice(0, 10) ?? '-'}, each tested on the next ${e.horizonDays} days; ${e.testPlays} test plays of ${e.catalog} eligible tracks (recently played and disliked excluded for every recommender)`,
    line(header),
    ...body.map(line),
  ];
}

/** The model's margin over the best baseline on a metric (Infinity when every baseline scores 0). */
export function margin(e: Evaluation, metric: 'hitRate' | 'ndcg', model = 'model'): { best: MetricRow; ratio: number } {
  const m = e.rows.find((r) => r.recommender === model)!;
  const baselines = e.rows.filter((r) => BASELINES.some(([n]) => n === r.recommender));
  const best = baselines.reduce((a, b) => (b[metric] > a[metric] ? b : a));
  return { best, ratio: best[metric] > 0 ? m[metric] / best[metric] : Infinity };
}
