/**
 * The CLI under abuse (issue 12), as a user meets it: a child process, its output and its exit
 * code. Every mistake a user can make is one line (and a `fix:` line) with exit 2, never a stack
 * trace; a closed stdout ends any command quietly with exit 0; SIGINT/SIGTERM stop `run` after
 * committing what is complete, before the next included pipeline, with exit 130/143.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'spotify-pipeline.mjs');
const ENV = { ...process.env, SPOTIFY_CLIENT_ID: '', SPOTIFY_EXPORT_PATH: '', FORCE_COLOR: '0' };

function cli(args: string[], cwd: string, timeout = 60_000) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: ENV, timeout });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** No stack frame, no Node crash banner: what a user sees is our own lines. */
function noStack(stderr: string): void {
  expect(stderr).not.toMatch(/^\s+at .+[(:]\d+/m);
  expect(stderr).not.toMatch(/node:internal|Node\.js v\d|Unhandled 'error' event|\(unexpected:/);
}

/** Runs the CLI with its stdout's reader gone before the first byte (as `... | head -0` would). */
async function closedStdout(args: string[], cwd: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  return { code, signal, stderr };
}

describe('every mistake is one line and exit 2, every command', () => {
  let dir: string;
  let busy: Server;
  let busyPort: number;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-robust-'));
    await copyFile(join(ROOT, 'pipeline.yaml'), join(dir, 'pipeline.yaml'));
    await mkdir(join(dir, 'connectors', 'spotify-history'), { recursive: true });
    await copyFile(join(ROOT, 'connectors', 'spotify-history', 'pipeline.yaml'), join(dir, 'connectors', 'spotify-history', 'pipeline.yaml'));
    const lines = ['version: 1', 'connector: { use: spotify, config: { api_mode: development } }', 'streams:', '  s1: { endpoint: me/playlists }'];
    await writeFile(join(dir, 'a.yaml'), ['name: lake-a', 'include: [b.yaml]', ...lines].join('\n'));
    await writeFile(join(dir, 'b.yaml'), ['name: lake-b', 'include: [a.yaml]', ...lines].join('\n').replace('s1:', 's2:'));
    const laughs = ['version: 1', 'name: laughs', 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [x, y] of ['ab', 'bc', 'cd', 'de', 'ef', 'fg', 'gh', 'hi']) laughs.push(`${y}: &${y} [${Array(9).fill(`*${x}`).join(',')}]`);
    await writeFile(join(dir, 'laughs.yaml'), laughs.join('\n'));
    await writeFile(join(dir, 'devzero.yaml'), ['name: lake-z', ...lines].join('\n').replace('use: spotify', 'use: /dev/zero'));
    busy = createServer();
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    busyPort = (busy.address() as { port: number }).port;
  });
  afterAll(async () => {
    busy.close();
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['validate with mutual includes (it ran out of memory after 5 minutes)', ['validate', '-c', 'a.yaml'], /^a\.yaml:2:11 include\.0: "b\.yaml" includes this pipeline back \(a cycle\); includes are one level deep/],
    ['validate of a YAML alias bomb', ['validate', '-c', 'laughs.yaml'], /^laughs\.yaml:4:\d+: YAML: the aliases \(\*name\) expand to too many values/],
    ['validate of a folder', ['validate', '-c', 'connectors'], /^connectors: is a folder, not a pipeline file$/],
    ['validate of a missing file', ['validate', '-c', 'nope.yaml'], /^nope\.yaml: file not found$/],
    ['validate of a device as the connector (it hung)', ['validate', '-c', 'devzero.yaml'], /^error: connector "\/dev\/zero" could not be loaded: no such plugin file/],
    ['sandbox --port out of range (was a stack trace, exit 1)', ['sandbox', '--port', '99999'], /^error: option '--port <n>' argument '99999' is invalid\. expected a port number from 0 to 65535\.$/],
    ['sandbox --port not a number', ['sandbox', '--port', 'abc'], /^error: option '--port <n>' argument 'abc' is invalid/],
    ['run --seed not a number', ['run', '--seed', 'x'], /^error: option '--seed <n>' argument 'x' is invalid\. expected a whole number/],
    ['query --max-rows 0', ['query', 'x', '--max-rows', '0'], /^error: option '--max-rows <n>' argument '0' is invalid/],
    ['query --format xml', ['query', 'x', '--format', 'xml'], /^error: option '--format <format>' argument 'xml' is invalid\. Allowed choices are table, csv, json\.$/],
    ['transform --target-file-mb -1', ['transform', '--target-file-mb', '-1'], /^error: option '--target-file-mb <n>' argument '-1' is invalid\. expected a number of MiB greater than 0\.$/],
    ['login --timeout 0', ['login', '--timeout', '0'], /^error: option '--timeout <seconds>' argument '0' is invalid/],
    ['login --port -5', ['login', '--port', '-5'], /^error: option '--port <n>' argument '-5' is invalid/],
    ['connector test --seed NaN', ['connector', 'test', 'spotify', '--seed', 'NaN'], /^error: option '--seed <n>' argument 'NaN' is invalid/],
    ['plan of a missing pipeline', ['plan', '-c', 'nope.yaml'], /^nope\.yaml: file not found$/],
    ['an unknown command', ['frobnicate'], /^error: unknown command 'frobnicate'$/],
    ['an unknown option, with an escape sequence in it', ['validate', '--\u001b[31mred'], /^error: unknown option '--\\x1b\[31mred'$/],
  ])('%s', (_what, args, first) => {
    const r = cli(args, dir);
    noStack(r.stderr);
    expect(r.stderr.split('\n')[0]).toMatch(first);
    // The message, a fix or usage hint at most: no help text dumped after it.
    expect(r.stderr.trimEnd().split('\n').length).toBeLessThanOrEqual(2);
    expect(r.code).toBe(2);
  });

  it('sandbox on a busy port: one line with the fix, exit 2 (was a stack trace, exit 1)', () => {
    const r = cli(['sandbox', '--port', String(busyPort)], dir);
    noStack(r.stderr);
    expect(r.stderr).toBe(`error: port ${busyPort} is in use on 127.0.0.1\n  fix: stop what listens there, or pick another port: --port N (--port 0 takes any free one)\n`);
    expect(r.code).toBe(2);
  });

  it('--debug adds the stack trace, before or after the command', () => {
    for (const args of [['--debug', 'validate', '-c', 'laughs.yaml'], ['validate', '-c', 'laughs.yaml', '--debug']]) {
      const r = cli(args, dir);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^laughs\.yaml:4:\d+: YAML: the aliases/);
      expect(r.stderr).toMatch(/^ConfigError: .*\n\s+at /m);
    }
  });
});

describe('a closed stdout (EPIPE) ends every command quietly with exit 0', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-epipe-'));
    await copyFile(join(ROOT, 'pipeline.yaml'), join(dir, 'pipeline.yaml'));
    await mkdir(join(dir, 'connectors', 'spotify-history'), { recursive: true });
    await copyFile(join(ROOT, 'connectors', 'spotify-history', 'pipeline.yaml'), join(dir, 'connectors', 'spotify-history', 'pipeline.yaml'));
    // A lake to read: the shipped pipeline against the sandboxes.
    expect(cli(['run', '--sandbox-fallback'], dir, 120_000).code).toBe(0);
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it.each([
    ['--help', ['--help']],
    ['validate', ['validate']],
    ['transform (it crashed with an unhandled EPIPE)', ['transform']],
    ['transform --docs', ['transform', '--docs']],
    ['query, 200,000 rows as csv', ['query', '--sql', 'SELECT range AS n FROM range(200000)', '--format', 'csv']],
    ['query, 200,000 rows as json', ['query', '--sql', 'SELECT range AS n FROM range(200000)', '--format', 'json']],
    ['query, a table', ['query', 'playlist_sizes']],
    ['connector test --rules', ['connector', 'test', 'spotify', '--rules']],
  ])('%s', async (_what, args) => {
    const r = await closedStdout(args, dir);
    noStack(r.stderr);
    expect(r.stderr).toBe('');
    expect([r.code, r.signal]).toEqual([0, null]);
  });

  it('query in table format prints at most --max-rows (1000) rows of a large result and says how many it left out (it overflowed the stack)', () => {
    const r = cli(['query', '--sql', 'SELECT range AS n FROM range(200000)'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2 + 1000 + 1);
    expect(lines.at(-2)).toBe('999');
    expect(lines.at(-1)).toBe('… 199,000 more rows not shown (200,000 in all): --limit N shows more, --format csv or json prints every row');
    expect(cli(['query', '--sql', 'SELECT range AS n FROM range(5)', '--max-rows', '5'], dir).stdout.trimEnd().split('\n')).toHaveLength(7);
  });

  it('run stops cleanly as on Ctrl-C (the included pipeline does not start) and exits 0', async () => {
    const before = await readdir(join(dir, '.lake', '_runs'));
    const r = await closedStdout(['run', '--sandbox-fallback'], dir);
    noStack(r.stderr);
    expect(r.stderr).not.toMatch(/error/i);
    expect([r.code, r.signal]).toEqual([0, null]);
    // At most the main pipeline's run committed; the export pipeline never ran.
    const added = (await readdir(join(dir, '.lake', '_runs'))).filter((f) => !before.includes(f));
    for (const f of added) expect(JSON.parse(await readFile(join(dir, '.lake', '_runs', f), 'utf8')).pipeline).toBe('my-spotify-lake');
  });
});

/** A connector whose `slow` stream reads until its run is aborted (or forever, with ignore_abort). */
const SLOW_PLUGIN = `export default {
  apiVersion: 1, name: 'slow', version: '0.0.1', description: 'reads until aborted',
  configSchema: { type: 'object', properties: { ignore_abort: { type: 'boolean' } } }, secretKeys: [],
  endpoints: { items: { description: 'items', path: '/items', auth: 'none', scopes: [], paginator: { type: 'none' }, recordPath: '', recordSchema: { type: 'object' } } },
  async check() {},
  async *read(stream, ctx) {
    yield { id: stream.name + '-1' };
    if (stream.name !== 'slow') return;
    ctx.logger.info('reading until stopped');
    await new Promise((_, reject) => {
      const alive = setInterval(() => undefined, 1000);
      if (ctx.config.ignore_abort) return;
      ctx.signal.addEventListener('abort', () => { clearInterval(alive); reject(ctx.signal.reason); }, { once: true });
    });
  },
};
`;

describe('SIGINT and SIGTERM stop the whole run, included pipelines too', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-signal-'));
    await writeFile(join(dir, 'slow.mjs'), SLOW_PLUGIN);
    const main = (ignore: boolean) =>
      ['version: 1', 'name: signal-main', `connector: { use: ./slow.mjs, config: { ignore_abort: ${ignore} } }`, 'include: [included.yaml]', 'storage: { local: lake }', 'streams:', '  fast: { endpoint: items }', '  slow: { endpoint: items }', ''].join('\n');
    await writeFile(join(dir, 'pipeline.yaml'), main(false));
    await writeFile(join(dir, 'stubborn.yaml'), main(true));
    await writeFile(join(dir, 'included.yaml'), ['version: 1', 'name: signal-included', 'connector: { use: ./slow.mjs, config: {} }', 'streams:', '  other: { endpoint: items }', ''].join('\n'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  /** Starts `run`, sends `signals` once the slow stream reads, and returns what the command did. */
  async function interrupt(config: string, signals: NodeJS.Signals[]) {
    await rm(join(dir, 'lake'), { recursive: true, force: true });
    const child = spawn(process.execPath, [BIN, 'run', '-c', config], { cwd: dir, env: ENV });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    const exited = once(child, 'exit');
    const deadline = Date.now() + 60_000;
    while (!stderr.includes('reading until stopped') && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    for (const s of signals) {
      child.kill(s);
      await new Promise((r) => setTimeout(r, 200));
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    clearTimeout(timer);
    const runs = existsSync(join(dir, 'lake', '_runs')) ? await readdir(join(dir, 'lake', '_runs')) : [];
    const manifests = await Promise.all(runs.map(async (f) => JSON.parse(await readFile(join(dir, 'lake', '_runs', f), 'utf8')) as { pipeline: string; streams: Record<string, unknown> }));
    return { code, signal, stdout, stderr, seconds: (Date.now() - t0) / 1000, manifests };
  }

  it('Ctrl-C: the complete stream is committed, the included pipeline never starts, exit 130', async () => {
    const r = await interrupt('pipeline.yaml', ['SIGINT']);
    noStack(r.stderr);
    expect(r.stderr).toContain('interrupted (Ctrl-C): stopping once what is complete is committed');
    expect(r.stderr.trimEnd().split('\n').pop()).toBe('stopped: interrupted (Ctrl-C)');
    expect(r.stdout).toMatch(/Run \S+: stopped, interrupted \(Ctrl-C\) \(the streams read completely are committed\)/);
    expect(r.stdout).toContain('Not run: signal-included (slow), stopped before it started.');
    expect(r.stdout).not.toContain('Included pipeline signal-included');
    expect(r.manifests.map((m) => [m.pipeline, Object.keys(m.streams)])).toEqual([['signal-main', ['fast']]]);
    expect([r.code, r.signal]).toEqual([130, null]);
  });

  it('SIGTERM: the same clean stop, exit 143', async () => {
    const r = await interrupt('pipeline.yaml', ['SIGTERM']);
    noStack(r.stderr);
    expect(r.stdout).toContain('Not run: signal-included (slow)');
    expect(r.manifests.map((m) => m.pipeline)).toEqual(['signal-main']);
    expect([r.code, r.signal]).toEqual([143, null]);
  });

  it('a second Ctrl-C exits at once when the stop is not coming (a stream that ignores it)', async () => {
    const r = await interrupt('stubborn.yaml', ['SIGINT', 'SIGINT']);
    noStack(r.stderr);
    expect([r.code, r.signal]).toEqual([130, null]);
    expect(r.seconds).toBeLessThan(10);
    expect(r.manifests).toEqual([]);
  });
});
