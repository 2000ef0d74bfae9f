/**
 * The report Lambda's handler (core/lambda/report.ts) with real SDK clients: S3 on moto
 * (test/support/moto.ts) and Athena on the rehearsal's stand-in (Athena's wire protocol over
 * DuckDB). It writes reports/report.html (text/html, utf-8) with every panel and the latest runs
 * read from _runs/; a panel over a table without Parquet files under curated/ names that table;
 * a panel whose query fails is shown as failed in the written report and then
 * fails the invocation (so the state machine's execution fails and its alarm fires).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AthenaClient } from '@aws-sdk/client-athena';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createReportHandler, ReportPanelsFailed, type ReportSpec } from '../../core/lambda/report.ts';
import { reportSpec } from '../../core/lambda/bundle.ts';
import type { PipelineConfig } from '../../core/config/types.ts';
import { openCatalogLake, type Lake } from '../../core/query/index.ts';
import { startAthenaStandIn, type AthenaStandIn } from '../../terraform/rehearse/athena-server.ts';
import { MOTO_CREDENTIALS, MOTO_REGION, startMoto, type MotoServer } from '../support/moto.ts';

let moto: MotoServer;
let s3: S3Client;
let athena: AthenaStandIn;
let athenaClient: AthenaClient;
let lake: Lake;
const env = { LAKE_BUCKET: 'lake', LAKE_PREFIX: 'team/lake', ATHENA_WORKGROUP: 'wg', ATHENA_DATABASE: 'db' };
const spec = (panels: ReportSpec['dashboards'][string]['panels']): ReportSpec => ({ title: 'Listening', dashboards: { main: { title: 'Main', panels } }, queries: {} });

beforeAll(async () => {
  moto = await startMoto();
  s3 = moto.s3();
  await moto.createBuckets('lake');
  const manifest = { format: 2, run_id: '20261204T193436123Z-9f9da3', pipeline: 'p', started_at: '2026-12-04T19:34:36Z', committed_at: '2026-12-04T19:35:00Z', streams: { plays: { endpoint: 'x', records: 7, files: [], requests: {}, status: 'complete' } } };
  await s3.send(new PutObjectCommand({ Bucket: 'lake', Key: `team/lake/_runs/${manifest.run_id}.json`, Body: JSON.stringify(manifest) }));
  athena = await startAthenaStandIn({ workgroup: 'wg', database: 'db', outputLocation: 's3://results/' });
  lake = await openCatalogLake([]);
  athena.setLake(lake);
  athenaClient = new AthenaClient({ endpoint: athena.endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
}, 60_000);

afterAll(async () => {
  athenaClient?.destroy();
  lake?.close();
  await athena?.close();
  s3?.destroy();
  await moto?.close();
});

async function stored(): Promise<{ html: string; contentType?: string }> {
  const res = await s3.send(new GetObjectCommand({ Bucket: 'lake', Key: 'team/lake/reports/report.html' }));
  return { html: await res.Body!.transformToString('utf8'), contentType: res.ContentType };
}

describe('the report Lambda', () => {
  it('writes every panel from Athena and the latest run to reports/report.html', async () => {
    const handler = createReportHandler({ spec: spec([{ title: 'Plays', sql: 'SELECT 42 AS plays', number: { field: 'plays' } }, { title: 'Rows', sql: "SELECT 'a' AS k, 1 AS n UNION ALL SELECT 'b', 2" }]), vega: '/* vega */', env, s3Client: s3, athenaClient, log: () => undefined });
    const result = await handler({ arguments: { '--run_id': '20261204T193436123Z-9f9da3' } }, { getRemainingTimeInMillis: () => 600_000 });
    expect(result).toMatchObject({ report: 's3://lake/team/lake/reports/report.html', panels: 3, empty: 0, failed: 0, emptyTables: [], queries: 2, runId: '20261204T193436123Z-9f9da3' });
    const { html, contentType } = await stored();
    expect(contentType).toBe('text/html; charset=utf-8');
    expect(Buffer.byteLength(html)).toBe(result.bytes);
    expect(html.match(/<article class="panel/g)).toHaveLength(3);
    expect(html).toContain('data-value="42"');
    expect(html).toContain('Run 20261204T193436123Z-9f9da3');
    expect(html).toContain('From Athena (workgroup wg, database db)');
  });

  it('writes the report with a failed panel marked, then fails the invocation', async () => {
    const handler = createReportHandler({ spec: spec([{ title: 'Fine', sql: 'SELECT 1 AS n', number: { field: 'n' } }, { title: 'Broken', sql: 'SELECT no_such_column FROM (SELECT 1 AS n) t' }]), vega: '', env, s3Client: s3, athenaClient, log: () => undefined });
    const err = await handler({}, undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReportPanelsFailed);
    expect((err as ReportPanelsFailed).message).toBe('1 of 3 panels failed (the report at s3://lake/team/lake/reports/report.html shows which and why)');
    const { html } = await stored();
    expect(html.match(/data-state="failed"/g)).toHaveLength(1);
    expect(html).toMatch(/This panel's query failed: Athena query failed: .*no_such_column/);
  });

  it('leaves a corrupt run manifest out with a warning: the report still gets written', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'lake', Key: 'team/lake/_runs/20261101T000000000Z-bad.json', Body: '{"run_id": ' }));
    const lines: string[] = [];
    const handler = createReportHandler({ spec: spec([{ title: 'Plays', sql: 'SELECT 42 AS plays', number: { field: 'plays' } }]), vega: '', env, s3Client: s3, athenaClient, log: (l) => lines.push(l) });
    const result = await handler({}, undefined);
    expect(result).toMatchObject({ failed: 0 });
    expect(lines.filter((l) => /^warning: run manifest (team\/lake\/)?_runs\/20261101T000000000Z-bad\.json is corrupt/.test(l))).toHaveLength(1);
    expect((await stored()).html).toContain('data-value="42"');
  });

  it("names the table a panel has no data from: one without Parquet files under curated/ (a Spark _SUCCESS marker is no data)", async () => {
    for (const key of ['curated/plays/dt=2026-12-01/part-0.parquet', 'curated/history/_SUCCESS']) await s3.send(new PutObjectCommand({ Bucket: 'lake', Key: `team/lake/${key}`, Body: 'x' }));
    const handler = createReportHandler({
      spec: {
        ...spec([
          { title: 'Plays', sql: 'SELECT count(*) AS n FROM plays WHERE false GROUP BY 1' },
          { title: 'History', query: 'eras' },
          { title: 'Both', sql: 'SELECT * FROM plays JOIN history USING (track_id)' },
        ]),
        queries: { eras: { sql: 'SELECT year, count(*) AS n FROM history GROUP BY year' } },
        tables: ['history', 'plays'],
      },
      vega: '',
      env,
      s3Client: s3,
      athenaClient,
      log: () => undefined,
    });
    expect(await handler({}, undefined)).toMatchObject({ panels: 4, empty: 3, failed: 0, emptyTables: ['history'] });
    const empties = [...(await stored()).html.matchAll(/<p class="empty" data-state="empty">([^<]*)<\/p>/g)].map((m) => m[1]);
    expect(empties).toEqual(['Nothing to show yet: the query returned no rows.', 'No data yet: history has no rows.', 'No data yet: history has no rows.']);
  });

  it('says which settings are missing', async () => {
    const handler = createReportHandler({ spec: spec([]), vega: '', env: { LAKE_BUCKET: 'lake' }, s3Client: s3, athenaClient });
    await expect(handler({})).rejects.toThrow("the report function's environment lacks ATHENA_WORKGROUP, ATHENA_DATABASE");
  });
});

describe("the report function's spec (embedded at synth)", () => {
  const table = { source: { stream: 's' }, columns: { id: { path: 'id', type: 'string' } } };
  const pipeline = (p: Partial<PipelineConfig>) => ({ name: 'p', tables: {}, ...p }) as unknown as PipelineConfig;

  it('lists the lake tables the panels read (an included pipeline\'s and the derived recommendations too), and no other', () => {
    const main = pipeline({
      tables: { plays: table, unread: table } as unknown as PipelineConfig['tables'],
      recommendations: {},
      queries: { eras: { sql: 'SELECT year FROM history' } },
      dashboards: { d: { title: 'D', panels: [{ title: 'a', query: 'eras' }, { title: 'b', sql: 'SELECT * FROM plays JOIN recommendations USING (id)' }] } },
    });
    const included = pipeline({ tables: { history: table } as unknown as PipelineConfig['tables'] });
    expect(reportSpec(main, [included]).tables).toEqual(['history', 'plays', 'recommendations']);
    // Without `recommendations:` the lake has no such table, whatever the SQL says.
    expect(reportSpec({ ...main, recommendations: undefined }, [included]).tables).toEqual(['history', 'plays']);
  });
});
