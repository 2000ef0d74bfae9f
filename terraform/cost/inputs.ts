/**
 * What the cost depends on, read from pipeline.yaml the way the stack reads it (terraform/stack.ts,
 * settings.ts and the constructs): the schedules and the streams each runs, the extractor's
 * memory, architecture and timeout, the Glue workers, tables, named queries, secrets, the KMS key,
 * log retention and the lake's lifecycle. The "current" side of a plan's cost diff is the same
 * shape, rebuilt from the `before` values of the plan's resource changes.
 */
import type { PipelineConfig } from '../../core/config/types.ts';
import type { ConnectorPlugin } from '../../core/plugin-api.ts';
import { findRefs } from '../../core/config/refs.ts';
import { awsSecretId } from '../../core/secrets/names.ts';
import { deploySettings, DEFAULTS } from '../settings.ts';
import { starterDefinition } from '../constructs/glue-transform.ts';

/** Where a figure came from, printed next to it. */
export type Source = 'pipeline.yaml' | 'default' | 'usage file' | 'plan JSON' | 'derived' | 'environment';

export interface Fact<T> {
  value: T;
  source: Source;
  /** The key or rule it came from, e.g. `aws.lambda.memory_mb`, `settings.ts default`. */
  from: string;
}

export interface ScheduleInput {
  pipeline: string;
  expression: string;
  streams: string[];
}

export interface CostInputs {
  pipeline: string;
  region: Fact<string>;
  /** Each EventBridge Scheduler schedule the stack creates. */
  schedules: Fact<ScheduleInput[]>;
  /** Included pipelines run when their files are uploaded (no clock). */
  uploadPipelines: string[];
  lambda: { memoryMb: Fact<number>; timeoutSeconds: Fact<number>; architecture: Fact<'arm64' | 'x86_64'> };
  glue: { workers: Fact<number>; workerType: Fact<string> };
  tables: string[];
  queries: Fact<string[]>;
  /** Secret ids (`<pipeline>/<NAME>`). */
  secrets: Fact<string[]>;
  /** Secrets the extractor writes back each run (rotating refresh tokens). */
  rotatingSecrets: number;
  /** Athena cancels a query past this many bytes (aws.athena.bytes_scanned_cutoff): it is billed up to there. */
  athenaCutoffBytes: number;
  /** Customer-managed keys: aws.kms_key_arn, or the key the Glue transform creates. */
  kmsKeys: Fact<string[]>;
  logRetentionDays: Fact<number>;
  lifecycle: { rawTransitionDays: number; rawArchiveDays?: number; rawExpirationDays?: number; noncurrentVersionExpirationDays: number; curatedNoncurrentDays: number };
  versioned: boolean;
  /** Metric alarms (aws.alarm_email / alarm_topic_arn), and whether a topic with an e-mail subscription is created. */
  alarms: { count: number; emailTopic: boolean };
  /** State transitions of one transform-starter execution on its incremental path. */
  starterTransitions: number;
  /** Streams per pipeline (for the raw volume of an upload run). */
  streamsOf: Record<string, string[]>;
  /** The report after each transform (dashboards:): its panels, one Athena query each. */
  report?: Fact<{ panels: number }>;
  /** aws.quicksight: the users whose monthly subscriptions the deployment assumes. */
  quicksight?: Fact<{ authors: number; readers: number }>;
}

/** State transitions of the starter's incremental path: from StartAt, each Choice's first branch, to the end. */
export function starterTransitions(report = false): number {
  const def = starterDefinition({ comment: '', jobName: 'job', startJobRun: 'arn', ...(report ? { report: { functionArn: 'fn', invoke: 'arn' } } : {}) }) as { StartAt: string; States: Record<string, { Next?: string; End?: boolean; Choices?: { Next: string }[] }> };
  let n = 0;
  for (let at: string | undefined = def.StartAt; at && n < 100; n++) {
    const s: { Next?: string; Choices?: { Next: string }[] } = def.States[at];
    at = s.Choices?.[0]?.Next ?? s.Next;
  }
  return n;
}

const has = (o: unknown, ...keys: string[]): boolean => {
  let cur = o as Record<string, unknown> | undefined;
  for (const k of keys) {
    if (!cur || typeof cur !== 'object' || !(k in cur)) return false;
    cur = cur[k] as Record<string, unknown>;
  }
  return cur !== undefined;
};

/**
 * The cost inputs of a pipeline and the pipelines it includes. `plugins` maps `connector.use` to
 * the plugin's manifest (its `uploads` key marks a pipeline run by uploads); `env` gives
 * AWS_REGION / AWS_DEFAULT_REGION when `aws.region` is not set.
 */
export function costInputs(
  pipeline: PipelineConfig,
  includes: PipelineConfig[],
  opts: { plugins?: Record<string, Pick<ConnectorPlugin, 'uploads'> | undefined>; env?: Record<string, string | undefined> } = {},
): CostInputs {
  const s = deploySettings(pipeline);
  const aws = pipeline.aws;
  const env = opts.env ?? {};
  const envRegion = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  const region: Fact<string> = s.region
    ? { value: s.region, source: 'pipeline.yaml', from: 'aws.region' }
    : envRegion
      ? { value: envRegion, source: 'environment', from: env.AWS_REGION ? 'AWS_REGION' : 'AWS_DEFAULT_REGION' }
      : { value: 'us-east-1', source: 'default', from: 'aws.region not set: priced as us-east-1' };

  // The same schedules as the stack (stack.ts, ExtractorFunction): the pipeline's for the streams
  // without their own, one per stream with its own, and the same for each included pipeline.
  const schedules: ScheduleInput[] = [];
  const uploadPipelines: string[] = [];
  const clock = (p: PipelineConfig, expression: string | undefined) => {
    const rest = Object.keys(p.streams).filter((n) => !p.streams[n].schedule);
    if (expression && rest.length) schedules.push({ pipeline: p.name, expression, streams: rest });
    for (const [n, st] of Object.entries(p.streams)) if (st.schedule) schedules.push({ pipeline: p.name, expression: st.schedule, streams: [n] });
  };
  clock(pipeline, s.schedule);
  for (const inc of includes) {
    clock(inc, inc.schedule);
    if (opts.plugins?.[inc.connector.use]?.uploads?.configKey) uploadPipelines.push(inc.name);
  }
  const scheduleFrom = pipeline.schedule || includes.some((i) => i.schedule) || Object.values(pipeline.streams).some((x) => x.schedule);

  const all = [pipeline, ...includes];
  const secretRefs = all.flatMap((p) => findRefs(p.connector?.config ?? {}, 'connector.config').filter((r) => r.kind === 'secret').map((r) => ({ id: awsSecretId(p.name, r.name), key: r.path.split('.').pop() ?? '' })));
  const secretIds = [...new Set(secretRefs.map((r) => r.id))];
  const rotating = new Set(secretRefs.filter((r) => r.key === 'refresh_token').map((r) => r.id)).size;
  const tables = [...new Set(all.flatMap((p) => Object.keys(p.tables ?? {})))];
  const queries = [...new Set(all.flatMap((p) => Object.keys(p.queries ?? {})))];
  const panels = Object.values(pipeline.dashboards ?? {}).reduce((n, d) => n + d.panels.length, 0);
  const fact = <T>(value: T, key: string, path: string[]): Fact<T> =>
    has(aws, ...path) ? { value, source: 'pipeline.yaml', from: key } : { value, source: 'default', from: `${key} not set (terraform/settings.ts)` };

  return {
    pipeline: pipeline.name,
    region,
    schedules: { value: schedules, source: scheduleFrom ? 'pipeline.yaml' : 'default', from: scheduleFrom ? 'schedule: (and per-stream schedule:)' : `schedule not set: ${DEFAULTS.schedule}` },
    uploadPipelines,
    lambda: {
      memoryMb: fact(s.lambda.memoryMb, 'aws.lambda.memory_mb', ['lambda', 'memory_mb']),
      timeoutSeconds: fact(s.lambda.timeoutSeconds, 'aws.lambda.timeout_seconds', ['lambda', 'timeout_seconds']),
      architecture: fact(s.lambda.architecture, 'aws.lambda.architecture', ['lambda', 'architecture']),
    },
    glue: { workers: fact(s.glue.workers, 'aws.glue.workers', ['glue', 'workers']), workerType: fact(s.glue.workerType, 'aws.glue.worker_type', ['glue', 'worker_type']) },
    tables,
    queries: { value: queries, source: 'pipeline.yaml', from: 'queries:' },
    athenaCutoffBytes: s.athena.bytesScannedCutoff,
    secrets: { value: secretIds, source: 'pipeline.yaml', from: '${secret:...} in connector.config' },
    rotatingSecrets: rotating,
    kmsKeys: s.kmsKeyArn
      ? { value: [s.kmsKeyArn], source: 'pipeline.yaml', from: 'aws.kms_key_arn (your key: its monthly fee is counted here, shared or not)' }
      : s.hardening.createKey
        ? { value: [`${pipeline.name} key`], source: 'pipeline.yaml', from: 'aws.profile: hardened (the stack creates one key for everything)' }
        : { value: [`${pipeline.name}-transform key`], source: 'default', from: 'the Glue transform creates a key for its logs and bookmarks' },
    logRetentionDays: fact(s.logRetentionDays, 'aws.log_retention_days', ['log_retention_days']),
    lifecycle: {
      rawTransitionDays: s.lifecycle.rawTransitionDays,
      rawArchiveDays: s.lifecycle.rawArchiveDays,
      rawExpirationDays: s.lifecycle.rawExpirationDays,
      noncurrentVersionExpirationDays: s.lifecycle.noncurrentVersionExpirationDays,
      curatedNoncurrentDays: s.lifecycle.curatedNoncurrentDays,
    },
    versioned: s.buckets.rawVersioning,
    alarms: s.alarmEmail || s.alarmTopicArn ? { count: 3, emailTopic: !s.alarmTopicArn && !!s.alarmEmail } : { count: 0, emailTopic: false },
    starterTransitions: starterTransitions(panels > 0),
    streamsOf: Object.fromEntries(all.map((p) => [p.name, Object.keys(p.streams)])),
    ...(panels > 0 ? { report: { value: { panels }, source: 'pipeline.yaml', from: 'dashboards: (one Athena query per panel after each transform)' } } : {}),
    ...(s.quicksight
      ? { quicksight: { value: { authors: s.quicksight.authors, readers: s.quicksight.readers }, source: 'pipeline.yaml', from: `aws.quicksight (authors ${has(aws, 'quicksight', 'authors') ? 'set' : `default ${DEFAULTS.quicksightAuthors}`}, readers ${has(aws, 'quicksight', 'readers') ? 'set' : `default ${DEFAULTS.quicksightReaders}`})` } }
      : {}),
  };
}

interface PlanChange {
  mode?: unknown;
  type?: unknown;
  change?: { actions?: unknown; before?: Record<string, unknown> | null; after?: Record<string, unknown> | null } | null;
}

const first = <T>(v: unknown): T | undefined => (Array.isArray(v) ? (v[0] as T) : (v as T | undefined));

/**
 * The inputs of what is deployed now, from a plan's `before` values: schedules
 * (aws_scheduler_schedule.schedule_expression and the streams in its target input), the
 * function's memory_size/timeout/architectures, the Glue job's number_of_workers/worker_type,
 * secrets, named queries and the extractor's log retention. What the plan does not mention is
 * taken as unchanged (the planned value). Undefined when nothing is deployed yet (every change
 * creates).
 */
export function currentInputs(plan: unknown, planned: CostInputs): CostInputs | undefined {
  const rcs = ((plan as { resource_changes?: unknown })?.resource_changes ?? []) as PlanChange[];
  if (!Array.isArray(rcs)) return undefined;
  const managed = rcs.filter((r) => r.mode !== 'data' && r.change);
  const before = (type: string) => managed.filter((r) => r.type === type).map((r) => r.change!.before).filter((b): b is Record<string, unknown> => !!b && typeof b === 'object');
  const mentions = (type: string) => managed.some((r) => r.type === type);
  if (!managed.some((r) => r.change!.before)) return undefined;
  const fromPlan = <T>(value: T, from: string): Fact<T> => ({ value, source: 'plan JSON', from });
  const cur: CostInputs = { ...planned, lambda: { ...planned.lambda }, glue: { ...planned.glue } };

  if (mentions('aws_scheduler_schedule')) {
    const schedules = before('aws_scheduler_schedule')
      .filter((b) => b.state !== 'DISABLED')
      .map((b) => {
        let input: { pipeline?: string; streams?: string[] } = {};
        try {
          const text = first<Record<string, unknown>>(b.target)?.input;
          input = JSON.parse(typeof text === 'string' ? text : '{}') as typeof input;
        } catch {
          /* an input the stack did not write: count it as one stream */
        }
        return { pipeline: input.pipeline ?? planned.pipeline, expression: String(b.schedule_expression), streams: Array.isArray(input.streams) ? input.streams.map(String) : ['?'] };
      });
    cur.schedules = fromPlan(schedules, 'before of aws_scheduler_schedule (schedule_expression, target input)');
  }
  // The extractor (the report function is priced with the report).
  const nameOf = (r: PlanChange) => {
    const n = (r.change?.before ?? r.change?.after)?.function_name;
    return typeof n === 'string' ? n : '';
  };
  const isExtractor = (r: PlanChange) => r.type === 'aws_lambda_function' && !/-report$/.test(nameOf(r));
  const fn = managed.filter(isExtractor).map((r) => r.change!.before).find((b): b is Record<string, unknown> => !!b && typeof b === 'object');
  if (managed.some(isExtractor)) {
    if (!fn) return undefined; // the extractor is being created: nothing that costs runs yet
    if (typeof fn.memory_size === 'number') cur.lambda.memoryMb = fromPlan(fn.memory_size, 'before of aws_lambda_function.memory_size');
    if (typeof fn.timeout === 'number') cur.lambda.timeoutSeconds = fromPlan(fn.timeout, 'before of aws_lambda_function.timeout');
    const arch = first<string>(fn.architectures);
    if (arch === 'arm64' || arch === 'x86_64') cur.lambda.architecture = fromPlan(arch, 'before of aws_lambda_function.architectures');
  }
  const job = before('aws_glue_job')[0];
  if (job) {
    if (typeof job.number_of_workers === 'number') cur.glue.workers = fromPlan(job.number_of_workers, 'before of aws_glue_job.number_of_workers');
    if (typeof job.worker_type === 'string') cur.glue.workerType = fromPlan(job.worker_type, 'before of aws_glue_job.worker_type');
  }
  // Named things: the planned set, without what the plan creates, with what it deletes (so a
  // plan listing only its changes, not every no-op, still gives the deployed set).
  const named = (type: string, planned: string[]): string[] | undefined => {
    if (!mentions(type)) return undefined;
    const changes = managed.filter((r) => r.type === type).map((r) => r.change!);
    const created = new Set(changes.filter((c) => !c.before && c.after).map((c) => String(c.after!.name)));
    const existing = changes.filter((c) => c.before).map((c) => String(c.before!.name));
    return [...new Set([...planned.filter((n) => !created.has(n)), ...existing])];
  };
  const secrets = named('aws_secretsmanager_secret', planned.secrets.value);
  if (secrets) cur.secrets = fromPlan(secrets, 'aws_secretsmanager_secret changes of the plan (before)');
  const queries = named('aws_athena_named_query', planned.queries.value);
  if (queries) cur.queries = fromPlan(queries, 'aws_athena_named_query changes of the plan (before)');
  // What the plan creates is not deployed yet: the report function, QuickSight.
  const created = (type: string) => managed.some((r) => r.type === type && !r.change!.before && r.change!.after);
  const reportFn = managed.filter((r) => r.type === 'aws_lambda_function' && /-report$/.test(nameOf(r)));
  if (reportFn.length && reportFn.every((r) => !r.change!.before)) delete cur.report;
  if (created('aws_quicksight_data_source')) delete cur.quicksight;
  const logs = before('aws_cloudwatch_log_group').find((b) => String(b.name).startsWith('/aws/lambda/') && !String(b.name).endsWith('-report'));
  if (logs && typeof logs.retention_in_days === 'number') cur.logRetentionDays = fromPlan(logs.retention_in_days, 'before of aws_cloudwatch_log_group.retention_in_days');
  return cur;
}
