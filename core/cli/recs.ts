/**
 * `spotify-pipeline recs [--evaluate] [-k N]`: build the recommendations of pipeline.yaml's
 * `recommendations:` from the local lake, publish them as the table `recommendations` and print
 * them with their reasons; `--evaluate`: the offline evaluation (core/recs/evaluate.ts) instead.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../errors.ts';
import { redact } from '../log.ts';
import { terminalSafe } from '../terminal.ts';
import type { CliContext } from './context.ts';
import { integer } from './options.ts';

const out = (s = '') => process.stdout.write(`${terminalSafe(redact(s))}\n`);

export function registerRecs(program: Command, ctx: CliContext): void {
  program
    .command('recs')
    .description('Recommend tracks from your own listening (recommendations: in pipeline.yaml), write them to the lake as the table recommendations and print them with their reasons; --evaluate measures the model against baselines on a time-based split')
    .option('-c, --config <file>', 'pipeline file', 'pipeline.yaml')
    .option('--lake <dir>', 'local lake folder (default: storage.local of pipeline.yaml)')
    .option('-k <n>', 'how many tracks (default: recommendations.k; with --evaluate 10)', integer(1, 500, 'a number of tracks'))
    .option('--evaluate', 'train on the plays before a cutoff, test on the plays after it; print hit-rate@k, NDCG@k and coverage for the model and the baselines')
    .option('--write-playlist [name]', "then write them to your own playlist of this name (default: recommendations.playlist.name), created private if there is none; its items are replaced only when they differ")
    .option('--dry-run', 'with --write-playlist: print what would change and write nothing')
    .option('--sandbox', "with --write-playlist: write to the connector's offline sandbox instead of your account (a demo)")
    .action(async (o: { config: string; lake?: string; k?: number; evaluate?: boolean; writePlaylist?: string | boolean; dryRun?: boolean; sandbox?: boolean }) => {
      await recsCommand(ctx, o);
    });
}

export async function recsCommand(ctx: CliContext, o: { config: string; lake?: string; k?: number; evaluate?: boolean; writePlaylist?: string | boolean; dryRun?: boolean; sandbox?: boolean }): Promise<void> {
  // Imported here, not at the top: registering the command must not load the engine (every CLI start registers it).
  const [{ lakeDir }, { lakeTables }] = await Promise.all([import('../config/index.ts'), import('../pipeline.ts')]);
  const prep = await ctx.prepare(o.config);
  const spec = prep.loaded.config.recommendations;
  if (!spec) throw new UserError(`${prep.loaded.file} has no recommendations: section`, 'add `recommendations: {}` (every key has a default; see README, "Recommendations")');
  const playlist = o.writePlaylist === true || o.writePlaylist === undefined ? (o.writePlaylist ? spec.playlist?.name : undefined) : o.writePlaylist;
  if (o.writePlaylist === true && !playlist) throw new UserError('--write-playlist needs a name', 'give one (--write-playlist "Recommended for me") or set recommendations.playlist.name in pipeline.yaml');
  if (o.evaluate && playlist) throw new UserError('--evaluate and --write-playlist do not go together: evaluate first, then write');
  if ((o.dryRun || o.sandbox) && !playlist) throw new UserError(`${o.dryRun ? '--dry-run' : '--sandbox'} goes with --write-playlist`);
  const { recsSettings, buildRecommendations, lakeInputs } = await import('../recs/index.ts');
  const { assertLakeFolder } = await import('../query/index.ts');
  const settings = recsSettings(spec);
  const dir = o.lake ?? lakeDir(prep.loaded);
  await assertLakeFolder(dir);
  const tables = lakeTables(prep);
  if (o.evaluate) {
    const ev = await import('../recs/evaluate.ts');
    const { openDuckdb } = await import('../query/sandbox.ts');
    const db = await openDuckdb({ allow: [join(dir, 'curated')], settings: ["SET TimeZone = 'UTC'"] });
    try {
      await lakeInputs(db.conn, dir, tables, settings);
      const e = await ev.evaluate(db.conn, settings, { k: o.k ?? 10 });
      if (e.cutoffs.length === 0) throw new UserError(`no plays in the lake ${dir}: nothing to evaluate`, 'run the pipelines first');
      for (const l of ev.formatEvaluation(e)) out(l);
      for (const metric of ['hitRate', 'ndcg'] as const) {
        const m = ev.margin(e, metric);
        out(`model / best baseline (${m.best.recommender}) ${metric === 'hitRate' ? `hit-rate@${e.k}` : `NDCG@${e.k}`}: ${Number.isFinite(m.ratio) ? `${m.ratio.toFixed(2)}x` : 'every baseline scores 0'}`);
      }
    } finally {
      db.close();
    }
    return;
  }
  const { acquireLakeLock } = await import('../engine/lock.ts');
  const lock = await acquireLakeLock(dir, { command: 'recs' });
  let trackIds: string[];
  try {
    const r = await buildRecommendations({ lakeDir: dir, tables, settings, k: o.k });
    out(`${r.recommendations.length} recommendations as of ${r.asOf} (from ${r.sources.join(', ')}), written to ${r.file}`);
    for (const x of r.recommendations) out(`${String(x.rank).padStart(3)}. ${x.track_name ?? x.track_id}${x.artist_name ? ` - ${x.artist_name}` : ''}  (${x.reason})  ${x.track_id}`);
    trackIds = [...r.recommendations].sort((a, b) => a.rank - b.rank).map((x) => x.track_id);
  } finally {
    await lock.release();
  }
  if (!playlist) return;
  if (!trackIds.length) throw new UserError('no recommendations to write', 'run the pipelines first: the model needs plays');
  const { writeRecommendationsPlaylist } = await import('./recs-write.ts');
  await writeRecommendationsPlaylist(prep, { name: playlist, trackIds, dryRun: o.dryRun, sandbox: o.sandbox });
}
