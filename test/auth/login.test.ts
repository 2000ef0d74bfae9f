/**
 * `login` end to end against the sandbox's accounts service on loopback: the authorize URL, the
 * redirect to 127.0.0.1, PKCE, the secrets file, and a run with the token obtained.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startSandbox, type SpotifySandbox } from '../../connectors/spotify/sandbox/index.ts';
import spotify from '../../connectors/spotify/index.ts';
import { authorizeUrl, exchangeCode } from '../../connectors/spotify/login.ts';
import { loginCommand } from '../../core/cli/login.ts';
import { connectorConfig, preparePipeline, runLocal } from '../../core/pipeline.ts';
import { memoryLogger } from '../../core/log.ts';
import { pkceChallenge, pkceVerifier, PKCE_VERIFIER_ALPHABET, randomState } from '../../core/auth/index.ts';
import { UserError } from '../../core/plugin-api.ts';
import { browser, captureIO, pipelineDir, TEST_STREAMS } from './helpers.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tokenRequest(sb: SpotifySandbox, form: Record<string, string>) {
  const r = await fetch(`${sb.accountsUrl}/api/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
    signal: AbortSignal.timeout(5_000),
  });
  return { status: r.status, body: (await r.json()) as Record<string, string> };
}

describe('login (Authorization Code + PKCE) against the sandbox', () => {
  let sb: SpotifySandbox;
  beforeAll(async () => {
    sb = await startSandbox({ seed: 42 });
  });
  afterAll(async () => sb.close());
  const env = () => ({ SPOTIFY_CLIENT_ID: sb.credentials.client_id });

  it('asks for exactly the scopes the streams need, redirects to 127.0.0.1, stores the refresh token 0600 with 6-month _meta, keeps other keys, and the token runs the pipeline', async () => {
    const p = await pipelineDir(sb, { secrets: { 'other/key': 'keep-me-1234', 'spotify/client_secret': 'not-touched-5678' } });
    dirs.push(p.dir);
    const io = captureIO();
    const b = browser();
    sb.resetLog();
    const authorized = new Date('2026-08-31T10:00:00.000Z'); // + 6 months = 28 Feb (clamped)
    const outcome = await loginCommand({ config: p.file, port: 0, env: env(), openUrl: b.openUrl, timeoutSeconds: 20, now: () => authorized }, io);
    const f = await b.result();

    // The authorize URL: loopback IP redirect, S256 PKCE, state, and the least scopes.
    const q = f.authorizeUrl.searchParams;
    const redirect = new URL(q.get('redirect_uri')!);
    expect(redirect.protocol).toBe('http:');
    expect(redirect.hostname).toBe('127.0.0.1');
    expect(redirect.pathname).toBe('/callback');
    expect(q.get('client_id')).toBe(sb.credentials.client_id);
    expect(q.get('response_type')).toBe('code');
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('state')!.length).toBeGreaterThanOrEqual(16);
    const needed = new Set<string>(['user-read-private']); // for /me (check)
    for (const s of Object.values(TEST_STREAMS)) for (const sc of spotify.endpoints[s.endpoint].scopes) needed.add(sc);
    expect(q.get('scope')!.split(' ').sort()).toEqual([...needed].sort());
    expect(q.get('scope')).not.toMatch(/user-top-read|user-library-read|user-follow-read|user-read-email/);

    // The browser was sent to the callback, and the page tells the user they are done.
    expect(f.location.host).toBe(redirect.host);
    expect(f.status).toBe(200);
    expect(f.page).toMatch(/close this tab/i);

    // The secrets file: token under the referenced name, mode 0600, other keys kept, _meta dates 6 months apart.
    expect((await stat(p.secrets)).mode & 0o777).toBe(0o600);
    const data = JSON.parse(await readFile(p.secrets, 'utf8'));
    expect(data['other/key']).toBe('keep-me-1234');
    expect(data['spotify/client_secret']).toBe('not-touched-5678');
    const token = data['spotify/refresh_token'];
    expect(token).toMatch(/^AQ/);
    expect(data._meta['spotify/refresh_token']).toEqual({
      authorized_at: '2026-08-31T10:00:00.000Z',
      expires_at: '2027-02-28T10:00:00.000Z',
      scopes: [...needed].sort(),
    });
    expect(outcome.stored).toEqual([{ configKey: 'refresh_token', secretName: 'spotify/refresh_token', referenced: true }]);

    // Exactly one code exchange; nothing printed carries the token or the code.
    expect(sb.requests.filter((r) => r.path === '/api/token').map((r) => r.status)).toEqual([200]);
    const code = f.location.searchParams.get('code')!;
    expect(io.text()).not.toContain(token);
    expect(io.text()).not.toContain(code);
    expect(io.text()).toContain('aws secretsmanager put-secret-value --secret-id auth-test-lake/spotify/refresh_token');

    // The token works: a PKCE refresh (client_id only) gives a user token that reads /me ...
    const refreshed = await tokenRequest(sb, { grant_type: 'refresh_token', refresh_token: token, client_id: sb.credentials.client_id });
    expect(refreshed.status).toBe(200);
    const me = await fetch(`${sb.apiUrl}/me`, { headers: { authorization: `Bearer ${refreshed.body.access_token}` }, signal: AbortSignal.timeout(5_000) });
    expect(me.status).toBe(200);
    // ... and a real run resolves it from the secrets file (whose _meta is not a secret) and reads every stream.
    const prep = await preparePipeline(p.file);
    const choice = await connectorConfig(prep, { env: env() });
    expect(choice.sandbox).toBeUndefined();
    const logger = memoryLogger();
    const summary = await runLocal(prep, { lake: join(p.dir, '.lake'), logger, connectorConfig: choice.config });
    expect(summary.error).toBeUndefined();
    expect(summary.ok).toBe(true);
    for (const s of summary.streams) expect(s.records, s.stream).toBeGreaterThan(0);
    expect(logger.lines.join('\n')).not.toContain(token);
  });

  it('stores under spotify/refresh_token and says how to reference it when pipeline.yaml does not reference a secret', async () => {
    const p = await pipelineDir(sb, { refreshToken: '${env:SPOTIFY_REFRESH_TOKEN}' });
    dirs.push(p.dir);
    const io = captureIO();
    const b = browser();
    const outcome = await loginCommand({ config: p.file, port: 0, env: env(), openUrl: b.openUrl, timeoutSeconds: 20 }, io);
    expect(outcome.stored).toEqual([{ configKey: 'refresh_token', secretName: 'spotify/refresh_token', referenced: false }]);
    const data = JSON.parse(await readFile(p.secrets, 'utf8'));
    expect(data['spotify/refresh_token']).toMatch(/^AQ/);
    expect(io.text()).toContain('is ${env:SPOTIFY_REFRESH_TOKEN}');
    expect(io.text()).toContain('refresh_token: ${secret:spotify/refresh_token}');
    expect(io.text()).not.toContain(data['spotify/refresh_token']);
  });

  it('PKCE is verified: the code exchange with a wrong verifier fails, with the right one succeeds', async () => {
    const verifier = pkceVerifier();
    const redirectUri = 'http://127.0.0.1:9/callback'; // never contacted: the redirect is read, not followed
    const codeFor = async () => {
      const url = authorizeUrl({ accountsBaseUrl: sb.accountsUrl, clientId: sb.credentials.client_id, redirectUri, state: randomState(), challenge: pkceChallenge(verifier), scopes: ['user-read-private'] });
      const r = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5_000) });
      expect(r.status).toBe(302);
      return new URL(r.headers.get('location')!).searchParams.get('code')!;
    };
    const base = { accountsBaseUrl: sb.accountsUrl, clientId: sb.credentials.client_id, redirectUri };
    const wrong = exchangeCode({ ...base, code: await codeFor(), verifier: pkceVerifier() });
    await expect(wrong).rejects.toBeInstanceOf(UserError);
    await expect(wrong).rejects.toThrow(/invalid_grant.*code_verifier was incorrect/);
    const ok = await exchangeCode({ ...base, code: await codeFor(), verifier });
    expect(ok.refreshToken).toMatch(/^AQ/);
    expect(ok.scopes).toEqual(['user-read-private']);
  });

  it('verifiers are 43-128 chars of the RFC 7636 alphabet and random', () => {
    const alphabet = new RegExp(`^[${PKCE_VERIFIER_ALPHABET.replace(/[-.]/g, '\\$&')}]+$`);
    for (const n of [43, 64, 128]) expect(pkceVerifier(n)).toMatch(alphabet);
    expect(pkceVerifier(43)).toHaveLength(43);
    expect(pkceVerifier(128)).toHaveLength(128);
    expect(() => pkceVerifier(42)).toThrow(RangeError);
    expect(() => pkceVerifier(129)).toThrow(RangeError);
    expect(new Set(Array.from({ length: 50 }, () => pkceVerifier())).size).toBe(50);
    // RFC 7636 appendix B test vector.
    expect(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('a callback with a different state fails clearly and writes nothing', async () => {
    const original = JSON.stringify({ 'other/key': 'keep-me-1234' });
    const p = await pipelineDir(sb, { secrets: JSON.parse(original) });
    dirs.push(p.dir);
    const b = browser((cb) => cb.searchParams.set('state', randomBytes(24).toString('base64url')));
    const io = captureIO();
    const run = loginCommand({ config: p.file, port: 0, env: env(), openUrl: b.openUrl, timeoutSeconds: 20 }, io);
    await expect(run).rejects.toBeInstanceOf(UserError);
    await expect(run).rejects.toThrow(/different `state`.*nothing was stored/);
    const f = await b.result();
    expect(f.status).toBe(400);
    expect(f.page).toMatch(/state mismatch/);
    expect(await readFile(p.secrets, 'utf8')).toBe(original);
  });

  it('access_denied (the user refused) fails clearly and writes nothing', async () => {
    const denying = await startSandbox({ seed: 42, denyAuthorization: true });
    try {
      const p = await pipelineDir(denying);
      dirs.push(p.dir);
      const b = browser();
      const run = loginCommand({ config: p.file, port: 0, env: { SPOTIFY_CLIENT_ID: denying.credentials.client_id }, openUrl: b.openUrl, timeoutSeconds: 20 }, captureIO());
      await expect(run).rejects.toThrow(/authorization was refused \(access_denied\).*nothing was stored/);
      const f = await b.result();
      expect(f.location.searchParams.get('error')).toBe('access_denied');
      expect(f.page).toMatch(/not completed/);
      expect(f.page).toMatch(/close this tab/i);
      expect(existsSync(p.secrets)).toBe(false);
      expect(denying.requests.some((r) => r.path === '/api/token')).toBe(false);
    } finally {
      await denying.close();
    }
  });

  it('gives up after the timeout when the browser never answers', async () => {
    const p = await pipelineDir(sb);
    dirs.push(p.dir);
    const t0 = Date.now();
    const run = loginCommand({ config: p.file, port: 0, env: env(), openUrl: async () => undefined, timeoutSeconds: 0.3 }, captureIO());
    await expect(run).rejects.toThrow(/no answer from the browser within 300 ms; nothing was stored/);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(existsSync(p.secrets)).toBe(false);
  });

  it('stops when aborted (Ctrl-C)', async () => {
    const p = await pipelineDir(sb);
    dirs.push(p.dir);
    const ac = new AbortController();
    const run = loginCommand({ config: p.file, port: 0, env: env(), openUrl: async () => void setTimeout(() => ac.abort(new UserError('login interrupted; nothing was stored')), 50), timeoutSeconds: 20, signal: ac.signal }, captureIO());
    await expect(run).rejects.toThrow(/interrupted/);
  });

  it('a missing client_id is a clear error naming the variable, before any browser step', async () => {
    const p = await pipelineDir(sb);
    dirs.push(p.dir);
    let opened = false;
    const run = loginCommand({ config: p.file, port: 0, env: {}, openUrl: async () => void (opened = true), timeoutSeconds: 5 }, captureIO());
    await expect(run).rejects.toBeInstanceOf(UserError);
    await expect(run).rejects.toThrow(/connector\.config\.client_id is not set \(environment variable SPOTIFY_CLIENT_ID is not set\)/);
    expect(opened).toBe(false);
  });

  it('a busy port is a clear error', async () => {
    const p = await pipelineDir(sb);
    dirs.push(p.dir);
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (blocker.address() as { port: number }).port;
      await expect(loginCommand({ config: p.file, port, env: env(), openUrl: async () => undefined, timeoutSeconds: 5 }, captureIO())).rejects.toThrow(new RegExp(`port ${port} on 127.0.0.1 is already in use`));
    } finally {
      blocker.close();
    }
  });

  it('a malformed secrets file fails before the browser step and is not overwritten', async () => {
    const p = await pipelineDir(sb);
    dirs.push(p.dir);
    await writeFile(p.secrets, '{"spotify/refresh_token": "AQsecret-value-123",');
    let opened = false;
    const io = captureIO();
    const run = loginCommand({ config: p.file, port: 0, env: env(), openUrl: async () => void (opened = true), timeoutSeconds: 5 }, io);
    await expect(run).rejects.toThrow(/not valid JSON/);
    await expect(run).rejects.not.toThrow(/AQsecret/);
    expect(opened).toBe(false);
    expect(await readFile(p.secrets, 'utf8')).toBe('{"spotify/refresh_token": "AQsecret-value-123",');
  });
});
