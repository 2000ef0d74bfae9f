import { describe, expect, it } from 'vitest';
import type { SandboxServerOptions, SpotifySandbox } from '../../connectors/spotify/sandbox/index.ts';
import { api, start, userToken } from './helpers.ts';

async function withSandbox(opts: SandboxServerOptions, fn: (sb: SpotifySandbox, tok: string) => Promise<void>) {
  const sb = await start(opts);
  try {
    await fn(sb, await userToken(sb));
  } finally {
    await sb.close();
  }
}

/** Statuses of `n` sequential API requests (0 = connection reset). */
async function statuses(sb: SpotifySandbox, tok: string, n: number, path = '/me'): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    try {
      out.push((await api(sb, tok, path)).status);
    } catch {
      out.push(0);
    }
  }
  return out;
}

describe('sandbox rate limit and faults', () => {
  it('rolling-window rate limit: 429 with an integer Retry-After >= 1, per client', async () => {
    await withSandbox({ rateLimit: { windowMs: 30_000, maxRequests: 5 } }, async (sb, tok) => {
      const got = await statuses(sb, tok, 7);
      expect(got).toEqual([200, 200, 200, 200, 200, 429, 429]);
      const r = await api(sb, tok, '/me');
      expect(r.status).toBe(429);
      const retry = Number(r.headers.get('retry-after'));
      expect(Number.isInteger(retry)).toBe(true);
      expect(retry).toBeGreaterThanOrEqual(1);
      expect(retry).toBeLessThanOrEqual(30);
      expect(r.body.error.status).toBe(429);
      // The token endpoint is not rate limited.
      expect(await userToken(sb)).toMatch(/^BQ/);
    });
  });

  it('the window rolls: requests are allowed again once it has passed', async () => {
    let now = 1_000_000;
    await withSandbox({ rateLimit: { windowMs: 1000, maxRequests: 2 }, clock: () => now }, async (sb, tok) => {
      expect(await statuses(sb, tok, 3)).toEqual([200, 200, 429]);
      now += 1001;
      expect(await statuses(sb, tok, 1)).toEqual([200]);
    });
  });

  it('burst429: the first N API requests get 429 with Retry-After: 1', async () => {
    await withSandbox({ faults: { burst429: 3 } }, async (sb, tok) => {
      sb.resetLog();
      const r = await api(sb, tok, '/me');
      expect(r.status).toBe(429);
      expect(r.headers.get('retry-after')).toBe('1');
      expect(await statuses(sb, tok, 3)).toEqual([429, 429, 200]);
      expect(sb.requests.map((x) => x.status)).toEqual([429, 429, 429, 200]);
    });
  });

  it('quotaExceededAfter: QUOTA_EXCEEDED 429 with Retry-After 86400 from then on', async () => {
    await withSandbox({ faults: { quotaExceededAfter: 2 } }, async (sb, tok) => {
      expect(await statuses(sb, tok, 2)).toEqual([200, 200]);
      const r = await api(sb, tok, '/me');
      expect(r.status).toBe(429);
      expect(r.headers.get('retry-after')).toBe('86400');
      expect(r.body).toEqual({ error: { status: 429, message: 'Too many requests', reason: 'QUOTA_EXCEEDED' } });
    });
  });

  it('error5xxRate: seeded 5xx answers with an error body', async () => {
    await withSandbox({ faults: { error5xxRate: 0.5 } }, async (sb, tok) => {
      const got = await statuses(sb, tok, 30);
      const errors = got.filter((s) => s >= 500);
      expect(errors.length).toBeGreaterThan(5);
      expect(errors.length).toBeLessThan(25);
      for (const s of errors) expect([500, 502, 503]).toContain(s);
      // Deterministic: the same seed gives the same sequence.
      const sb2 = await start({ faults: { error5xxRate: 0.5 } });
      try {
        expect(await statuses(sb2, await userToken(sb2), 30)).toEqual(got);
      } finally {
        await sb2.close();
      }
    });
  });

  it('resetRate: the socket is destroyed and the log records status 0', async () => {
    await withSandbox({ faults: { resetRate: 1 } }, async (sb, tok) => {
      sb.resetLog();
      await expect(api(sb, tok, '/me')).rejects.toThrow();
      expect(sb.requests).toHaveLength(1);
      expect(sb.requests[0].status).toBe(0);
    });
  });

  it('malformedRate: 200 with a truncated JSON body', async () => {
    await withSandbox({ faults: { malformedRate: 1 } }, async (sb, tok) => {
      const r = await api(sb, tok, '/me');
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toContain('application/json');
      expect(() => JSON.parse(r.text)).toThrow();
      expect(r.text.length).toBeGreaterThan(0);
    });
  });

  it('slowMs delays API answers', async () => {
    await withSandbox({ faults: { slowMs: 150 } }, async (sb, tok) => {
      const t0 = Date.now();
      expect((await api(sb, tok, '/me')).status).toBe(200);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    });
  });
});
