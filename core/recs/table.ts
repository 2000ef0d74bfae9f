/** The table `recs` writes, as the lake's views declare it (a leaf: core/pipeline.ts imports it). */
import type { TableSpec } from '../config/types.ts';

export const RECS_TABLE = 'recommendations';

/**
 * The table as the lake's views (query, report, validate) see it. It is written by `recs`, not
 * built from raw data, so it is not in `tables:`; its columns are declared here.
 */
export const recommendationsTable: TableSpec = {
  description: 'The current recommendations (spotify-pipeline recs), one row per track in rank order, with the reason',
  from: [{ stream: RECS_TABLE }],
  columns: {
    rank: { path: 'rank', type: 'int' },
    track_id: { path: 'track_id', type: 'string' },
    track_name: { path: 'track_name', type: 'string' },
    artist_name: { path: 'artist_name', type: 'string' },
    score: { path: 'score', type: 'double' },
    reason: { path: 'reason', type: 'string' },
    source: { path: 'source', type: 'string' },
    generated_at: { path: 'generated_at', type: 'timestamp' },
  },
};

/** The lake's tables plus `recommendations` when the pipeline declares `recommendations:`. */
export function withRecommendations(tables: Record<string, TableSpec>, declared: boolean): Record<string, TableSpec> {
  return declared && !Object.hasOwn(tables, RECS_TABLE) ? { ...tables, [RECS_TABLE]: recommendationsTable } : tables;
}

