/**
 * `login`, `check` and `validate` as a user runs them: a child process, its output and exit code.
 * Nothing a command prints may carry a secret (refresh token, access token, authorization code).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startSandbox, type SpotifySandbox } from '../../connectors/spotify/sandbox/index.ts';
import { browser, pipelineDir, type Followed } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'spotify-pipeline.mjs');
/** Sandbox refresh tokens and codes are `AQ` + base62, access tokens `BQ` + base62. */
const TOKEN_LIKE = /[AB]Q[A-Za-z0-9]{60,}/;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI; `onStdout` sees output as it arrives (to follow the printed URL). Bounded by `timeoutMs`. */
function cli(args: string[], cwd: string, env: Record<string, string>, onStdout?: (text: string) => void, timeoutMs = 60_000): Promise<Result> {
  return new Promise((resolve, reject) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    delete childEnv.SPOTIFY_PIPELINE_SECRETS_FILE; // the pipeline's own .secrets.json
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: childEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      onStdout?.(stdout);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`spotify-pipeline ${args.join(' ')} did not finish in ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('login / check / validate CLI', () => {
  let sb: SpotifySandbox;
  let p: { dir: string; file: string; secrets: string };
  let env: Record<string, string>;
  beforeAll(async () => {
    sb = await startSandbox({ seed: 42 });
    p = await pipelineDir(sb, { name: 'cli-lake', secrets: { 'other/key': 'keep-me-1234' } });
    env = { SPOTIFY_CLIENT_ID: sb.credentials.client_id };
  });
  afterAll(async () => {
    await sb.close();
    await rm(p.dir, { recursive: true, force: true });
  });

  it('login prints the URL, follows through, stores the token, and prints no secret', async () => {
    const b = browser();
    let followed = false;
    const r = await cli(['login', '--port', '0', '--no-open', '--timeout', '30'], p.dir, env, (text) => {
      const m = /(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)/.exec(text);
      if (m && !followed) {
        followed = true;
        void b.openUrl(m[1]).catch(() => undefined);
      }
    });
    expect(r.stderr + r.stdout).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const f: Followed = await b.result();
    expect(f.page).toMatch(/close this tab/i);
    const data = JSON.parse(await readFile(p.secrets, 'utf8'));
    const token: string = data['spotify/refresh_token'];
    expect(token).toMatch(TOKEN_LIKE);
    expect(data['other/key']).toBe('keep-me-1234');
    const printed = r.stdout + r.stderr;
    expect(printed).not.toContain(token);
    expect(printed).not.toContain(f.location.searchParams.get('code'));
    expect(printed).not.toMatch(TOKEN_LIKE);
    expect(r.stdout).toContain(`Stored connector.config.refresh_token as secret "spotify/refresh_token" in ${p.secrets} (mode 0600)`);
    expect(r.stdout).toContain('aws secretsmanager put-secret-value --secret-id cli-lake/spotify/refresh_token --secret-string file://<(jq');
  });

  it('check says ok with the stored token; validate and check warn when it expires within 14 days', async () => {
    const ok = await cli(['check'], p.dir, env);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ok: connector spotify accepted the credentials/);

    const data = JSON.parse(await readFile(p.secrets, 'utf8'));
    const soon = new Date(Date.now() + 10 * 86_400_000 + 3_600_000);
    data._meta['spotify/refresh_token'].expires_at = soon.toISOString();
    await writeFile(p.secrets, JSON.stringify(data));
    const v = await cli(['validate'], p.dir, env);
    expect(v.code).toBe(0);
    expect(v.stderr).toMatch(/^warning: pipeline\.yaml:\d+:\d+ connector\.config\.refresh_token: the authorization in secret "spotify\/refresh_token" expires in 10 days/m);
    const c = await cli(['check'], p.dir, env);
    expect(c.code).toBe(0);
    expect(c.stderr).toMatch(/^warning: .*expires in 10 days.*npx spotify-pipeline login/m);
  });

  it('check explains an expired refresh token (exit 2) and names the fix', async () => {
    const data = JSON.parse(await readFile(p.secrets, 'utf8'));
    sb.setRefreshTokenStatus(data['spotify/refresh_token'], 'expired');
    const r = await cli(['check'], p.dir, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: check failed: Spotify refused the refresh token: Refresh token expired');
    expect(r.stderr).toContain('spotify-pipeline login');
    expect(r.stdout + r.stderr).not.toMatch(TOKEN_LIKE);
  });

  it('login without a client id exits 2 with a clear message', async () => {
    const r = await cli(['login', '--port', '0', '--no-open', '--timeout', '5'], p.dir, { SPOTIFY_CLIENT_ID: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('connector.config.client_id is not set (environment variable SPOTIFY_CLIENT_ID is not set)');
  });
});
