/**
 * The extractor Lambda: the same engine as `spotify-pipeline run`, with the lake in S3 and the
 * connector's secrets in AWS Secrets Manager. Extract only (the Glue job builds the tables).
 *
 * The deployed bundle's entry is generated at synth time (core/lambda/bundle.ts): it embeds the
 * synthesized pipeline and every pipeline it `include:`s, imports their connector plugins
 * statically and calls `createHandler({ pipelines, plugins })`. Core knows no connector by name;
 * core/lambda/from-files.ts is the entry for an unbundled deployment or a local try-out.
 *
 * The event names what to run: `{ pipeline?, streams? }` (the schedules and the upload trigger
 * send it); without `pipeline`, the first (synthesized) pipeline runs. All pipelines share the
 * lake.
 *
 * Environment (set by the deployment):
 *   LAKE_BUCKET, LAKE_PREFIX  where the lake is (default: pipeline.yaml `storage.s3`)
 *   SECRETS_PREFIX            secret ids of the first pipeline are `<prefix>/<secret name>`
 *                             (default: its name); an included pipeline's are `<its name>/<name>`
 *   LOG_LEVEL                 debug | info | warn | quiet (default info)
 *   CONNECTOR_CONFIG_OVERRIDES  (rehearsals only) JSON `{ "<pipeline>": { key: value } }` merged
 *                             over a pipeline's connector.config: points it at an offline sandbox
 *                             (`spotify-pipeline rehearse`). Keys holding secrets or references
 *                             cannot be overridden; the deployment never sets it.
 *   plus every `${env:NAME}` pipeline.yaml references (e.g. SPOTIFY_CLIENT_ID), and the
 *   standard AWS SDK variables (AWS_REGION, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_SECRETS_MANAGER).
 *
 * One run at a time per lake: the invocation takes a lease object in S3 (core/lambda/lease.ts,
 * `_lease/extractor.json`, a conditional write) before it runs and gives it back after. An
 * invocation that finds the lease held returns `skipped: 'lease held by ...'` without running (the
 * next schedule runs); an expired lease (its holder died) is taken over with a warning.
 *
 * Outcome: a summary (no secrets) when the run committed; a thrown error when it failed, so the
 * function's on-failure destination fires. A clean early stop (quota, wait budget, the Lambda
 * deadline) commits what it read and its state and returns `stoppedEarly: true`; the next
 * invocation resumes from there.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { checkPipeline, parsePipeline } from '../config/load.ts';
import { ConfigError, throwIfErrors, formatProblem } from '../config/problem.ts';
import type { LoadedPipeline } from '../config/types.ts';
import { runPipeline, type RunSummary } from '../engine/run.ts';
import { deadlineSignal, type Deadline } from '../engine/deadline.ts';
import { createLogger, redact, type LogLevel } from '../log.ts';
import { UserError } from '../errors.ts';
import { plainProgress } from '../progress.ts';
import type { ConnectorPlugin, JsonRecord, Logger } from '../plugin-api.ts';
import { AwsSecrets, awsSecretUpdater } from '../secrets/aws.ts';
import { resolveConnectorConfig } from '../secrets/source.ts';
import { S3Storage } from '../storage/s3.ts';
import { acquireLease, describeLease, releaseLease } from './lease.ts';
import { refreshPlaylist, WRITE_PLAYLIST_ACTION, type PlaylistRefreshResult } from './playlist.ts';
import { randomBytes } from 'node:crypto';

/** The part of the Lambda context the handler uses. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
  awsRequestId?: string;
}

export interface HandlerOptions {
  /**
   * The pipelines the extractor serves, as text (embedded in the bundle at build time): the
   * synthesized one first, then those it includes. `file` is how messages name each.
   */
  pipelines?: Array<{ file: string; yaml: string }>;
  /** One pipeline's text (same as `pipelines: [{ file: pipelineFile, yaml: pipelineYaml }]`). */
  pipelineYaml?: string;
  /** Connector plugins by the name `connector.use` gives. */
  plugins: Record<string, ConnectorPlugin>;
  /** The name messages give `pipelineYaml`. Default `pipeline.yaml`. */
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
  /** For the playlist refresh (reads the recommendations through Athena). */
  athenaClient?: AthenaClient;
  /** How long the playlist refresh waits for a run holding the lake's lease. Default 6 tries 20 s apart. */
  leaseWait?: { attempts: number; ms: number };
}

export interface ExtractorStreamResult {
  stream: string;
  status: RunSummary['streams'][number]['status'];
  records: number;
  files: number;
  bytes: number;
  requests: number;
  /** What the connector said it left out and why (`note` with a detail, e.g. export files not imported); only when there is any. */
  details?: string[];
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
  /** Set when the invocation did not run because another holds the lake's lease: `lease held by ...`. */
  skipped?: string;
  streams: ExtractorStreamResult[];
  requests: number;
  requestsByEndpoint: Record<string, number>;
  seconds: number;
}

export type ExtractorHandler = (event: unknown, context: LambdaContext) => Promise<ExtractorResult | PlaylistRefreshResult>;

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
/** The least time between two progress lines in the function's log. */
const PROGRESS_EVERY_MS = 10_000;
/** Lambda's longest timeout: the lease of an invocation whose deadline is unknown. */
const MAX_LAMBDA_MS = 15 * 60_000;
/** A lease outlives its invocation's deadline by this much (clock skew, the commit's last writes). */
const LEASE_MARGIN_MS = 60_000;

export function createHandler(opts: HandlerOptions): ExtractorHandler {
  const texts = opts.pipelines ?? (opts.pipelineYaml !== undefined ? [{ file: opts.pipelineFile ?? 'pipeline.yaml', yaml: opts.pipelineYaml }] : []);
  if (texts.length === 0) throw new Error('createHandler: no pipeline given');
  // Parsed once per container, each on its first invocation (so a broken config fails an
  // invocation, with its message, rather than the container's init).
  const prepared = new Map<number, { loaded: LoadedPipeline; plugin: ConnectorPlugin }>();
  let names: string[] | undefined;
  let s3: S3Client | undefined = opts.s3Client;
  let sm: SecretsManagerClient | undefined = opts.secretsClient;
  let athena: AthenaClient | undefined = opts.athenaClient;

  return async (event, context) => {
    const env = opts.env ?? process.env;
    const logger = opts.logger ?? createLogger({ level: logLevel(env.LOG_LEVEL) });
    names ??= texts.map((t) => parsePipeline(t.yaml, t.file).loaded.config.name);
    const wanted = pipelineOf(event);
    const index = wanted === undefined ? 0 : names.indexOf(wanted);
    if (index < 0) throw new UserError(`the event names pipeline "${wanted}", but this extractor runs ${names.join(', ')}`);
    if (!prepared.has(index)) prepared.set(index, prepare(texts[index].yaml, texts[index].file, opts.plugins, logger));
    const { loaded, plugin } = prepared.get(index)!;
    const { config } = loaded;

    // One lake for every pipeline of the deployment: the first pipeline's.
    const bucket = env.LAKE_BUCKET || config.storage.s3?.bucket;
    if (!bucket) throw new UserError('no lake bucket: set LAKE_BUCKET or storage.s3.bucket in pipeline.yaml');
    s3 ??= new S3Client({});
    sm ??= new SecretsManagerClient({});
    const storage = new S3Storage({ bucket, prefix: env.LAKE_PREFIX ?? config.storage.s3?.prefix, client: s3 });
    // One source per invocation: its cache must not outlive a rotation by another invocation.
    const secrets = new AwsSecrets({ prefix: (index === 0 && env.SECRETS_PREFIX) || config.name, client: sm });
    const connectorConfig = { ...(await resolveConnectorConfig(loaded, plugin, { env, secrets })), ...overridesFor(env, loaded, plugin) };

    // One run at a time on the lake: the lease lasts as long as this invocation can (plus a margin).
    const remaining = context?.getRemainingTimeInMillis?.();
    const ttlMs = (typeof remaining === 'number' && Number.isFinite(remaining) ? remaining : MAX_LAMBDA_MS) + LEASE_MARGIN_MS;
    const holder = context?.awsRequestId ?? `invocation-${randomBytes(6).toString('hex')}`;
    let taken = await acquireLease(storage, { holder, pipeline: config.name, ttlMs });
    if (isPlaylistRefresh(event)) {
      // One Spotify session at a time: a run and the refresh both may rotate the refresh token.
      // A run holding the lease usually ends within a minute: wait for it (bounded), else fail.
      const wait = opts.leaseWait ?? { attempts: 6, ms: 20_000 };
      for (let i = 0; !taken.ok && i < wait.attempts; i++) {
        await new Promise((done) => setTimeout(done, wait.ms));
        taken = await acquireLease(storage, { holder, pipeline: config.name, ttlMs });
      }
      if (!taken.ok) throw new Error(`the playlist refresh of pipeline ${config.name} did not run: the lake ${storage.location} stayed in use (lease held by ${describeLease(taken.heldBy)}); the next week's refresh tries again`);
      const deadline = lambdaDeadline(context, opts.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS);
      try {
        athena ??= new AthenaClient({});
        const refreshed = await refreshPlaylist({
          loaded,
          plugin,
          connectorConfig,
          env,
          athena,
          logger,
          signal: deadline.signal,
          timeoutMs: Math.max(10_000, ttlMs - LEASE_MARGIN_MS - 30_000),
          updateSecret: awsSecretUpdater(loaded, secrets, logger),
        });
        logger.info(redact(JSON.stringify({ playlist: refreshed })));
        return refreshed;
      } finally {
        deadline.clear();
        await releaseLease(storage, taken.lease);
      }
    }
    if (!taken.ok) {
      const skipped = `lease held by ${describeLease(taken.heldBy)}`;
      logger.warn(`run of pipeline ${config.name} skipped: the lake ${storage.location} is in use (${skipped}); the next invocation runs`);
      return { pipeline: config.name, runId: '', lake: storage.location, stoppedEarly: false, skipped, streams: [], requests: 0, requestsByEndpoint: {}, seconds: 0 };
    }
    if (taken.tookOver) logger.warn(`took over the expired lease of ${describeLease(taken.tookOver)} on ${storage.location}`);

    const deadline = lambdaDeadline(context, opts.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS);
    // A long extraction says what it does in the function's log: a `progress:` line per 10 s at most.
    const progress = plainProgress({ write: (line) => logger.info(line), everyMs: PROGRESS_EVERY_MS });
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
        progress: progress.listener,
      });
    } finally {
      progress.stop();
      deadline.clear();
      await releaseLease(storage, taken.lease);
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

/**
 * A rehearsal's plain settings for one pipeline's connector (base URLs of a sandbox). Refused for a
 * secret key or a key the pipeline fills from a reference: an override can point the connector
 * elsewhere, never swap its credentials.
 */
function overridesFor(env: Record<string, string | undefined>, loaded: LoadedPipeline, plugin: ConnectorPlugin): JsonRecord {
  const text = env.CONNECTOR_CONFIG_OVERRIDES;
  if (!text) return {};
  let all: unknown;
  try {
    all = JSON.parse(text);
  } catch {
    throw new UserError('CONNECTOR_CONFIG_OVERRIDES is not JSON');
  }
  const mine = all && typeof all === 'object' ? (all as Record<string, unknown>)[loaded.config.name] : undefined;
  if (mine === undefined) return {};
  if (!mine || typeof mine !== 'object' || Array.isArray(mine)) throw new UserError(`CONNECTOR_CONFIG_OVERRIDES.${loaded.config.name} must be an object`);
  const raw = loaded.config.connector.config ?? {};
  for (const key of Object.keys(mine)) {
    const v = raw[key];
    if (plugin.secretKeys.includes(key) || (typeof v === 'string' && v.includes('${'))) {
      throw new UserError(`CONNECTOR_CONFIG_OVERRIDES may not set connector.config.${key} of pipeline ${loaded.config.name}: it is a secret or a reference`);
    }
  }
  return mine as JsonRecord;
}

function streamsOf(event: unknown): string[] | undefined {
  const streams = event && typeof event === 'object' ? (event as { streams?: unknown }).streams : undefined;
  return Array.isArray(streams) && streams.every((x) => typeof x === 'string') && streams.length ? (streams) : undefined;
}

/** The refresh schedule's event: `{ action: "write-playlist" }` (core/lambda/playlist.ts). */
function isPlaylistRefresh(event: unknown): boolean {
  return !!event && typeof event === 'object' && (event as { action?: unknown }).action === WRITE_PLAYLIST_ACTION;
}

function pipelineOf(event: unknown): string | undefined {
  const p = event && typeof event === 'object' ? (event as { pipeline?: unknown }).pipeline : undefined;
  return typeof p === 'string' && p ? p : undefined;
}

function prepare(text: string, file: string, plugins: Record<string, ConnectorPlugin>, logger: Logger): { loaded: LoadedPipeline; plugin: ConnectorPlugin } {
  const read = parsePipeline(text, file);
  const use = read.loaded.config.connector?.use;
  const plugin = typeof use === 'string' && Object.hasOwn(plugins, use) ? plugins[use] : undefined;
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
 * the reason, so the engine treats it as a clean stop and commits what was read.
 */
function lambdaDeadline(context: LambdaContext, marginMs: number): Deadline {
  const remaining = context?.getRemainingTimeInMillis?.();
  if (typeof remaining !== 'number' || !Number.isFinite(remaining)) return { signal: new AbortController().signal, clear: () => undefined };
  return deadlineSignal(remaining, marginMs, (s) => `the Lambda time limit is ${s} s away; stopping with data and state saved, the next invocation resumes`);
}

function toResult(pipeline: string, lake: string, s: RunSummary): ExtractorResult {
  return {
    pipeline,
    runId: s.runId,
    lake,
    stoppedEarly: s.stoppedEarly === true,
    ...(s.stoppedEarly && s.error ? { reason: redact(s.error) } : {}),
    streams: s.streams.map((x) => ({
      stream: x.stream,
      status: x.status,
      records: x.records,
      files: x.files,
      bytes: x.bytes,
      requests: x.requests,
      ...(x.details?.length ? { details: x.details } : {}),
    })),
    requests: Object.values(s.requestsByEndpoint).reduce((a, b) => a + b, 0),
    requestsByEndpoint: s.requestsByEndpoint,
    seconds: s.seconds,
  };
}

function logLevel(v: string | undefined): LogLevel {
  return v === 'debug' || v === 'info' || v === 'warn' || v === 'quiet' ? v : 'info';
}
