/**
 * The monthly cost of a deployment: every line is quantity x unit price from the region's price
 * table, and every quantity comes from a printed assumption (pipeline.yaml, a default, the usage
 * file, a plan's prior state, or derived from the others, with the rule).
 */
import { pricesFor, type PriceTable } from './prices.ts';
import { DAYS_PER_MONTH, runsPerMonth } from './schedule.ts';
import type { CostInputs, Source } from './inputs.ts';
import { USAGE_KEYS, type Usage, type UsageKey } from './usage.ts';

const GiB = 1024 ** 3;
const TiB = 1024 ** 4;

export interface CostLine {
  service: string;
  item: string;
  quantity: number;
  unit: string;
  /** USD per `priceUnit`. */
  unitPrice: number;
  priceUnit: string;
  monthlyUsd: number;
}

export interface Assumption {
  name: string;
  value: string;
  source: Source;
  /** The key, rule or file it came from. */
  from: string;
}

export interface CostEstimate {
  pipeline: string;
  region: string;
  prices: Pick<PriceTable, 'as_of' | 'sources' | 'note' | 'region_name'> & { file: string };
  lines: CostLine[];
  assumptions: Assumption[];
  monthlyUsd: number;
  notEstimated: string[];
}

/** The defaults of the usage keys, and why. */
const DEFAULT_USAGE: Partial<Record<UsageKey, { value: number; why: string }>> = {
  'lambda.duration_seconds': { value: 10, why: 'the sandbox run of the shipped pipeline extracts its 4 streams in about 1 s (1,653 records, 184 requests); the real API answers slower and rate-limits' },
  'lambda.upload_runs_per_month': { value: 1, why: 'one export upload a month' },
  'glue.duration_minutes': { value: 2, why: 'Glue 5 start-up (under a minute) plus a small incremental build' },
  'athena.queries_per_month': { value: 30, why: 'each named query once a day' },
  's3.records_per_stream_per_run': { value: 50, why: 'recently-played returns at most 50 plays; an upper bound for incremental streams' },
  's3.bytes_per_record': { value: 2000, why: 'a track object as JSON' },
  's3.compression_ratio': { value: 0.15, why: 'gzip of JSON Lines: 300 bytes a record stored (the sandbox run lands 180-230)' },
  's3.curated_to_raw_ratio': { value: 0.5, why: 'deduplicated Parquet of the raw JSON' },
  's3.curated_rewritten_share': { value: 0.5, why: 'unpartitioned tables are rewritten whole, partitioned ones only the partitions a run touched' },
  's3.months_of_history': { value: 12, why: 'raw is append-only: the estimate is for the 12th month' },
  'kms.requests_per_run': { value: 10, why: 'Glue log and bookmark encryption, data keys' },
  'cloudwatch.lambda_log_mb_per_run': { value: 0.05, why: 'a run summary and a line per stream' },
  'cloudwatch.glue_log_mb_per_run': { value: 1, why: 'Spark driver and executor logs with continuous logging' },
  'failures.per_month': { value: 0, why: 'runs succeed' },
  'report.duration_seconds': { value: 60, why: 'a dozen panels, each an Athena query of a few seconds (queued, run, results read) in turn' },
};

/** The report function's memory (terraform/constructs/report-function.ts). */
const REPORT_MEMORY_MB = 1024;

export function estimateCost(inputs: CostInputs, usage?: Usage): CostEstimate {
  const region = inputs.region.value;
  const p = pricesFor(region);
  const assumptions: Assumption[] = [];
  const note = (name: string, value: string, source: Source, from: string) => assumptions.push({ name, value, source, from });
  const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n >= 100 ? n.toFixed(1) : n >= 1 ? n.toFixed(2) : n.toPrecision(3));
  /** A usage figure: the usage file's, else `derived` (with its rule), else the default. */
  const use = (key: UsageKey, derived?: { value: number; rule: string }, unit = ''): number => {
    const given = usage?.values[key];
    const show = (v: number) => `${fmt(v)}${unit ? ` ${unit}` : ''}`;
    if (given !== undefined) {
      note(key, show(given), 'usage file', usage!.file);
      return given;
    }
    if (derived) {
      note(key, show(derived.value), 'derived', derived.rule);
      return derived.value;
    }
    const d = DEFAULT_USAGE[key]!;
    note(key, show(d.value), 'default', d.why);
    return d.value;
  };
  const lines: CostLine[] = [];
  const line = (service: string, item: string, quantity: number, unit: string, unitPrice: number, priceUnit: string, per: number) =>
    lines.push({ service, item, quantity, unit, unitPrice, priceUnit, monthlyUsd: (quantity / per) * unitPrice });

  note('region', region, inputs.region.source, inputs.region.from);

  // Runs: one extractor invocation per schedule firing (and per upload), one transform per committed run.
  let scheduled = 0;
  let streamRuns = 0;
  for (const s of inputs.schedules.value) {
    const runs = runsPerMonth(s.expression);
    scheduled += runs;
    streamRuns += runs * s.streams.length;
    note(`schedule of ${s.pipeline} (${s.streams.join(', ')})`, `${s.expression} = ${fmt(runs)} runs/month`, inputs.schedules.source, inputs.schedules.from);
  }
  let uploadRuns = 0;
  if (inputs.uploadPipelines.length) {
    uploadRuns = use('lambda.upload_runs_per_month', undefined, 'runs');
    for (const name of inputs.uploadPipelines) streamRuns += (uploadRuns / inputs.uploadPipelines.length) * (inputs.streamsOf[name]?.length ?? 1);
  }
  const runs = use('lambda.runs_per_month', { value: scheduled + uploadRuns, rule: 'schedule firings + upload runs' }, 'invocations');

  // Lambda: requests + GB-seconds at the function's memory and architecture.
  const mem = inputs.lambda.memoryMb;
  const arch = inputs.lambda.architecture;
  const timeout = inputs.lambda.timeoutSeconds;
  note('lambda memory', `${mem.value} MB`, mem.source, mem.from);
  note('lambda architecture', arch.value, arch.source, arch.from);
  note('lambda timeout', `${timeout.value} s`, timeout.source, timeout.from);
  let duration = use('lambda.duration_seconds', undefined, 's');
  if (duration > timeout.value) {
    note('lambda billed duration', `${timeout.value} s`, 'derived', `lambda.duration_seconds capped at the timeout (a longer run is stopped and resumes next time)`);
    duration = timeout.value;
  }
  line('Lambda', 'requests', runs, 'requests', p.lambda.requests_per_million, '1M requests', 1e6);
  line('Lambda', `duration (${arch.value}, ${mem.value} MB)`, runs * (mem.value / 1024) * duration, 'GB-s', p.lambda.gb_second[arch.value], 'GB-s', 1);

  // Glue: DPU-hours, each run billed for at least the minimum.
  const glueRuns = use('glue.runs_per_month', { value: runs, rule: 'one transform per committed extractor run' }, 'runs');
  const minutes = use('glue.duration_minutes', undefined, 'min');
  const workers = inputs.glue.workers;
  const type = inputs.glue.workerType;
  note('glue workers', `${workers.value} x ${type.value}`, workers.source === 'default' && type.source === 'default' ? 'default' : workers.source === 'default' ? type.source : workers.source, `${workers.from}; ${type.from}`);
  const dpuPerWorker = (p.glue.dpu_per_worker as Record<string, number>)[type.value];
  if (dpuPerWorker === undefined) throw new Error(`no DPU size for Glue worker type ${type.value} in the price table (known: ${Object.keys(p.glue.dpu_per_worker).join(', ')})`);
  const billedHours = Math.max(minutes * 60, p.glue.minimum_billed_seconds) / 3600;
  line('Glue', `transform (${workers.value} x ${type.value} = ${workers.value * dpuPerWorker} DPU, ${fmt(billedHours * 60)} min billed/run)`, glueRuns * workers.value * dpuPerWorker * billedHours, 'DPU-hours', p.glue.dpu_hour, 'DPU-hour', 1);

  const transitions = use('step_functions.transitions_per_execution', { value: inputs.starterTransitions, rule: "states on the transform starter's incremental path" });
  line('Step Functions', 'transform starter (standard)', glueRuns * transitions, 'transitions', p.step_functions.per_1000_state_transitions, '1K transitions', 1000);

  const billable = Math.max(0, scheduled - p.scheduler.free_invocations_per_month);
  lines.push({
    service: 'EventBridge Scheduler',
    item: `invocations (first ${p.scheduler.free_invocations_per_month / 1e6}M a month free)`,
    quantity: scheduled,
    unit: 'invocations',
    unitPrice: p.scheduler.per_million_invocations,
    priceUnit: '1M invocations',
    monthlyUsd: (billable / 1e6) * p.scheduler.per_million_invocations,
  });

  // S3: raw accumulates month after month and moves down the lifecycle; curated is rebuilt.
  const streamsPerRun = runs > 0 ? streamRuns / Math.max(scheduled + uploadRuns, 1) : 0;
  const rawPerMonth = use(
    's3.raw_gb_per_month',
    (() => {
      if (usage?.values['s3.raw_gb_per_month'] !== undefined) return { value: 0, rule: '' };
      const records = use('s3.records_per_stream_per_run', undefined, 'records');
      const bytes = use('s3.bytes_per_record', undefined, 'bytes');
      const ratio = use('s3.compression_ratio');
      return { value: (streamRuns * records * bytes * ratio) / GiB, rule: 'stream runs x records x bytes x compression' };
    })(),
    'GB',
  );
  const months = use('s3.months_of_history', undefined, 'months');
  const lc = inputs.lifecycle;
  note('lifecycle', `raw to Standard-IA after ${lc.rawTransitionDays} d${lc.rawArchiveDays ? `, Glacier IR after ${lc.rawArchiveDays} d` : ''}${lc.rawExpirationDays ? `, deleted after ${lc.rawExpirationDays} d` : ''}`, 'pipeline.yaml', 'aws.lifecycle (defaults in terraform/settings.ts)');
  const days = months * DAYS_PER_MONTH;
  const end = Math.min(days, lc.rawExpirationDays ?? Infinity);
  const band = (a: number, b: number) => (rawPerMonth / DAYS_PER_MONTH) * Math.max(0, Math.min(b, end) - Math.min(a, end));
  const rawStandard = band(0, lc.rawTransitionDays);
  const rawIa = band(lc.rawTransitionDays, lc.rawArchiveDays ?? Infinity);
  const rawGir = lc.rawArchiveDays ? band(lc.rawArchiveDays, Infinity) : 0;
  const curated = use('s3.curated_gb', { value: (rawStandard + rawIa + rawGir) * (usage?.values['s3.curated_gb'] === undefined ? use('s3.curated_to_raw_ratio') : 0), rule: 'stored raw x curated_to_raw_ratio' }, 'GB');
  let noncurrent = 0;
  if (inputs.versioned) {
    const share = use('s3.curated_rewritten_share');
    // curated/ has its own, shorter noncurrent rule; S3 applies the earliest expiration.
    const kept = Math.min(lc.curatedNoncurrentDays, lc.noncurrentVersionExpirationDays);
    noncurrent = (glueRuns / DAYS_PER_MONTH) * share * curated * Math.min(kept, days);
    note('noncurrent versions of curated', `${fmt(noncurrent)} GB`, 'derived', `transform runs/day x rewritten share x curated x ${kept} d kept (aws.lifecycle.curated_noncurrent_days)`);
  }
  const st = p.s3.storage_gb_month;
  line('S3', 'Standard storage (recent raw, curated, noncurrent curated)', rawStandard + curated + noncurrent, 'GB-month', st.STANDARD, 'GB-month', 1);
  line('S3', 'Standard-IA storage (older raw)', rawIa, 'GB-month', st.STANDARD_IA, 'GB-month', 1);
  if (lc.rawArchiveDays) line('S3', 'Glacier Instant Retrieval storage (archived raw)', rawGir, 'GB-month', st.GLACIER_IR, 'GB-month', 1);
  const tables = inputs.tables.length;
  const puts = use('s3.put_requests_per_run', { value: Math.ceil(2 * streamsPerRun + 3 + 2 * tables), rule: 'raw file + state per stream, manifest, lease put/delete; 2 per table (Parquet, listing)' });
  const gets = use('s3.get_requests_per_run', { value: Math.ceil(2 * streamsPerRun + 2 + 3 * tables), rule: 'state per stream, manifests, lease; spec, raw and curated reads per table' });
  line('S3', 'PUT, COPY, POST, LIST requests', runs * puts, 'requests', p.s3.put_per_1000, '1K requests', 1000);
  line('S3', 'GET requests', runs * gets, 'requests', p.s3.get_per_1000, '1K requests', 1000);

  // Athena: per named query, each execution billed for at least 10 MB.
  const perQuery = use('athena.queries_per_month', undefined, 'runs per query');
  for (const [name, n] of Object.entries(usage?.queriesPerMonth ?? {})) note(`athena.queries_per_month.${name}`, `${n} runs`, 'usage file', usage!.file);
  const scanned = use('athena.gb_scanned_per_query', { value: curated, rule: 'a full scan of curated (an upper bound: partition filters scan less)' }, 'GB');
  const minGb = p.athena.minimum_mb_per_query / 1024;
  const cutoffGb = inputs.athenaCutoffBytes / GiB;
  if (scanned > cutoffGb) note('athena billed scan per query', `${fmt(cutoffGb)} GB`, 'derived', 'athena.gb_scanned_per_query capped at aws.athena.bytes_scanned_cutoff (the workgroup cancels a query there)');
  note('athena named queries', String(inputs.queries.value.length), inputs.queries.source, `${inputs.queries.from} ${inputs.queries.value.join(', ')}`);
  for (const q of inputs.queries.value) {
    const n = usage?.queriesPerMonth?.[q] ?? perQuery;
    line('Athena', `query ${q} (${fmt(n)} runs, >= ${p.athena.minimum_mb_per_query} MB each)`, (n * Math.max(Math.min(scanned, cutoffGb), minGb) * GiB) / TiB, 'TB scanned', p.athena.per_tb_scanned, 'TB', 1);
  }

  // The report after each transform: one invocation, one Athena query per panel (each billed >= 10 MB).
  if (inputs.report) {
    const panels = inputs.report.value.panels;
    note('report panels', String(panels), inputs.report.source, inputs.report.from);
    const seconds = use('report.duration_seconds', undefined, 's');
    line('Lambda', 'report requests (one per transform)', glueRuns, 'requests', p.lambda.requests_per_million, '1M requests', 1e6);
    line('Lambda', `report duration (${arch.value}, ${REPORT_MEMORY_MB} MB)`, glueRuns * (REPORT_MEMORY_MB / 1024) * seconds, 'GB-s', p.lambda.gb_second[arch.value], 'GB-s', 1);
    line('Athena', `report panels (${panels} queries per transform, >= ${p.athena.minimum_mb_per_query} MB each)`, (glueRuns * panels * Math.max(Math.min(scanned, cutoffGb), minGb) * GiB) / TiB, 'TB scanned', p.athena.per_tb_scanned, 'TB', 1);
  }

  // QuickSight (aws.quicksight): monthly subscriptions per user, whatever the lake's use.
  if (inputs.quicksight) {
    const q = inputs.quicksight.value;
    const qs = p.quicksight;
    note('quicksight users', `${q.authors} author(s), ${q.readers} reader(s)`, inputs.quicksight.source, inputs.quicksight.from);
    note('quicksight prices', `author $${qs.author_month}, reader $${qs.reader_month} a user a month`, 'default', `${p.sources.quicksight} as of ${qs.as_of}: ${qs.note}`);
    line('QuickSight', 'authors (monthly subscription)', q.authors, 'users', qs.author_month, 'user-month', 1);
    if (q.readers) line('QuickSight', 'readers (monthly subscription)', q.readers, 'users', qs.reader_month, 'user-month', 1);
  }

  // Secrets Manager and KMS.
  const secrets = inputs.secrets.value.length;
  note('secrets', String(secrets), inputs.secrets.source, `${inputs.secrets.from}: ${inputs.secrets.value.join(', ') || 'none'}`);
  line('Secrets Manager', 'secrets', secrets, 'secret-months', p.secrets_manager.secret_month, 'secret-month', 1);
  const calls = use('secrets.api_calls_per_run', { value: secrets + inputs.rotatingSecrets, rule: 'GetSecretValue per secret + PutSecretValue per rotating refresh token' });
  line('Secrets Manager', 'API calls', runs * calls, 'calls', p.secrets_manager.per_10000_api_calls, '10K calls', 10000);
  const keys = inputs.kmsKeys.value.length;
  note('customer-managed KMS keys', String(keys), inputs.kmsKeys.source, inputs.kmsKeys.from);
  line('KMS', 'customer-managed keys', keys, 'key-months', p.kms.key_month, 'key-month', 1);
  line('KMS', 'requests', runs * use('kms.requests_per_run'), 'requests', p.kms.per_10000_requests, '10K requests', 10000);

  // CloudWatch: logs ingested and kept for the retention; alarms.
  const ingestGb = (runs * use('cloudwatch.lambda_log_mb_per_run', undefined, 'MB') + glueRuns * use('cloudwatch.glue_log_mb_per_run', undefined, 'MB')) / 1024;
  const ret = inputs.logRetentionDays;
  note('log retention', ret.value ? `${ret.value} days` : 'never expires', ret.source, ret.from);
  const keptMonths = ret.value ? Math.min(ret.value, days) / DAYS_PER_MONTH : months;
  line('CloudWatch', 'logs ingested', ingestGb, 'GB', p.cloudwatch.logs_ingestion_gb, 'GB', 1);
  line('CloudWatch', 'logs stored', ingestGb * keptMonths, 'GB-month', p.cloudwatch.logs_storage_gb_month, 'GB-month', 1);
  if (inputs.alarms.count) line('CloudWatch', 'metric alarms', inputs.alarms.count, 'alarms', p.cloudwatch.alarm_month, 'alarm-month', 1);

  // Failures: SQS (send, receive, delete per failed invocation) and SNS alarms.
  const failures = use('failures.per_month', undefined, 'failures');
  line('SQS', 'failure queue requests', failures * 3, 'requests', p.sqs.per_million_requests, '1M requests', 1e6);
  if (inputs.alarms.count) {
    line('SNS', 'alarm publishes', failures, 'publishes', p.sns.per_million_publishes, '1M publishes', 1e6);
    if (inputs.alarms.emailTopic) line('SNS', 'e-mail notifications', failures, 'e-mails', p.sns.per_100000_email, '100K e-mails', 1e5);
  }

  return {
    pipeline: inputs.pipeline,
    region,
    prices: { file: `terraform/cost/prices/${region}.json`, as_of: p.as_of, sources: p.sources, note: p.note, region_name: p.region_name },
    lines,
    assumptions,
    monthlyUsd: lines.reduce((s, l) => s + l.monthlyUsd, 0),
    notEstimated: [
      'Glue Data Catalog (the first million objects and requests a month are free)',
      'EventBridge rules on S3 events (AWS service events are free)',
      'Athena query results (expire after aws.lifecycle.query_results_expiration_days)',
      'data transfer, S3 Standard-IA retrieval and minimum-size charges',
    ],
  };
}

export { USAGE_KEYS };
