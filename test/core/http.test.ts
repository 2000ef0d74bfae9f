/**
 * The shared HTTP client against a scripted loopback server: real sockets, real axios. Sleeping
 * is injected and recorded, so the tests check the waits without spending them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpClient, HttpError, RollingWindowLimiter, StopRun } from '../../core/http.ts';

type Step = { status: number; body?: unknown; headers?: Record<string, string>; reset?: boolean; raw?: string };
let script: Step[] = [];
let seen: Array<{ url: string; auth?: string; inm?: string }> = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', auth: req.headers.authorization, inm: req.headers['if-none-match'] });
    const step = script.shift() ?? { status: 200, body: { ok: true } };
    if (step.reset) return req.socket.destroy();
    res.writeHead(step.status, { 'content-type': 'application/json', ...step.headers });
    res.end(step.raw ?? (step.body === undefined ? '' : JSON.stringify(step.body)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function client(extra: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}) {
  const sleeps: number[] = [];
  const c = new HttpClient({ baseURL: base, sleep: async (ms) => void sleeps.push(ms), random: () => 1, ...extra });
  return { c, sleeps };
}

function reset(steps: Step[]) {
  script = steps;
  seen = [];
}

describe('HttpClient', () => {
  it('honours Retry-After on 429 and counts requests per endpoint', async () => {
    reset([{ status: 429, headers: { 'retry-after': '3' } }, { status: 429, headers: { 'retry-after': '1' } }, { status: 200, body: { v: 1 } }]);
    const { c, sleeps } = client();
    const res = await c.get<{ v: number }>('/x', { label: 'x' });
    expect(res.data.v).toBe(1);
    expect(sleeps).toEqual([3000, 1000]);
    expect(c.counts.x).toBe(3);
  });

  it('stops cleanly when Retry-After exceeds the wait budget, without sleeping', async () => {
    reset([{ status: 429, headers: { 'retry-after': '3600' } }]);
    const { c, sleeps } = client({ waitBudgetMs: 60_000 });
    await expect(c.get('/x', { label: 'x' })).rejects.toBeInstanceOf(StopRun);
    expect(sleeps).toEqual([]);
  });

  it('stops at once on QUOTA_EXCEEDED', async () => {
    reset([{ status: 429, headers: { 'retry-after': '5' }, body: { error: { status: 429, message: 'Too many requests', reason: 'QUOTA_EXCEEDED' } } }]);
    const { c, sleeps } = client();
    await expect(c.get('/x', { label: 'x' })).rejects.toThrow(/quota exceeded/);
    expect(sleeps).toEqual([]);
  });

  it('retries 5xx, connection resets and malformed JSON with exponential backoff', async () => {
    reset([{ status: 503 }, { status: 0, reset: true }, { status: 200, raw: '{"items": [' }, { status: 200, body: { fine: true } }]);
    const { c, sleeps } = client({ baseDelayMs: 100 });
    const res = await c.get<{ fine: boolean }>('/x', { label: 'x' });
    expect(res.data.fine).toBe(true);
    expect(sleeps).toEqual([100, 200, 400]);
  });

  it('gives up after maxAttempts and reports the API message', async () => {
    reset([{ status: 500 }, { status: 502 }, { status: 503, body: { error: { status: 503, message: 'Service unavailable' } } }]);
    const { c } = client({ maxAttempts: 3 });
    const e = await c.get('/x', { label: 'x' }).catch((err) => err);
    expect(e).toBeInstanceOf(HttpError);
    expect(e.status).toBe(503);
    expect(e.message).toContain('Service unavailable');
  });

  it('does not retry 4xx and refreshes the token once on 401', async () => {
    let n = 0;
    const auth = { token: async (force?: boolean) => (force ? `fresh${++n}` : n ? `fresh${n}` : 'stale') };
    reset([{ status: 401 }, { status: 200, body: {} }]);
    const { c } = client({ auth });
    await c.get('/x', { label: 'x' });
    expect(seen.map((s) => s.auth)).toEqual(['Bearer stale', 'Bearer fresh1']);
    reset([{ status: 404, body: { error: { status: 404, message: 'Resource not found' } } }]);
    await expect(c.get('/x', { label: 'x' })).rejects.toThrow('Resource not found');
    expect(seen).toHaveLength(1);
  });

  it('reuses an ETag and returns the cached body on 304', async () => {
    reset([{ status: 200, body: { v: 'A' }, headers: { etag: '"abc"' } }, { status: 304 }]);
    const { c } = client();
    await c.get('/p', { label: 'p', etag: true });
    const again = await c.get<{ v: string }>('/p', { label: 'p', etag: true });
    expect(seen[1].inm).toBe('"abc"');
    expect(again.notModified).toBe(true);
    expect(again.data.v).toBe('A');
  });
});

describe('RollingWindowLimiter', () => {
  it('never lets more than maxRequests into any window', async () => {
    let now = 0;
    const starts: number[] = [];
    const lim = new RollingWindowLimiter({ windowMs: 1000, maxRequests: 3 }, async (ms) => void (now += ms), () => now);
    await Promise.all(Array.from({ length: 10 }, () => lim.acquire().then(() => starts.push(now))));
    expect(starts).toHaveLength(10);
    for (const t of starts) expect(starts.filter((s) => s > t - 1000 && s <= t).length).toBeLessThanOrEqual(3);
    expect(Math.max(...starts)).toBeGreaterThanOrEqual(3000);
  });
});
