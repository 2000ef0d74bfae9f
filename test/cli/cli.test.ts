/**
 * The CLI as a user meets it: a child process, its output and its exit code.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'spotify-pipeline.mjs');

function cli(args: string[], cwd: string, env: Record<string, string | undefined> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, SPOTIFY_CLIENT_ID: '', ...env },
    timeout: 180_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('spotify-pipeline CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-'));
    await copyFile(join(ROOT, 'pipeline.yaml'), join(dir, 'pipeline.yaml'));
    // The shipped pipeline includes the export pipeline by relative path.
    await mkdir(join(dir, 'connectors', 'spotify-history'), { recursive: true });
    await copyFile(join(ROOT, 'connectors', 'spotify-history', 'pipeline.yaml'), join(dir, 'connectors', 'spotify-history', 'pipeline.yaml'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('--help lists the commands', () => {
    const r = cli(['--help'], dir);
    expect(r.code).toBe(0);
    for (const c of ['validate', 'run', 'query', 'sandbox']) expect(r.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
  });

  it('validate accepts the shipped pipeline', () => {
    const r = cli(['validate'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('valid');
  });

  it('validate names the line and column of a misspelled key, a wrong type and an unknown endpoint, and exits 2', async () => {
    const good = await readFile(join(ROOT, 'pipeline.yaml'), 'utf8');
    const lines = good.split('\n');
    const find = (needle: string) => lines.findIndex((l) => l.includes(needle));
    // A misspelled key, a wrong type and an unknown endpoint, each on a known line.
    const keyLine = find('skip_unchanged: snapshot_id');
    lines[keyLine] = lines[keyLine].replace('skip_unchanged', 'skip_unchagned');
    const typeLine = find('version: 1');
    lines[typeLine] = 'version: one';
    const epLine = find('endpoint: me/player/recently-played');
    lines[epLine] = lines[epLine].replace('me/player/recently-played', 'me/player/recent');
    await writeFile(join(dir, 'broken.yaml'), lines.join('\n'));
    const r = cli(['validate', '-c', 'broken.yaml'], dir);
    expect(r.code).toBe(2);
    const col = (line: number, text: string) => lines[line].indexOf(text) + 1;
    expect(r.stderr).toContain(`broken.yaml:${keyLine + 1}:${col(keyLine, 'skip_unchagned')} streams.playlist_items`);
    expect(r.stderr).toMatch(/skip_unchagned/);
    expect(r.stderr).toContain(`broken.yaml:${typeLine + 1}:${col(typeLine, 'one')} version`);
    expect(r.stderr).toContain(`broken.yaml:${epLine + 1}:${col(epLine, 'me/player/recent')} streams.recently_played.endpoint: unknown endpoint "me/player/recent"`);
  });

  it('npm start (run --sandbox-fallback --queries --report) says it uses the sandbox, builds the lake, prints every query and writes the report', async () => {
    const start = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
    const args = start.replace(/^node bin\/spotify-pipeline\.mjs /, '').split(' ');
    expect(args).toEqual(['run', '--sandbox-fallback', '--queries', '--report']);
    const r = cli(args, dir);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const first = r.stdout.split('\n')[0];
    expect(first).toMatch(/^No Spotify credentials configured .*offline Spotify sandbox/);
    const yaml = await readFile(join(dir, 'pipeline.yaml'), 'utf8');
    for (const q of ['top_artists_last_7_days', 'listening_minutes_per_day', 'artists_across_playlists', 'playlist_sizes']) {
      expect(yaml).toContain(q);
      expect(r.stdout).toContain(`== ${q}`);
    }
    expect(r.stdout).not.toContain('(no rows)');
    const curated = await readdir(join(dir, '.lake', 'curated'));
    for (const t of ['plays', 'playlist_tracks', 'tracks', 'artists', 'playlists']) expect(curated).toContain(t);
    // The report's path, weight and panels, last; the file is there with every panel.
    const line = r.stdout.trimEnd().split('\n').at(-1)!;
    // Every panel has data: the run builds the recommendations too, before the report.
    expect(line).toMatch(/^Report: \.lake\/reports\/report\.html \(\d+(\.\d)? KiB, 15 panels; queries \d+\.\d\d s\)$/);
    expect(r.stdout).toMatch(/^Recommendations: \d+ tracks as of \S+ \(from [a-z_, ]+\); `spotify-pipeline recs` prints them with their reasons$/m);
    const html = await readFile(join(dir, '.lake', 'reports', 'report.html'), 'utf8');
    expect(html.match(/<article class="panel/g)?.length).toBe(15);
    expect(html).not.toContain('data-state="empty"');
    // `report` writes it anywhere, and says where.
    const again = cli(['report', '--out', 'mine.html'], dir);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^Report: mine\.html \(/);
    expect(await readFile(join(dir, 'mine.html'), 'utf8')).toContain('<h2 id="playlists-title">Your playlists</h2>');
  });

  it('recs builds from that lake and --write-playlist --dry-run shows what it would write, writing nothing', () => {
    const r = cli(['recs', '-k', '5', '--write-playlist', 'Recommended for me', '--sandbox', '--dry-run'], dir);
    expect(r.code, r.stderr).toBe(0);
    const n = Number(/^(\d+) recommendations as of /.exec(r.stdout)?.[1]);
    expect(n).toBeGreaterThan(0);
    expect(r.stdout).toContain('Dry run, nothing written: playlist "Recommended for me" (none of the user\'s: it would be created, private)');
    expect(r.stdout.match(/^ {2}\+ \S+ \(rank \d+\)$/gm)?.length).toBe(n);
    expect(cli(['recs', '--dry-run'], dir).stderr).toContain('--dry-run goes with --write-playlist');
  });

  it('query prints a named query as csv and json, and ad-hoc SQL', () => {
    const csv = cli(['query', 'listening_minutes_per_day', '--format', 'csv'], dir);
    expect(csv.code).toBe(0);
    expect(csv.stdout.split('\n')[0]).toBe('day,plays,minutes');
    const json = cli(['query', '--sql', 'SELECT count(*) AS n FROM plays', '--format', 'json'], dir);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)[0].n).toBe(50);
    const missing = cli(['query', 'nope'], dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no query named "nope"');
  });

  it('a half-configured pipeline is an error, not a silent demo', () => {
    const r = cli(['run', '--sandbox-fallback'], dir, { SPOTIFY_CLIENT_ID: 'abc123' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/secret "spotify\/client_secret" is not set/);
  });
});
