/**
 * The model's three input relations (rec_plays, rec_playlist_tracks, rec_target) over views named
 * after the lake's tables, in either engine's spelling. A leaf (no DuckDB): the deployment's
 * stack compiles the Glue job's spec from it (jobspec.ts).
 */
import type { TableSpec } from '../config/types.ts';
import { UserError } from '../errors.ts';
import type { RecsSettings } from './settings.ts';

/** DuckDB's spelling of seconds since 1970. */
export const duckdbEpoch = (x: string) => `epoch_ms(${x}) / 1000.0`;

/** How an engine spells the one thing the model's inputs need differently: seconds since 1970. */
export interface InputDialect {
  epoch: (x: string) => string;
}

export const DUCKDB_INPUTS: InputDialect = { epoch: duckdbEpoch };
/** Spark's: the lake's timestamps are TIMESTAMP_NTZ there, read as UTC (the job's session time zone). */
export const SPARK_INPUTS: InputDialect = { epoch: (x) => `CAST(unix_micros(CAST(${x} AS TIMESTAMP)) AS DOUBLE) / 1000000.0` };

/** The lake tables the model reads (those the pipeline declares), in the order the views use them. */
export const RECS_INPUT_TABLES = ['listening_history', 'plays', 'playlist_tracks', 'playlists'] as const;

/**
 * The statements creating rec_plays, rec_playlist_tracks and rec_target over views named after
 * the lake's tables (one engine's spelling; DuckDB runs them in lakeInputs, the Glue job from
 * its spec): the export's listening_history (track plays, exact ms_played, skipped) and the Web
 * API's plays after the export's last play; playlist_tracks; the target playlist's tracks (by
 * name, from playlists). Types are spelt the way both engines read them (STRING, INTEGER).
 */
export function inputViewStatements(tables: Record<string, TableSpec>, s: RecsSettings, dialect: InputDialect): string[] {
  const parts: string[] = [];
  const cols = (ms: string, skipped: string) => `track_id, track_name, artist_name, played_at, ${dialect.epoch('played_at')} AS t, ${ms} AS ms_played, ${skipped} AS skipped`;
  if (tables.listening_history) parts.push(`SELECT ${cols('CAST(ms_played AS BIGINT)', 'CAST(skipped AS BOOLEAN)')} FROM listening_history WHERE kind = 'track' AND track_id IS NOT NULL`);
  if (tables.plays) {
    const after = tables.listening_history ? ` WHERE played_at > (SELECT coalesce(max(played_at), TIMESTAMP '1970-01-01 00:00:00') FROM listening_history)` : '';
    parts.push(`SELECT ${cols('CAST(NULL AS BIGINT)', 'CAST(NULL AS BOOLEAN)')} FROM plays${after}`);
  }
  if (parts.length === 0) throw new UserError('recommendations need a table of plays: the lake has neither listening_history (the export) nor plays (the Web API)', 'include connectors/spotify-history/pipeline.yaml or declare the plays table (see the shipped pipeline.yaml)');
  const pt = tables.playlist_tracks && tables.playlist_tracks.columns.track_id && tables.playlist_tracks.columns.playlist_id;
  const target = s.exclude.targetPlaylist;
  return [
    `CREATE OR REPLACE TEMP VIEW rec_plays AS ${parts.join('\nUNION ALL\n')}`,
    pt
      ? `CREATE OR REPLACE TEMP VIEW rec_playlist_tracks AS SELECT t.playlist_id, t.position, t.track_id, t.track_name, CAST(NULL AS STRING) AS artist_name FROM playlist_tracks t`
      : `CREATE OR REPLACE TEMP VIEW rec_playlist_tracks AS SELECT CAST(NULL AS STRING) AS playlist_id, CAST(NULL AS INTEGER) AS position, CAST(NULL AS STRING) AS track_id, CAST(NULL AS STRING) AS track_name, CAST(NULL AS STRING) AS artist_name WHERE false`,
    target !== undefined && pt && tables.playlists?.columns.name
      ? `CREATE OR REPLACE TEMP VIEW rec_target AS SELECT t.track_id FROM playlist_tracks t JOIN playlists p ON p.playlist_id = t.playlist_id WHERE p.name = '${target.replace(/'/g, "''")}'`
      : `CREATE OR REPLACE TEMP VIEW rec_target AS SELECT CAST(NULL AS STRING) AS track_id WHERE false`,
  ];
}

