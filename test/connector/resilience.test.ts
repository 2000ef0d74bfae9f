/**
 * A run survives what a real API throws at it, with identical results: 429 bursts with
 * Retry-After, 5xx, connection resets, malformed bodies, access tokens expiring mid-run. A run
 * that exhausts its wait budget (or hits the quota) stops cleanly and the next run resumes with
 * no loss and no duplicates. Sleeping is injected: the waits are checked, not spent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type SandboxServerOptions, type SpotifySandbox } from '../../connectors/spotify/sandbox/index.ts';
import { preparePipeline, runLocal, type Prepared } from '../../core/pipeline.ts';
import { memoryLogger } from '../../core/log.ts';
import { openLake } from '../../core/query/index.ts';

const PIPELINE = join(import.meta.dirname, '..', '..', 'pipeline.yaml');
// One fixed "now" so separately started sandboxes serve identical data.
const NOW = Date.parse('2026-11-20T12:00:00Z');

const open: SpotifySandbox[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function sandbox(opts: SandboxServerOptions = {}): Promise<SpotifySandbox> {
  const sb = await startSandbox({ seed: 11, now: NOW, ...opts });
  open.push(sb);
  return sb;
}

async function lake(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'resilience-'));
  dirs.push(d);
  return d;
}

function config(sb: SpotifySandbox, extra: Record<string, unknown> = {}) {
  return { api_mode: 'development', api_base_url: sb.apiUrl, accounts_base_url: sb.accountsUrl, ...sb.credentials, rate_limit: null, ...extra };
}

const sleeps: number[] = [];
const http = { sleep: async (ms: number) => void sleeps.push(ms), random: () => 0.5 };

async function run(prep: Prepared, dir: string, sb: SpotifySandbox, extra: Record<string, unknown> = {}) {
  return runLocal(prep, { lake: dir, logger: memoryLogger(), connectorConfig: config(sb, extra), http });
}

/** Every table's rows, sorted, as JSON: "identical results" made comparable. */
async function snapshot(prep: Prepared, dir: string): Promise<Record<string, string[]>> {
  const db = await openLake(dir, prep.loaded.config.tables);
  try {
    const out: Record<string, string[]> = {};
    for (const t of Object.keys(prep.loaded.config.tables)) {
      out[t] = (await db.query(`SELECT * FROM ${t}`)).rows.map((r) => JSON.stringify(r)).sort();
    }
    return out;
  } finally {
    db.close();
  }
}

describe('resilience', () => {
  it('survives 429 bursts, 5xx, resets, malformed bodies and token expiry with identical results', async () => {
    const prep = await preparePipeline(PIPELINE);
    const clean = await lake();
    const base = await run(prep, clean, await sandbox());
    expect(base.ok, base.error).toBe(true);

    const sb = await sandbox({ faults: { burst429: 4, error5xxRate: 0.01, resetRate: 0.01, malformedRate: 0.01 } });
    const faulty = await lake();
    sleeps.length = 0;
    // Expire every access token while the run is going: requests get 401 and must refresh.
    const timer = setInterval(() => sb.expireAccessTokens(), 150);
    const res = await run(prep, faulty, sb).finally(() => clearInterval(timer));
    expect(res.ok, res.error).toBe(true);

    const statuses = sb.requests.map((r) => r.status);
    expect(statuses.filter((s) => s === 429).length).toBe(4);
    expect(statuses.some((s) => s >= 500)).toBe(true);
    expect(statuses.some((s) => s === 0)).toBe(true); // connection resets
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThan(0);
    expect(sleeps.filter((ms) => ms === 1000).length).toBeGreaterThanOrEqual(4); // Retry-After: 1
    expect(await snapshot(prep, faulty)).toEqual(await snapshot(prep, clean));
  });

  it.each([
    ['Retry-After beyond the wait budget', { rateLimit: { windowMs: 60_000, maxRequests: 30 } }, /wait budget/],
    ['QUOTA_EXCEEDED inside a playlist', { faults: { quotaExceededAfter: 45 } }, /quota exceeded/],
    // Past the playlists, inside the one-request-per-artist stream: the unfetched ids stay owed.
    ['QUOTA_EXCEEDED inside the artists', { faults: { quotaExceededAfter: 120 } }, /quota exceeded/],
  ] as const)('stops cleanly on %s and the next run resumes without loss or duplicates', async (_name, opts, message) => {
    const prep = await preparePipeline(PIPELINE);
    const clean = await lake();
    expect((await run(prep, clean, await sandbox())).ok).toBe(true);

    const dir = await lake();
    sleeps.length = 0;
    const stopped = await run(prep, dir, await sandbox(opts), { wait_budget_seconds: 5 });
    expect(stopped.ok).toBe(false);
    expect(stopped.stoppedEarly).toBe(true);
    expect(stopped.error).toMatch(message);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(5000); // never slept past the budget
    expect(stopped.streams.some((s) => s.status === 'partial')).toBe(true);

    const resumed = await run(prep, dir, await sandbox());
    expect(resumed.ok, resumed.error).toBe(true);
    expect(await snapshot(prep, dir)).toEqual(await snapshot(prep, clean));
  });
});
