/**
 * `recommendations:` of pipeline.yaml with every default filled in (the schema documents each key
 * and its range; core/config/semantic.ts checks the keys against each other).
 */
import type { RecommendationsSpec } from '../config/types.ts';

export interface RecsSettings {
  k: number;
  coOccurrence: {
    weight: number;
    measure: 'cosine' | 'conditional' | 'pmi';
    sessionGapMinutes: number;
    window: number;
    halfLifeDays: number;
    minCount: number;
    playlistWeight: number;
    seedDays: number;
    seedHalfLifeDays: number;
  };
  rediscovery: { weight: number; minPlays: number; minAgeDays: number; quietDays: number };
  exclude: { recentlyPlayedDays: number; targetPlaylist?: string; earlySkipSeconds: number; minSkips: number };
  evaluation: { testFraction: number; cutoffs: number; horizonDays: number; seed: number };
}

export function recsSettings(spec: RecommendationsSpec = {}): RecsSettings {
  const co = spec.sources?.co_occurrence ?? {};
  const red = spec.sources?.rediscovery ?? {};
  const ex = spec.exclude ?? {};
  const ev = spec.evaluation ?? {};
  return {
    k: spec.k ?? 30,
    coOccurrence: {
      weight: co.weight ?? 1,
      measure: co.measure ?? 'pmi',
      sessionGapMinutes: co.session_gap_minutes ?? 30,
      window: co.window ?? 10,
      halfLifeDays: co.half_life_days ?? 365,
      minCount: co.min_count ?? 2,
      playlistWeight: co.playlist_weight ?? 0.5,
      seedDays: co.seed_days ?? 28,
      seedHalfLifeDays: co.seed_half_life_days ?? 7,
    },
    rediscovery: { weight: red.weight ?? 0.3, minPlays: red.min_plays ?? 10, minAgeDays: red.min_age_days ?? 365, quietDays: red.quiet_days ?? 180 },
    exclude: {
      recentlyPlayedDays: ex.recently_played_days ?? 14,
      ...(ex.target_playlist !== undefined ? { targetPlaylist: ex.target_playlist } : {}),
      earlySkipSeconds: ex.disliked?.early_skip_seconds ?? 30,
      minSkips: ex.disliked?.min_skips ?? 3,
    },
    evaluation: { testFraction: ev.test_fraction ?? 0.1, cutoffs: ev.cutoffs ?? 4, horizonDays: ev.horizon_days ?? 7, seed: ev.seed ?? 1 },
  };
}
