/**
 * The recommendations as the Glue job builds them (issue 17: "runs on both engines ... from the
 * same plan"): the same input statements and the same model SQL as `recs` runs on DuckDB, in the
 * Spark spelling, as one JSON spec the deployment uploads beside the tables' specs
 * (<spec_prefix>derived/recommendations.json). The job (glue-jobs/transform_job.py
 * run_derived) reads the input tables' curated Parquet with the schemas given here, runs the
 * statements, finds the lake's "now" (just after its newest play, as `recs` does), puts it in
 * place of NOW_TOKEN, and writes curated/recommendations/ (one Parquet file, the catalog's
 * `recommendations` table).
 */
import type { RecommendationsSpec, TableSpec } from '../config/types.ts';
import { planTable, storedColumnPlans } from '../transform/plan.ts';
import { COLUMN_TYPE_INFO } from '../transform/types.ts';
import { inputViewStatements, RECS_INPUT_TABLES, SPARK_INPUTS } from './inputs.ts';
import { modelSql } from './model.ts';
import { recsSettings, type RecsSettings } from './settings.ts';
import { RECS_TABLE, recommendationsTable } from './table.ts';

/** Stands for the lake's "now" (seconds since 1970) in the spec's SQL; the job replaces it with a number. */
export const NOW_TOKEN = '__RECS_NOW__';

export interface RecsJobSpec {
  version: 1;
  kind: 'recommendations';
  table: typeof RECS_TABLE;
  /** The lake tables read, each as a view of its name over curated/<table>/ with this Spark schema (file columns, then partition keys as strings). */
  inputs: Array<{ table: string; schema: string }>;
  /** Run in order once the inputs are views: create rec_plays, rec_playlist_tracks, rec_target. */
  statements: string[];
  /** One row, one column `now`: seconds since 1970 just after the newest play (NULL: no plays). */
  now_sql: string;
  now_token: typeof NOW_TOKEN;
  /** The rows of the table in rank order, with `generated_at` from the job's clock. */
  sql: string;
  /** The table's columns in Glue (Hive) types, as the catalog declares them. */
  columns: Array<{ name: string; type: string }>;
}

/** A table's Spark schema for reading its curated Parquet: stored columns, then partition keys (strings, as the catalog has them). */
function sparkSchema(name: string, spec: TableSpec): string {
  const plan = planTable(name, spec);
  const columns = storedColumnPlans(plan).map((c) => `\`${c.name}\` ${COLUMN_TYPE_INFO[c.type].spark}`);
  return [...columns, ...plan.partitions.map((p) => `\`${p.name}\` STRING`)].join(', ');
}

export function recsJobSpec(tables: Record<string, TableSpec>, settings: RecsSettings): RecsJobSpec {
  const catalog = planTable(RECS_TABLE, recommendationsTable);
  const now = { sql: NOW_TOKEN };
  return {
    version: 1,
    kind: 'recommendations',
    table: RECS_TABLE,
    inputs: RECS_INPUT_TABLES.filter((t) => tables[t]).map((t) => ({ table: t, schema: sparkSchema(t, tables[t]) })),
    statements: inputViewStatements(tables, settings, SPARK_INPUTS),
    // As buildRecommendations: floor(newest play) + 1.
    now_sql: 'SELECT CAST(floor(max(t)) + 1 AS DOUBLE) AS now FROM rec_plays',
    now_token: NOW_TOKEN,
    sql:
      `SELECT CAST(rank AS INT) AS rank, track_id, track_name, artist_name, CAST(score AS DOUBLE) AS score, reason, source, ` +
      `CAST(current_timestamp() AS TIMESTAMP_NTZ) AS generated_at FROM (${modelSql(settings, { now })}) m ORDER BY rank`,
    columns: storedColumnPlans(catalog).map((c) => ({ name: c.name, type: COLUMN_TYPE_INFO[c.type].glue })),
  };
}

/**
 * The derived tables' specs of a pipeline, by table name (`derived/<name>.json` beside the
 * tables' specs): the recommendations when the pipeline declares `recommendations:`.
 */
export function derivedJobSpecs(recommendations: RecommendationsSpec | undefined, tables: Record<string, TableSpec>): Record<string, RecsJobSpec> {
  return recommendations === undefined ? {} : { [RECS_TABLE]: recsJobSpec(tables, recsSettings(recommendations)) };
}
