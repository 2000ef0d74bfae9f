/**
 * The HTTP client plugins get in their read context: axios with one shared rolling-window rate
 * limiter, Retry-After handling under a total wait budget, exponential backoff with jitter for
 * transient failures of idempotent requests, and per-endpoint request counts for the run summary.
 */
import axios, { type AxiosInstance, type AxiosResponse, AxiosError } from 'axios';
import { HttpError, StopRun } from './errors.ts';
import type { HttpClient as PluginHttpClient, HttpOptions, HttpResponse, RateLimit, RequestOptions, WriteRequestOptions } from './plugin-api.ts';
import type { ProgressListener } from './progress.ts';

export { HttpError, StopRun } from './errors.ts';
export type { AuthProvider, HttpOptions, HttpResponse, RateLimit, RequestOptions } from './plugin-api.ts';

export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the caller's own abort reason (any value it chose) must come through as the same object, like fetch and timers/promises
    const abort = () => reject(signal?.reason ?? new Error('aborted'));
    if (signal?.aborted) return abort();
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      abort();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Rolling-window limiter shared by every request of a client (and its concurrent callers). */
export class RollingWindowLimiter {
  private stamps: number[] = [];
  private chain: Promise<void> = Promise.resolve();
  constructor(
    private readonly limit: RateLimit,
    private readonly sleep: (ms: number) => Promise<void>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Resolves when one more request fits in the window; callers queue in arrival order. */
  acquire(): Promise<void> {
    const next = this.chain.then(async () => {
      for (;;) {
        const t = this.now();
        while (this.stamps.length && this.stamps[0] <= t - this.limit.windowMs) this.stamps.shift();
        if (this.stamps.length < this.limit.maxRequests) {
          this.stamps.push(t);
          return;
        }
        await this.sleep(this.stamps[0] + this.limit.windowMs - t + 1);
      }
    });
    this.chain = next.catch(() => undefined);
    return next;
  }
}

const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ERR_BAD_RESPONSE', 'ECONNREFUSED', 'ESOCKETTIMEDOUT', 'UND_ERR_SOCKET']);

function apiMessage(body: unknown): string {
  if (body && typeof body === 'object') {
    const err = (body as { error?: unknown }).error;
    if (err && typeof err === 'object') {
      const e = err as { message?: unknown; reason?: unknown };
      return [e.message, e.reason].filter((x) => typeof x === 'string').join(' / ') || JSON.stringify(err);
    }
    if (typeof err === 'string') {
      const d = (body as { error_description?: unknown }).error_description;
      return typeof d === 'string' ? `${err}: ${d}` : err;
    }
  }
  if (typeof body === 'string') return body.slice(0, 200);
  return '';
}

function isQuotaExceeded(body: unknown): boolean {
  const err = body && typeof body === 'object' ? (body as { error?: { reason?: unknown } }).error : undefined;
  return !!err && typeof err === 'object' && err.reason === 'QUOTA_EXCEEDED';
}

const RATE_LIMIT_HEADER = /^(retry-after|x-ratelimit-[a-z-]+|ratelimit(-[a-z-]+)?)$/;

export class HttpClient implements PluginHttpClient {
  readonly counts: Record<string, number> = {};
  /** Seconds slept on Retry-After and backoff, for the run summary. */
  waitedMs = 0;
  retries = 0;
  /** Time slept on Retry-After across the run, held against the wait budget. */
  retryAfterMs = 0;
  /** Rate-limit headers the API sent (latest value of each: Retry-After, X-RateLimit-*, RateLimit-*), and 429s seen; `check` reports them. */
  readonly limitHeaders: Record<string, string> = {};
  throttled = 0;
  private readonly ax: AxiosInstance;
  private readonly limiter?: RollingWindowLimiter;
  private readonly etags = new Map<string, { etag: string; data: unknown }>();
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Told of every request, page read and wait, for live progress (set by the engine). */
  progress?: ProgressListener;

  constructor(readonly options: HttpOptions) {
    this.sleep = options.sleep ?? defaultSleep;
    this.ax = axios.create({
      baseURL: options.baseURL,
      timeout: options.timeoutMs ?? 30_000,
      // Status handling is ours: axios must not throw on 4xx/5xx.
      validateStatus: () => true,
      // Keep the body raw so malformed JSON is a retryable error, not a silent string.
      transformResponse: [(d: unknown) => d],
      responseType: 'text',
      maxRedirects: 0,
    });
    if (options.rateLimit) {
      const { maxRequests, windowMs } = options.rateLimit;
      this.limiter = new RollingWindowLimiter(options.rateLimit, (ms) => this.sleepCounted(ms, `client rate limit: ${maxRequests} requests per ${Math.round(windowMs / 1000)} s`));
    }
  }

  private async sleepCounted(ms: number, reason: string): Promise<void> {
    this.waitedMs += ms;
    this.progress?.({ type: 'wait', ms, reason });
    await this.sleep(ms, this.options.signal);
  }

  /** Total requests sent (all endpoints). */
  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  async get<T = unknown>(url: string, opts: RequestOptions): Promise<HttpResponse<T>> {
    const maxAttempts = this.options.maxAttempts ?? 6;
    const base = this.options.baseDelayMs ?? 500;
    const maxDelay = this.options.maxDelayMs ?? 30_000;
    const budget = this.options.waitBudgetMs ?? 120_000;
    const random = this.options.random ?? Math.random;
    let attempt = 0;
    let authRetried = false;
    for (;;) {
      if (this.options.signal?.aborted) throw this.options.signal.reason ?? new Error('aborted');
      attempt++;
      if (this.limiter) await this.limiter.acquire();
      const headers: Record<string, string> = {};
      const auth = opts.auth ?? this.options.auth;
      if (auth) headers.Authorization = `Bearer ${await auth.token(false)}`;
      const cacheKey = opts.etag ? this.cacheKey(url, opts.params) : undefined;
      const cached = cacheKey ? this.etags.get(cacheKey) : undefined;
      if (cached) headers['If-None-Match'] = cached.etag;
      this.counts[opts.label] = (this.counts[opts.label] ?? 0) + 1;
      this.progress?.({ type: 'request', label: opts.label });
      let res: AxiosResponse<string>;
      try {
        res = await this.ax.get<string>(url, { params: opts.params, headers, signal: this.options.signal });
      } catch (e) {
        const code = e instanceof AxiosError ? (e.code ?? '') : '';
        if (this.options.signal?.aborted) throw this.options.signal.reason ?? e;
        if (TRANSIENT_CODES.has(code) && attempt < maxAttempts) {
          await this.backoff(attempt, base, maxDelay, random, `${opts.label}: ${code}`);
          continue;
        }
        throw new HttpError(0, opts.label, this.displayUrl(url), `network error ${code || String(e)}`, undefined);
      }
      const status = res.status;
      const hdrs = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
      for (const [k, v] of Object.entries(hdrs)) if (RATE_LIMIT_HEADER.test(k)) this.limitHeaders[k] = v;
      if (status === 429) this.throttled++;
      if (status === 304 && cached) {
        this.progress?.({ type: 'page', label: opts.label });
        return { status: 200, data: cached.data as T, headers: hdrs, notModified: true };
      }
      let body: unknown = res.data;
      if (typeof res.data === 'string' && res.data.length > 0) {
        try {
          body = JSON.parse(res.data);
        } catch {
          if (status >= 200 && status < 300) {
            // A truncated or malformed success body is a transient server fault.
            if (attempt < maxAttempts) {
              await this.backoff(attempt, base, maxDelay, random, `${opts.label}: malformed JSON`);
              continue;
            }
            throw new HttpError(status, opts.label, this.displayUrl(url), 'malformed JSON body', undefined);
          }
        }
      }
      if (status >= 200 && status < 300) {
        if (cacheKey && hdrs.etag) this.etags.set(cacheKey, { etag: hdrs.etag, data: body });
        this.progress?.({ type: 'page', label: opts.label });
        return { status, data: body as T, headers: hdrs };
      }
      if (opts.accept?.includes(status)) return { status, data: body as T, headers: hdrs };
      if (status === 401 && auth && !authRetried) {
        // Expired or revoked access token: get a fresh one once, then retry.
        authRetried = true;
        attempt--;
        await auth.token(true);
        continue;
      }
      if (status === 429) {
        const retryAfter = Number(hdrs['retry-after']);
        const waitMs = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : Math.min(maxDelay, base * 2 ** attempt);
        if (isQuotaExceeded(body)) {
          throw new StopRun(`${opts.label}: Spotify quota exceeded (429 QUOTA_EXCEEDED${hdrs['retry-after'] ? `, Retry-After ${hdrs['retry-after']} s` : ''}); stopping now with state saved, run again later`);
        }
        if (this.retryAfterMs + waitMs > budget) {
          throw new StopRun(`${opts.label}: rate limited (429, Retry-After ${Math.round(waitMs / 1000)} s) beyond the wait budget of ${Math.round(budget / 1000)} s; stopping with state saved, the next run resumes`);
        }
        this.retries++;
        this.retryAfterMs += waitMs;
        this.options.logger?.debug(`${opts.label}: 429, waiting ${waitMs} ms (Retry-After)`);
        await this.sleepCounted(waitMs, `${opts.label}: 429 Too Many Requests, Retry-After ${hdrs['retry-after'] ?? 'absent'}`);
        attempt--; // 429s are governed by the wait budget, not by the attempt count
        continue;
      }
      if (status >= 500 && attempt < maxAttempts) {
        await this.backoff(attempt, base, maxDelay, random, `${opts.label}: HTTP ${status}`);
        continue;
      }
      throw new HttpError(status, opts.label, this.displayUrl(url), apiMessage(body), body);
    }
  }

  /**
   * A form POST (OAuth token endpoint). Not retried on 4xx (an `invalid_grant` must not be
   * retried); 5xx and resets are retried since a token request is safe to repeat.
   */
  async postForm<T = unknown>(url: string, form: Record<string, string>, opts: { label: string; headers?: Record<string, string> }): Promise<HttpResponse<T>> {
    const maxAttempts = this.options.maxAttempts ?? 6;
    const random = this.options.random ?? Math.random;
    for (let attempt = 1; ; attempt++) {
      if (this.limiter) await this.limiter.acquire();
      this.counts[opts.label] = (this.counts[opts.label] ?? 0) + 1;
      this.progress?.({ type: 'request', label: opts.label });
      let res: AxiosResponse<string>;
      try {
        res = await this.ax.post<string>(url, new URLSearchParams(form).toString(), {
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...opts.headers },
          signal: this.options.signal,
        });
      } catch (e) {
        const code = e instanceof AxiosError ? (e.code ?? '') : '';
        if (TRANSIENT_CODES.has(code) && attempt < maxAttempts) {
          await this.backoff(attempt, this.options.baseDelayMs ?? 500, this.options.maxDelayMs ?? 30_000, random, `${opts.label}: ${code}`);
          continue;
        }
        throw new HttpError(0, opts.label, this.displayUrl(url), `network error ${code || String(e)}`, undefined);
      }
      let body: unknown = res.data;
      try {
        body = JSON.parse(res.data);
      } catch {
        /* non-JSON error bodies are kept as text */
      }
      if (res.status >= 500 && attempt < maxAttempts) {
        await this.backoff(attempt, this.options.baseDelayMs ?? 500, this.options.maxDelayMs ?? 30_000, random, `${opts.label}: HTTP ${res.status}`);
        continue;
      }
      const headers = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
      return { status: res.status, data: body as T, headers };
    }
  }

  /**
   * A JSON write. 429 (within the wait budget, and never for QUOTA_EXCEEDED) and one 401 (a fresh
   * token) are retried since the server did not act on them; 5xx and resets only when the
   * request is idempotent, since an append the server did apply must not be sent twice.
   */
  async send<T = unknown>(method: 'POST' | 'PUT' | 'DELETE', url: string, opts: WriteRequestOptions): Promise<HttpResponse<T>> {
    const maxAttempts = opts.idempotent ? (this.options.maxAttempts ?? 6) : 1;
    const base = this.options.baseDelayMs ?? 500;
    const maxDelay = this.options.maxDelayMs ?? 30_000;
    const budget = this.options.waitBudgetMs ?? 120_000;
    const random = this.options.random ?? Math.random;
    let authRetried = false;
    for (let attempt = 1, guard = 0; guard < 1000; guard++) {
      if (this.options.signal?.aborted) throw this.options.signal.reason ?? new Error('aborted');
      if (this.limiter) await this.limiter.acquire();
      const headers: Record<string, string> = {};
      const auth = opts.auth ?? this.options.auth;
      if (auth) headers.Authorization = `Bearer ${await auth.token(false)}`;
      if (opts.json !== undefined) headers['Content-Type'] = 'application/json';
      this.counts[opts.label] = (this.counts[opts.label] ?? 0) + 1;
      this.progress?.({ type: 'request', label: opts.label });
      let res: AxiosResponse<string>;
      try {
        res = await this.ax.request<string>({
          method, url, params: opts.params, headers, signal: this.options.signal,
          data: opts.json === undefined ? undefined : JSON.stringify(opts.json),
        });
      } catch (e) {
        const code = e instanceof AxiosError ? (e.code ?? '') : '';
        if (this.options.signal?.aborted) throw this.options.signal.reason ?? e;
        if (TRANSIENT_CODES.has(code) && attempt < maxAttempts) {
          await this.backoff(attempt++, base, maxDelay, random, `${opts.label}: ${code}`);
          continue;
        }
        throw new HttpError(0, opts.label, this.displayUrl(url), `network error ${code || String(e)}`, undefined, method);
      }
      const status = res.status;
      const hdrs = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
      for (const [k, v] of Object.entries(hdrs)) if (RATE_LIMIT_HEADER.test(k)) this.limitHeaders[k] = v;
      let body: unknown = res.data;
      if (typeof res.data === 'string' && res.data.length > 0) {
        try {
          body = JSON.parse(res.data);
        } catch {
          /* kept as text */
        }
      } else if (res.data === '') body = undefined;
      if (status >= 200 && status < 300) return { status, data: body as T, headers: hdrs };
      if (opts.accept?.includes(status)) return { status, data: body as T, headers: hdrs };
      if (status === 401 && auth && !authRetried) {
        authRetried = true;
        await auth.token(true);
        continue;
      }
      if (status === 429) {
        this.throttled++;
        const retryAfter = Number(hdrs['retry-after']);
        const waitMs = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : Math.min(maxDelay, base * 2 ** attempt);
        if (isQuotaExceeded(body)) {
          throw new StopRun(`${opts.label}: Spotify quota exceeded (429 QUOTA_EXCEEDED${hdrs['retry-after'] ? `, Retry-After ${hdrs['retry-after']} s` : ''}); run again later`);
        }
        if (this.retryAfterMs + waitMs > budget) {
          throw new StopRun(`${opts.label}: rate limited (429, Retry-After ${Math.round(waitMs / 1000)} s) beyond the wait budget of ${Math.round(budget / 1000)} s; run again later`);
        }
        this.retries++;
        this.retryAfterMs += waitMs;
        await this.sleepCounted(waitMs, `${opts.label}: 429 Too Many Requests, Retry-After ${hdrs['retry-after'] ?? 'absent'}`);
        continue;
      }
      if (status >= 500 && attempt < maxAttempts) {
        await this.backoff(attempt++, base, maxDelay, random, `${opts.label}: HTTP ${status}`);
        continue;
      }
      throw new HttpError(status, opts.label, this.displayUrl(url), apiMessage(body), body, method);
    }
    throw new HttpError(0, opts.label, this.displayUrl(url), 'gave up after 1000 attempts', undefined, method);
  }

  private async backoff(attempt: number, base: number, max: number, random: () => number, why: string): Promise<void> {
    // Full jitter: spreads retries of concurrent requests instead of synchronising them.
    const ms = Math.round(random() * Math.min(max, base * 2 ** (attempt - 1)));
    this.retries++;
    this.options.logger?.debug(`${why}; retry ${attempt} in ${ms} ms`);
    await this.sleepCounted(ms, `${why}, retry ${attempt}`);
  }

  private cacheKey(url: string, params?: RequestOptions['params']): string {
    const q = params ? JSON.stringify(Object.entries(params).sort()) : '';
    return `${url}?${q}`;
  }

  private displayUrl(url: string): string {
    // Query strings may carry cursors but never credentials; still, keep messages short.
    return url.startsWith('http') ? url.replace(/^https?:\/\/[^/]+/, '') : url;
  }
}
