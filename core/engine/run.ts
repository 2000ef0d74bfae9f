/**
 * One pipeline run: extract every stream in dependency order into the raw zone, commit the run
 * manifest, save stream state, then rebuild the curated tables from all committed raw data.
 */
import { randomBytes } from 'node:crypto';
import { HttpError, StopRun, StreamFailed, UserError } from '../errors.ts';
import type { ConnectorPlugin, JsonRecord, Logger, ReadContext, StreamSpec, StreamState } from '../plugin-api.ts';
import { HttpClient } from '../http.ts';
import type { Storage } from '../storage/storage.ts';
import type { LoadedPipeline, StreamConfig } from '../config/types.ts';
import { RawWriter } from './raw.ts';
import { MANIFEST_FORMAT, committedFiles, completeReads, listManifests, writeManifest, type RunManifest, type StreamManifest } from './manifest.ts';
import { loadState, saveState } from './state.ts';
import { parseFieldRef, valuesAt } from './fields.ts';
import type { BuildOptions, TableResult } from '../transform/index.ts';
import { redact, registerSecret } from '../redact.ts';
import type { ProgressListener } from '../progress.ts';
import { expectedAbsences } from './absences.ts';

export interface StreamSummary {
  stream: string;
  endpoint: string;
  status: 'ok' | 'partial' | 'failed' | 'not run';
  records: number;
  files: number;
  bytes: number;
  requests: number;
  seconds: number;
  notes: Record<string, number>;
  /** Lines the plugin gave with a note (`note(key, n, detail)`), listed under the summary as `key: detail`. */
  details?: string[];
}

export interface RunSummary {
  runId: string;
  ok: boolean;
  /** Why the run stopped early or failed (already redacted). */
  error?: string;
  /** True when the run stopped cleanly (quota / wait budget): its data and state are committed. */
  stoppedEarly?: boolean;
  /** The failure is the user's to fix (credentials, config): the CLI exits 2, not 1. */
  userError?: boolean;
  hint?: string;
  streams: StreamSummary[];
  tables: TableResult[];
  requestsByEndpoint: Record<string, number>;
  seconds: number;
}

export interface RunOptions {
  pipeline: LoadedPipeline;
  plugin: ConnectorPlugin;
  /** `connector.config` with every reference resolved. */
  connectorConfig: JsonRecord;
  storage: Storage;
  /** Local lake folder: with `buildTables`, tables are rebuilt after extraction. */
  lakeDir?: string;
  /**
   * The table builder (core/transform's buildTables), passed in rather than imported so the
   * Lambda extractor's bundle, which only extracts, does not carry DuckDB.
   */
  buildTables?: (opts: BuildOptions) => Promise<TableResult[]>;
  logger: Logger;
  signal?: AbortSignal;
  now?: () => Date;
  /** Override HTTP options (tests: no real sleeping). */
  http?: Partial<ConstructorParameters<typeof HttpClient>[0]>;
  /** Extract only (no transform), e.g. in the Lambda extractor. */
  skipTransform?: boolean;
  /** Rebuild every table from all its raw files (`run --full`): no skipped or incremental builds. */
  fullBuild?: boolean;
  /**
   * Run only these streams (and the streams they read from), e.g. a per-stream schedule. Ids
   * they gather for streams left out are kept owed in those streams' state.
   */
  streams?: string[];
  /**
   * Read these streams as if they had never run: their saved cursors and parent versions are
   * ignored this run (and replaced when it commits). Ids a stream still owes stay owed.
   */
  fullRefresh?: string[];
  /**
   * When `signal` stops the run with StopRun (a time limit, like the Lambda's deadline), commit
   * and return without building the tables: the next run or `transform` builds them.
   */
  skipTransformWhenStopped?: boolean;
  /** Stores a secret the plugin rotated (a new refresh token) where the config's reference points. */
  updateSecret?: (configKey: string, value: string) => Promise<void>;
  /** Told of the run's live progress: streams, records, requests, pages, waits, tables. */
  progress?: ProgressListener;
}

/**
 * `<UTC time to the millisecond>-<random>`, e.g. `20261204T193436123Z-9f9da3`. Run ids sort by time:
 * the transform keeps the newest run's row by comparing them, so two runs in the same second (two
 * quick invocations) must still sort in the order they started.
 */
export function newRunId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:.]/g, '');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/** Streams in an order where every stream comes after the streams it reads from. */
export function streamOrder(streams: Record<string, StreamConfig>): string[] {
  const deps = (s: StreamConfig) => [
    ...(s.for_each ? [parseFieldRef(s.for_each).stream] : []),
    ...(s.ids_from ?? []).map((r) => parseFieldRef(r).stream),
  ];
  const out: string[] = [];
  const seen = new Set<string>();
  const visiting = new Set<string>();
  const visit = (name: string, trail: string[]) => {
    if (seen.has(name)) return;
    if (visiting.has(name)) throw new Error(`streams depend on each other in a cycle: ${[...trail, name].join(' -> ')}`);
    visiting.add(name);
    for (const d of deps(streams[name] ?? { endpoint: '' })) if (streams[d]) visit(d, [...trail, name]);
    visiting.delete(name);
    seen.add(name);
    out.push(name);
  };
  for (const name of Object.keys(streams)) visit(name, []);
  return out;
}

/** The dependency-ordered streams to run: all, or the wanted ones plus what they read from. */
export function selectStreams(streams: Record<string, StreamConfig>, wanted?: string[]): string[] {
  const all = streamOrder(streams);
  if (!wanted?.length) return all;
  const unknown = wanted.filter((w) => !streams[w]);
  if (unknown.length) throw new UserError(`unknown stream(s) ${unknown.join(', ')}; the pipeline has ${all.join(', ')}`);
  const keep = new Set<string>();
  const add = (name: string) => {
    if (keep.has(name)) return;
    keep.add(name);
    const s = streams[name];
    for (const ref of [...(s.for_each ? [s.for_each] : []), ...(s.ids_from ?? [])]) add(parseFieldRef(ref).stream);
  };
  wanted.forEach(add);
  return all.filter((n) => keep.has(n));
}

export function streamSpec(name: string, s: StreamConfig): StreamSpec {
  return {
    name,
    endpoint: s.endpoint,
    params: s.params ?? {},
    incremental: s.incremental !== undefined && s.incremental !== false,
    skipUnchanged: s.skip_unchanged,
    forEach: s.for_each ? parseFieldRef(s.for_each).path : undefined,
  };
}

/** Everything one run needs and accumulates, shared by its steps. */
interface Run {
  opts: RunOptions;
  runId: string;
  ingestDate: string;
  t0: number;
  now: () => Date;
  http: HttpClient;
  signal: AbortSignal;
  /** Streams to run, in dependency order. */
  order: string[];
  /** Streams whose records later streams iterate (`for_each`): their records are kept in memory. */
  keepRecords: Set<string>;
  kept: Map<string, JsonRecord[]>;
  /** Consumer stream -> ids gathered for it this run (`ids_from`). */
  idSets: Map<string, Set<string>>;
  summaries: StreamSummary[];
  manifest: RunManifest;
  /** State to save per stream once the manifest is committed. */
  newStates: Map<string, StreamState>;
  /** Id streams that failed: the state they started from and the ids they still owe. */
  pendingIds: Map<string, { state: StreamState; ids: string[] }>;
  /** Rotated secrets being stored; awaited before the run returns. */
  secretWrites: Promise<void>[];
  error?: string;
  hint?: string;
  stoppedEarly: boolean;
  userError: boolean;
}

/**
 * One run, in named steps: plan it, read each stream into raw files, settle the ids owed to id
 * streams that did not run, commit (manifest, then state), build the tables, report.
 */
export async function runPipeline(opts: RunOptions): Promise<RunSummary> {
  const run = planRun(opts);
  for (const [i, name] of run.order.entries()) {
    const outcome = await readStream(run, name, run.summaries[i]);
    if (outcome !== 'continue') break;
  }
  await settleOwedIds(run);
  await commitRun(run);
  // A rotated refresh token is stored before the run returns: the old one may already be dead.
  await Promise.all(run.secretWrites);
  const tables = await buildRunTables(run);
  return report(run, tables);
}

/** Step 1: the run's id, the streams to run in order, and what each must keep for later streams. */
function planRun(opts: RunOptions): Run {
  const t0 = Date.now();
  const now = opts.now ?? (() => new Date());
  const started = now();
  const runId = newRunId(started);
  const { config } = opts.pipeline;
  const { plugin, logger } = opts;
  const signal = opts.signal ?? new AbortController().signal;
  // Whatever path the config came by, the plugin's secret keys are masked in every message.
  for (const k of plugin.secretKeys) registerSecret(opts.connectorConfig[k]);
  const http = new HttpClient({
    ...(plugin.httpOptions?.(opts.connectorConfig) ?? { baseURL: '' }),
    logger,
    signal,
    ...opts.http,
  });
  http.progress = opts.progress;
  const order = selectStreams(config.streams, opts.streams);
  const keepRecords = new Set<string>();
  for (const s of Object.values(config.streams)) if (s.for_each) keepRecords.add(parseFieldRef(s.for_each).stream);
  return {
    opts,
    runId,
    ingestDate: started.toISOString().slice(0, 10),
    t0,
    now,
    http,
    signal,
    order,
    keepRecords,
    kept: new Map(),
    idSets: new Map(),
    summaries: order.map((name) => ({
      stream: name,
      endpoint: config.streams[name].endpoint,
      status: 'not run',
      records: 0,
      files: 0,
      bytes: 0,
      requests: 0,
      seconds: 0,
      notes: {},
    })),
    manifest: { format: MANIFEST_FORMAT, run_id: runId, pipeline: config.name, started_at: started.toISOString(), committed_at: '', streams: {} },
    newStates: new Map(),
    pendingIds: new Map(),
    secretWrites: [],
    stoppedEarly: false,
    userError: false,
  };
}

/**
 * Step 2, per stream: read it through the plugin into raw files, keep what later streams need,
 * and record its manifest entry and next state. Returns whether the run goes on.
 */
async function readStream(run: Run, name: string, summary: StreamSummary): Promise<'continue' | 'stop'> {
  const { opts, http, runId } = run;
  const { config } = opts.pipeline;
  const { plugin, storage, logger } = opts;
  const sc = config.streams[name];
  const ts = Date.now();
  const before = { ...http.counts };
  const spec = streamSpec(name, sc);
  const state = fresh(await loadState(storage, name, logger), opts.fullRefresh?.includes(name) === true);
  let nextState: StreamState | undefined;
  const writer = new RawWriter(storage, name, runId, run.ingestDate);
  const desc = plugin.endpoints[sc.endpoint];
  const isIds = desc?.input === 'ids';
  // Ids an earlier run gathered but never fetched (it failed or stopped first) are owed now.
  const owed = Array.isArray(state._pending_ids) ? (state._pending_ids as string[]) : [];
  const wantedIds = isIds ? [...new Set([...(sc.ids ?? []), ...(run.idSets.get(name) ?? []), ...owed])] : [];
  const fetched = new Set<string>();
  /** Ids the API rejects as invalid (reported by the plugin): never owed again. */
  const rejected = new Map<string, string>();
  const idField = desc?.idField ?? 'id';
  const consumers = Object.entries(config.streams).flatMap(([consumer, c]) =>
    (c.ids_from ?? []).map((r) => ({ consumer, ref: parseFieldRef(r) })).filter((x) => x.ref.stream === name),
  );
  const ctx: ReadContext = {
    config: opts.connectorConfig,
    http,
    logger: prefixed(logger, name),
    signal: run.signal,
    state,
    setState: (s: StreamState) => {
      nextState = s;
    },
    parents: sc.for_each ? (run.kept.get(parseFieldRef(sc.for_each).stream) ?? []) : undefined,
    ids: isIds ? wantedIds : undefined,
    updateSecret: opts.updateSecret && ((key: string, value: string) => rotateSecret(run, key, value)),
    note: (key: string, n = 1, detail?: string) => {
      summary.notes[key] = (summary.notes[key] ?? 0) + n;
      if (detail) (summary.details ??= []).push(`${key}: ${redact(detail)}`);
    },
    rejectId: (id: string, reason: string) => {
      if (!isIds || rejected.has(id)) return;
      rejected.set(id, reason);
      summary.notes.rejected = (summary.notes.rejected ?? 0) + 1;
      const inConfig = (sc.ids ?? []).includes(id);
      const from = [inConfig && `ids: of stream ${name} in ${opts.pipeline.file}`, owed.includes(id) && 'the ids an earlier run left owed'].filter(Boolean).join(' and ');
      logger.warn(`${name}: dropped id "${id}": the API rejects it as invalid (${reason})${from ? `; it came from ${from}` : ''}. It is no longer owed${inConfig ? '; fix it in the pipeline file' : ''}`);
    },
  };
  const valid = (ids: string[]) => ids.filter((id) => !rejected.has(id));
  const progress = opts.progress;
  // A total the API gives (an offset page's `total`) is the stream's only for a single read: a
  // for_each stream learns one per parent, never the whole, so it shows no ETA.
  if (progress && !sc.for_each) ctx.expectTotal = (n: number) => progress({ type: 'stream-total', stream: name, add: n });
  progress?.({ type: 'stream-start', stream: name, endpoint: sc.endpoint, total: isIds ? wantedIds.length : undefined });
  let status: StreamManifest['status'] = 'complete';
  try {
    for await (const record of plugin.read(spec, ctx)) {
      await writer.write(record);
      progress?.({ type: 'record', stream: name });
      if (isIds && typeof record[idField] === 'string') fetched.add(record[idField]);
      if (run.keepRecords.has(name)) {
        const list = run.kept.get(name) ?? [];
        list.push(record);
        run.kept.set(name, list);
      }
      for (const { consumer, ref } of consumers) {
        const set = run.idSets.get(consumer) ?? new Set<string>();
        for (const v of valuesAt(record, ref.path)) if (typeof v === 'string' && v) set.add(v);
        run.idSets.set(consumer, set);
      }
    }
    await writer.flush();
  } catch (e) {
    const unauthorized = e instanceof HttpError && e.status === 401;
    if (e instanceof StopRun || unauthorized) {
      // Keep what was read: the plugin's state covers exactly the records it yielded.
      await writer.flush();
      status = 'partial';
      if (unauthorized) {
        // The client already refreshed the token once and the API still says 401: the
        // authorization itself is gone (revoked, or the app's access removed). Retrying cannot
        // help; logging in again does. What was read so far is committed as after a quota stop.
        run.userError = true;
        run.hint = AUTH_HINT;
        run.error = failure(run.error, `connector ${plugin.name}, stream ${name}: the API refused the authorization even after a token refresh: ${e.message}`);
      } else {
        run.stoppedEarly = true;
        run.error = failure(run.error, `connector ${plugin.name}, stream ${name}: ${e.message}`);
      }
    } else {
      run.error = failure(run.error, `connector ${plugin.name}, stream ${name}: ${redact(e instanceof Error ? e.message : String(e))}`);
      if (e instanceof UserError) {
        run.userError = true;
        run.hint = e.hint;
      }
      // This stream's files are not committed; remove them so the raw zone holds no orphans.
      for (const f of writer.files) await storage.delete(f.key);
      summary.status = 'failed';
      summary.seconds = (Date.now() - ts) / 1000;
      summary.requests = http.total - sum(before);
      if (isIds) run.pendingIds.set(name, { state, ids: valid(wantedIds) });
      progress?.({ type: 'stream-end', stream: name, status: 'failed' });
      // A stream that failed on its own (every parent refused) stops only itself: the streams
      // after it still run (those reading from it get nothing of it this run).
      return e instanceof StreamFailed ? 'continue' : 'stop';
    }
  }
  const requests = diff(http.counts, before);
  run.manifest.streams[name] = { endpoint: sc.endpoint, records: writer.records, files: writer.files, requests, status };
  if (isIds) {
    // The owed ids are paid once this stream's data commits; what a partial read missed stays owed.
    const missing = status === 'complete' ? [] : valid(wantedIds).filter((id) => !fetched.has(id));
    const { _pending_ids: _paid, ...rest } = nextState ?? state;
    nextState = missing.length ? { ...rest, _pending_ids: missing } : rest;
  }
  if (nextState) run.newStates.set(name, nextState);
  Object.assign(summary, {
    status: status === 'complete' ? 'ok' : 'partial',
    records: writer.records,
    files: writer.files.length,
    bytes: writer.bytes,
    requests: sum(requests),
    seconds: (Date.now() - ts) / 1000,
  });
  progress?.({ type: 'stream-end', stream: name, status: summary.status as 'ok' | 'partial' });
  return run.stoppedEarly || status === 'partial' ? 'stop' : 'continue';
}

/** What `run` prints as the fix when the API refuses the authorization itself (401 after a refresh). */
export const AUTH_HINT = 'run `spotify-pipeline login` to authorize again (the API refused the stored authorization even with a fresh token), then run again: what was read before is committed';

/** The run's error so far with one more stream's failure. */
function failure(so: string | undefined, more: string): string {
  return so ? `${so}; ${more}` : more;
}

/** A stream's saved state, or (full refresh) only the ids it still owes: no cursor, no versions. */
function fresh(state: StreamState, full: boolean): StreamState {
  if (!full) return state;
  return Array.isArray(state._pending_ids) ? { _pending_ids: state._pending_ids } : {};
}

/** A plugin rotated a secret (a new refresh token): mask it at once and store it before the run ends. */
function rotateSecret(run: Run, key: string, value: string): Promise<void> {
  registerSecret(value);
  const p = run.opts.updateSecret!(key, value);
  run.secretWrites.push(p);
  return p;
}

/**
 * Step 3: id streams that never ran this time (an earlier stream failed or stopped) keep the ids
 * this run gathered for them, so the next run fetches them even if their sources are then skipped.
 */
async function settleOwedIds(run: Run): Promise<void> {
  const { config } = run.opts.pipeline;
  for (const name of Object.keys(config.streams)) {
    const sc = config.streams[name];
    if (run.opts.plugin.endpoints[sc.endpoint]?.input !== 'ids' || run.newStates.has(name)) continue;
    const gathered = run.idSets.get(name);
    const failed = run.pendingIds.get(name);
    if (!gathered?.size && !failed) continue;
    const prior = failed?.state ?? (await loadState(run.opts.storage, name, run.opts.logger));
    const owed = Array.isArray(prior._pending_ids) ? (prior._pending_ids as string[]) : [];
    const ids = [...new Set([...owed, ...(failed?.ids ?? []), ...(gathered ?? [])])];
    if (ids.length) run.newStates.set(name, { ...prior, _pending_ids: ids });
  }
}

/** Step 4: commit: the manifest first (the run's data becomes visible), then the state it covers. */
async function commitRun(run: Run): Promise<void> {
  if (Object.keys(run.manifest.streams).length === 0) return;
  run.manifest.committed_at = run.now().toISOString();
  await writeManifest(run.opts.storage, run.manifest);
  for (const [name, s] of run.newStates) await saveState(run.opts.storage, name, s, run.runId);
}

/** Step 5: rebuild the tables from every committed run (local lakes; the Lambda only extracts). */
async function buildRunTables(run: Run): Promise<TableResult[]> {
  const { opts } = run;
  if (!opts.lakeDir || !opts.buildTables || opts.skipTransform) return [];
  if (opts.skipTransformWhenStopped && run.signal.aborted && run.signal.reason instanceof StopRun) return [];
  const manifests = await listManifests(opts.storage, { quarantine: opts.logger });
  const files = committedFiles(manifests);
  // Fields the connector leaves out by design in this API mode are not schema drift.
  const expectedAbsent = expectedAbsences([{ plugin: opts.plugin, connectorConfig: opts.connectorConfig, streams: opts.pipeline.config.streams }]);
  return opts.buildTables({ lakeDir: opts.lakeDir, tables: opts.pipeline.config.tables, files, completeReads: completeReads(manifests), runId: run.runId, expectedAbsent, progress: opts.progress, full: opts.fullBuild });
}

/** Step 6: the run's summary. */
function report(run: Run, tables: TableResult[]): RunSummary {
  return {
    runId: run.runId,
    ok: !run.error,
    error: run.error,
    stoppedEarly: run.stoppedEarly,
    userError: run.userError,
    hint: run.hint,
    streams: run.summaries,
    tables,
    requestsByEndpoint: { ...run.http.counts },
    seconds: (Date.now() - run.t0) / 1000,
  };
}

function prefixed(logger: Logger, prefix: string): Logger {
  return {
    info: (m) => logger.info(`${prefix}: ${m}`),
    warn: (m) => logger.warn(`${prefix}: ${m}`),
    debug: (m) => logger.debug(`${prefix}: ${m}`),
  };
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out;
}
