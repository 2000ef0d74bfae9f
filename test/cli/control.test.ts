/**
 * Control over runs, as an operator meets it (issue 14): `run --streams`, `run --full-refresh`,
 * `state show|reset`, `run --time-limit`. The CLI runs as a child process on the offline sandbox.
 */
import { describe, expect, it, beforeAll, afterAll, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { duration } from '../../core/cli/options.ts';
import { builtTablesTable, driftSection, type BuiltTable } from '../../core/cli/format.ts';
import { deadlineSignal } from '../../core/engine/deadline.ts';
import { StopRun } from '../../core/errors.ts';
import { HttpClient } from '../../core/http.ts';
import { rateLimitReport } from '../../core/cli/login.ts';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'spotify-pipeline.mjs');

/** The sandbox's data is relative to this time, not the clock: runs in different minutes serve the same playlists. */
const SANDBOX_NOW = '2026-06-01T12:00:00Z';

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, SPOTIFY_CLIENT_ID: '', SPOTIFY_SANDBOX_NOW: SANDBOX_NOW }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A stream's row of the run summary: status, records and requests (bytes hold a space: "1.4 KiB"). */
function row(stdout: string, stream: string): { status: string; records: number; requests: number } | undefined {
  const m = new RegExp(`^${stream}\\s+\\S+\\s+(ok|partial|failed|not run)\\s+(\\d+)\\s+\\d+\\s+[\\d.]+ \\S+\\s+(\\d+)`, 'm').exec(stdout);
  return m ? { status: m[1], records: Number(m[2]), requests: Number(m[3]) } : undefined;
}

describe('run --streams, --full-refresh, --time-limit and state show|reset', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'control-'));
    await copyFile(join(ROOT, 'pipeline.yaml'), join(dir, 'pipeline.yaml'));
    await mkdir(join(dir, 'connectors', 'spotify-history'), { recursive: true });
    await copyFile(join(ROOT, 'connectors', 'spotify-history', 'pipeline.yaml'), join(dir, 'connectors', 'spotify-history', 'pipeline.yaml'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('--time-limit stops cleanly with exit 0, commits what it read, builds no table; the next run completes', () => {
    const r = cli(['run', '--sandbox', '--time-limit', '1ms'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/stopped early \(state saved\)/);
    expect(r.stdout).toMatch(/Not run: my-spotify-history \(spotify-history\), the time limit was reached before it started/);
    expect(r.stdout).not.toMatch(/^table\s+rows/m);
    expect(r.stderr).toMatch(/^time limit reached \(--time-limit 1 ms\): what was read is committed with its state; run again to resume/m);
    const next = cli(['run', '--sandbox'], dir);
    expect(next.code).toBe(0);
    for (const s of ['recently_played', 'my_playlists', 'playlist_items', 'artists']) expect(row(next.stdout, s)?.status).toBe('ok');
    expect(row(next.stdout, 'playlist_items')!.records).toBeGreaterThan(0);
    // The tables' lines say where the records that are not rows went (tracks: a filter and dedupe).
    const tracks = /^tracks\s+(\d+)\s+(\d+)\s+\d+\s+[\d.]+ \S+\s+(\d+)\s+[\d.]+\s+(.*)$/m.exec(next.stdout);
    expect(tracks, next.stdout).not.toBeNull();
    const [records, rows, quarantined] = tracks!.slice(1, 4).map(Number);
    const notes = Object.fromEntries(tracks![4].trim().split(' ').map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
    expect(notes.duplicates).toBeGreaterThan(0);
    expect((notes.rows_from_records ?? records) - quarantined - (notes.filtered ?? 0) - notes.duplicates).toBe(rows);
    expect(next.stdout).toMatch(/^table\s+records\s+rows\s+files\s+bytes\s+partitions\s+quarantined\s+seconds\s+notes$/m);
  });

  it('--streams runs the named streams and the streams they read from, and says which were added', () => {
    const r = cli(['run', '--sandbox', '--streams', 'playlist_items'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Streams: playlist_items; added, as it feeds them (for_each / ids_from): my_playlists');
    expect(row(r.stdout, 'my_playlists')?.status).toBe('ok');
    expect(row(r.stdout, 'playlist_items')?.status).toBe('ok');
    expect(row(r.stdout, 'recently_played')).toBeUndefined();
    expect(row(r.stdout, 'artists')).toBeUndefined();
    expect(r.stdout).toContain('Not selected: my-spotify-history (spotify-history): none of its streams is in --streams.');
    // Unchanged playlists (same snapshot_id) cost no request: the saved versions were used.
    expect(row(r.stdout, 'playlist_items')!.records).toBe(0);
  });

  it('--full-refresh STREAM ignores its saved state: the unchanged playlists are read again', () => {
    const r = cli(['run', '--sandbox', '--streams', 'playlist_items', '--full-refresh', 'playlist_items'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Full refresh (saved state ignored this run): playlist_items');
    expect(row(r.stdout, 'playlist_items')!.records).toBeGreaterThan(0);
  });

  it('a stream no pipeline has, or a full refresh of a stream not run: one line, exit 2', () => {
    const r = cli(['run', '--sandbox', '--streams', 'playlist_itmes'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: unknown stream "playlist_itmes" \(--streams \/ --full-refresh\)\n {2}fix: streams of pipeline.yaml and the pipelines it includes: recently_played, my_playlists, playlist_items, artists, listening_history\n$/);
    const f = cli(['run', '--sandbox', '--streams', 'my_playlists', '--full-refresh', 'artists'], dir);
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/^error: --full-refresh names artists, which this run does not read/);
    const t = cli(['run', '--sandbox', '--time-limit', '10 minutes'], dir);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/--time-limit <duration>' argument '10 minutes' is invalid\. expected a duration such as 90s/);
  });

  it('state show lists every stream; state reset moves one aside and the next run reads it from the start', async () => {
    const all = cli(['state', 'show'], dir);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^recently_played\s+my-spotify-lake\s+\S+\s+cursor=\d+/m);
    expect(all.stdout).toMatch(/^playlist_items\s+my-spotify-lake\s+\S+\s+versions: \d+ entries/m);
    expect(all.stdout).toMatch(/^listening_history\s+my-spotify-history\s+\S+\s+files: \d+ entries/m);
    // The --streams runs left the artists they gathered owed to the artists stream, for its next run.
    expect(all.stdout).toMatch(/^artists\s+my-spotify-lake\s+\S+\s+\d+ id\(s\) owed/m);
    const one = cli(['state', 'show', 'playlist_items'], dir);
    expect(JSON.parse(one.stdout)).toHaveProperty('versions');
    const bad = cli(['state', 'reset', 'playlist_items', 'nope'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: unknown stream "nope" in pipeline.yaml/);
    const reset = cli(['state', 'reset', 'playlist_items'], dir);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toMatch(/^playlist_items: state reset \(the old state is kept in .*_quarantine\/_state\/playlist_items-\d+T\d+Z\.json\)/);
    expect(await readdir(join(dir, '.lake', '_quarantine', '_state'))).toContainEqual(expect.stringMatching(/^playlist_items-/));
    expect(cli(['state', 'show', 'playlist_items'], dir).stdout).toBe('playlist_items: no saved state (the next run reads it from the start)\n');
    const again = cli(['run', '--sandbox', '--streams', 'playlist_items'], dir);
    expect(row(again.stdout, 'playlist_items')!.records).toBeGreaterThan(0);
  });
});

describe('small CLI fixes', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'control-cli-'));
    await copyFile(join(ROOT, 'pipeline.yaml'), join(dir, 'pipeline.yaml'));
    await mkdir(join(dir, 'connectors', 'spotify-history'), { recursive: true });
    await copyFile(join(ROOT, 'connectors', 'spotify-history', 'pipeline.yaml'), join(dir, 'connectors', 'spotify-history', 'pipeline.yaml'));
    await mkdir(join(dir, '.lake', 'curated'), { recursive: true });
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('--version prints the package version, exit 0', async () => {
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = cli([flag], dir);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`spotify-pipeline ${version} (Node.js ${process.versions.node})\n`);
    }
  });

  it('query --limit N prints N rows in any format and says how many more there are; --max-rows is its alias', () => {
    const sql = 'SELECT range AS n FROM range(5)';
    const t = cli(['query', '--sql', sql, '--limit', '3'], dir);
    expect(t.code).toBe(0);
    expect(t.stdout.trimEnd().split('\n')).toEqual(['n', '-', '0', '1', '2', '… 2 more rows not shown (5 in all): --limit N shows more']);
    expect(cli(['query', '--sql', sql, '--max-rows', '3'], dir).stdout).toBe(t.stdout);
    const csv = cli(['query', '--sql', sql, '--limit', '2', '--format', 'csv'], dir);
    expect(csv.stdout.trimEnd().split('\n')).toEqual(['n', '0', '1']);
    expect(csv.stderr).toBe('… 3 more rows not shown (5 in all): --limit N shows more\n');
    const json = cli(['query', '--sql', sql, '--limit', '4', '--format', 'json'], dir);
    expect(JSON.parse(json.stdout)).toEqual([0, 1, 2, 3].map((n) => ({ n })));
    expect(json.stderr).toBe('… 1 more row not shown (5 in all): --limit N shows more\n');
    expect(cli(['query', '--help'], dir).stdout).toMatch(/--limit <n>/);
  });
});

describe('the tables of a build, as run and transform print them', () => {
  const t = (table: string, more: Partial<BuiltTable> = {}): BuiltTable => ({ table, rows: 2000, files: 1, bytes: 1024, partitions: 0, quarantined: 0, seconds: 0.5, ...more });

  it('an unpartitioned table shows no partition count; notes say where records that are not rows went', () => {
    const text = builtTablesTable(
      [t('history', { records: 2970, inputRows: 2970, duplicates: 960, filtered: 10, partitions: 8 }), t('playlists', { records: 7, inputRows: 7, rows: 7 }), t('items', { records: 5, inputRows: 40, rows: 40 })],
      (name) => name === 'history',
    );
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^table\s+records\s+rows\s+files\s+bytes\s+partitions\s+quarantined\s+seconds\s+notes$/);
    expect(lines[2]).toMatch(/^history\s+2970\s+2000\s+1\s+1\.0 KiB\s+8\s+0\s+0\.5\s+filtered=10 duplicates=960$/);
    expect(lines[3]).toMatch(/^playlists\s+7\s+7\s+1\s+1\.0 KiB\s+0\s+0\.5$/);
    expect(lines[4]).toMatch(/rows_from_records=40$/);
    // The partitions column stays right-aligned around the blank cells.
    const col = lines[0].indexOf('partitions') + 'partitions'.length;
    expect(lines[2].slice(col - 1, col)).toBe('8');
  });

  it('drift has one wording', () => {
    expect(driftSection([t('a', { drift: ['new field x'] })])).toBe('Schema drift (reported, not applied; the declared columns stay the schema):\n  a: new field x');
    expect(driftSection([t('a', { drift: [] })])).toBeUndefined();
  });
});

describe('check reports the rate limit', () => {
  it('the headers the API sent (Retry-After with a 429) beside the limiter, or that there were none', async () => {
    let n = 0;
    const server = createServer((req, res) => {
      n++;
      if (n === 1) res.writeHead(429, { 'Retry-After': '0', 'Content-Type': 'application/json' }).end('{"error":{"status":429,"message":"API rate limit exceeded"}}');
      else res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"id":"me"}');
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const http = new HttpClient({ baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sleep: async () => undefined, logger: { info() {}, warn() {}, debug() {} } });
      expect(rateLimitReport(http, { windowMs: 30_000, maxRequests: 100 })).toBe('rate limit: the run\'s limiter allows 100 requests per rolling 30 s; no rate-limit headers in the 0 response(s)');
      await http.get('/me', { label: 'me' });
      expect(rateLimitReport(http, { windowMs: 30_000, maxRequests: 100 })).toBe("rate limit: the run's limiter allows 100 requests per rolling 30 s; headers seen: retry-after: 0 (1 response(s) were 429)");
      expect(rateLimitReport(http, null)).toMatch(/^rate limit: the run has no limiter; /);
    } finally {
      server.close();
    }
  });

  it('check prints the line', () => {
    const r = cli(['check', '--sandbox'], ROOT);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^rate limit: the run has no limiter; no rate-limit headers in the \d+ response\(s\)$/m);
  });
});

describe('--time-limit parts', () => {
  it('durations: 90s, 10m, 2h, 500ms, a bare number of seconds; nothing else', () => {
    expect([duration('90s'), duration('10m'), duration('2h'), duration('500ms'), duration('30')]).toEqual([90_000, 600_000, 7_200_000, 500, 30_000]);
    for (const bad of ['0', '-5s', '10 minutes', '1d', '', '9999h']) expect(() => duration(bad)).toThrow(/expected a duration/);
  });

  it('the deadline aborts with StopRun the margin before the limit (at most half of it)', () => {
    vi.useFakeTimers();
    try {
      const d = deadlineSignal(60_000, 10_000, (s) => `${s} s left`);
      vi.advanceTimersByTime(49_999);
      expect(d.signal.aborted).toBe(false);
      vi.advanceTimersByTime(1);
      expect(d.signal.reason).toBeInstanceOf(StopRun);
      expect((d.signal.reason as Error).message).toBe('10 s left');
      const short = deadlineSignal(4_000, 10_000, (s) => `${s} s left`);
      vi.advanceTimersByTime(2_000);
      expect(short.signal.aborted).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
