/**
 * Rotated refresh tokens handed back through `updateSecret` (the local implementation,
 * `localSecretUpdater`), wired to SpotifyAuth.onRotate the way the engine/read.ts should.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, rm, stat } from 'node:fs/promises';
import { startSandbox, type SpotifySandbox } from '../../connectors/spotify/sandbox/index.ts';
import { SpotifyAuth } from '../../connectors/spotify/auth.ts';
import { HttpClient } from '../../core/http.ts';
import { memoryLogger } from '../../core/log.ts';
import { preparePipeline } from '../../core/pipeline.ts';
import { localSecretUpdater, persistLocalSecret } from '../../core/auth/index.ts';
import { pipelineDir } from './helpers.ts';

const META = { authorized_at: '2026-10-01T00:00:00.000Z', expires_at: '2027-04-01T00:00:00.000Z', scopes: ['user-read-private'] };

async function refresh(sb: SpotifySandbox, token: string) {
  const r = await fetch(`${sb.accountsUrl}/api/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token, client_id: sb.credentials.client_id }),
    signal: AbortSignal.timeout(5_000),
  });
  return { status: r.status, body: (await r.json()) as Record<string, string> };
}

describe('rotated refresh tokens', () => {
  let sb: SpotifySandbox;
  const dirs: string[] = [];
  beforeAll(async () => {
    sb = await startSandbox({ seed: 7, rotateRefreshTokens: true });
  });
  afterAll(async () => {
    await sb.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('the new token is stored under the referenced secret, keeping _meta and other keys; the old one is dead', async () => {
    const old = sb.credentials.refresh_token;
    const p = await pipelineDir(sb, { secrets: { 'spotify/refresh_token': old, 'other/key': 'keep-me-1234', _meta: { 'spotify/refresh_token': META } } });
    dirs.push(p.dir);
    const { loaded } = await preparePipeline(p.file);
    const logger = memoryLogger();
    const updateSecret = localSecretUpdater(loaded, logger);
    const http = new HttpClient({ baseURL: sb.apiUrl, logger });
    const auth = new SpotifyAuth(http, { client_id: sb.credentials.client_id, refresh_token: old, accounts_base_url: sb.accountsUrl });
    // The wiring the engine needs (see the report): SpotifyAuth.onRotate -> ctx.updateSecret.
    let stored: Promise<void> | undefined;
    auth.onRotate = (t) => {
      stored = updateSecret('refresh_token', t);
    };
    await auth.user.token();
    expect(stored).toBeDefined();
    await stored;

    const data = JSON.parse(await readFile(p.secrets, 'utf8'));
    const rotated = data['spotify/refresh_token'];
    expect(rotated).toMatch(/^AQ/);
    expect(rotated).not.toBe(old);
    expect(rotated).toBe(auth.refreshToken);
    expect(data['other/key']).toBe('keep-me-1234');
    expect(data._meta['spotify/refresh_token']).toEqual(META); // refreshing does not extend the 6 months
    expect((await stat(p.secrets)).mode & 0o777).toBe(0o600);
    expect((await refresh(sb, old)).body).toEqual({ error: 'invalid_grant', error_description: 'Invalid refresh token' });
    expect((await refresh(sb, rotated)).status).toBe(200);
    expect(logger.lines.join('\n')).not.toContain(rotated);
  });

  it('a key that is not a ${secret:} reference is not stored, with a warning that names no value', async () => {
    const p = await pipelineDir(sb, { refreshToken: '${env:SPOTIFY_REFRESH_TOKEN}' });
    dirs.push(p.dir);
    const { loaded } = await preparePipeline(p.file);
    const logger = memoryLogger();
    await localSecretUpdater(loaded, logger)('refresh_token', 'AQ-rotated-value-0001');
    expect(logger.lines.join('\n')).toMatch(/connector\.config\.refresh_token.*not a \$\{secret:\.\.\.\} reference/);
    expect(logger.lines.join('\n')).not.toContain('AQ-rotated-value-0001');
    await expect(stat(p.secrets)).rejects.toThrow(/ENOENT/);
  });

  it('serializes concurrent updates (the last one wins) and never rejects', async () => {
    const p = await pipelineDir(sb, { secrets: { _meta: { 'spotify/refresh_token': META } } });
    dirs.push(p.dir);
    const { loaded } = await preparePipeline(p.file);
    const logger = memoryLogger();
    const update = localSecretUpdater(loaded, logger);
    await Promise.all(['AQ-one-000001', 'AQ-two-000002', 'AQ-three-00003'].map((v) => update('refresh_token', v)));
    const data = JSON.parse(await readFile(p.secrets, 'utf8'));
    expect(data['spotify/refresh_token']).toBe('AQ-three-00003');
    expect(data._meta['spotify/refresh_token']).toEqual(META);
    // An unwritable target is a warning, not a crash.
    await expect(localSecretUpdater(loaded, logger, `${p.dir}/no/such/dir/.secrets.json`)('refresh_token', 'AQ-x-000004')).resolves.toBeUndefined();
    expect(logger.lines.at(-1)).toMatch(/warn: could not store the new value of secret "spotify\/refresh_token"/);
  });

  it('persistLocalSecret creates a missing file with mode 0600', async () => {
    const p = await pipelineDir(sb);
    dirs.push(p.dir);
    await persistLocalSecret(p.secrets, 'spotify/refresh_token', 'AQ-new-000005');
    expect((await stat(p.secrets)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(p.secrets, 'utf8'))).toEqual({ 'spotify/refresh_token': 'AQ-new-000005' });
  });
});
