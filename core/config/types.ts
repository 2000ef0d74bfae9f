/**
 * Types of a loaded pipeline.yaml. config/pipeline.schema.json is the source of truth for the
 * shape and documentation of every key; these types mirror it for the engine.
 */

import type { ColumnType } from '../transform/types.ts';

// The column types live in the type registry (one entry per type, with its engine types).
export type { ColumnType };

export interface ColumnSpec {
  /** JSON path into the record (relative to the source root): `a.b`, `a[0].b`, `a[].b` explodes. */
  path?: string;
  /** A SQL expression over the table's other columns (DuckDB/Spark common subset). */
  sql?: string;
  type: ColumnType;
  /** A row without a value here goes to quarantine. */
  required?: boolean;
  /** For `date` columns read from Spotify's `release_date`: the path of its precision (year/month/day). */
  precision_from?: string;
  /** For `string` columns: store the value lowercased (enum-like values sent in either case). */
  lower?: boolean;
  description?: string;
}

export interface TableSource {
  stream: string;
  /** Path of the object inside each record that column paths are relative to. */
  root?: string;
}

export interface PartitionSpec {
  name: string;
  /** The column the partition value is derived from. */
  from: string;
  /** `value` uses the column as is; date/month/year format a timestamp or date. */
  as: 'value' | 'date' | 'month' | 'year';
}

export interface TableSpec {
  description?: string;
  /** Normalized: always a list of sources. */
  from: TableSource[];
  columns: Record<string, ColumnSpec>;
  filter?: string;
  /** Rows with equal key columns are one row; the one from the newest run wins (or `order_by`). */
  dedupe?: { key: string[]; order_by?: string };
  /** For each value of these columns keep only the rows of the newest run that delivered it. */
  latest_per?: string[];
  /**
   * With `latest_per` (one column): `<stream>.<field>`, where the current parents are listed. A
   * value missing from that stream's latest complete read (an unfollowed or deleted playlist)
   * loses its rows too.
   */
  parents?: string;
  partition_by?: PartitionSpec[];
  /** Split partitions into files of about this size (MiB); default 128. */
  target_file_mb?: number;
}

export interface StreamConfig {
  endpoint: string;
  /** Read incrementally from the saved state (cursor / field), when the endpoint supports it. */
  incremental?: boolean | 'cursor' | 'field';
  /** `<stream>.<path>`: one request (set) per value of that field of the parent stream's records. */
  for_each?: string;
  /** `<stream>.<path>` list: the distinct ids found there are fetched (once each per run). */
  ids_from?: string[];
  /** Literal ids to fetch. */
  ids?: string[];
  /** Skip a parent record whose version field is unchanged since the last run. */
  skip_unchanged?: string;
  params?: Record<string, unknown>;
  schedule?: string;
}

export interface QuerySpec {
  description?: string;
  sql: string;
}

export interface AwsSettings {
  region?: string;
  lambda?: { memory_mb?: number; timeout_seconds?: number };
  glue?: { workers?: number };
  athena?: { bytes_scanned_cutoff?: number };
  alarm_email?: string;
  kms_key_arn?: string;
  lifecycle?: { raw_transition_days?: number; raw_expiration_days?: number; query_results_expiration_days?: number };
  /** Opt-in QuickSight over the lake (an account that already subscribes): an Athena data source and a dataset per table. */
  quicksight?: { principal_arn: string; authors?: number; readers?: number };
}

export interface PipelineConfig {
  version: 1;
  name: string;
  connector: { use: string; config: Record<string, unknown> };
  storage: { local?: string; s3?: { bucket: string; prefix?: string } };
  schedule?: string;
  streams: Record<string, StreamConfig>;
  tables: Record<string, TableSpec>;
  queries: Record<string, QuerySpec>;
  /** Dashboards of the report (`spotify-pipeline report`; core/report/), by name. */
  dashboards?: Record<string, DashboardSpec>;
  /** Personal recommendations (`spotify-pipeline recs`; core/recs/), and the opt-in playlist write-back. */
  recommendations?: RecommendationsSpec;
  /** Settings of the AWS deployment (terraform/). */
  aws?: AwsSettings;
  /** Pipeline files whose data lands in this pipeline's lake (one connector each). */
  include?: string[];
  /** The untracked local secrets file, relative to pipeline.yaml (default .secrets.json). */
  secrets?: { file?: string };
}

/** `recommendations:` as written (every key optional; core/recs/settings.ts fills the defaults). */
export interface RecommendationsSpec {
  /** Opt-in: write the recommendations to this playlist of the user's (`login` then asks for the write scope). */
  playlist?: { name: string; description?: string };
  k?: number;
  sources?: {
    co_occurrence?: {
      weight?: number;
      measure?: 'cosine' | 'conditional' | 'pmi';
      session_gap_minutes?: number;
      window?: number;
      half_life_days?: number;
      min_count?: number;
      playlist_weight?: number;
      seed_days?: number;
      seed_half_life_days?: number;
    };
    rediscovery?: { weight?: number; min_plays?: number; min_age_days?: number; quiet_days?: number };
  };
  exclude?: {
    recently_played_days?: number;
    target_playlist?: string;
    disliked?: { early_skip_seconds?: number; min_skips?: number };
  };
  evaluation?: { test_fraction?: number; cutoffs?: number; horizon_days?: number; seed?: number };
}

/** A dashboard: panels in order, each one query and how to show its rows. */
export interface DashboardSpec {
  title?: string;
  description?: string;
  panels: PanelSpec[];
}

/** Vega-Lite's unit view (mark + encoding), with the data left to the report. */
export interface VegaLiteChart {
  mark: string | { type: string; [k: string]: unknown };
  encoding: Record<string, unknown>;
  description?: string;
  height?: number;
  transform?: unknown[];
}

export interface PanelSpec {
  title: string;
  description?: string;
  /** A named query of `queries:` ... */
  query?: string;
  /** ... or SQL of its own (Athena/Trino, sandboxed like named queries). */
  sql?: string;
  /** Exactly one of chart (Vega-Lite), table or number. */
  chart?: VegaLiteChart;
  table?: { columns?: string[] };
  number?: { field: string; unit?: string; format?: string };
  /** Shown instead of the chart when the query returns no rows. */
  empty?: string;
  /** At most this many rows reach the page (default 1000): aggregate in SQL. */
  max_rows?: number;
}

/** Where a key sits in the source file, for error messages. */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

export interface LoadedPipeline {
  config: PipelineConfig;
  file: string;
  /** Position of a dot path (`streams.plays.endpoint`); falls back to the nearest parent. */
  pos(path: string): SourcePos;
}
