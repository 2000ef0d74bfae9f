/**
 * Athena's stand-in for the rehearsal: a small HTTP server on 127.0.0.1 that speaks Athena's
 * wire protocol (AWS JSON 1.1, `X-Amz-Target: AmazonAthena.<Operation>`), so the report Lambda's
 * real `@aws-sdk/client-athena` talks to it unchanged through the SDK's endpoint override
 * (`AWS_ENDPOINT_URL_ATHENA`). The SQL runs on the rehearsal's DuckDB catalog lake (athena.ts
 * `openCatalogLake`: the Glue tables' files, typed from the catalog, through the Trino
 * compatibility layer) and is answered in Athena's shapes: StartQueryExecution returns an id;
 * GetQueryExecution the state (QUEUED, RUNNING, SUCCEEDED, FAILED with a reason, CANCELLED);
 * GetQueryResults pages of rows whose first row (first page) is the header, every value a
 * `VarCharValue` string (none for NULL), and ResultSetMetadata.ColumnInfo with Trino's type names.
 *
 * It holds the caller to the stack: a query in another workgroup is refused as Athena refuses it
 * (InvalidRequestException), one in another database fails (SCHEMA_NOT_FOUND).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Lake, QueryResult } from '../../core/query/index.ts';

export interface AthenaCall {
  operation: string;
  input: Record<string, unknown>;
}

interface Execution {
  id: string;
  sql: string;
  workgroup: string;
  database?: string;
  state: 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  reason?: string;
  result?: QueryResult;
  submitted: number;
  completed?: number;
  /** GetQueryExecution calls so far. */
  polls: number;
}

export interface AthenaStandIn {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  /** Every call received, in order (inputs as sent). */
  calls: AthenaCall[];
  /** The lake queries run on (set before each report run: the catalog's files at that time). */
  setLake(lake: Lake | undefined): void;
  close(): Promise<void>;
}

export interface AthenaStandInOptions {
  workgroup: string;
  database: string;
  /** Where results are said to be (the workgroup's output location). */
  outputLocation: string;
  /** Polls that see a query QUEUED, then RUNNING, before its outcome (default 0: as soon as it is known). */
  pollsBeforeDone?: number;
}

class AthenaError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startAthenaStandIn(o: AthenaStandInOptions): Promise<AthenaStandIn> {
  let lake: Lake | undefined;
  const executions = new Map<string, Execution>();
  const calls: AthenaCall[] = [];

  const operations: Record<string, (input: Record<string, unknown>) => unknown> = {
    StartQueryExecution(input) {
      const sql = typeof input.QueryString === 'string' ? input.QueryString : '';
      if (!sql) throw new AthenaError('InvalidRequestException', 'QueryString is required');
      const workgroup = typeof input.WorkGroup === 'string' ? input.WorkGroup : 'primary';
      if (workgroup !== o.workgroup) throw new AthenaError('InvalidRequestException', `WorkGroup ${workgroup} is not found.`);
      const database = (input.QueryExecutionContext as { Database?: string } | undefined)?.Database;
      const ex: Execution = { id: randomUUID(), sql, workgroup, database, state: 'QUEUED', submitted: Date.now(), polls: 0 };
      executions.set(ex.id, ex);
      const finish = (state: Execution['state'], fields: Partial<Execution>) => {
        if (ex.state === 'CANCELLED') return;
        Object.assign(ex, { state, completed: Date.now(), ...fields });
      };
      if (database !== o.database) finish('FAILED', { reason: `SCHEMA_NOT_FOUND: line 1:1: Schema '${database ?? '(none)'}' does not exist` });
      else if (!lake) finish('FAILED', { reason: 'the rehearsal has no lake to query yet' });
      else {
        ex.state = 'RUNNING';
        lake.query(sql).then(
          (result) => finish('SUCCEEDED', { result }),
          (e: unknown) => finish('FAILED', { reason: (e instanceof Error ? e.message : String(e)).split('\n')[0] }),
        );
      }
      return { QueryExecutionId: ex.id };
    },
    GetQueryExecution(input) {
      const ex = execution(input);
      ex.polls++;
      const shown = ex.polls <= (o.pollsBeforeDone ?? 0) ? (ex.polls === 1 ? 'QUEUED' : 'RUNNING') : ex.state;
      const done = shown === 'SUCCEEDED' || shown === 'FAILED' || shown === 'CANCELLED';
      return {
        QueryExecution: {
          QueryExecutionId: ex.id,
          Query: ex.sql,
          StatementType: 'DML',
          WorkGroup: ex.workgroup,
          QueryExecutionContext: { Catalog: 'AwsDataCatalog', ...(ex.database ? { Database: ex.database } : {}) },
          ResultConfiguration: { OutputLocation: `${o.outputLocation.replace(/\/?$/, '/')}${ex.id}.csv` },
          EngineVersion: { SelectedEngineVersion: 'Athena engine version 3', EffectiveEngineVersion: 'Athena engine version 3' },
          Status: {
            State: shown,
            SubmissionDateTime: ex.submitted / 1000,
            ...(done && ex.completed ? { CompletionDateTime: ex.completed / 1000 } : {}),
            ...(shown === 'FAILED' ? { StateChangeReason: ex.reason, AthenaError: { ErrorCategory: 2, ErrorType: 1006, Retryable: false, ErrorMessage: ex.reason } } : {}),
          },
          Statistics: { EngineExecutionTimeInMillis: (ex.completed ?? Date.now()) - ex.submitted, DataScannedInBytes: 0 },
        },
      };
    },
    GetQueryResults(input) {
      const ex = execution(input);
      if (ex.state !== 'SUCCEEDED' || !ex.result) throw new AthenaError('InvalidRequestException', `Query has not yet finished. Current state: ${ex.state}`);
      const max = Number(input.MaxResults ?? 1000);
      if (!Number.isInteger(max) || max < 1 || max > 1000) throw new AthenaError('InvalidRequestException', 'MaxResults must be between 1 and 1000');
      const { columns, rows } = ex.result;
      const info = columnInfo(ex.result);
      // Row 0 is the header; pages are windows over header + data rows.
      const all = [{ Data: columns.map((c) => ({ VarCharValue: c })) }, ...rows.map((r) => ({ Data: columns.map((c, i) => cell(r[c], info[i])) }))];
      const from = input.NextToken === undefined ? 0 : Number(input.NextToken);
      if (!Number.isInteger(from) || from < 0 || from > all.length) throw new AthenaError('InvalidRequestException', 'invalid NextToken');
      const to = Math.min(all.length, from + max);
      return {
        UpdateCount: 0,
        ResultSet: { Rows: all.slice(from, to), ResultSetMetadata: { ColumnInfo: info } },
        ...(to < all.length ? { NextToken: String(to) } : {}),
      };
    },
    StopQueryExecution(input) {
      const ex = execution(input);
      if (ex.state === 'QUEUED' || ex.state === 'RUNNING') Object.assign(ex, { state: 'CANCELLED', completed: Date.now(), reason: 'Query cancelled by user' });
      return {};
    },
  };

  function execution(input: Record<string, unknown>): Execution {
    const ex = executions.get(String(input.QueryExecutionId));
    if (!ex) throw new AthenaError('InvalidRequestException', `QueryExecution ${String(input.QueryExecutionId)} was not found`);
    return ex;
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
        res.end(JSON.stringify(body));
      };
      const target = String(req.headers['x-amz-target'] ?? '');
      const m = /^AmazonAthena\.(\w+)$/.exec(target);
      const op = m ? operations[m[1]] : undefined;
      if (req.method !== 'POST' || !m || !op) return send(400, { __type: 'UnknownOperationException', message: `the stand-in does not implement ${target || req.method}` });
      if (!/^AWS4-HMAC-SHA256 /.test(String(req.headers.authorization ?? ''))) return send(403, { __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        return send(400, { __type: 'SerializationException', message: 'the body is not JSON' });
      }
      calls.push({ operation: m[1], input });
      try {
        send(200, op(input));
      } catch (e) {
        if (e instanceof AthenaError) send(400, { __type: e.type, Message: e.message });
        else send(500, { __type: 'InternalServerException', Message: e instanceof Error ? e.message : String(e) });
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    setLake(l) {
      lake = l;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface AthenaColumn {
  CatalogName: string;
  SchemaName: string;
  TableName: string;
  Name: string;
  Label: string;
  Type: string;
  Precision: number;
  Scale: number;
  Nullable: string;
  CaseSensitive: boolean;
}

/** Trino's type names (what Athena reports) for DuckDB's. */
export function athenaType(duckdb: string): { type: string; precision: number; scale: number } {
  const t = duckdb.toUpperCase();
  const dec = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(t);
  if (dec) return { type: 'decimal', precision: Number(dec[1]), scale: Number(dec[2]) };
  if (t.endsWith('[]')) return { type: 'array', precision: 0, scale: 0 };
  if (t.startsWith('STRUCT')) return { type: 'row', precision: 0, scale: 0 };
  if (t.startsWith('MAP')) return { type: 'map', precision: 0, scale: 0 };
  const simple: Record<string, [string, number]> = {
    BOOLEAN: ['boolean', 0],
    TINYINT: ['tinyint', 3],
    SMALLINT: ['smallint', 5],
    INTEGER: ['integer', 10],
    BIGINT: ['bigint', 19],
    // DuckDB widens sum(bigint) to HUGEINT; Trino keeps bigint.
    HUGEINT: ['bigint', 19],
    UBIGINT: ['bigint', 19],
    UINTEGER: ['bigint', 19],
    USMALLINT: ['integer', 10],
    UTINYINT: ['smallint', 5],
    FLOAT: ['real', 24],
    DOUBLE: ['double', 53],
    VARCHAR: ['varchar', 2147483647],
    DATE: ['date', 0],
    TIMESTAMP: ['timestamp', 3],
    TIMESTAMP_MS: ['timestamp', 3],
    TIMESTAMP_S: ['timestamp', 3],
    TIMESTAMP_NS: ['timestamp', 3],
    'TIMESTAMP WITH TIME ZONE': ['timestamp with time zone', 3],
  };
  const [type, precision] = simple[t] ?? ['varchar', 2147483647];
  return { type, precision, scale: 0 };
}

function columnInfo(r: QueryResult): AthenaColumn[] {
  return r.columns.map((name, i) => {
    const { type, precision, scale } = athenaType(r.types?.[i] ?? 'VARCHAR');
    return { CatalogName: 'hive', SchemaName: '', TableName: '', Name: name, Label: name, Type: type, Precision: precision, Scale: scale, Nullable: 'UNKNOWN', CaseSensitive: type === 'varchar' };
  });
}

/** A value as Athena's text (`VarCharValue`); NULL is a datum without one. */
function cell(v: unknown, col: AthenaColumn): { VarCharValue?: string } {
  const type = col.Type;
  if (v === null || v === undefined) return {};
  if (type === 'decimal' && typeof v === 'number') return { VarCharValue: v.toFixed(col.Scale) };
  if (type === 'timestamp' && typeof v === 'string') return { VarCharValue: v.replace('T', ' ').replace(/Z$/, '') };
  if (type === 'timestamp with time zone' && typeof v === 'string') return { VarCharValue: `${v.replace('T', ' ').replace(/Z$/, '')} UTC` };
  if (Array.isArray(v)) return { VarCharValue: `[${v.map((x) => (x === null ? 'null' : typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ')}]` };
  if (typeof v === 'object') return { VarCharValue: JSON.stringify(v) };
  return { VarCharValue: typeof v === 'string' ? v : JSON.stringify(v) };
}
