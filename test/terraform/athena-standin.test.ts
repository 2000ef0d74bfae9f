/**
 * The report's Athena client (core/report/athena.ts, the real @aws-sdk/client-athena) against the
 * rehearsal's Athena stand-in (terraform/rehearse/athena-server.ts: Athena's JSON 1.1 wire
 * protocol over a DuckDB lake): polling until the query is done, paginated results with the
 * header row dropped, values typed back from ColumnInfo, a failed query's reason, the workgroup
 * and database held to the stack's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AthenaClient } from '@aws-sdk/client-athena';
import { openCatalogLake, type Lake } from '../../core/query/index.ts';
import { athenaSource, athenaValue } from '../../core/report/athena.ts';
import { startAthenaStandIn, type AthenaStandIn } from '../../terraform/rehearse/athena-server.ts';

let server: AthenaStandIn;
let lake: Lake;
let client: AthenaClient;

beforeAll(async () => {
  server = await startAthenaStandIn({ workgroup: 'wg', database: 'db', outputLocation: 's3://results/', pollsBeforeDone: 2 });
  lake = await openCatalogLake([]);
  server.setLake(lake);
  client = new AthenaClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'TESTKEY', secretAccessKey: 'test-secret-not-a-credential' } });
});

afterAll(async () => {
  client?.destroy();
  lake?.close();
  await server?.close();
});

const fast = { first: 1, max: 5 };

describe('the report on Athena (stand-in)', () => {
  it('polls until done, pages through the results and types every value as the local lake would', async () => {
    const source = athenaSource({ client, workgroup: 'wg', database: 'db', pageSize: 7, pollMs: fast });
    const sql = `SELECT x AS n, x * 1.5 AS d, CAST(x AS DECIMAL(10, 2)) AS dec, 'v' || CAST(x AS VARCHAR) AS s, x % 2 = 0 AS even,
      CASE WHEN x = 3 THEN NULL ELSE x END AS maybe, TIMESTAMP '2024-05-06 07:08:09' AS ts, DATE '2024-05-06' AS day
      FROM (VALUES ${Array.from({ length: 20 }, (_, i) => `(${i + 1})`).join(', ')}) AS t(x) ORDER BY x`;
    const res = await source.query(sql);
    expect(res.columns).toEqual(['n', 'd', 'dec', 's', 'even', 'maybe', 'ts', 'day']);
    expect(res.rows).toHaveLength(20);
    expect(res.rows[0]).toEqual({ n: 1, d: 1.5, dec: 1, s: 'v1', even: false, maybe: 1, ts: '2024-05-06T07:08:09.000Z', day: '2024-05-06' });
    expect(res.rows[2].maybe).toBeNull();
    expect(res.rows[19]).toMatchObject({ n: 20, d: 30, even: true });
    // The same rows as DuckDB gives the local report.
    expect(res.rows).toEqual((await lake.query(sql)).rows);
    const ops = server.calls.map((c) => c.operation);
    // QUEUED, RUNNING, then as long as DuckDB takes.
    expect(ops.filter((o) => o === 'GetQueryExecution').length).toBeGreaterThanOrEqual(3);
    // 21 rows (header + 20) in pages of 7.
    expect(ops.filter((o) => o === 'GetQueryResults').length).toBe(3);
    expect(server.calls[0].input).toMatchObject({ WorkGroup: 'wg', QueryExecutionContext: { Database: 'db' } });
  });

  it("a failed query throws Athena's reason; another workgroup or database is refused", async () => {
    await expect(athenaSource({ client, workgroup: 'wg', database: 'db', pollMs: fast }).query('SELECT * FROM no_such_table')).rejects.toThrow(/^Athena query failed: .*no_such_table/);
    await expect(athenaSource({ client, workgroup: 'other', database: 'db', pollMs: fast }).query('SELECT 1')).rejects.toThrow(/WorkGroup other is not found/);
    await expect(athenaSource({ client, workgroup: 'wg', database: 'other', pollMs: fast }).query('SELECT 1')).rejects.toThrow(/SCHEMA_NOT_FOUND/);
  });

  it('a query still running at its deadline is stopped (bounded polling)', async () => {
    const slow = await startAthenaStandIn({ workgroup: 'wg', database: 'db', outputLocation: 's3://results/', pollsBeforeDone: 1000 });
    slow.setLake(lake);
    const c = new AthenaClient({ endpoint: slow.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'TESTKEY', secretAccessKey: 'test-secret-not-a-credential' } });
    try {
      await expect(athenaSource({ client: c, workgroup: 'wg', database: 'db', queryTimeoutMs: 50, pollMs: fast }).query('SELECT 1')).rejects.toThrow(/still (queued|running) after 0 s: stopped/);
      expect(slow.calls.at(-1)?.operation).toBe('StopQueryExecution');
    } finally {
      c.destroy();
      await slow.close();
    }
  });

  it('reads Athena text as typed values', () => {
    expect(athenaValue('9007199254740993', 'bigint')).toBe('9007199254740993');
    expect(athenaValue('12.50', 'decimal')).toBe(12.5);
    expect(athenaValue('2024-01-01 00:00:00.000 UTC', 'timestamp with time zone')).toBe('2024-01-01T00:00:00.000Z');
    expect(athenaValue(undefined, 'varchar')).toBeNull();
  });
});
