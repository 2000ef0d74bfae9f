/**
 * The HTTP side of the sandbox: node:http on 127.0.0.1, the accounts routes, then for `/v1` the
 * fault injection, rate limiting, authentication and the API routes. Every request served is
 * appended to the request log with the status actually sent (0 for a reset connection).
 */
import http from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SPOTIFY_API_BASE, type SandboxData } from './data.ts';
import { Rng } from './prng.ts';
import type { AuthService, HttpAnswer } from './auth.ts';
import { ApiError, buildIndexes, matchRoute, matchWriteRoute, runRoute, type ApiResult } from './routes.ts';
import type { ProfileRules } from './render.ts';

export interface RequestLogEntry {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  at: number;
  /** The parsed JSON body of a write request (POST/PUT/DELETE on `/v1`), as received. */
  body?: unknown;
}

/** Largest request body the sandbox reads (a 100-URI write is ~4 KB). */
const MAX_BODY_BYTES = 1 << 20;

export interface FaultOptions {
  /** Probability of a 500/502/503 per API request. */
  error5xxRate?: number;
  /** Probability of destroying the socket without an answer per API request. */
  resetRate?: number;
  /** Delay before every API answer. */
  slowMs?: number;
  /** Probability that a 200 answer carries a truncated JSON body. */
  malformedRate?: number;
  /** The first N API requests get 429 with `Retry-After: 1`. */
  burst429?: number;
  /** After N API requests every request gets the July 2026 quota 429 (doc §1, §6). */
  quotaExceededAfter?: number;
}

export interface ServerConfig {
  accountError?: keyof typeof ACCOUNT_ERRORS;
  seed: number;
  data: SandboxData;
  rules: ProfileRules;
  auth: AuthService;
  rateLimit: { windowMs: number; maxRequests: number } | null;
  faults: FaultOptions;
  clock: () => number;
  requests: RequestLogEntry[];
}

const JSON_TYPE = 'application/json; charset=utf-8';

function errorBody(status: number, message: string | null, extra: Record<string, unknown> = {}) {
  return { error: message === null ? { status } : { status, message, ...extra } };
}

function etagOf(body: string): string {
  return `"${createHash('sha1').update(body).digest('hex')}"`;
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        req.destroy();
        reject(new Error('request body too large'));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Stands for a write body that is not JSON (answered 400 "Error parsing JSON."). */
const MALFORMED = Symbol('malformed JSON');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 403 messages Spotify sends for account problems, as observed in 2026 (doc §6). */
export const ACCOUNT_ERRORS = {
  not_allowlisted: 'Check settings on developer.spotify.com/dashboard, the user may not be registered.',
  owner_without_premium:
    'Active premium subscription required for the owner of the app. When the subscription status changes, it can take a few hours before requests are allowed again.',
} as const;

export function createSandboxServer(cfg: ServerConfig): { server: http.Server; listen: (port: number) => Promise<number> } {
  const faultRng = Rng.derive(cfg.seed, 'faults');
  const indexes = buildIndexes(cfg.data);
  const windows = new Map<string, number[]>();
  let apiCount = 0;
  let apiBase = SPOTIFY_API_BASE;

  /** Bodies of write requests, logged with their answers. */
  const bodies = new WeakMap<http.IncomingMessage, unknown>();
  const log = (req: http.IncomingMessage, url: URL, status: number, at: number) => {
    const entry: RequestLogEntry = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), status, at };
    if (bodies.has(req)) {
      const body = bodies.get(req);
      entry.body = body === MALFORMED ? '(malformed JSON)' : body;
    }
    cfg.requests.push(entry);
  };

  /** Serialise, point URLs at this server, apply ETag/304, and send. */
  const send = (
    req: http.IncomingMessage, res: http.ServerResponse, url: URL, at: number, answer: HttpAnswer | ApiResult,
    opts: { etag?: boolean; malformed?: boolean } = {},
  ) => {
    const headers: Record<string, string> = { ...(answer.headers ?? {}) };
    let payload: string | undefined;
    if ('text' in answer && answer.text !== undefined) {
      payload = answer.text;
      headers['content-type'] = 'text/plain; charset=utf-8';
    } else if (answer.body !== undefined) {
      payload = JSON.stringify(answer.body).split(SPOTIFY_API_BASE).join(apiBase);
      headers['content-type'] = JSON_TYPE;
    }
    let status = answer.status;
    if (opts.etag && status === 200 && payload !== undefined && !opts.malformed) {
      const etag = etagOf(payload);
      headers.etag = etag;
      if (etagMatches(req.headers['if-none-match'], etag)) {
        status = 304;
        payload = undefined;
        delete headers['content-type'];
      }
    }
    if (opts.malformed && status === 200 && payload !== undefined) {
      // A body cut in the middle: valid HTTP, invalid JSON.
      payload = payload.slice(0, Math.max(1, Math.floor(payload.length / 2)));
    }
    if (url.pathname.startsWith('/v1')) headers['cache-control'] = 'private, max-age=0';
    if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
    res.writeHead(status, headers);
    res.end(payload);
    log(req, url, status, at);
  };

  const apiError = (e: ApiError): ApiResult => ({ status: e.status, body: errorBody(e.status, e.apiMessage, e.extra) });

  const handleApi = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL, at: number) => {
    apiCount++;
    const n = apiCount;
    // Fixed number of draws per request, so the fault sequence does not depend on the options.
    const [rReset, r5xx, rMalformed, rPick] = [faultRng.float(), faultRng.float(), faultRng.float(), faultRng.float()];
    const f = cfg.faults;
    if (f.slowMs) await sleep(f.slowMs);

    if (f.burst429 && n <= f.burst429) {
      return send(req, res, url, at, { status: 429, headers: { 'retry-after': '1' }, body: errorBody(429, 'API rate limit exceeded') });
    }
    if (f.quotaExceededAfter !== undefined && n > f.quotaExceededAfter) {
      // July 2026 quota body (doc §1); Retry-After up to 86,400 s has been observed (doc §6).
      return send(req, res, url, at, {
        status: 429, headers: { 'retry-after': '86400' },
        body: errorBody(429, 'Too many requests', { reason: 'QUOTA_EXCEEDED' }),
      });
    }
    if (cfg.rateLimit) {
      // Rolling window per client (doc §7: per developer account, rolling 30 s).
      const key = cfg.auth.clientOf(req.headers.authorization);
      const now = cfg.clock();
      const times = (windows.get(key) ?? []).filter((t) => t > now - cfg.rateLimit!.windowMs);
      windows.set(key, times);
      if (times.length >= cfg.rateLimit.maxRequests) {
        const retry = Math.max(1, Math.ceil((times[0] + cfg.rateLimit.windowMs - now) / 1000));
        return send(req, res, url, at, { status: 429, headers: { 'retry-after': String(retry) }, body: errorBody(429, 'API rate limit exceeded') });
      }
      times.push(now);
    }
    if (f.resetRate && rReset < f.resetRate) {
      req.socket.destroy();
      log(req, url, 0, at);
      return;
    }
    if (f.error5xxRate && r5xx < f.error5xxRate) {
      const status = [500, 502, 503][Math.floor(rPick * 3)];
      const message = status === 500 ? 'Server error.' : status === 502 ? 'Bad gateway.' : 'Service unavailable';
      return send(req, res, url, at, { status, body: errorBody(status, message) });
    }

    if (req.method !== 'GET') return handleWrite(req, res, url, at);
    const match = matchRoute(url.pathname);
    if (!match) return send(req, res, url, at, { status: 404, body: errorBody(404, 'Service not found') });
    const verified = cfg.auth.verify(req.headers.authorization);
    if (!verified.ok) return send(req, res, url, at, verified.answer);
    let result: ApiResult;
    const accountError = cfg.accountError ? ACCOUNT_ERRORS[cfg.accountError] : undefined;
    try {
      // Development Mode account rules apply to user tokens (doc §5.2 step 6, §6).
      if (accountError && verified.token.kind === 'user') throw new ApiError(403, accountError);
      result = runRoute(match.route, {
        data: cfg.data, rules: cfg.rules, token: verified.token, query: url.searchParams, params: match.params,
        path: url.pathname + url.search, indexes,
      });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      result = apiError(e);
    }
    const malformed = !!f.malformedRate && rMalformed < f.malformedRate && result.status === 200;
    return send(req, res, url, at, result, { etag: result.etag, malformed });
  };

  /** POST/PUT/DELETE: the playlist write routes (routes.ts), the body parsed as JSON. */
  const handleWrite = (req: http.IncomingMessage, res: http.ServerResponse, url: URL, at: number) => {
    const match = matchWriteRoute(req.method ?? '', url.pathname);
    if (!match) {
      const known = matchRoute(url.pathname) !== null;
      return send(req, res, url, at, known ? { status: 405, body: errorBody(405, 'Method not allowed') } : { status: 404, body: errorBody(404, 'Service not found') });
    }
    const verified = cfg.auth.verify(req.headers.authorization);
    if (!verified.ok) return send(req, res, url, at, verified.answer);
    const raw = bodies.get(req);
    let result: ApiResult;
    const accountError = cfg.accountError ? ACCOUNT_ERRORS[cfg.accountError] : undefined;
    try {
      if (raw === MALFORMED) throw new ApiError(400, 'Error parsing JSON.');
      if (accountError && verified.token.kind === 'user') throw new ApiError(403, accountError);
      result = match.route.handler({
        data: cfg.data, rules: cfg.rules, token: verified.token, query: url.searchParams, params: match.params,
        path: url.pathname + url.search, indexes, body: raw, now: cfg.clock(),
      });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      result = apiError(e);
    }
    return send(req, res, url, at, result);
  };

  const handler = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const at = cfg.clock();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    try {
      if (url.pathname === '/api/token') {
        const body = await readBody(req);
        if (req.method !== 'POST') return send(req, res, url, at, { status: 405, body: { error: 'invalid_request', error_description: 'Method not allowed' } });
        return send(req, res, url, at, cfg.auth.token(req.headers.authorization, new URLSearchParams(body)));
      }
      if (url.pathname === '/authorize') {
        req.resume();
        return send(req, res, url, at, cfg.auth.authorize(url.searchParams));
      }
      if (url.pathname === '/v1' || url.pathname.startsWith('/v1/')) {
        if (req.method === 'GET' || req.method === 'HEAD') req.resume();
        else {
          // Write requests are logged with their JSON body (tests check what was written).
          const text = await readBody(req);
          let parsed: unknown;
          try {
            parsed = text.trim() === '' ? undefined : JSON.parse(text);
          } catch {
            parsed = MALFORMED;
          }
          bodies.set(req, parsed);
        }
        return await handleApi(req, res, url, at);
      }
      req.resume();
      return send(req, res, url, at, { status: 404, body: errorBody(404, 'Service not found') });
    } catch (e) {
      if (!res.headersSent && !res.destroyed) {
        send(req, res, url, at, { status: 500, body: errorBody(500, `Sandbox error: ${(e as Error).message}`) });
      }
    }
  };

  const server = http.createServer((req, res) => { void handler(req, res); });
  return {
    server,
    listen(port: number) {
      return new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          const actual = (server.address() as AddressInfo).port;
          apiBase = `http://127.0.0.1:${actual}/v1`;
          resolve(actual);
        });
      });
    },
  };
}
