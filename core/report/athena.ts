/**
 * The report's panels on Athena (the deployed report, core/lambda/report.ts): each panel's SQL
 * runs in the stack's workgroup and database with the real Athena client. StartQueryExecution,
 * then GetQueryExecution polled with a growing interval under a deadline (a query still running
 * then is stopped and fails its panel), then GetQueryResults page by page. Athena answers every
 * value as a string (`VarCharValue`, absent for NULL) and the first row of a SELECT's first page is
 * the header; the column types of ResultSetMetadata turn the strings back into what the local lake
 * gives the same query (core/query: numbers as numbers, timestamps as ISO strings with Z), so one
 * dashboard renders the same from either.
 */
import {
  type AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type ColumnInfo,
  type Row,
} from '@aws-sdk/client-athena';
import type { ReportSource } from './index.ts';

export interface AthenaSourceOptions {
  client: AthenaClient;
  workgroup: string;
  database: string;
  /** Longest wait for one query to finish. Default 300 s. */
  queryTimeoutMs?: number;
  /** First and longest interval between two GetQueryExecution calls. Default 250 ms and 2 s. */
  pollMs?: { first: number; max: number };
  /** Rows per GetQueryResults page (Athena's maximum is 1000). Default 1000. */
  pageSize?: number;
  /** A query returning more rows than this fails its panel (aggregate in SQL). Default 50 000. */
  maxRows?: number;
  /** For tests: how to wait (default setTimeout). */
  sleep?: (ms: number) => Promise<void>;
}

/** Why a query failed, as Athena said it (StateChangeReason, or its error type). */
export class AthenaQueryError extends Error {
  constructor(
    message: string,
    readonly queryExecutionId?: string,
  ) {
    super(message);
    this.name = 'AthenaQueryError';
  }
}

const DONE = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

/** A report source whose queries run on Athena. */
export function athenaSource(o: AthenaSourceOptions): ReportSource & { queries: number } {
  const timeout = o.queryTimeoutMs ?? 300_000;
  const poll = o.pollMs ?? { first: 250, max: 2000 };
  const pageSize = Math.min(1000, Math.max(1, o.pageSize ?? 1000));
  const maxRows = o.maxRows ?? 50_000;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const source = {
    queries: 0,
    async query(sql: string) {
      source.queries++;
      const started = await o.client.send(
        new StartQueryExecutionCommand({ QueryString: sql, WorkGroup: o.workgroup, QueryExecutionContext: { Catalog: 'AwsDataCatalog', Database: o.database } }),
      );
      const id = started.QueryExecutionId;
      if (!id) throw new AthenaQueryError('Athena returned no query execution id');
      // Bounded: by the deadline and by the number of polls it allows at the shortest interval.
      const deadline = Date.now() + timeout;
      let wait = poll.first;
      let state = '';
      let statementType: string | undefined;
      for (let i = 0; i <= Math.ceil(timeout / Math.max(1, poll.first)) + 1; i++) {
        const res = await o.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
        const status = res.QueryExecution?.Status;
        state = status?.State ?? '';
        statementType = res.QueryExecution?.StatementType;
        if (DONE.has(state)) {
          if (state !== 'SUCCEEDED') throw new AthenaQueryError(`Athena query ${state.toLowerCase()}: ${status?.StateChangeReason ?? status?.AthenaError?.ErrorMessage ?? 'no reason given'}`, id);
          break;
        }
        if (Date.now() >= deadline) break;
        await sleep(Math.min(wait, Math.max(0, deadline - Date.now())));
        wait = Math.min(poll.max, wait * 2);
      }
      if (state !== 'SUCCEEDED') {
        await o.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => undefined);
        throw new AthenaQueryError(`Athena query still ${state.toLowerCase() || 'unknown'} after ${Math.round(timeout / 1000)} s: stopped`, id);
      }
      return readResults(o.client, id, pageSize, maxRows, statementType !== 'DDL' && statementType !== 'UTILITY');
    },
  };
  return source;
}

async function readResults(client: AthenaClient, id: string, pageSize: number, maxRows: number, header: boolean): Promise<{ columns: string[]; rows: Record<string, unknown>[] }> {
  let info: ColumnInfo[] | undefined;
  const raw: Row[] = [];
  let token: string | undefined;
  let first = true;
  for (let page = 0; page <= Math.ceil(maxRows / pageSize) + 1; page++) {
    const res = await client.send(new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: pageSize, NextToken: token }));
    info ??= res.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
    const rows = res.ResultSet?.Rows ?? [];
    // A SELECT's (DML's) first page starts with the header row: the column names as values.
    raw.push(...(first && header ? rows.slice(1) : rows));
    first = false;
    if (raw.length > maxRows) throw new AthenaQueryError(`the query returned more than ${maxRows.toLocaleString('en')} rows: aggregate in SQL`, id);
    token = res.NextToken;
    if (!token) break;
  }
  if (token) throw new AthenaQueryError(`the query's results did not end within ${maxRows.toLocaleString('en')} rows`, id);
  const cols = info ?? [];
  const columns = cols.map((c) => c.Name ?? c.Label ?? '');
  const rows = raw.map((r) => {
    const obj: Record<string, unknown> = {};
    cols.forEach((c, i) => {
      obj[columns[i]] = athenaValue(r.Data?.[i]?.VarCharValue, c.Type ?? 'varchar');
    });
    return obj;
  });
  return { columns, rows };
}

/**
 * One Athena (Trino) value, from its text, the way the local lake returns it: integers as numbers
 * when exact (else strings), decimals as numbers up to 15 digits, doubles as numbers, booleans,
 * dates as `YYYY-MM-DD`, timestamps as ISO 8601 in UTC (`...T...Z`); NULL as null; anything else
 * (varchar, arrays, maps, rows) as the text Athena gives.
 */
export function athenaValue(text: string | undefined, type: string): unknown {
  if (text === undefined || text === null) return null;
  const t = type.toLowerCase().replace(/\(.*$/, '').trim();
  switch (t) {
    case 'tinyint':
    case 'smallint':
    case 'integer':
    case 'int':
      return Number(text);
    case 'bigint': {
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : text;
    }
    case 'double':
    case 'float':
    case 'real': {
      const n = Number(text);
      return Number.isFinite(n) ? n : text;
    }
    case 'decimal': {
      const digits = text.replace(/[-.]/g, '').replace(/^0+/, '');
      return digits.length <= 15 ? Number(text) : text;
    }
    case 'boolean':
      return text === 'true';
    case 'timestamp':
    case 'timestamp with time zone': {
      // `2024-05-06 07:08:09.123` (lake timestamps are UTC wall time) or `... UTC` with a zone.
      const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?(?: (UTC|Z))?$/.exec(text);
      if (!m) return text;
      const ms = ((m[3] ?? '.000') + '000').slice(1, 4);
      return `${m[1]}T${m[2]}.${ms}Z`;
    }
    default:
      return text;
  }
}
