/**
 * The Spark SQL target of the renderer (render.ts with dialects/spark.ts), for the Glue job
 * (glue-jobs/transform_job.py), so the table means the same thing at Spark scale as on DuckDB.
 *
 * Input: a temp view of raw lines, one row per line of every committed raw file of the table's
 * streams, with the columns
 *   value    string  the JSON line as written
 *   _file    string  lake key of the file (raw/<stream>/dt=<ingest date>/<run>-<part>.jsonl.gz)
 *   _line    bigint  1-based line number within the file
 *   _run_id  string  run id of the manifest that lists the file
 *   _stream  string  stream of the file
 * The job builds that view from the run manifests (only committed files are visible).
 */
import { sparkIdent, sparkLiteral, spark } from './dialects/spark.ts';
import type { TablePlan } from './plan.ts';
import { type RenderedTable, renderTable } from './render.ts';

export { sparkIdent, sparkJsonPath, sparkLiteral } from './dialects/spark.ts';

/** The temp view the Glue job registers (see the file comment for its columns). */
export const RAW_VIEW = 'raw_lines';
/**
 * The temp view of complete reads (_stream, _run_id: every stream a committed manifest says it
 * read completely) the job registers for a table with `parents` (spec key `parents`).
 */
export const COMPLETE_VIEW = 'complete_reads';

/**
 * The table's queries in Spark SQL. The rows query returns the stored columns, the partition
 * columns (strings, named as the folders), then `_source_run_id` (the run that delivered the row;
 * the job uses it to find the partitions a run touched and drops it before writing). The job runs
 * `judged` once, keeps it as the temp view `__judged` (persisted), then `fromJudged.*` over it.
 */
export type SparkTable = RenderedTable;

export function renderSpark(plan: TablePlan, inputView: string = RAW_VIEW): SparkTable {
  return renderTable(plan, spark, {
    // A line that is not one JSON value gets a NULL record (quarantined), as in DuckDB. Spark's
    // JSON functions read only the first value of a text and ignore what follows it ({"a":1} junk,
    // two objects on one line); inside brackets, anything after it is an error, so a line is one
    // value exactly when the bracketed line is an array of length 1.
    rawLines: (stream) =>
      [
        `SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id`,
        `FROM ${sparkIdent(inputView)} WHERE _stream = ${sparkLiteral(stream)}`,
      ].join('\n'),
    completeRuns: (stream) => `SELECT _run_id AS __run_id FROM ${sparkIdent(COMPLETE_VIEW)} WHERE _stream = ${sparkLiteral(stream)}`,
    // The view's _file is already the lake key.
    fileKey: '__file',
    extraOutputs: ['__run_id AS _source_run_id'],
  });
}
