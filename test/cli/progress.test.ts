/**
 * Live progress of a run: the events the HTTP client emits (requests, pages, Retry-After waits
 * with their reason), the plain-line reporter (periodic, bounded, ETA) on a fake clock, and the
 * real `run` on the sandbox: in a pseudo-terminal the display is drawn before the summary; piped,
 * stderr gets plain `progress:` lines and stdout stays the summary alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpClient } from '../../core/http.ts';
import type { ProgressEvent } from '../../core/progress.ts';
import { createReporter, progressMode } from '../../core/cli/progress.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'spotify-pipeline.mjs');

function memoryOut() {
  const out = { text: '', write: (s: string) => ((out.text += s), true) };
  return out;
}

describe('progress events of the HTTP client', () => {
  let server: Server;
  let base: string;
  let script: Array<{ status: number; headers?: Record<string, string> }> = [];
  beforeAll(async () => {
    server = createServer((_req, res) => {
      const step = script.shift() ?? { status: 200 };
      res.writeHead(step.status, { 'content-type': 'application/json', ...step.headers });
      res.end(JSON.stringify({ items: [] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('reports every request, each page read and a Retry-After wait with its reason', async () => {
    script = [{ status: 429, headers: { 'retry-after': '60' } }, { status: 200 }];
    const events: ProgressEvent[] = [];
    const c = new HttpClient({ baseURL: base, sleep: async () => undefined, random: () => 1 });
    c.progress = (e) => events.push(e);
    await c.get('/me/tracks', { label: 'me/tracks' });
    expect(events).toEqual([
      { type: 'request', label: 'me/tracks' },
      { type: 'wait', ms: 60_000, reason: 'me/tracks: 429 Too Many Requests, Retry-After 60' },
      { type: 'request', label: 'me/tracks' },
      { type: 'page', label: 'me/tracks' },
    ]);
  });
});

describe('plain progress lines', () => {
  it('prints at most one line per interval, a long wait at once, and an ETA once the total is known', () => {
    let t = 0;
    const out = memoryOut();
    const r = createReporter({ mode: 'plain', out: out as unknown as NodeJS.WritableStream, everyMs: 10_000, now: () => t });
    const ev = (e: ProgressEvent) => r.listener(e);
    ev({ type: 'stream-start', stream: 'artists', endpoint: 'artists', total: 100 });
    for (let i = 0; i < 10; i++) {
      ev({ type: 'request', label: 'artists' });
      ev({ type: 'page', label: 'artists' });
      ev({ type: 'record', stream: 'artists' });
      t += 1000;
    }
    // 10 s passed: the next page prints one line, with the ETA at the rate so far (1 record/s).
    ev({ type: 'page', label: 'artists' });
    ev({ type: 'page', label: 'artists' });
    expect(out.text).toBe('progress: artists 10/100 records (10%), 10 requests, 11 pages, ETA 1m30s\n');
    ev({ type: 'wait', ms: 60_000, reason: 'artists: 429 Too Many Requests, Retry-After 60' });
    expect(out.text.split('\n')[1]).toBe('progress: artists waiting 60 s (artists: 429 Too Many Requests, Retry-After 60)');
    t += 60_000;
    ev({ type: 'request', label: 'artists' });
    ev({ type: 'stream-end', stream: 'artists', status: 'ok' });
    expect(out.text.split('\n')[2]).toBe('progress: artists 10/100 records (10%), 11 requests, 12 pages, waited 60 s, ok in 70 s');
    ev({ type: 'tables-start', tables: ['plays', 'artists'] });
    ev({ type: 'table-start', table: 'plays' });
    ev({ type: 'table-end', table: 'plays', rows: 5 });
    expect(out.text.split('\n')).toHaveLength(4); // nothing new within the interval
    t += 10_000;
    ev({ type: 'table-start', table: 'artists' });
    ev({ type: 'table-end', table: 'artists', rows: 7 });
    expect(out.text.split('\n')[3]).toBe('progress: transform 2/2 tables, 12 rows, built artists (7 rows)');
    r.stop();
  });

  it('a run shorter than the interval prints none; --no-progress (off) none at all; a terminal gets the display', () => {
    const out = memoryOut();
    const r = createReporter({ mode: 'plain', out: out as unknown as NodeJS.WritableStream, everyMs: 10_000, now: () => 9_999 });
    r.listener({ type: 'stream-start', stream: 's', endpoint: 'e' });
    r.listener({ type: 'page', label: 'e' });
    r.listener({ type: 'stream-end', stream: 's', status: 'ok' });
    r.stop();
    expect(out.text).toBe('');
    const tty = { isTTY: true } as NodeJS.WriteStream;
    expect([progressMode(tty, true, 'xterm'), progressMode(tty, true, 'dumb'), progressMode(tty, false, 'xterm'), progressMode({ isTTY: false } as NodeJS.WriteStream, true, 'xterm')]).toEqual(['tty', 'plain', 'off', 'plain']);
  });
});

/** A copy of the shipped pipeline (and the export pipeline it includes) in a fresh folder. */
async function pipelineDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'progress-'));
  await copyFile(join(ROOT, 'pipeline.yaml'), join(dir, 'pipeline.yaml'));
  await mkdir(join(dir, 'connectors', 'spotify-history'), { recursive: true });
  await copyFile(join(ROOT, 'connectors', 'spotify-history', 'pipeline.yaml'), join(dir, 'connectors', 'spotify-history', 'pipeline.yaml'));
  return dir;
}

/**
 * Runs argv in a pseudo-terminal (Python's pty module: stdout and stderr are the same terminal,
 * 120 columns) and returns everything it wrote, in order, and its exit code.
 */
const PTY = `
import os, pty, sys, struct, fcntl, termios
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 120, 0, 0))
out = b''
while True:
    try:
        d = os.read(fd, 65536)
    except OSError:
        break
    if not d:
        break
    out += d
_, st = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(st))
`;

describe('run shows progress', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await pipelineDir();
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('in a terminal: a line per stream and one for the tables, drawn before the summary', () => {
    const r = spawnSync('python3', ['-c', PTY, process.execPath, BIN, 'run', '--sandbox', '--lake', 'tty-lake'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, SPOTIFY_CLIENT_ID: '', TERM: 'xterm' },
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const text = r.stdout;
    const summary = text.indexOf('Run ');
    expect(summary).toBeGreaterThan(0);
    const before = text.slice(0, summary);
    // The display's final frame: each stream with its counts and outcome, the ids stream with its total.
    expect(before).toMatch(/recently_played +█+ \d+ records, \d+ requests, \d+ pages?, ok in /);
    expect(before).toMatch(/my_playlists +█+ (\d+)\/\1 records \(100%\), \d+ requests?, \d+ pages?, ok in /);
    expect(before).toMatch(/artists +█+ \d+\/\d+ records \(100%\), \d+ requests, \d+ pages, ok in /);
    expect(before).toMatch(/transform +█+ (\d+)\/\1 tables, \d+ rows, built /);
    // Drawn in place (cursor movements), not as plain lines.
    expect(before).toContain('\x1b[');
    expect(before).not.toContain('progress: ');
  });

  it('piped: plain progress lines on stderr (one per page and table with --progress-every 0), none on stdout', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [BIN, 'run', '--sandbox', ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, SPOTIFY_CLIENT_ID: '' }, timeout: 120_000 });
    const every = run('--lake', 'plain-lake', '--progress-every', '0');
    expect(every.status, every.stderr).toBe(0);
    const lines = every.stderr.split('\n').filter((l) => l.startsWith('progress: '));
    expect(lines.some((l) => /^progress: recently_played \d+ records, \d+ requests, \d+ pages?, ok in [\d.]+ s$/.test(l))).toBe(true);
    expect(lines.some((l) => /^progress: artists \d+\/\d+ records \(\d+%\), \d+ requests, \d+ pages/.test(l))).toBe(true);
    expect(lines.some((l) => /^progress: transform (\d+)\/\1 tables, \d+ rows, built /.test(l))).toBe(true);
    expect(lines.some((l) => /^progress: listening_history \d+ records, ok in /.test(l))).toBe(true);
    expect(every.stdout).not.toContain('progress: ');
    expect(every.stdout).toMatch(/^Run \S+: ok in /m);
  });
});
