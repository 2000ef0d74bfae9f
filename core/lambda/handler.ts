/**
 * The extractor Lambda: the same engine as `spotify-pipeline run`, with the lake in S3 and the
 * connector's secrets in AWS Secrets Manager. Extract only (the Glue job builds the tables).
 *
 * The deployed bundle's entry is terraform/lambda-entry.ts, which embeds pipeline.yaml and
 * imports the connector plugins statically: `export const handler = createHandler({...})`.
 * Core knows no connector by name, so `handler` below (for an unbundled deployment or a local
 * try-out) reads PIPELINE_FILE and loads the plugin the way the CLI does.
 *
 * Environment (set by the deployment):
 *   LAKE_BUCKET, LAKE_PREFIX  where the lake is (default: pipeline.yaml `storage.s3`)
 *   SECRETS_PREFIX            secret ids are `<prefix>/<secret name>` (default: the pipeline name)
 *   LOG_LEVEL                 debug | info | warn | quiet (default info)
 *   plus every `${env:NAME}` pipeline.yaml references (e.g. SPOTIFY_CLIENT_ID), and the
 *   standard AWS SDK variables (AWS_REGION, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_SECRETS_MANAGER).
 *
 * Outcome: a summary (no secrets) when the run committed; a thrown error when it failed, so the
 * function's on-failure destination fires. A clean early stop (quota, wait budget, the Lambda
 * deadline) commits what it read and its state and returns `stoppedEarly: true`; the next
 * invocation resumes from there.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { checkPipeline, parsePipeline } from '../config/load.ts';
import { ConfigError, throwIfErrors, formatProblem } from '../config/problem.ts';
import type { LoadedPipeline } from '../config/types.ts';
import { runPipeline, type RunSummary } from '../engine/run.ts';
import { StopRun } from '../errors.ts';
import { createLogger, redact, type LogLevel } from '../log.ts';
import { UserError } from '../errors.ts';
import type { ConnectorPlugin, Logger } from '../plugin-api.ts';
import { AwsSecrets, awsSecretUpdater } from '../secrets/aws.ts';
import { resolveConnectorConfig } from '../secrets/source.ts';
import { S3Storage } from '../storage/s3.ts';

/** The part of the Lambda context the handler uses. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
  awsRequestId?: string;
}

export interface HandlerOptions {
  /** The text of pipeline.yaml (embedded in the bundle at build time). */
  pipelineYaml: string;
  /** Connector plugins by the name `connector.use` gives. */
  plugins: Record<string, ConnectorPlugin>;
  /** The name messages give the pipeline file. Default `pipeline.yaml`. */
  pipelineFile?: string;
  /** Stop the run this long before the Lambda deadline, to commit data and state. Default 30 s. */
  safetyMarginMs?: number;
  /** Default `process.env`, read at each invocation. */
  env?: Record<string, string | undefined>;
  /** Default: log lines to stderr (CloudWatch), at LOG_LEVEL. */
  logger?: Logger;
  /** Default: clients from the standard AWS environment, made once per container. */
  s3Client?: S3Client;
  secretsClient?: SecretsManagerClient;
}

export interface ExtractorStreamResult {
  stream: string;
  status: RunSummary['streams'][number]['status'];
  records: number;
  files: number;
  bytes: number;
  requests: number;
}

/** What an invocation returns (and logs): counts only, never a record or a secret. */
export interface ExtractorResult {
  pipeline: string;
  runId: string;
  /** Where the lake is: `s3://bucket/prefix`. */
  lake: string;
  /** The run stopped cleanly before the end (quota, wait budget, Lambda deadline); its data and state are committed. */
  stoppedEarly: boolean;
  /** Why it stopped early (redacted). */
  reason?: string;
  streams: ExtractorStreamResult[];
  requests: number;
  requestsByEndpoint: Record<string, number>;
  seconds: number;
}

export type ExtractorHandler = (event: unknown, context: LambdaContext) => Promise<ExtractorResult>;

/** A failed run: thrown so Lambda counts the invocation as failed (on-failure destination, alarms). */
export class ExtractorRunError extends Error {
  constructor(
    message: string,
    readonly result: ExtractorResult,
  ) {
    super(message);
    this.name = 'ExtractorRunError';
  }
}

const DEFAULT_SAFETY_MARGIN_MS = 30_000;

export function createHandler(opts: HandlerOptions): ExtractorHandler {
  const file = opts.pipelineFile ?? 'pipeline.yaml';
  // Parsed once per container, on the first invocation (so a broken config fails an
  // invocation, with its message, rather than the container's init).
  let prepared: { loaded: LoadedPipeline; plugin: ConnectorPlugin } | undefined;
  let s3: S3Client | undefined = opts.s3Client;
  let sm: SecretsManagerClient | undefined = opts.secretsClient;

  return async (event, context) => {
    const env = opts.env ?? process.env;
    const logger = opts.logger ?? createLogger({ level: logLevel(env.LOG_LEVEL) });
    prepared ??= prepare(opts.pipelineYaml, file, opts.plugins, logger);
    const { loaded, plugin } = prepared;
    const { config } = loaded;

    const bucket = env.LAKE_BUCKET || config.storage.s3?.bucket;
    if (!bucket) throw new UserError('no lake bucket: set LAKE_BUCKET or storage.s3.bucket in pipeline.yaml');
    s3 ??= new S3Client({});
    sm ??= new SecretsManagerClient({});
    const storage = new S3Storage({ bucket, prefix: env.LAKE_PREFIX ?? config.storage.s3?.prefix, client: s3 });
    // One source per invocation: its cache must not outlive a rotation by another invocation.
    const secrets = new AwsSecrets({ prefix: env.SECRETS_PREFIX || config.name, client: sm });
    const connectorConfig = await resolveConnectorConfig(loaded, plugin, { env, secrets });

    const deadline = deadlineSignal(context, opts.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS);
    let summary: RunSummary;
    try {
      summary = await runPipeline({
        pipeline: loaded,
        plugin,
        connectorConfig,
        storage,
        logger,
        signal: deadline.signal,
        skipTransform: true,
        // A per-stream schedule names its streams ({pipeline, streams}); otherwise run them all.
        streams: streamsOf(event),
        updateSecret: awsSecretUpdater(loaded, secrets, logger),
      });
    } finally {
      deadline.clear();
    }

    const result = toResult(config.name, storage.location, summary);
    logger.info(redact(JSON.stringify({ extractor: result })));
    if (!summary.ok && !summary.stoppedEarly) {
      const why = redact(summary.error ?? 'unknown error');
      throw new ExtractorRunError(`run ${summary.runId} of pipeline ${config.name} failed: ${why}${summary.hint ? ` (${redact(summary.hint)})` : ''}`, result);
    }
    return result;
  };
}

function streamsOf(event: unknown): string[] | undefined {
  const streams = event && typeof event === 'object' ? (event as { streams?: unknown }).streams : undefined;
  return Array.isArray(streams) && streams.every((x) => typeof x === 'string') && streams.length ? (streams as string[]) : undefined;
}

function prepare(text: string, file: string, plugins: Record<string, ConnectorPlugin>, logger: Logger): { loaded: LoadedPipeline; plugin: ConnectorPlugin } {
  const read = parsePipeline(text, file);
  const use = read.loaded.config.connector?.use;
  const plugin = typeof use === 'string' ? plugins[use] : undefined;
  if (!plugin) {
    throwIfErrors(read.problems);
    throw new ConfigError([
      {
        ...read.loaded.pos('connector.use'),
        path: 'connector.use',
        message: `connector "${String(use)}" is not in this bundle (it has: ${Object.keys(plugins).join(', ') || 'none'})`,
        severity: 'error',
      },
    ]);
  }
  for (const w of throwIfErrors(checkPipeline(read, plugin))) logger.warn(formatProblem(w));
  return { loaded: read.loaded, plugin };
}

/**
 * Aborts a bit before the Lambda deadline, with StopRun as the reason: the HTTP client throws
 * the reason, so the engine treats it as a clean stop and commits what was read. The margin never
 * takes more than half of the remaining time (short timeouts in tests and small functions).
 */
function deadlineSignal(context: LambdaContext, marginMs: number): { signal: AbortSignal; clear(): void } {
  const ac = new AbortController();
  const remaining = context?.getRemainingTimeInMillis?.();
  if (typeof remaining !== 'number' || !Number.isFinite(remaining)) return { signal: ac.signal, clear: () => undefined };
  const stopIn = Math.max(0, remaining - Math.min(marginMs, remaining / 2));
  const timer = setTimeout(() => {
    ac.abort(new StopRun(`the Lambda time limit is ${Math.round((remaining - stopIn) / 1000)} s away; stopping with data and state saved, the next invocation resumes`));
  }, stopIn);
  return { signal: ac.signal, clear: () => clearTimeout(timer) };
}

function toResult(pipeline: string, lake: string, s: RunSummary): ExtractorResult {
  return {
    pipeline,
    runId: s.runId,
    lake,
    stoppedEarly: s.stoppedEarly === true,
    ...(s.stoppedEarly && s.error ? { reason: redact(s.error) } : {}),
    streams: s.streams.map((x) => ({ stream: x.stream, status: x.status, records: x.records, files: x.files, bytes: x.bytes, requests: x.requests })),
    requests: Object.values(s.requestsByEndpoint).reduce((a, b) => a + b, 0),
    requestsByEndpoint: s.requestsByEndpoint,
    seconds: s.seconds,
  };
}

function logLevel(v: string | undefined): LogLevel {
  return v === 'debug' || v === 'info' || v === 'warn' || v === 'quiet' ? v : 'info';
}

/**
 * The entrypoint for an unbundled deployment (or trying the handler locally): pipeline.yaml from
 * PIPELINE_FILE (default `pipeline.yaml` in the working directory), the plugin loaded by name as
 * the CLI does. The deployed bundle uses terraform/lambda-entry.ts instead.
 */
let fromFiles: ExtractorHandler | undefined;
export const handler: ExtractorHandler = async (event, context) => {
  if (!fromFiles) {
    const [{ readFile }, { dirname, resolve }, { loadPlugin }] = await Promise.all([import('node:fs/promises'), import('node:path'), import('../plugins.ts')]);
    const file = process.env.PIPELINE_FILE || 'pipeline.yaml';
    const text = await readFile(file, 'utf8');
    const use = parsePipeline(text, file).loaded.config.connector?.use;
    if (typeof use !== 'string' || !use) throw new UserError(`${file}: connector.use is missing`);
    const plugin = await loadPlugin(use, dirname(resolve(file)));
    fromFiles = createHandler({ pipelineYaml: text, plugins: { [use]: plugin }, pipelineFile: file });
  }
  return fromFiles(event, context);
};
