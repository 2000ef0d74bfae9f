/**
 * Personal recommendations (issue 17): the model (model.ts, one SQL query DuckDB and Spark share),
 * its inputs from the local lake, the table `recommendations` it writes (curated/recommendations/,
 * Parquet, published by the same atomic link swap as every table), and the offline evaluation
 * (evaluate.ts).
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { TableSpec } from '../config/types.ts';
import { RECS_TABLE } from './table.ts';
import { UserError } from '../errors.ts';
import { openDuckdb } from '../query/sandbox.ts';
import { viewSql } from '../query/index.ts';
import { recoverTable, swapIn, tableDirs } from '../transform/write.ts';
import { modelSql } from './model.ts';
import { DUCKDB_INPUTS, inputViewStatements, RECS_INPUT_TABLES } from './inputs.ts';
import type { RecsSettings } from './settings.ts';

export { recsSettings, type RecsSettings } from './settings.ts';
export { modelSql, baseSteps } from './model.ts';
export { duckdbEpoch, inputViewStatements, DUCKDB_INPUTS, SPARK_INPUTS, RECS_INPUT_TABLES, type InputDialect } from './inputs.ts';

export { RECS_TABLE, recommendationsTable, withRecommendations } from './table.ts';

/** One recommended track, as the table holds it (the write-back reads track_id in rank order). */
export interface Recommendation {
  rank: number;
  track_id: string;
  track_name: string | null;
  artist_name: string | null;
  score: number;
  reason: string;
  source: 'co_occurrence' | 'rediscovery';
  generated_at: string;
}


async function hasParquet(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true })).some((e) => e.isFile() && e.name.endsWith('.parquet'));
  } catch {
    return false;
  }
}

/**
 * Creates rec_plays, rec_playlist_tracks and rec_target (inputViewStatements) over the local
 * lake's tables. Returns which source tables had data.
 */
export async function lakeInputs(conn: DuckDBConnection, lakeDir: string, tables: Record<string, TableSpec>, s: RecsSettings): Promise<string[]> {
  const present: string[] = [];
  for (const name of RECS_INPUT_TABLES) {
    if (!tables[name]) continue;
    const files = await hasParquet(join(lakeDir, 'curated', name));
    await conn.run(viewSql(lakeDir, name, tables[name], files));
    if (files) present.push(name);
  }
  for (const statement of inputViewStatements(tables, s, DUCKDB_INPUTS)) await conn.run(statement);
  return present;
}

/** The reference time of a build: just after the newest play (the lake's "now", whenever it runs). */
export async function latestPlay(conn: DuckDBConnection): Promise<number | undefined> {
  const rows = (await conn.runAndReadAll('SELECT max(t) AS t FROM rec_plays')).getRowObjectsJS();
  const t = rows[0]?.t;
  return typeof t === 'number' ? t : undefined;
}

/** Runs the model at `now` and returns its rows. */
export async function recommend(conn: DuckDBConnection, s: RecsSettings, opts: { now: number; k?: number; generatedAt?: Date }): Promise<Recommendation[]> {
  const rows = (await conn.runAndReadAll(modelSql(s, { now: opts.now, k: opts.k }))).getRowObjectsJS();
  return toRecommendations(rows, opts.generatedAt ?? new Date());
}

function toRecommendations(rows: Array<Record<string, unknown>>, generatedAt: Date): Recommendation[] {
  const generated = generatedAt.toISOString();
  return rows.map((r) => ({
    rank: Number(r.rank),
    track_id: r.track_id as string,
    track_name: (r.track_name as string | null) ?? null,
    artist_name: (r.artist_name as string | null) ?? null,
    score: Number(r.score),
    reason: r.reason as string,
    source: r.source as Recommendation['source'],
    generated_at: generated,
  }));
}

export interface BuildResult {
  recommendations: Recommendation[];
  /** The reference time (ISO): just after the newest play. */
  asOf: string;
  sources: string[];
  file: string;
}

/**
 * Builds the recommendations from the local lake and publishes them as curated/recommendations/
 * (one Parquet file; the old build stays readable until the link swaps). The caller holds the lake lock.
 */
export async function buildRecommendations(opts: { lakeDir: string; tables: Record<string, TableSpec>; settings: RecsSettings; k?: number; now?: Date }): Promise<BuildResult> {
  const { lakeDir, settings } = opts;
  const curated = join(lakeDir, 'curated');
  const db = await openDuckdb({ allow: [curated], settings: ["SET TimeZone = 'UTC'"] });
  const generatedAt = opts.now ?? new Date();
  const buildId = `recs-${generatedAt.toISOString().replace(/[:.]/g, '-')}`;
  const dirs = tableDirs(lakeDir, RECS_TABLE);
  const staged = join(dirs.staging, buildId);
  const file = join(staged, 'part-0.parquet');
  let result: Omit<BuildResult, 'file'>;
  try {
    const sources = await lakeInputs(db.conn, lakeDir, opts.tables, settings);
    const last = await latestPlay(db.conn);
    if (last === undefined) throw new UserError(`no plays in the lake ${lakeDir}: nothing to recommend from`, 'run the pipelines first (`npm start` imports a generated export), then `spotify-pipeline recs`');
    const now = Math.floor(last) + 1;
    const k = opts.k ?? settings.k;
    const ts = generatedAt.toISOString().replace('T', ' ').replace('Z', '');
    // The model runs once, into a temporary table; the Parquet file and the printed rows are both read from it.
    await db.conn.run(
      `CREATE OR REPLACE TEMP TABLE rec_out AS SELECT CAST(rank AS INTEGER) AS rank, track_id, track_name, artist_name, CAST(score AS DOUBLE) AS score, reason, source, TIMESTAMP '${ts}' AS generated_at FROM (${modelSql(settings, { now, k })}) m`,
    );
    await recoverTable(dirs);
    await mkdir(staged, { recursive: true });
    await db.conn.run(`COPY (SELECT * FROM rec_out ORDER BY rank) TO '${file.replace(/'/g, "''")}' (FORMAT parquet)`);
    const recs = toRecommendations((await db.conn.runAndReadAll('SELECT * FROM rec_out ORDER BY rank')).getRowObjectsJS(), generatedAt);
    result = { recommendations: recs, asOf: new Date(now * 1000).toISOString(), sources };
  } finally {
    db.close();
  }
  await swapIn({ dirs, runId: buildId, staged });
  return { ...result, file: join(dirs.table, 'part-0.parquet') };
}
