/**
 * How the kit drives a plugin: one read of one stream with its own HTTP client, signal, state,
 * parents and ids, under a time limit; and how it compares records across reads.
 */
import { HttpClient, defaultSleep } from '../http.ts';
import type { ConnectorPlugin, JsonRecord, Logger, ReadContext, StreamSpec, StreamState } from '../plugin-api.ts';

/** A logger that keeps every line unredacted: the kit must see what a plugin would leak. */
export function captureLogger(into: string[], prefix = ''): Logger {
  const rec = (level: string) => (m: string) => {
    into.push(`${level}: ${prefix}${m}`);
  };
  return { info: rec('info'), warn: rec('warn'), debug: rec('debug') };
}

export interface ReadInput {
  state?: StreamState;
  parents?: JsonRecord[];
  ids?: string[];
  /** Abort before the read starts. */
  preAborted?: boolean;
  /** Called after each record; may abort the read (through `abort`). */
  onRecord?: (record: JsonRecord, index: number, abort: () => void) => void;
  /** Time allowed from start (or from the abort, once aborted). */
  timeoutMs: number;
  abortTimeoutMs: number;
}

export interface ReadOutcome {
  records: JsonRecord[];
  /** The last state the plugin set, if any. */
  state?: StreamState;
  error?: unknown;
  timedOut?: boolean;
  /** Index of the first record yielded after the abort (records.length when none). */
  abortedAt?: number;
  /** Milliseconds from the abort to the end of the read. */
  afterAbortMs?: number;
  notes: Record<string, number>;
}

export interface KitEnv {
  plugin: ConnectorPlugin;
  config: JsonRecord;
  logs: string[];
  /** Error messages seen (read and check failures), for the secrets suite. */
  errors: string[];
  /** Secret values the plugin handed back (rotations): they must not leak either. */
  rotated: Map<string, string>;
}

export function httpFor(env: KitEnv, signal: AbortSignal, logger: Logger): HttpClient {
  return new HttpClient({
    ...(env.plugin.httpOptions?.(env.config) ?? { baseURL: '' }),
    logger,
    signal,
    // The sandbox's Retry-After and backoff are honoured in count, not in wall-clock time.
    sleep: (ms, s) => defaultSleep(Math.min(ms, 5), s),
    baseDelayMs: 1,
    maxDelayMs: 5,
  });
}

/** One read of one stream, never hanging longer than its limits. */
export async function readOnce(env: KitEnv, spec: StreamSpec, input: ReadInput): Promise<ReadOutcome> {
  const ac = new AbortController();
  if (input.preAborted) ac.abort(new Error('aborted by the conformance kit'));
  const logger = captureLogger(env.logs, `${spec.name}: `);
  const out: ReadOutcome = { records: [], notes: {} };
  let abortTime: number | undefined;
  const abort = () => {
    if (ac.signal.aborted) return;
    abortTime = Date.now();
    out.abortedAt = out.records.length;
    ac.abort(new Error('aborted by the conformance kit'));
  };
  if (input.preAborted) {
    abortTime = Date.now();
    out.abortedAt = 0;
  }
  const ctx: ReadContext = {
    config: env.config,
    http: httpFor(env, ac.signal, logger),
    logger,
    signal: ac.signal,
    state: input.state ?? {},
    setState: (s) => {
      out.state = s;
    },
    parents: input.parents,
    ids: input.ids,
    note: (key, n = 1) => {
      out.notes[key] = (out.notes[key] ?? 0) + n;
    },
    updateSecret: async (key, value) => {
      env.rotated.set(key, value);
    },
  };
  const started = Date.now();
  let iterator: AsyncIterator<JsonRecord> | undefined;
  try {
    iterator = env.plugin.read(spec, ctx)[Symbol.asyncIterator]();
    for (;;) {
      const deadline = abortTime !== undefined ? abortTime + input.abortTimeoutMs : started + input.timeoutMs;
      const step = await withDeadline(iterator.next(), deadline);
      if (step === TIMEOUT) {
        out.timedOut = true;
        void Promise.resolve(iterator.return?.()).catch(() => undefined);
        break;
      }
      if (step.done) break;
      out.records.push(step.value);
      input.onRecord?.(step.value, out.records.length - 1, abort);
    }
  } catch (e) {
    out.error = e;
    env.errors.push(messageOf(e));
  } finally {
    if (!ac.signal.aborted) ac.abort(new Error('read finished'));
  }
  if (abortTime !== undefined) out.afterAbortMs = Date.now() - abortTime;
  return out;
}

const TIMEOUT = Symbol('timeout');

async function withDeadline<T>(p: Promise<T>, deadline: number): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<typeof TIMEOUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMEOUT), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `fn` with a time limit; resolves `TIMEOUT_RESULT` when it takes longer. */
export async function limited<T>(fn: () => Promise<T>, ms: number): Promise<{ value?: T; error?: unknown; timedOut?: boolean }> {
  try {
    const r = await withDeadline(fn(), Date.now() + ms);
    return r === TIMEOUT ? { timedOut: true } : { value: r };
  } catch (e) {
    return { error: e };
  }
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** JSON with sorted keys: equal data, equal text. */
export function canonical(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object' && (v).constructor === Object) {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, sortKeys(o[k])]),
    );
  }
  return v;
}

export function valueAtDot(record: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), record);
}

/** A record's identity: its primary key when the endpoint declares one, else the whole record. */
export function identity(record: JsonRecord, primaryKey?: string[]): string {
  return primaryKey?.length ? JSON.stringify(primaryKey.map((p) => valueAtDot(record, p) ?? null)) : canonical(record);
}

/** Counts per key. */
export function multiset(keys: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

/** Indices in `b` whose key is missing from (or over-represented against) `a`. */
export function extras(a: string[], b: string[]): number[] {
  const left = multiset(a);
  const out: number[] = [];
  b.forEach((k, i) => {
    const n = left.get(k) ?? 0;
    if (n > 0) left.set(k, n - 1);
    else out.push(i);
  });
  return out;
}

/** `value` survives JSON unchanged (no undefined, functions, Dates, class instances, NaN). */
export function jsonSafe(value: unknown): boolean {
  try {
    return canonical(JSON.parse(JSON.stringify(value))) === canonical(value) && plainDeep(value);
  } catch {
    return false;
  }
}

function plainDeep(v: unknown): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(plainDeep);
  if (typeof v === 'object') {
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return false;
    return Object.values(v).every((x) => x !== undefined && plainDeep(x));
  }
  return false;
}
