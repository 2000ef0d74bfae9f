/**
 * The conformance kit: loads a plugin, judges its manifest, then reads every stream under test
 * from the plugin's own sandbox and judges records, state, reruns, faults, secrets and abort.
 * Each failure names its suite, rule, stream and record index. Nothing here knows a connector.
 */
import { resolve } from 'node:path';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { SchemaValidator, formatPath } from '../config/index.ts';
import { discoveredPlugins, pluginProblems } from '../plugins.ts';
import type { ConnectorPlugin, JsonRecord, JsonSchema, SandboxHandle, StreamSpec, StreamState } from '../plugin-api.ts';
import { PLUGIN_API_VERSION } from '../plugin-api.ts';
import { canonical, captureLogger, extras, httpFor, identity, jsonSafe, limited, messageOf, readOnce, type KitEnv, type ReadInput, type ReadOutcome } from './harness.ts';
import { inputsFor, planFromEndpoints, planFromPipeline, type PlannedStream, type StreamPlan } from './streams.ts';
import { SUITES, type ConformanceOptions, type ConformanceReport, type Failure, type PluginTarget, type SuiteName, type SuiteResult } from './types.ts';

/** At most this many failures of one rule on one stream are listed; the rest are counted. */
const MAX_PER_RULE = 5;
const SECRET_NAME = /(secret|token|passw(or)?d|api_?key|private_?key|salt|credential)/i;

class Suite {
  readonly failures: Failure[] = [];
  readonly notes: string[] = [];
  skipped?: string;
  private readonly counts = new Map<string, number>();
  private ms = 0;
  constructor(readonly name: SuiteName) {}

  /** Runs part of the suite, timing it. */
  async timed<T>(fn: () => Promise<T> | T): Promise<T> {
    const t0 = Date.now();
    try {
      return await fn();
    } finally {
      this.ms += Date.now() - t0;
    }
  }

  fail(rule: string, message: string, where: { stream?: string; record?: number } = {}): void {
    const key = `${rule}\u0000${where.stream ?? ''}`;
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    if (n <= MAX_PER_RULE) this.failures.push({ suite: this.name, rule, ...where, message });
    else if (n === MAX_PER_RULE + 1) this.failures.push({ suite: this.name, rule, stream: where.stream, message: 'more failures of this rule on this stream are not listed' });
  }

  result(): SuiteResult {
    return {
      suite: this.name,
      status: this.skipped !== undefined ? 'skipped' : this.failures.length ? 'failed' : 'passed',
      failures: this.failures,
      notes: this.skipped !== undefined ? [this.skipped, ...this.notes] : this.notes,
      seconds: this.ms / 1000,
    };
  }
}

function makeAjv(schema: JsonSchema) {
  const draft = typeof schema.$schema === 'string' ? schema.$schema : '';
  const opts = { allErrors: true, strict: false };
  const ajv = /2019-09|2020-12/.test(draft) ? new Ajv2020(opts) : new Ajv(opts);
  formats.default(ajv);
  return ajv;
}

function compiles(schema: unknown): string | undefined {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return 'is not a JSON Schema object';
  try {
    makeAjv(schema as JsonSchema).compile(schema as JsonSchema);
    return undefined;
  } catch (e) {
    return messageOf(e);
  }
}

const describesObject = (s: JsonSchema) => s.type === 'object' || (Array.isArray(s.type) && s.type.includes('object')) || (s.type === undefined && typeof s.properties === 'object');

/** Runs the kit; never throws for a plugin's fault (every problem becomes a failure). */
export async function runConformance(target: PluginTarget, options: ConformanceOptions = {}): Promise<ConformanceReport> {
  const suites = new Map<SuiteName, Suite>(SUITES.map((s) => [s, new Suite(s)]));
  const wanted = (s: SuiteName) => !options.suites || options.suites.includes(s);
  for (const s of SUITES) if (!wanted(s)) suites.get(s)!.skipped = 'not selected';
  const progress = options.progress;
  const baseDir = options.baseDir ?? process.cwd();
  const label = typeof target === 'string' ? target : (target.name ?? 'plugin');
  const report = (plugin?: ConnectorPlugin, streams: string[] = []): ConformanceReport => {
    const results = SUITES.map((s) => suites.get(s)!.result());
    return { plugin: plugin?.name ?? label, version: plugin?.version, ok: results.every((r) => r.status !== 'failed'), streams, suites: results };
  };
  const spec = suites.get('spec')!;

  // --- load ------------------------------------------------------------------------------------
  let candidate: unknown;
  if (typeof target === 'string') {
    try {
      candidate = await (options.plugins ?? discoveredPlugins).importPlugin(target, baseDir);
    } catch (e) {
      spec.fail('loads', messageOf(e));
    }
  } else {
    candidate = target;
  }
  const problems = spec.failures.length ? [] : pluginProblems(candidate, label);
  for (const p of problems) spec.fail(p.rule, p.message);
  if (spec.failures.length) {
    for (const s of SUITES) if (s !== 'spec' && suites.get(s)!.skipped === undefined) suites.get(s)!.skipped = 'the plugin did not load';
    return report();
  }
  const plugin = candidate as ConnectorPlugin;
  progress?.info(`connector ${plugin.name} ${plugin.version} (plugin API ${PLUGIN_API_VERSION})`);

  // --- spec --------------------------------------------------------------------------------------
  await spec.timed(() => judgeManifest(plugin, spec));
  const manifestOk = spec.failures.length === 0;

  // --- streams under test ------------------------------------------------------------------------
  let plan: StreamPlan;
  try {
    plan = options.pipeline ? planFromPipeline(plugin, resolve(baseDir, options.pipeline)) : planFromEndpoints(plugin);
  } catch (e) {
    suites.get('discovery')!.fail('streams', `cannot read the streams to test: ${messageOf(e)}`);
    plan = { streams: [], config: {}, notes: [] };
  }
  const discovery = suites.get('discovery')!;
  discovery.notes.push(...plan.notes);

  // --- sandbox -----------------------------------------------------------------------------------
  const base: JsonRecord = { ...plan.config, ...(options.config ?? {}) };
  let sandbox: SandboxHandle | undefined;
  const env: KitEnv = { plugin, config: base, logs: [], errors: [], rotated: new Map() };
  const reading: SuiteName[] = ['check', 'basic_read', 'incremental', 'rerun', 'faults', 'secrets', 'abort'];
  const skipReading = (why: string) => {
    for (const s of reading) if (suites.get(s)!.skipped === undefined) suites.get(s)!.skipped = why;
  };
  if (plugin.sandbox) {
    try {
      sandbox = await plugin.sandbox({ config: base, seed: options.seed, ...(options.sandboxOptions ?? {}) });
      env.config = { ...base, ...sandbox.config };
    } catch (e) {
      spec.fail('sandbox', `sandbox() failed: ${messageOf(e)}`);
    }
  } else if (!options.config) {
    spec.fail('sandbox', 'the plugin has no sandbox(); the kit reads from it (or give a config to test against a live source)');
  }
  if (sandbox || (!plugin.sandbox && options.config)) judgeSandboxConfig(plugin, env.config, spec);

  try {
    if (!manifestOk || (plugin.sandbox && !sandbox) || (!plugin.sandbox && !options.config)) {
      skipReading(manifestOk ? 'no sandbox to read from' : 'the manifest failed the spec suite');
      judgeDiscovery(plugin, plan, env, discovery);
      return report(plugin, plan.streams.map((s) => s.spec.name));
    }
    const streams = judgeDiscovery(plugin, plan, env, discovery);
    const limits = { timeoutMs: options.readTimeoutMs ?? 60_000, abortTimeoutMs: options.abortTimeoutMs ?? 2_000 };
    if (!streams.length) skipReading('no stream to read');

    // --- check -----------------------------------------------------------------------------------
    const check = suites.get('check')!;
    if (!check.skipped) await check.timed(() => judgeCheck(plugin, env, streams, check, limits.timeoutMs));

    // --- baseline: one full read of every stream, in dependency order ------------------------------
    const needsBaseline = reading.some((s) => s !== 'check' && !suites.get(s)!.skipped);
    const baseline = new Map<string, ReadOutcome>();
    const recordsOf = (s: string) => baseline.get(s)?.records;
    const basic = suites.get('basic_read')!;
    if (needsBaseline) {
      for (const p of streams) {
        await basic.timed(async () => {
          const out = await readOnce(env, p.spec, { ...inputsFor(p, recordsOf), ...limits });
          baseline.set(p.spec.name, out);
          progress?.info(`basic_read: stream ${p.spec.name}: ${out.records.length} records`);
          if (!basic.skipped) await judgeBasicRead(p, out, sandbox, basic);
        });
      }
    }
    const brokenBaseline = (p: PlannedStream) => {
      const b = baseline.get(p.spec.name);
      return !b || b.error !== undefined || b.timedOut;
    };
    const read = (p: PlannedStream, spec: StreamSpec, input: Partial<ReadInput> = {}) =>
      readOnce(env, spec, { ...inputsFor(p, recordsOf), ...limits, ...input });

    // --- rerun -----------------------------------------------------------------------------------
    const rerun = suites.get('rerun')!;
    if (!rerun.skipped) {
      for (const p of streams) {
        if (brokenBaseline(p)) {
          rerun.notes.push(`stream ${p.spec.name}: not judged (its first read failed)`);
          continue;
        }
        await rerun.timed(() => judgeRerun(p, baseline.get(p.spec.name)!, read, rerun));
      }
    }

    // --- abort -----------------------------------------------------------------------------------
    const abort = suites.get('abort')!;
    if (!abort.skipped) for (const p of streams) await abort.timed(() => judgeAbort(p, baseline.get(p.spec.name), read, abort, limits.abortTimeoutMs));

    // --- incremental (last on the main sandbox: it may advance its data) -----------------------------
    const inc = suites.get('incremental')!;
    if (!inc.skipped) {
      const incStreams = streams.filter((p) => p.endpoint.incremental);
      if (!incStreams.length) inc.skipped = 'no stream under test supports incremental reads';
      else await inc.timed(() => judgeIncremental(incStreams, read, sandbox, inc, progress));
    }

    // --- faults (a sandbox of its own) ---------------------------------------------------------------
    const faults = suites.get('faults')!;
    if (!faults.skipped) await faults.timed(() => judgeFaults(plugin, base, options, streams, baseline, env, faults, limits));

    // --- secrets (over everything the other suites saw) ------------------------------------------------
    const secrets = suites.get('secrets')!;
    if (!secrets.skipped) await secrets.timed(() => judgeSecrets(plugin, env, baseline, streams, secrets));
    return report(plugin, streams.map((s) => s.spec.name));
  } catch (e) {
    spec.fail('loads', `the kit stopped on an unexpected error: ${messageOf(e)}`);
    return report(plugin, plan.streams.map((s) => s.spec.name));
  } finally {
    await sandbox?.close().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------------

function judgeManifest(plugin: ConnectorPlugin, s: Suite): void {
  if (typeof plugin.name !== 'string' || !/^[a-z0-9][a-z0-9-]{0,63}$/.test(plugin.name)) s.fail('name', `name ${JSON.stringify(plugin.name)} must be lowercase letters, digits and dashes`);
  if (typeof plugin.version !== 'string' || !/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(plugin.version)) s.fail('version', `version ${JSON.stringify(plugin.version)} is not semver (e.g. 0.1.0)`);
  if (typeof plugin.description !== 'string' || plugin.description.trim() === '') s.fail('description', 'description is empty');
  const cfgProblem = compiles(plugin.configSchema);
  if (cfgProblem) s.fail('config-schema', `configSchema does not compile: ${cfgProblem}`);
  else if (!describesObject(plugin.configSchema)) s.fail('config-schema', 'configSchema must describe an object (type: object)');
  if (!plugin.endpoints || typeof plugin.endpoints !== 'object') {
    s.fail('record-schema', 'endpoints is missing');
    return;
  }
  for (const [name, ep] of Object.entries(plugin.endpoints)) {
    const p = compiles(ep.recordSchema);
    if (p) s.fail('record-schema', `recordSchema does not compile: ${p}`, { stream: name });
    else if (!describesObject(ep.recordSchema)) s.fail('record-schema', 'recordSchema must describe an object (type: object)', { stream: name });
    if (ep.parameters !== undefined) {
      const q = compiles(ep.parameters);
      if (q) s.fail('parameters-schema', `parameters schema does not compile: ${q}`, { stream: name });
    }
  }
  const props = (plugin.configSchema?.properties ?? {}) as Record<string, unknown>;
  if (!Array.isArray(plugin.secretKeys)) s.fail('secret-keys', 'secretKeys must be a list (empty when the plugin has no secrets)');
  else for (const k of plugin.secretKeys) if (!(k in props)) s.fail('secret-keys', `secret key "${k}" is not a property of configSchema`);
}

function judgeSandboxConfig(plugin: ConnectorPlugin, config: JsonRecord, s: Suite): void {
  if (compiles(plugin.configSchema)) return;
  const findings = new SchemaValidator(plugin.configSchema).check(config, {
    hidden: (seg) => seg.length > 0 && (plugin.secretKeys ?? []).includes(String(seg[0])),
  });
  for (const f of findings) s.fail('sandbox-config', `the sandbox's config fails configSchema at ${formatPath(f.segments) || '(root)'}: ${f.message}`);
}

function judgeDiscovery(plugin: ConnectorPlugin, plan: StreamPlan, env: KitEnv, s: Suite): PlannedStream[] {
  const endpoints = Object.entries(plugin.endpoints ?? {});
  if (!endpoints.length) s.fail('endpoints', 'the plugin offers no endpoint');
  for (const [name, ep] of endpoints) {
    if (typeof ep.description !== 'string' || !ep.description.trim()) s.fail('endpoints', 'endpoint has no description', { stream: name });
    const schema = (ep.recordSchema ?? {});
    const props = (schema.properties ?? {}) as Record<string, unknown>;
    const required = (schema.required as string[] | undefined) ?? [];
    const field = ep.incremental?.field;
    if (field && !(field.split('.')[0] in props)) s.fail('incremental-field', `cursor field "${field}" is not a property of the recordSchema`, { stream: name });
    for (const k of ep.primaryKey ?? []) {
      const top = k.split('.')[0];
      if (!(top in props) || !required.includes(top)) s.fail('primary-key', `primary key field "${k}" must be a required property of the recordSchema`, { stream: name });
    }
    s.notes.push(`endpoint ${name}: ${ep.incremental ? 'full_refresh, incremental' : 'full_refresh'}`);
  }
  let streams = plan.streams;
  if (!streams.length) s.fail('streams', 'no stream to test (every endpoint needs parents, ids or parameters: give a pipeline)');
  if (plugin.validate && streams.length) {
    try {
      const issues = plugin.validate(env.config, streams.map((p) => p.spec)).filter((i) => (i.severity ?? 'error') === 'error');
      const bad = new Set<string>();
      for (const i of issues) {
        const m = /^streams\.([^.]+)/.exec(i.path);
        if (m) bad.add(m[1]);
        s.notes.push(`${i.path}: ${i.message} (not read)`);
      }
      streams = streams.filter((p) => !bad.has(p.spec.name));
      if (!streams.length) s.fail('streams', `validate() rejects every stream under test (${issues.map((i) => `${i.path}: ${i.message}`).join('; ')})`);
    } catch (e) {
      s.fail('streams', `validate() threw: ${messageOf(e)}`);
    }
  }
  return streams;
}

async function judgeCheck(plugin: ConnectorPlugin, env: KitEnv, streams: PlannedStream[], s: Suite, timeoutMs: number): Promise<void> {
  const attempt = async (config: JsonRecord) => {
    const ac = new AbortController();
    const logger = captureLogger(env.logs, 'check: ');
    const kitEnv = { ...env, config };
    const r = await limited(
      () => plugin.check({ config, http: httpFor(kitEnv, ac.signal, logger), logger, streams: streams.map((p) => p.spec), updateSecret: async (k, v) => void env.rotated.set(k, v) }),
      timeoutMs,
    );
    ac.abort();
    if (r.error !== undefined) env.errors.push(messageOf(r.error));
    return r;
  };
  const ok = await attempt(env.config);
  if (ok.timedOut) s.fail('check-passes', `check() did not answer within ${timeoutMs} ms`);
  else if (ok.error !== undefined) s.fail('check-passes', `check() failed against the sandbox: ${messageOf(ok.error)}`);

  const secretKeys = (plugin.secretKeys ?? []).filter((k) => typeof env.config[k] === 'string' && (env.config[k]).length > 0);
  const usesCredentials = streams.some((p) => p.endpoint.auth !== 'none');
  if (!secretKeys.length || !usesCredentials) {
    s.notes.push('check-rejects-bad-secrets: not judged (no secret credentials in the sandbox config)');
    return;
  }
  const bad: JsonRecord = { ...env.config };
  for (const k of secretKeys) bad[k] = alter(env.config[k] as string);
  const r = await attempt(bad);
  if (r.timedOut) s.fail('check-rejects-bad-secrets', `check() with altered secrets did not answer within ${timeoutMs} ms`);
  else if (r.error === undefined) s.fail('check-rejects-bad-secrets', `check() accepted altered ${secretKeys.join(', ')}`);
  else if (!(r.error instanceof Error) || !r.error.message.trim()) s.fail('check-rejects-bad-secrets', 'check() rejected altered secrets without an Error message');
}

/** A wrong value of the same shape, that contains no part of the original long enough to leak it. */
export function alter(v: string): string {
  return [...v].map((c) => (/[0-9]/.test(c) ? String((Number(c) + 5) % 10) : /[a-y]/i.test(c) ? String.fromCharCode(c.charCodeAt(0) + 1) : c)).join('');
}

async function judgeBasicRead(p: PlannedStream, out: ReadOutcome, sandbox: SandboxHandle | undefined, s: Suite): Promise<void> {
  const stream = p.spec.name;
  if (out.timedOut) s.fail('read-completes', `the read did not end within the time limit (after ${out.records.length} records)`, { stream, record: out.records.length });
  if (out.error !== undefined) s.fail('read-completes', `read() threw after ${out.records.length} records: ${messageOf(out.error)}`, { stream, record: out.records.length });
  if (!out.error && !out.timedOut && out.records.length === 0) s.fail('records', 'the read yielded no record; the sandbox should serve data for every stream under test', { stream });
  const validator = safeValidator(p.endpoint.recordSchema);
  out.records.forEach((r, i) => {
    if (!r || typeof r !== 'object' || Array.isArray(r) || !jsonSafe(r)) {
      s.fail('record-object', 'the record is not a plain JSON object (undefined values, Dates, class instances or non-finite numbers change in JSON)', { stream, record: i });
      return;
    }
    for (const f of validator?.check(r) ?? []) s.fail('record-schema', `${formatPath(f.segments) || '(record)'}: ${f.message}`, { stream, record: i });
  });
  if (sandbox?.expected && !out.error && !out.timedOut) {
    let truth: JsonRecord[] | undefined;
    try {
      truth = await sandbox.expected(p.spec);
    } catch (e) {
      s.fail('matches-sandbox', `the sandbox's expected() threw: ${messageOf(e)}`, { stream });
    }
    if (truth) judgeTruth(p, out.records, truth, s);
  }
}

function safeValidator(schema: JsonSchema): SchemaValidator | undefined {
  try {
    return new SchemaValidator(schema);
  } catch {
    return undefined;
  }
}

function judgeTruth(p: PlannedStream, records: JsonRecord[], truth: JsonRecord[], s: Suite): void {
  const stream = p.spec.name;
  const pk = p.endpoint.primaryKey;
  // Without a primary key, a record matches its truth on the fields the truth gives.
  const fields = pk?.length ? pk : [...new Set(truth.flatMap((t) => Object.keys(t)))].sort();
  const keyOf = (r: JsonRecord) => identity(r, fields);
  const got = records.map(keyOf);
  const want = truth.map(keyOf);
  for (const i of extras(want, got)) s.fail('matches-sandbox', 'the sandbox does not hold this record (or yielded it more often than it holds it)', { stream, record: i });
  const missing = extras(got, want);
  if (missing.length) s.fail('matches-sandbox', `${missing.length} record(s) of the sandbox were not read, e.g. ${canonical(truth[missing[0]]).slice(0, 200)}`, { stream });
  if (!pk?.length) return;
  // A key may repeat (the source holds the record twice): a record matches when one of its truths does.
  const byKey = new Map<string, JsonRecord[]>();
  for (const t of truth) byKey.set(keyOf(t), [...(byKey.get(keyOf(t)) ?? []), t]);
  const differs = (r: JsonRecord, t: JsonRecord) => Object.entries(t).find(([k, v]) => canonical(r[k]) !== canonical(v))?.[0];
  records.forEach((r, i) => {
    const candidates = byKey.get(keyOf(r));
    if (!candidates || candidates.some((t) => differs(r, t) === undefined)) return;
    const k = differs(r, candidates[0])!;
    s.fail('matches-sandbox', `field ${k} is ${canonical(r[k]).slice(0, 100)}, the sandbox says ${canonical(candidates[0][k]).slice(0, 100)}`, { stream, record: i });
  });
}

type Reader = (p: PlannedStream, spec: StreamSpec, input?: Partial<ReadInput>) => Promise<ReadOutcome>;

function readFailed(s: Suite, p: PlannedStream, out: ReadOutcome, what: string): boolean {
  if (out.timedOut) s.fail('read-completes', `${what} did not end within the time limit`, { stream: p.spec.name, record: out.records.length });
  else if (out.error !== undefined) s.fail('read-completes', `${what} threw after ${out.records.length} records: ${messageOf(out.error)}`, { stream: p.spec.name, record: out.records.length });
  else return false;
  return true;
}

async function judgeRerun(p: PlannedStream, first: ReadOutcome, read: Reader, s: Suite): Promise<void> {
  const stream = p.spec.name;
  const again = await read(p, { ...p.spec, incremental: false }, { state: {} });
  if (!readFailed(s, p, again, 'a second full read')) compareRecords(s, 'same-records', stream, first.records, again.records, 'the second full read');
  if (!p.endpoint.incremental) return;
  const seed = await read(p, { ...p.spec, incremental: true }, { state: {} });
  if (readFailed(s, p, seed, 'an incremental read') || !seed.state) return;
  const state = seed.state;
  const before = canonical(state);
  const a = await read(p, { ...p.spec, incremental: true }, { state });
  if (canonical(state) !== before) s.fail('state-unchanged', 'read() modified the state object it was given (the engine may reuse it)', { stream });
  const b = await read(p, { ...p.spec, incremental: true }, { state: JSON.parse(before) as StreamState });
  if (!readFailed(s, p, a, 'a read from saved state') && !readFailed(s, p, b, 'a read from saved state')) {
    compareRecords(s, 'same-records', stream, a.records, b.records, 'the second read from the same state');
  }
}

function compareRecords(s: Suite, rule: string, stream: string, first: JsonRecord[], second: JsonRecord[], what: string): void {
  const a = first.map((r) => canonical(r));
  const b = second.map((r) => canonical(r));
  for (const i of extras(a, b)) s.fail(rule, `${what} yielded a record the first read did not`, { stream, record: i });
  const lost = extras(b, a);
  for (const i of lost) s.fail(rule, `${what} did not yield record #${i} of the first read`, { stream, record: i });
}

async function judgeAbort(p: PlannedStream, baseline: ReadOutcome | undefined, read: Reader, s: Suite, abortTimeoutMs: number): Promise<void> {
  const stream = p.spec.name;
  const pre = await read(p, p.spec, { preAborted: true });
  if (pre.timedOut) s.fail('before-start', `a read started with an aborted signal did not end within ${abortTimeoutMs} ms`, { stream });
  else if (pre.records.length > 0) s.fail('before-start', `a read started with an aborted signal yielded ${pre.records.length} record(s)`, { stream, record: 0 });

  const total = baseline && !baseline.error && !baseline.timedOut ? baseline.records.length : 0;
  if (total < 2) {
    s.notes.push(`stream ${stream}: mid-read abort not judged (${total} record(s) in a full read)`);
    return;
  }
  const mid = await read(p, p.spec, { onRecord: (_r, i, abort) => i === 0 && abort() });
  const after = mid.records.length - (mid.abortedAt ?? mid.records.length);
  if (mid.timedOut) {
    s.fail('stops-promptly', `the read did not end within ${abortTimeoutMs} ms of its abort (${after} records later)`, { stream, record: mid.records.length - 1 });
  }
  // Records already fetched may still be handed over; further requests or file reads may not.
  s.notes.push(`stream ${stream}: ended ${mid.afterAbortMs ?? 0} ms after the abort, ${after} record(s) later`);
}

async function judgeIncremental(streams: PlannedStream[], read: Reader, sandbox: SandboxHandle | undefined, s: Suite, progress?: ConformanceOptions['progress']): Promise<void> {
  const inc = (p: PlannedStream) => ({ ...p.spec, incremental: true });
  const first = new Map<string, ReadOutcome>();
  for (const p of streams) {
    const out = await read(p, inc(p), { state: {} });
    first.set(p.spec.name, out);
    if (readFailed(s, p, out, 'the first incremental read')) continue;
    if (!out.state) s.fail('state-saved', 'an incremental read did not call setState(); the next run would read everything again', { stream: p.spec.name });
    else if (!jsonSafe(out.state)) s.fail('state-json', 'the state does not survive JSON (the engine stores it as JSON)', { stream: p.spec.name });
  }
  if (sandbox?.advance) {
    await sandbox.advance();
    s.notes.push('the sandbox advanced (new data) between the first and second read');
  } else {
    s.notes.push('the sandbox cannot advance: the second read must yield nothing new');
  }
  for (const p of streams) {
    const stream = p.spec.name;
    const a = first.get(stream)!;
    if (a.error !== undefined || a.timedOut || !a.state) continue;
    const b = await read(p, inc(p), { state: JSON.parse(JSON.stringify(a.state)) as StreamState });
    if (readFailed(s, p, b, 'the read from saved state')) continue;
    const full = await read(p, { ...p.spec, incremental: false }, { state: {} });
    if (readFailed(s, p, full, 'the full read')) continue;
    const pk = p.endpoint.primaryKey;
    const seenA = new Set(a.records.map((r) => identity(r, pk)));
    b.records.forEach((r, i) => {
      if (seenA.has(identity(r, pk))) s.fail('no-duplicate', 'the read from saved state yielded a record the previous read already yielded', { stream, record: i });
    });
    const seen = new Set([...seenA, ...b.records.map((r) => identity(r, pk))]);
    full.records.forEach((r, i) => {
      if (!seen.has(identity(r, pk))) s.fail('no-loss', 'a full read yields this record, but neither the first read nor the read from its saved state did', { stream, record: i });
    });
    const latest = b.state ?? a.state;
    const c = await read(p, inc(p), { state: JSON.parse(JSON.stringify(latest)) as StreamState });
    if (readFailed(s, p, c, 'the read from the latest state')) continue;
    c.records.forEach((_r, i) => s.fail('caught-up', 'a read from the latest state yielded a record although nothing new reached the source', { stream, record: i }));
    progress?.info(`incremental: stream ${stream}: ${a.records.length} then ${b.records.length} then ${c.records.length} records (full read: ${full.records.length})`);
  }
}

async function judgeFaults(
  plugin: ConnectorPlugin,
  base: JsonRecord,
  options: ConformanceOptions,
  streams: PlannedStream[],
  baseline: Map<string, ReadOutcome>,
  env: KitEnv,
  s: Suite,
  limits: { timeoutMs: number; abortTimeoutMs: number },
): Promise<void> {
  const faults = { rateLimitStorm: 3, serverErrors: 0.1, resets: 0.05, tokenExpiry: 7 };
  if (!plugin.sandbox) {
    s.skipped = 'the plugin has no sandbox to inject faults into';
    return;
  }
  let sb: SandboxHandle;
  try {
    sb = await plugin.sandbox({ config: base, seed: options.seed, ...(options.sandboxOptions ?? {}), faults });
  } catch (e) {
    s.fail('survives-faults', `sandbox() with faults failed: ${messageOf(e)}`);
    return;
  }
  try {
    if (!sb.faults?.length) {
      s.skipped = 'the sandbox injects no faults (SandboxHandle.faults is empty)';
      return;
    }
    s.notes.push(`faults injected: ${sb.faults.join(', ')}`);
    const faulty: KitEnv = { ...env, config: { ...base, ...sb.config } };
    const records = new Map<string, JsonRecord[]>();
    for (const p of streams) {
      const b = baseline.get(p.spec.name);
      if (!b || b.error !== undefined || b.timedOut) continue;
      const out = await readOnce(faulty, p.spec, { ...inputsFor(p, (x) => records.get(x) ?? baseline.get(x)?.records), ...limits });
      records.set(p.spec.name, out.records);
      if (out.timedOut || out.error !== undefined) {
        s.fail('survives-faults', `the read failed under faults after ${out.records.length} records: ${out.timedOut ? 'timed out' : messageOf(out.error)}`, { stream: p.spec.name, record: out.records.length });
        continue;
      }
      const pk = p.endpoint.primaryKey;
      if (!pk?.length) {
        // Two sandboxes may differ in what is not data (their own URLs, clock): without a key, compare counts.
        if (out.records.length !== b.records.length) s.fail('same-records', `under faults the read yielded ${out.records.length} records, without faults ${b.records.length}`, { stream: p.spec.name });
        continue;
      }
      const want = b.records.map((r) => identity(r, pk));
      const got = out.records.map((r) => identity(r, pk));
      for (const i of extras(want, got)) s.fail('same-records', 'under faults the read yielded a record (or a duplicate) a fault-free read does not', { stream: p.spec.name, record: i });
      const lost = extras(got, want);
      if (lost.length) s.fail('same-records', `under faults the read lost ${lost.length} record(s) a fault-free read yields (first: #${lost[0]} of the fault-free read)`, { stream: p.spec.name });
    }
  } finally {
    await sb.close().catch(() => undefined);
  }
}

function judgeSecrets(plugin: ConnectorPlugin, env: KitEnv, baseline: Map<string, ReadOutcome>, streams: PlannedStream[], s: Suite): void {
  const props = Object.keys((plugin.configSchema?.properties ?? {}));
  for (const k of props) {
    if (SECRET_NAME.test(k) && !(plugin.secretKeys ?? []).includes(k)) s.fail('undeclared-secret', `config key "${k}" looks like a secret but is not in secretKeys (it would be printed in errors and logs)`);
  }
  const secrets: Array<{ key: string; value: string }> = [];
  for (const k of plugin.secretKeys ?? []) {
    const v = env.config[k];
    if (typeof v === 'string' && v.length >= 4) secrets.push({ key: k, value: v }, { key: `${k} (altered by the check suite)`, value: alter(v) });
  }
  for (const [k, v] of env.rotated) if (v.length >= 4) secrets.push({ key: `${k} (rotated)`, value: v });
  if (!secrets.length) {
    s.notes.push('no secret values in the sandbox config: records and logs not scanned');
    return;
  }
  const found = (text: string) => secrets.find((x) => text.includes(x.value));
  for (const p of streams) {
    const recs = baseline.get(p.spec.name)?.records ?? [];
    recs.forEach((r, i) => {
      const hit = found(JSON.stringify(r));
      if (hit) s.fail('secret-in-record', `the record contains the value of ${hit.key}`, { stream: p.spec.name, record: i });
    });
  }
  env.logs.forEach((line, i) => {
    const hit = found(line);
    if (hit) s.fail('secret-in-log', `log line #${i} contains the value of ${hit.key}${streamOfLine(line, streams)}`, { stream: streamOfLine(line, streams, true) || undefined });
  });
  env.errors.forEach((msg, i) => {
    const hit = found(msg);
    if (hit) s.fail('secret-in-error', `error message #${i} contains the value of ${hit.key}`);
  });
  s.notes.push(`scanned ${[...baseline.values()].reduce((n, o) => n + o.records.length, 0)} records, ${env.logs.length} log lines and ${env.errors.length} error messages for ${plugin.secretKeys.length} secret key(s)`);
}

function streamOfLine(line: string, streams: PlannedStream[], bare = false): string {
  const name = streams.find((p) => line.slice(line.indexOf(': ') + 2).startsWith(`${p.spec.name}: `))?.spec.name ?? '';
  return bare ? name : name ? ` (stream ${name})` : '';
}
