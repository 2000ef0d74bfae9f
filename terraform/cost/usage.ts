/**
 * The usage file (`plan --usage FILE`): YAML overriding the estimate's assumptions, in the
 * spirit of infracost's usage file, keyed by resource kind:
 *
 *   lambda:
 *     duration_seconds: 25
 *   athena:
 *     queries_per_month: 60            # every named query, or per query:
 *     # queries_per_month: { top_artists_last_7_days: 120, playlist_sizes: 4 }
 *   s3:
 *     raw_gb_per_month: 0.5
 *
 * Every key is a number >= 0. An unknown key, a non-number or a query the pipeline does not
 * have is a UserError (exit 2) naming the file, line, column and key.
 */
import { readFileSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument, type Node, type Pair } from 'yaml';
import { UserError } from '../../core/errors.ts';

/** Each key a usage file may set, with what it means (printed by the error for an unknown key). */
export const USAGE_KEYS = {
  'lambda.duration_seconds': 'billed duration of one extractor invocation, seconds',
  'lambda.upload_runs_per_month': 'extractor runs started by uploads (an included pipeline that reads uploaded files)',
  'lambda.runs_per_month': 'extractor invocations a month (instead of the schedules\' count)',
  'glue.duration_minutes': 'duration of one transform run (billed at least 1 minute)',
  'glue.runs_per_month': 'transform runs a month (default: one per committed extractor run)',
  'athena.queries_per_month': 'executions of each named query a month (a number, or a mapping query -> number)',
  'athena.gb_scanned_per_query': 'data one query scans, GB (billed at least 10 MB)',
  's3.records_per_stream_per_run': 'records a stream lands per run',
  's3.bytes_per_record': 'size of one raw record as JSON, bytes',
  's3.compression_ratio': 'gzip size / JSON size of raw files',
  's3.raw_gb_per_month': 'raw data landed a month, GB',
  's3.curated_to_raw_ratio': 'curated Parquet size / stored raw size',
  's3.curated_gb': 'curated data stored, GB',
  's3.curated_rewritten_share': 'share of curated data a transform run rewrites (noncurrent versions kept in the versioned lake)',
  's3.months_of_history': 'months of raw history stored (raw is append-only): the estimate is for that month',
  's3.put_requests_per_run': 'PUT/COPY/POST/LIST requests per run (extractor + transform)',
  's3.get_requests_per_run': 'GET requests per run (extractor + transform)',
  'secrets.api_calls_per_run': 'Secrets Manager API calls per extractor run',
  'kms.requests_per_run': 'requests to customer-managed KMS keys per run',
  'cloudwatch.lambda_log_mb_per_run': 'log data one extractor run writes, MB',
  'cloudwatch.glue_log_mb_per_run': 'log data one transform run writes, MB',
  'step_functions.transitions_per_execution': 'state transitions of one transform-starter execution',
  'failures.per_month': 'failed extractor invocations a month (SQS messages, SNS alarms)',
  'report.duration_seconds': 'billed duration of one report invocation (every panel on Athena), seconds',
} as const;

export type UsageKey = keyof typeof USAGE_KEYS;

export interface Usage {
  file: string;
  values: Partial<Record<UsageKey, number>>;
  /** `athena.queries_per_month` given per query. */
  queriesPerMonth?: Record<string, number>;
}

const KEYS = new Set<string>(Object.keys(USAGE_KEYS));

function fail(file: string, lc: LineCounter, node: unknown, key: string, message: string): never {
  const offset = (node as Node | undefined)?.range?.[0];
  const where = offset === undefined ? file : `${file}:${lc.linePos(offset).line}:${lc.linePos(offset).col}`;
  throw new UserError(`${where} ${key}: ${message}`);
}

function numberAt(file: string, lc: LineCounter, pair: Pair, key: string): number {
  const v = pair.value as Node | null;
  const n = isScalar(v) ? v.value : undefined;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
    fail(file, lc, v ?? (pair.key), key, `must be a number >= 0, got ${isScalar(v) ? JSON.stringify(v.value) : 'a ' + (v ? 'mapping or list' : 'nothing')}`);
  }
  return n;
}

/** Parses and validates usage text; `queries` are the pipeline's named queries (per-query keys are checked against them). */
export function parseUsage(text: string, file: string, queries: string[]): Usage {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const { line, col } = lc.linePos(e.pos[0]);
    throw new UserError(`${file}:${line}:${col}: not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const usage: Usage = { file, values: {} };
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return usage;
  if (!isMap(root)) fail(file, lc, root, '(top level)', 'a usage file is a mapping of resource kinds (lambda:, glue:, athena:, s3:, ...)');
  for (const section of root.items) {
    const kind = String(isScalar(section.key) ? section.key.value : section.key);
    const inner = section.value as Node | null;
    if (!isMap(inner)) {
      const known = [...new Set([...KEYS].map((k) => k.split('.')[0]))];
      if (!known.includes(kind)) fail(file, lc, section.key, kind, `unknown resource kind (known: ${known.join(', ')})`);
      fail(file, lc, inner ?? (section.key), kind, `must be a mapping of keys (${[...KEYS].filter((k) => k.startsWith(kind + '.')).join(', ')})`);
    }
    for (const pair of inner.items) {
      const key = `${kind}.${String(isScalar(pair.key) ? pair.key.value : pair.key)}`;
      if (!KEYS.has(key)) fail(file, lc, pair.key, key, `unknown key (known: ${[...KEYS].join(', ')})`);
      if (key === 'athena.queries_per_month' && isMap(pair.value)) {
        usage.queriesPerMonth = {};
        for (const q of pair.value.items) {
          const name = String(isScalar(q.key) ? q.key.value : q.key);
          if (!queries.includes(name)) fail(file, lc, q.key, `${key}.${name}`, `the pipeline has no named query ${name} (queries: ${queries.join(', ') || 'none'})`);
          usage.queriesPerMonth[name] = numberAt(file, lc, q, `${key}.${name}`);
        }
        continue;
      }
      usage.values[key as UsageKey] = numberAt(file, lc, pair, key);
    }
  }
  return usage;
}

export function loadUsage(file: string, queries: string[]): Usage {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read --usage ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return parseUsage(text, file, queries);
}
