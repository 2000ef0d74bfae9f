/**
 * The report Lambda: the same report as `spotify-pipeline report` (core/report/), with every
 * panel's query run on Athena (core/report/athena.ts) and the page written to the lake bucket's
 * `reports/report.html` (private, encrypted by the bucket's default SSE, text/html). The Step
 * Functions state machine that starts the transform invokes it once the Glue job has finished
 * (terraform/constructs/glue-transform.ts); `spotify-pipeline report --aws` presigns the object.
 *
 * The deployed bundle's entry is generated at synth time (core/lambda/bundle.ts `reportEntry`):
 * it embeds the report's spec (title, dashboards and the named queries they use) and Vega's
 * browser runtime as text, so the function reads nothing at start.
 *
 * Environment (set by the deployment):
 *   LAKE_BUCKET, LAKE_PREFIX     the lake (run manifests `_runs/*.json` are read, `curated/<table>/` of
 *                                the tables the panels read listed for data, the report written)
 *   ATHENA_WORKGROUP             the stack's workgroup (its result location and encryption are enforced)
 *   ATHENA_DATABASE              the Glue database of the lake's tables
 *   plus the standard AWS SDK variables (AWS_REGION; AWS_ENDPOINT_URL_ATHENA / _S3 in a rehearsal).
 *
 * Outcome: the report's summary when every panel rendered (or was empty); when a panel's query
 * failed, the report is still written (the panel says why) and then the invocation throws
 * ReportPanelsFailed, so the state machine's execution fails and its alarm fires.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { DashboardSpec, QuerySpec } from '../config/types.ts';
import { listManifests } from '../engine/manifest.ts';
import { tablesNamed } from '../query/dialect.ts';
import { redact } from '../log.ts';
import { athenaSource } from '../report/athena.ts';
import { buildReport, latestRuns, type PanelOutcome } from '../report/index.ts';
import { S3Storage } from '../storage/s3.ts';
import type { LambdaContext } from './handler.ts';

/** Where the report lands, below the lake prefix (the local report's place in a local lake too). */
export const REPORT_KEY = 'reports/report.html';
export const REPORT_CONTENT_TYPE = 'text/html; charset=utf-8';

/** What the bundle embeds: the report of the deployed lake, without its data. */
export interface ReportSpec {
  title: string;
  dashboards: Record<string, DashboardSpec>;
  /** The named queries the panels use. */
  queries: Record<string, QuerySpec>;
  /**
   * The lake's tables the panels read: a panel over one without Parquet files under
   * `curated/<table>/` says which table has no data yet, as the local report does.
   */
  tables?: string[];
}

export interface ReportHandlerOptions {
  spec: ReportSpec;
  /** Vega's browser runtime (embedded as text in the bundle). */
  vega: string;
  env?: Record<string, string | undefined>;
  s3Client?: S3Client;
  athenaClient?: AthenaClient;
  /** Default: log lines to stderr (CloudWatch). */
  log?: (line: string) => void;
}

export interface ReportResult {
  /** `s3://bucket/key` of the written report. */
  report: string;
  bytes: number;
  panels: number;
  empty: number;
  failed: number;
  /** The tables the panels read that have no data yet (no Parquet file under curated/<table>/). */
  emptyTables: string[];
  /** Queries sent to Athena, and the seconds spent in them. */
  queries: number;
  querySeconds: number;
  /** The run whose transform preceded this report, when the state machine says. */
  runId?: string;
  seconds: number;
}

/** Some panels' queries failed: the report was written (each says why) and the invocation fails. */
export class ReportPanelsFailed extends Error {
  constructor(
    message: string,
    readonly result: ReportResult,
  ) {
    super(message);
    this.name = 'ReportPanelsFailed';
  }
}

export type ReportHandler = (event: unknown, context?: LambdaContext) => Promise<ReportResult>;

/** Leave this much of the invocation's time for writing the report after the last query. */
const WRITE_MARGIN_MS = 30_000;
const MAX_QUERY_MS = 300_000;

export function createReportHandler(opts: ReportHandlerOptions): ReportHandler {
  let s3 = opts.s3Client;
  let athena = opts.athenaClient;
  return async (event, context) => {
    const t0 = Date.now();
    const env = opts.env ?? process.env;
    const log = opts.log ?? ((line: string) => process.stderr.write(`${redact(line)}\n`));
    const missing = ['LAKE_BUCKET', 'ATHENA_WORKGROUP', 'ATHENA_DATABASE'].filter((k) => !env[k]);
    if (missing.length) throw new Error(`the report function's environment lacks ${missing.join(', ')}`);
    const bucket = env.LAKE_BUCKET!;
    const workgroup = env.ATHENA_WORKGROUP!;
    const database = env.ATHENA_DATABASE!;
    s3 ??= new S3Client({});
    athena ??= new AthenaClient({});
    const storage = new S3Storage({ bucket, prefix: env.LAKE_PREFIX, client: s3 });
    const runId = runIdOf(event);

    const remaining = context?.getRemainingTimeInMillis?.();
    const queryTimeoutMs = typeof remaining === 'number' && Number.isFinite(remaining) ? Math.max(10_000, Math.min(MAX_QUERY_MS, remaining - WRITE_MARGIN_MS)) : MAX_QUERY_MS;
    const source = athenaSource({ client: athena, workgroup, database, queryTimeoutMs });
    const tables = opts.spec.tables ?? [];
    const emptyTables = await tablesWithoutData(s3, bucket, storage.prefix, tables);
    const report = await buildReport({
      title: opts.spec.title,
      dashboards: opts.spec.dashboards,
      queries: opts.spec.queries,
      source: { query: (sql) => panelRows(source, sql), emptyTables, tablesOf: (sql) => tablesNamed(sql, tables) },
      from: `Athena (workgroup ${workgroup}, database ${database})`,
      latestRuns: latestRuns(await listManifests(storage, { skipCorrupt: (key, why) => log(`warning: run manifest ${key} is corrupt (${why}); the report leaves it out`) })),
      vega: opts.vega,
    });
    const key = `${storage.prefix ? `${storage.prefix}/` : ''}${REPORT_KEY}`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: report.html, ContentType: REPORT_CONTENT_TYPE, CacheControl: 'no-store' }));
    const count = (s: PanelOutcome['status']) => report.panels.filter((p) => p.status === s).length;
    const result: ReportResult = {
      report: `s3://${bucket}/${key}`,
      bytes: report.bytes,
      panels: report.panels.length,
      empty: count('empty'),
      failed: count('failed'),
      emptyTables,
      queries: source.queries,
      querySeconds: Math.round(report.querySeconds * 100) / 100,
      ...(runId ? { runId } : {}),
      seconds: (Date.now() - t0) / 1000,
    };
    for (const p of report.panels.filter((x) => x.status === 'failed')) log(`error: panel "${p.title}" (${p.dashboard}): ${p.message}`);
    log(`report ${result.report}: ${result.bytes} bytes, ${result.panels} panels (${result.empty} empty, ${result.failed} failed), ${result.queries} Athena queries in ${result.querySeconds} s${emptyTables.length ? `; no data yet in ${emptyTables.join(', ')}` : ''}`);
    if (result.failed) throw new ReportPanelsFailed(`${result.failed} of ${result.panels} panels failed (the report at ${result.report} shows which and why)`, result);
    return result;
  };
}

/**
 * Of these tables, those with no Parquet object under `curated/<table>/` (one listing page each:
 * a table is empty when its first 1,000 keys hold no Parquet file and there are no more).
 */
async function tablesWithoutData(s3: S3Client, bucket: string, prefix: string, tables: string[]): Promise<string[]> {
  const empty = await Promise.all(
    tables.map(async (table) => {
      const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix ? `${prefix}/` : ''}curated/${table}/`, MaxKeys: 1000 }));
      return !res.IsTruncated && !(res.Contents ?? []).some((o) => o.Key?.endsWith('.parquet'));
    }),
  );
  return tables.filter((_, i) => empty[i]);
}

/** The run id the state machine passes (`{ arguments: { "--run_id": ... } }`), when it does. */
function runIdOf(event: unknown): string | undefined {
  const args = event && typeof event === 'object' ? (event as { arguments?: unknown }).arguments : undefined;
  const id = args && typeof args === 'object' ? (args as Record<string, unknown>)['--run_id'] : undefined;
  return typeof id === 'string' && id ? id : undefined;
}

/**
 * A table that is not in this deployment's catalog (one only built locally, like
 * `recommendations` until a deployment builds it) has no data here: its panel shows its empty
 * state instead of failing the report. Athena says TABLE_NOT_FOUND; the rehearsal's stand-in
 * says it in DuckDB's words.
 */
const TABLE_NOT_FOUND = /TABLE_NOT_FOUND|Table with name \S+ does not exist/;

async function panelRows(source: { query(sql: string): Promise<{ columns: string[]; rows: Record<string, unknown>[] }> }, sql: string) {
  try {
    return await source.query(sql);
  } catch (e) {
    if (TABLE_NOT_FOUND.test((e as Error).message)) return { columns: [], rows: [] };
    throw e;
  }
}
