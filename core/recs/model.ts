/**
 * The recommendation model as one SQL query, in the subset DuckDB and Spark SQL share (no dialect
 * function: CTEs, joins, GROUP BY, window functions, exp/ln/sqrt/round/concat/year), so the same
 * text runs locally and on Spark (test/transform/engines.test.ts runs it on both, the Spark side
 * through the Glue job's derived spec, and compares the top-k).
 *
 * It reads three relations the caller provides (views or tables), and only plays before `now`:
 *   rec_plays(track_id, track_name, artist_name, played_at TIMESTAMP, t DOUBLE, ms_played BIGINT, skipped BOOLEAN)
 *     t: played_at in seconds since 1970 (the one value each engine spells its own way, see inputs.ts)
 *   rec_playlist_tracks(playlist_id, position, track_id, track_name, artist_name)
 *   rec_target(track_id)   tracks already in the target playlist
 *
 * The model:
 * - sessions: plays split where the pause exceeds the session gap;
 * - co-occurrence: two tracks co-occur when played in one session at most `window` plays apart (or
 *   found at most `window` positions apart in one playlist, weighted `playlist_weight`); each
 *   co-occurrence decays with the session's age (half-life); similarity is cosine or positive PMI;
 * - seeds: the plays of the last `seed_days`, each decayed by its own half-life; a candidate's
 *   score is the sum over seeds of seed weight x similarity, and its reason the seed that gave most;
 * - rediscovery: tracks with at least `min_plays` plays in one year older than `min_age_days` and
 *   none in the last `quiet_days`, scored by those plays;
 * - exclusions: played in the last `recently_played_days`, in the target playlist, disliked
 *   (skipped early at least `min_skips` times and in more than half of its plays);
 * - each source's scores are scaled to 0..1 and weighted; the larger share names the source and reason.
 */
import type { RecsSettings } from './settings.ts';

const DAY = 86_400;
const LN2 = Math.LN2;

/** A number as an SQL literal both engines read as a DOUBLE (Spark reads `1.5` as DECIMAL). */
export function num(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`not a finite number: ${x}`);
  return `CAST(${JSON.stringify(x)} AS DOUBLE)`;
}

/**
 * The reference time: seconds since 1970, or an SQL expression giving them (the Glue job's spec
 * holds a placeholder the job replaces with the lake's own "now", see jobspec.ts).
 */
export type Now = number | { sql: string };

/** `now` minus `seconds`, as SQL: a literal when `now` is a number, arithmetic in SQL when it is an expression. */
export function before(now: Now, seconds = 0): string {
  if (typeof now === 'number') return num(now - seconds);
  return seconds === 0 ? `(${now.sql})` : `(${now.sql} - ${num(seconds)})`;
}

export interface ModelOptions {
  /** The reference time (seconds since 1970, or SQL for them): only plays before it are read. */
  now: Now;
  /** Rows of the answer (default settings.k). */
  k?: number;
}

/** The common CTEs: plays before `now` and the tracks excluded at `now` (evaluation reuses them). */
export function baseSteps(s: RecsSettings, now: Now): string[] {
  const ex = s.exclude;
  return [
    `plays AS (
  SELECT track_id, played_at, t, ms_played, skipped FROM rec_plays WHERE track_id IS NOT NULL AND t < ${before(now)}
)`,
    `names AS (
  SELECT track_id, max(track_name) AS track_name, max(artist_name) AS artist_name FROM (
    SELECT track_id, track_name, artist_name FROM rec_plays WHERE track_id IS NOT NULL
    UNION ALL
    SELECT track_id, track_name, artist_name FROM rec_playlist_tracks WHERE track_id IS NOT NULL
  ) n GROUP BY track_id
)`,
    `excluded AS (
  SELECT track_id FROM plays WHERE t >= ${before(now, ex.recentlyPlayedDays * DAY)}
  UNION
  SELECT track_id FROM plays GROUP BY track_id
  HAVING sum(CASE WHEN ms_played < ${num(ex.earlySkipSeconds * 1000)} AND (skipped IS NULL OR skipped) THEN 1 ELSE 0 END) >= ${ex.minSkips}
     AND 2 * sum(CASE WHEN ms_played < ${num(ex.earlySkipSeconds * 1000)} AND (skipped IS NULL OR skipped) THEN 1 ELSE 0 END) > count(*)
  UNION
  SELECT track_id FROM rec_target WHERE track_id IS NOT NULL
)`,
  ];
}

/** The model's query: columns rank, track_id, track_name, artist_name, score, reason, source; `k` rows at most, by rank. */
export function modelSql(s: RecsSettings, opts: ModelOptions): string {
  const { now } = opts;
  const k = opts.k ?? s.k;
  const co = s.coOccurrence;
  const red = s.rediscovery;
  const decay = (halfLifeDays: number, t: string) => `exp(${num(-LN2 / (halfLifeDays * DAY))} * (${before(now)} - ${t}))`;
  const usePlaylists = co.playlistWeight > 0;
  const steps = [
    ...baseSteps(s, now),
    // Sessions: a new one starts where the pause before a play exceeds the gap.
    `marked AS (
  SELECT track_id, t, CASE WHEN t - lag(t) OVER (ORDER BY t, track_id) <= ${num(co.sessionGapMinutes * 60)} THEN 0 ELSE 1 END AS starts FROM plays
)`,
    `numbered AS (
  SELECT track_id, t,
         sum(starts) OVER (ORDER BY t, track_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_id,
         row_number() OVER (ORDER BY t, track_id) AS pos
  FROM marked
)`,
    `items AS (
  SELECT session_id, track_id, min(pos) AS pos, max(t) AS t FROM numbered GROUP BY session_id, track_id
)`,
    `pl AS (
  SELECT playlist_id, track_id, min(position) AS position FROM rec_playlist_tracks WHERE track_id IS NOT NULL GROUP BY playlist_id, track_id
)`,
    `cooc AS (
  SELECT a.track_id AS a, b.track_id AS b, ${decay(co.halfLifeDays, 'CASE WHEN a.t > b.t THEN a.t ELSE b.t END')} AS w
  FROM items a JOIN items b ON a.session_id = b.session_id AND a.track_id <> b.track_id AND abs(a.pos - b.pos) <= ${co.window}${
    usePlaylists
      ? `
  UNION ALL
  SELECT a.track_id, b.track_id, ${num(co.playlistWeight)}
  FROM pl a JOIN pl b ON a.playlist_id = b.playlist_id AND a.track_id <> b.track_id AND abs(a.position - b.position) <= ${co.window}`
      : ''
  }
)`,
    `pairs AS (SELECT a, b, sum(w) AS co, count(*) AS n FROM cooc GROUP BY a, b)`,
    `occ AS (
  SELECT track_id, sum(w) AS n FROM (
    SELECT track_id, ${decay(co.halfLifeDays, 't')} AS w FROM items${usePlaylists ? `\n    UNION ALL\n    SELECT track_id, ${num(co.playlistWeight)} FROM pl` : ''}
  ) o GROUP BY track_id
)`,
    `total AS (SELECT sum(n) AS n FROM occ)`,
    `sim AS (
  SELECT p.a, p.b, ${
    co.measure === 'cosine'
      ? 'p.co / sqrt(oa.n * ob.n)'
      : co.measure === 'conditional'
        ? 'p.co / oa.n'
        : 'CASE WHEN p.co * total.n > oa.n * ob.n THEN ln(p.co * total.n / (oa.n * ob.n)) ELSE 0 END'
  } AS sim
  FROM pairs p JOIN occ oa ON oa.track_id = p.a JOIN occ ob ON ob.track_id = p.b CROSS JOIN total
  WHERE p.n >= ${co.minCount}
)`,
    `seeds AS (
  SELECT track_id, sum(${decay(co.seedHalfLifeDays, 't')}) AS w FROM plays WHERE t >= ${before(now, co.seedDays * DAY)} GROUP BY track_id
)`,
    `contrib AS (SELECT sim.b AS track_id, seeds.track_id AS seed, seeds.w * sim.sim AS c FROM sim JOIN seeds ON seeds.track_id = sim.a WHERE sim.sim > 0)`,
    `cf AS (SELECT track_id, sum(c) AS score FROM contrib GROUP BY track_id)`,
    `cf_reason AS (
  SELECT track_id, seed FROM (SELECT track_id, seed, row_number() OVER (PARTITION BY track_id ORDER BY c DESC, seed) AS r FROM contrib) x WHERE r = 1
)`,
    `old_years AS (
  SELECT track_id, year(played_at) AS y, count(*) AS n FROM plays WHERE t < ${before(now, red.minAgeDays * DAY)} GROUP BY track_id, year(played_at)
)`,
    `red AS (
  SELECT b.track_id, b.y, b.n AS score FROM (
    SELECT track_id, y, n, row_number() OVER (PARTITION BY track_id ORDER BY n DESC, y DESC) AS r FROM old_years
  ) b JOIN (SELECT track_id, max(t) AS last_t FROM plays GROUP BY track_id) h ON h.track_id = b.track_id
  WHERE b.r = 1 AND b.n >= ${red.minPlays} AND h.last_t < ${before(now, red.quietDays * DAY)}
)`,
    `cand AS (
  SELECT track_id, sum(cf) AS cf, sum(red) AS red FROM (
    ${co.weight > 0 ? 'SELECT track_id, score AS cf, CAST(0 AS DOUBLE) AS red FROM cf' : 'SELECT track_id, CAST(0 AS DOUBLE) AS cf, CAST(0 AS DOUBLE) AS red FROM cf WHERE false'}
    UNION ALL
    ${red.weight > 0 ? 'SELECT track_id, CAST(0 AS DOUBLE), CAST(score AS DOUBLE) FROM red' : 'SELECT track_id, CAST(0 AS DOUBLE), CAST(0 AS DOUBLE) FROM red WHERE false'}
  ) c GROUP BY track_id
)`,
    `scored AS (
  SELECT c.track_id,
         ${num(co.weight)} * CASE WHEN m.cf > 0 THEN c.cf / m.cf ELSE 0 END AS s_cf,
         ${num(red.weight)} * CASE WHEN m.red > 0 THEN c.red / m.red ELSE 0 END AS s_red
  FROM cand c CROSS JOIN (SELECT max(cf) AS cf, max(red) AS red FROM cand) m
  LEFT JOIN excluded e ON e.track_id = c.track_id
  WHERE e.track_id IS NULL
)`,
    `ranked AS (
  SELECT track_id, s_cf, s_red, round(s_cf + s_red, 9) AS score,
         row_number() OVER (ORDER BY round(s_cf + s_red, 9) DESC, track_id) AS rank
  FROM scored WHERE s_cf + s_red > 0
)`,
  ];
  return `WITH
${steps.join(',\n')}
SELECT r.rank, r.track_id, n.track_name, n.artist_name, r.score,
       CASE WHEN r.s_cf >= r.s_red
            THEN concat('often played with ', coalesce(sn.track_name, cr.seed), CASE WHEN sn.artist_name IS NULL THEN '' ELSE concat(' by ', sn.artist_name) END)
            ELSE concat('you played it ', CAST(rd.score AS STRING), ' times in ', CAST(rd.y AS STRING))
       END AS reason,
       CASE WHEN r.s_cf >= r.s_red THEN 'co_occurrence' ELSE 'rediscovery' END AS source
FROM ranked r
LEFT JOIN names n ON n.track_id = r.track_id
LEFT JOIN cf_reason cr ON cr.track_id = r.track_id
LEFT JOIN names sn ON sn.track_id = cr.seed
LEFT JOIN red rd ON rd.track_id = r.track_id
WHERE r.rank <= ${k}
ORDER BY r.rank`;
}
