/**
 * Secrets never reach a log line, an error message or a file under the lake: the real CLI,
 * configured the way a user would (env var + untracked secrets file), against the sandbox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, SANDBOX_EXPIRED_REFRESH_TOKEN, type SpotifySandbox } from '../../connectors/spotify/sandbox/index.ts';
import { preparePipeline } from '../../core/pipeline.ts';
import { openLake } from '../../core/query/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'spotify-pipeline.mjs');

function cli(args: string[], cwd: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** Every byte a run leaves in the lake, decompressed where it is gzip, plus every table's rows. */
async function lakeText(dir: string): Promise<string> {
  let text = '';
  for (const ent of await readdir(join(dir, '.lake'), { recursive: true, withFileTypes: true })) {
    if (!ent.isFile()) continue;
    const buf = await readFile(join(ent.parentPath, ent.name));
    text += ent.name.endsWith('.gz') ? gunzipSync(buf).toString('utf8') : buf.toString('latin1');
  }
  const prep = await preparePipeline(join(dir, 'pipeline.yaml'));
  const db = await openLake(join(dir, '.lake'), prep.loaded.config.tables);
  for (const t of Object.keys(prep.loaded.config.tables)) text += JSON.stringify((await db.query(`SELECT * FROM ${t}`)).rows);
  db.close();
  return text;
}

async function pipelineFor(dir: string, sb: SpotifySandbox): Promise<void> {
  const shipped = await readFile(join(ROOT, 'pipeline.yaml'), 'utf8');
  const yaml = shipped.replace(
    '    api_mode: development',
    `    api_mode: development\n    api_base_url: ${sb.apiUrl}\n    accounts_base_url: ${sb.accountsUrl}\n    rate_limit: null`,
  );
  await writeFile(join(dir, 'pipeline.yaml'), yaml);
  // The shipped pipeline includes the export pipeline by relative path.
  await mkdir(join(dir, 'connectors', 'spotify-history'), { recursive: true });
  await copyFile(join(ROOT, 'connectors', 'spotify-history', 'pipeline.yaml'), join(dir, 'connectors', 'spotify-history', 'pipeline.yaml'));
}

describe('secrets', () => {
  let sb: SpotifySandbox;
  let dir: string;
  beforeAll(async () => {
    sb = await startSandbox({ seed: 5 });
    dir = await mkdtemp(join(tmpdir(), 'secrets-'));
    await pipelineFor(dir, sb);
  });
  afterAll(async () => {
    await sb.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('never appear in logs, errors or lake files', async () => {
    const { client_id, client_secret, refresh_token } = sb.credentials;
    await writeFile(join(dir, '.secrets.json'), JSON.stringify({ 'spotify/client_secret': client_secret, 'spotify/refresh_token': refresh_token }));
    const r = await cli(['run', '--verbose', '--queries'], dir, { SPOTIFY_CLIENT_ID: client_id });
    expect(r.code, r.out).toBe(0);
    expect(r.out).not.toContain('offline Spotify sandbox'); // it really used the configured credentials
    // The included export pipeline has no export path configured: skipped, and said so.
    expect(r.out).toMatch(/Skipping .*spotify-history.*not configured \(\$SPOTIFY_EXPORT_PATH not set\)/);
    const everything = r.out + (await lakeText(dir));
    expect(everything.length).toBeGreaterThan(10_000);
    expect(everything).not.toContain(client_secret);
    expect(everything).not.toContain(refresh_token);
  });

  it('an expired refresh token ends the run with exit 2 and the command to log in again, without the token', async () => {
    await writeFile(join(dir, '.secrets.json'), JSON.stringify({ 'spotify/client_secret': sb.credentials.client_secret, 'spotify/refresh_token': SANDBOX_EXPIRED_REFRESH_TOKEN }));
    const before = sb.requests.filter((q) => q.path === '/api/token').length;
    const r = await cli(['run'], dir, { SPOTIFY_CLIENT_ID: sb.credentials.client_id });
    expect(r.code).toBe(2);
    expect(r.out).toContain('Refresh token expired');
    expect(r.out).toContain('npx spotify-pipeline login');
    expect(r.out).not.toContain(SANDBOX_EXPIRED_REFRESH_TOKEN);
    expect(r.out).not.toContain(sb.credentials.client_secret);
    // invalid_grant is final: exactly one refresh attempt, never retried.
    const refreshes = sb.requests.filter((q) => q.path === '/api/token').length - before;
    expect(refreshes).toBe(1);
  });

  it('a wrong client secret is one clear line naming the key to fix, without the secret', async () => {
    await writeFile(join(dir, '.secrets.json'), JSON.stringify({ 'spotify/client_secret': 'definitely-wrong-secret', 'spotify/refresh_token': sb.credentials.refresh_token }));
    const r = await cli(['run'], dir, { SPOTIFY_CLIENT_ID: sb.credentials.client_id });
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/client_secret/);
    expect(r.out).not.toContain('definitely-wrong-secret');
  });
});
