/**
 * The deploy rehearsal on the shipped pipeline, as `spotify-pipeline rehearse` runs it: from the
 * synthesized stack (cdk.tf.json and its assets), moto for S3, Secrets Manager and Glue, the
 * extractor's code asset in a Node process, the Glue job on Spark 3.5.4 with S3A on moto, the
 * catalog through the Glue API and every named query on DuckDB over the job's files; after each
 * Glue job run, the report function's code asset with its real Athena client against the Athena
 * stand-in (Athena's wire protocol over DuckDB), its report read back from moto and fetched by a
 * presigned URL.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { connectors } from '../../connectors/index.ts';
import { preparePipeline } from '../../core/pipeline.ts';
import { pluginSource } from '../../core/plugins.ts';
import { rehearse, type RehearsalReport } from '../../terraform/rehearse/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');
let report: RehearsalReport;
const lines: string[] = [];
/** Panels over the recommendations (the table the Glue job derives from the others). */
let recsPanels = 0;

beforeAll(async () => {
  const file = join(ROOT, 'pipeline.yaml');
  const prep = await preparePipeline(file, { plugins: pluginSource(connectors) });
  recsPanels = Object.values(prep.loaded.config.dashboards ?? {})
    .flatMap((d) => d.panels)
    .filter((p) => /\brecommendations\b/.test(p.sql ?? '')).length;
  const t0 = Date.now();
  report = await rehearse({ prep, pipelineFile: file, connectors, seed: 7, log: (l) => lines.push(l) });
  console.info(`rehearsal of the shipped pipeline: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}, 600_000);

describe('rehearse (the shipped pipeline)', () => {
  it('succeeds, with nothing failed', () => {
    expect(report.failures, lines.join('\n')).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('provisions what the stack declares, the Glue modules among the objects', () => {
    expect(report.provisioned!.buckets.sort()).toEqual(['my-spotify-lake', 'my-spotify-lake-artifacts', 'my-spotify-lake-athena-results']);
    expect(report.provisioned!.secrets.sort()).toEqual(['my-spotify-lake/spotify/client_secret', 'my-spotify-lake/spotify/refresh_token']);
    expect(report.provisioned!.objects).toContain('s3://my-spotify-lake-artifacts/glue-jobs/transform_job.py');
    expect(report.provisioned!.objects).toContain('s3://my-spotify-lake-artifacts/glue-jobs/lake_io.zip');
  });

  it('the bundled extractor writes raw data and a run manifest to S3, on its schedule and on the export upload', () => {
    const [schedule, upload] = report.extractor;
    expect(schedule.trigger).toBe('schedule my-spotify-lake-extractor');
    expect(schedule.invocation.ok).toBe(true);
    expect(schedule.manifestKey).toMatch(/^_runs\/\d{8}T\d{9}Z-[0-9a-f]{6}\.json$/);
    const streams = (schedule.invocation.result as { streams: Array<{ stream: string; records: number }> }).streams;
    expect(Object.fromEntries(streams.map((s) => [s.stream, s.records > 0]))).toEqual({ recently_played: true, my_playlists: true, playlist_items: true, artists: true });
    expect(upload.trigger).toMatch(/^upload imports\/my-spotify-history\//);
    expect(upload.pipeline).toBe('my-spotify-history');
    expect((upload.invocation.result as { streams: Array<{ records: number }> }).streams[0].records).toBeGreaterThan(1000);
  });

  it('the Glue job starts from its uploaded script with its shipped modules and the committed run id, and writes every table', () => {
    const first = report.glue[0].run;
    expect(first.ok, first.log.slice(-2000)).toBe(true);
    expect(first.scriptLocation).toBe('s3://my-spotify-lake-artifacts/glue-jobs/transform_job.py');
    expect(first.pyFiles).toEqual(['s3://my-spotify-lake-artifacts/glue-jobs/lake_io.zip']);
    expect(first.arguments['--run_id']).toBe(report.glue[0].manifestKey.replace(/^_runs\/|\.json$/g, ''));
    expect(first.arguments['--spec_prefix']).toBe('s3://my-spotify-lake-artifacts/glue-jobs/specs/');
    const written = new Set(report.glue.flatMap((g) => ((g.run.result as { tables?: Array<{ table: string; rows: number }> }).tables ?? []).filter((t) => t.rows > 0).map((t) => t.table)));
    expect([...written].sort()).toEqual(['artists', 'listening_history', 'playlist_tracks', 'playlists', 'plays', 'recommendations', 'tracks']);
    // The recommendations are derived after the tables by every run, from its own spec object.
    for (const g of report.glue) {
      const tables = (g.run.result as { tables: Array<{ table: string }> }).tables.map((t) => t.table);
      expect(tables.at(-1), g.manifestKey).toBe('recommendations');
    }
    expect(report.provisioned!.objects).toContain('s3://my-spotify-lake-artifacts/glue-jobs/specs/derived/recommendations.json');
  });

  it('the catalog tables (created through the Glue API) reach every file by partition projection', () => {
    expect(report.catalog.map((c) => c.table).sort()).toEqual(['artists', 'listening_history', 'playlist_tracks', 'playlists', 'plays', 'recommendations', 'tracks']);
    for (const c of report.catalog) {
      expect(c.files, c.table).toBeGreaterThan(0);
      expect(c.unreachable, c.table).toEqual([]);
    }
  });

  it('every named query returns rows over the Spark output', () => {
    expect(report.queries.length).toBe(7);
    for (const q of report.queries) {
      expect(q.error, q.name).toBeUndefined();
      expect(q.rows, q.name).toBeGreaterThan(0);
    }
  });

  it('a second run with one new play rewrites one plays partition, not all', () => {
    const plays = report.incremental.find((i) => i.table === 'plays')!;
    expect(plays.partitions).toBeGreaterThan(1);
    expect(plays.rewritten.length + plays.added.length).toBe(1);
    // The export's table was not touched by a Web API run.
    expect(report.incremental.find((i) => i.table === 'listening_history')!.rewritten).toEqual([]);
  });

  it('after each Glue job run, the report function renders every panel from Athena into reports/report.html, which a presigned URL serves', () => {
    // One report per transform, each invoked with what the state machine's Report task sends.
    expect(report.reports.map((r) => r.manifestKey)).toEqual(report.glue.map((g) => g.manifestKey));
    const declared = report.reportObject!.declared;
    expect(declared).toBeGreaterThan(10);
    for (const r of report.reports) {
      expect(r.invocation.ok, `${r.invocation.error?.message}\n${r.invocation.log.slice(-2000)}`).toBe(true);
      expect((r.payload as { arguments: Record<string, string> }).arguments['--run_id']).toBe(r.manifestKey.replace(/^_runs\/|\.json$/g, ''));
      const result = r.invocation.result as { panels: number; failed: number; queries: number; runId: string; report: string };
      expect(result).toMatchObject({ failed: 0, report: 's3://my-spotify-lake/reports/report.html', runId: (r.payload as { arguments: Record<string, string> }).arguments['--run_id'] });
      // Every declared panel's query went through Athena's API: started, polled, read.
      expect(result.queries).toBe(declared);
      expect(r.athenaCalls.StartQueryExecution).toBe(declared);
      expect(r.athenaCalls.GetQueryExecution).toBeGreaterThanOrEqual(declared);
      // Every panel's table is in the catalog, the recommendations' too: every query is read.
      expect(recsPanels).toBe(1);
      expect(r.athenaCalls.GetQueryResults).toBeGreaterThanOrEqual(declared);
    }
    // After the first run only the Web API's tables have data; the export's run fills listening_history.
    expect(report.reports.map((r) => (r.invocation.result as { emptyTables: string[] }).emptyTables)).toEqual([['listening_history'], [], []]);
    const last = report.reports.at(-1)!.invocation.result as { panels: number; empty: number; bytes: number };
    console.info(`report in AWS (rehearsed): ${last.bytes} bytes, ${last.panels} panels, ${last.empty} empty; ${report.reports.length} report runs took ${report.reports.reduce((n, r) => n + r.invocation.seconds, 0).toFixed(1)} s`);
    expect(report.reportObject).toMatchObject({
      key: 'reports/report.html',
      contentType: 'text/html; charset=utf-8',
      bytes: last.bytes,
      articles: last.panels,
      failed: 0,
      presignedPath: '/my-spotify-lake/reports/report.html',
      fetched: true,
    });
    // The dashboards' panels and one per pipeline's latest run (the API's and the export's).
    expect(last.panels).toBe(declared + 2);
    // The lake has data for the shipped dashboards: at most the panels the sandbox cannot fill are empty.
    expect(last.empty).toBeLessThan(declared / 2);
    // The recommendations panel too: the job derived the table, the catalog has it, Athena read it.
    expect(last.empty).toBe(0);
  });
});
