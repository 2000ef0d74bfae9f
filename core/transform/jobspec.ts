/**
 * The table spec the Glue job (glue-jobs/transform_job.py) reads: compiled Spark SQL plus what the
 * job needs around it (sources to read, partition columns, output types). Uploaded as
 * `<spec prefix>/<table>.json` next to the script.
 */
import type { TableSpec } from '../config/types.ts';
import { planTable, storedColumnPlans } from './plan.ts';
import { COMPLETE_VIEW, RAW_VIEW, renderSpark } from './spark.ts';
import { formatPath } from './paths.ts';
import { COLUMN_TYPE_INFO } from './types.ts';

export interface SparkJobSpec {
  /** Bump when the job's expectations change; the job refuses versions it does not know. */
  version: 1;
  table: string;
  /** The temp view of raw lines the SQL reads (value, _file, _line, _run_id, _stream). */
  input_view: string;
  /** The table's rows: stored columns, partition columns, then _source_run_id (dropped on write). */
  sql: string;
  /** Rejected rows: table, reasons, file, line, source_run_id, record. */
  quarantine_sql: string;
  /** The part both share (every candidate row with its reasons); the job keeps it as view __judged. */
  judged_sql: string;
  /** `sql` and `quarantine_sql` over the view __judged. */
  rows_from_judged_sql: string;
  quarantine_from_judged_sql: string;
  /** Hive partition columns in folder order; their values are strings in the SQL output. */
  partition_by: Array<{ name: string; from: string; as: string }>;
  /** Columns stored inside the Parquet files, with their Glue/Hive types. */
  columns: Array<{ name: string; type: string }>;
  /** The streams whose committed raw files feed the view, and each source's root. */
  sources: Array<{ stream: string; root: string }>;
  /** Split partitions into files near this size (MB); absent: the job's default. */
  target_file_mb?: number;
  /**
   * A table with `parents`: the stream listing them (its committed files feed the raw view too)
   * and the view of complete reads (_stream, _run_id) the job registers from the manifests.
   */
  parents?: { stream: string; view: string };
}

export function sparkJobSpec(name: string, spec: TableSpec): SparkJobSpec {
  const plan = planTable(name, spec);
  const sql = renderSpark(plan, RAW_VIEW);
  return {
    version: 1,
    table: name,
    input_view: RAW_VIEW,
    sql: sql.select,
    quarantine_sql: sql.quarantine,
    judged_sql: sql.judged,
    rows_from_judged_sql: sql.fromJudged.select,
    quarantine_from_judged_sql: sql.fromJudged.quarantine,
    partition_by: plan.partitions.map((p) => ({ name: p.name, from: p.from, as: p.as })),
    // Glue/Hive spelling, as the catalog has them.
    columns: storedColumnPlans(plan).map((c) => ({ name: c.name, type: COLUMN_TYPE_INFO[c.type].glue })),
    sources: plan.sources.map((s) => ({
      stream: s.stream,
      root: s.eachOf ? `${formatPath(s.eachOf.segments)}[]${s.path.segments.length ? `.${formatPath(s.path.segments)}` : ''}` : formatPath(s.path.segments),
    })),
    ...(plan.targetFileMb !== undefined && { target_file_mb: plan.targetFileMb }),
    ...(plan.latestParents && { parents: { stream: plan.latestParents.stream, view: COMPLETE_VIEW } }),
  };
}
