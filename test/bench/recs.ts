/**
 * `npm run bench -- recs`: the recommendation model against its baselines on generated listening
 * with latent tastes (connectors/spotify-history/sandbox/tastes.ts, 200k plays by default or
 * `--records N`): the evaluation table of `recs --evaluate` and the margins, printed, not asserted.
 */
import { tasteHistory } from '../../connectors/spotify-history/sandbox/tastes.ts';
import { evaluate, formatEvaluation, margin } from '../../core/recs/evaluate.ts';
import { recsSettings } from '../../core/recs/settings.ts';
import { loadPlays } from '../recs/load.ts';

export async function runRecsBench(opts: { records?: number } = {}): Promise<void> {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const plays = opts.records ?? 200_000;
  const t0 = performance.now();
  const history = tasteHistory({ plays, seed: 7 });
  out(`recs: ${plays} generated plays (${history.tracks.length} tracks in ${new Set(history.tasteOf.values()).size} tastes, ${history.periods.length} drift periods), ${history.plays[0].ts.slice(0, 10)} .. ${history.plays.at(-1)!.ts.slice(0, 10)}`);
  const db = await loadPlays(history.plays);
  try {
    // The shipped defaults, evaluated at 8 cutoffs of 14 days each (more test plays than the default 4 x 7).
    const settings = recsSettings({ evaluation: { cutoffs: 8, horizon_days: 14 } });
    const k = 10;
    // The shipped model (pmi) and, for comparison, the same with cosine and with conditional similarity.
    const variant = (measure: 'cosine' | 'conditional') => recsSettings({ sources: { co_occurrence: { measure } }, evaluation: { cutoffs: 8, horizon_days: 14 } });
    const e = await evaluate(db.conn, settings, { k, models: [['model', settings], ['model, cosine', variant('cosine')], ['model, conditional', variant('conditional')]] });
    for (const l of formatEvaluation(e)) out(l);
    const hr = margin(e, 'hitRate');
    const ndcg = margin(e, 'ndcg');
    out(`recs hit-rate@${k} model / best baseline (${hr.best.recommender}): ${hr.ratio.toFixed(2)}x`);
    out(`recs NDCG@${k} model / best baseline (${ndcg.best.recommender}): ${ndcg.ratio.toFixed(2)}x`);
    out(`random hit-rate@${k}: ${e.rows.find((r) => r.recommender === 'random')!.hitRate.toFixed(4)} (k / eligible tracks = ${(k / e.catalog).toFixed(4)})`);
    out(`(${((performance.now() - t0) / 1000).toFixed(1)} s for generation, load and ${e.cutoffs.length} cutoffs x ${e.rows.length} recommenders)`);
  } finally {
    db.close();
  }
}
