/**
 * The recommendations' engine-equivalence case (run in test/transform/engines.test.ts's one Spark
 * session, beside the tables' vectors): a curated listening_history of generated listening with
 * latent tastes, written as the engines write it (every stored column, Hive-partitioned by year),
 * in two copies; `recs` on DuckDB builds from one, and the Glue job's derived spec
 * (derived/recommendations.json, core/recs/jobspec.ts) runs through the job's own entry over the
 * other. The checks compare the two `curated/recommendations/` tables.
 */
import { cp, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { tasteHistory } from '../../connectors/spotify-history/sandbox/tastes.ts';
import { lakeTables, preparePipeline } from '../../core/pipeline.ts';
import { openDuckdb } from '../../core/query/sandbox.ts';
import { buildRecommendations, type Recommendation } from '../../core/recs/index.ts';
import { recsJobSpec } from '../../core/recs/jobspec.ts';
import { recsSettings } from '../../core/recs/settings.ts';
import { planTable, storedColumnPlans } from '../../core/transform/plan.ts';
import { COLUMN_TYPE_INFO } from '../../core/transform/types.ts';

const ROOT = join(import.meta.dirname, '..', '..');

export interface RecsCase {
  duckLake: string;
  sparkLake: string;
  /** The Glue job's arguments for the Spark side (no table specs: it builds only the derived table). */
  jobArgs: string[];
  duck: Recommendation[];
}

/** Writes both lakes and the spec under `dir`, and builds the DuckDB side. */
export async function prepareRecsCase(dir: string): Promise<RecsCase> {
  const history = tasteHistory({ plays: 6_000, seed: 11, tastes: 8, tracksPerTaste: 60, driftDays: 60, playsPerDay: 8, since: Date.UTC(2024, 0, 1) });
  const prep = await preparePipeline(join(ROOT, 'pipeline.yaml'));
  const tables = { listening_history: lakeTables(prep).listening_history };
  // Rediscovery needs plays older than a year and co-occurrence recent ones: both are in 6,000 plays over ~2 years.
  const settings = recsSettings({ k: 25, sources: { rediscovery: { weight: 1, min_plays: 5 } } });
  const duckLake = join(dir, 'duckdb');
  const sparkLake = join(dir, 'spark');
  const plan = planTable('listening_history', tables.listening_history);
  expect(plan.partitions.map((p) => p.name)).toEqual(['year']);
  const given: Record<string, string> = {
    play_id: 'ts || track_id',
    played_at: 'CAST(ts AS TIMESTAMP)',
    ms_played: 'ms_played',
    kind: `'track'`,
    track_id: 'track_id',
    track_name: 'track_name',
    artist_name: 'artist_name',
    skipped: 'skipped',
  };
  const select = storedColumnPlans(plan)
    .map((c) => `CAST(${given[c.name] ?? 'NULL'} AS ${COLUMN_TYPE_INFO[c.type].duckdb}) AS ${c.name}`)
    .join(', ');
  await mkdir(join(duckLake, 'curated'), { recursive: true });
  const playsFile = join(dir, 'plays.jsonl');
  await writeFile(playsFile, history.plays.map((p) => JSON.stringify(p)).join('\n') + '\n');
  const db = await openDuckdb({ allow: [], unsafe: true, settings: ["SET TimeZone = 'UTC'"] });
  try {
    await db.conn.run(
      `COPY (SELECT ${select}, CAST(year(CAST(ts AS TIMESTAMP)) AS VARCHAR) AS year FROM read_json('${playsFile}', format = 'newline_delimited', columns = {ts: 'VARCHAR', track_id: 'VARCHAR', track_name: 'VARCHAR', artist_name: 'VARCHAR', ms_played: 'BIGINT', skipped: 'BOOLEAN'}))
       TO '${join(duckLake, 'curated', 'listening_history')}' (FORMAT parquet, PARTITION_BY (year))`,
    );
  } finally {
    db.close();
  }
  await cp(join(duckLake, 'curated'), join(sparkLake, 'curated'), { recursive: true });
  const duck = await buildRecommendations({ lakeDir: duckLake, tables, settings });
  const specs = join(dir, 'specs');
  await mkdir(join(specs, 'derived'), { recursive: true });
  await writeFile(join(specs, 'derived', 'recommendations.json'), JSON.stringify(recsJobSpec(tables, settings)));
  const uri = (d: string) => `file://${d}/`;
  return { duckLake, sparkLake, jobArgs: ['--lake_root', uri(sparkLake), '--spec_prefix', uri(specs), '--output_root', uri(sparkLake)], duck: duck.recommendations };
}

/** The Spark side's table against the DuckDB side's: rows in rank order, scores to 6 decimals, Parquet column types. */
export async function expectSameRecommendations(c: RecsCase, result: { tables?: Array<{ table: string; rows: number }>; error?: string }): Promise<void> {
  expect(result.error, `the Glue job failed on the recommendations:\n${result.error}`).toBeUndefined();
  expect(c.duck.length).toBe(25);
  expect(new Set(c.duck.map((r) => r.source))).toEqual(new Set(['co_occurrence', 'rediscovery']));
  expect(result.tables).toEqual([expect.objectContaining({ table: 'recommendations', rows: 25 })]);
  expect((await readdir(join(c.sparkLake, 'curated', 'recommendations'))).filter((f) => f.endsWith('.parquet'))).toHaveLength(1);
  const read = await openDuckdb({ allow: [], unsafe: true, settings: ["SET TimeZone = 'UTC'"] });
  try {
    const parquet = (lake: string) => `read_parquet('${join(lake, 'curated', 'recommendations', '**', '*.parquet')}')`;
    const types = async (lake: string) => (await read.conn.runAndReadAll(`DESCRIBE SELECT * FROM ${parquet(lake)}`)).getRowObjectsJS().map((r) => `${String(r.column_name)} ${String(r.column_type)}`);
    expect(await types(c.sparkLake)).toEqual(await types(c.duckLake));
    const rows = (await read.conn.runAndReadAll(`SELECT * FROM ${parquet(c.sparkLake)} ORDER BY rank`)).getRowObjectsJS();
    const shape = (r: Record<string, unknown>) => ({ rank: Number(r.rank), track_id: r.track_id, track_name: r.track_name, reason: r.reason, source: r.source, score: Number(r.score).toFixed(6) });
    expect(rows.map(shape)).toEqual(c.duck.map((r) => shape(r as unknown as Record<string, unknown>)));
    // generated_at is the job's clock: one time for every row.
    expect(new Set(rows.map((r) => String(r.generated_at))).size).toBe(1);
  } finally {
    read.close();
  }
}
