import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SANDBOX_EXPIRED_REFRESH_TOKEN, SANDBOX_REVOKED_REFRESH_TOKEN, type SpotifySandbox,
} from '../../connectors/spotify/sandbox/index.ts';
import { api, basic, call, clientToken, start, tokenRequest, userToken } from './helpers.ts';

const b64url = (b: Buffer) => b.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

describe('sandbox accounts service', () => {
  let sb: SpotifySandbox;
  beforeAll(async () => { sb = await start(); });
  afterAll(async () => { await sb.close(); });

  it('client_credentials with Basic auth returns exactly the documented keys', async () => {
    const r = await tokenRequest(sb, { grant_type: 'client_credentials' }, basic(sb));
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
    expect(r.body.token_type).toBe('Bearer');
    expect(r.body.expires_in).toBe(3600);
  });

  it('client_credentials with the credentials in the form body', async () => {
    const r = await tokenRequest(sb, { grant_type: 'client_credentials', client_id: sb.credentials.client_id, client_secret: sb.credentials.client_secret });
    expect(r.status).toBe(200);
    expect(r.body.access_token).toMatch(/^BQ/);
  });

  it('rejects bad or missing clients with invalid_client', async () => {
    const bad = 'Basic ' + Buffer.from(`${sb.credentials.client_id}:nope`).toString('base64');
    expect((await tokenRequest(sb, { grant_type: 'client_credentials' }, bad)).body).toEqual({ error: 'invalid_client', error_description: 'Invalid client secret' });
    const unknown = 'Basic ' + Buffer.from('someone:else').toString('base64');
    expect((await tokenRequest(sb, { grant_type: 'client_credentials' }, unknown)).body).toEqual({ error: 'invalid_client', error_description: 'Invalid client' });
    const none = await tokenRequest(sb, { grant_type: 'client_credentials' });
    expect(none.status).toBe(400);
    expect(none.body).toEqual({ error: 'invalid_client' });
  });

  it('refresh_token grant (secret flow) returns a user token with scopes', async () => {
    const r = await tokenRequest(sb, { grant_type: 'refresh_token', refresh_token: sb.credentials.refresh_token }, basic(sb));
    expect(r.status).toBe(200);
    expect(r.body.scope.split(' ')).toContain('playlist-read-private');
    const me = await api(sb, r.body.access_token, '/me');
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(sb.data.user.id);
  });

  it('PKCE refresh (client_id only) returns a new refresh token, and the old one stays valid', async () => {
    const r = await tokenRequest(sb, { grant_type: 'refresh_token', refresh_token: sb.credentials.refresh_token, client_id: sb.credentials.client_id });
    expect(r.status).toBe(200);
    expect(r.body.refresh_token).toBeTruthy();
    expect(r.body.refresh_token).not.toBe(sb.credentials.refresh_token);
    const again = await tokenRequest(sb, { grant_type: 'refresh_token', refresh_token: sb.credentials.refresh_token }, basic(sb));
    expect(again.status).toBe(200);
    const viaNew = await tokenRequest(sb, { grant_type: 'refresh_token', refresh_token: r.body.refresh_token }, basic(sb));
    expect(viaNew.status).toBe(200);
  });

  it('expired, revoked and unknown refresh tokens give invalid_grant', async () => {
    expect((await tokenRequest(sb, { grant_type: 'refresh_token', refresh_token: SANDBOX_EXPIRED_REFRESH_TOKEN }, basic(sb))).body)
      .toEqual({ error: 'invalid_grant', error_description: 'Refresh token expired' });
    expect((await tokenRequest(sb, { grant_type: 'refresh_token', refresh_token: SANDBOX_REVOKED_REFRESH_TOKEN }, basic(sb))).body)
      .toEqual({ error: 'invalid_grant', error_description: 'Refresh token revoked' });
    const bad = await tokenRequest(sb, { grant_type: 'refresh_token', refresh_token: 'AQnope' }, basic(sb));
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: 'invalid_grant', error_description: 'Invalid refresh token' });
  });

  it('unsupported grant types are refused', async () => {
    const r = await tokenRequest(sb, { grant_type: 'password' }, basic(sb));
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('unsupported_grant_type');
  });

  it('authorization code + PKCE: loopback redirect, S256 check, single-use code', async () => {
    const verifier = b64url(randomBytes(48));
    const challenge = b64url(createHash('sha256').update(verifier).digest());
    const redirect = 'http://127.0.0.1:8765/callback';
    const q = new URLSearchParams({
      client_id: sb.credentials.client_id, response_type: 'code', redirect_uri: redirect, state: 'xyz',
      scope: 'user-read-private playlist-read-private', code_challenge_method: 'S256', code_challenge: challenge,
    });
    const auth = await fetch(`${sb.accountsUrl}/authorize?${q}`, { redirect: 'manual' });
    expect(auth.status).toBe(302);
    const loc = new URL(auth.headers.get('location')!);
    expect(`${loc.origin}${loc.pathname}`).toBe(redirect);
    expect(loc.searchParams.get('state')).toBe('xyz');
    const code = loc.searchParams.get('code')!;

    const wrong = await tokenRequest(sb, { grant_type: 'authorization_code', code, redirect_uri: redirect, client_id: sb.credentials.client_id, code_verifier: 'x'.repeat(43) });
    expect(wrong.body).toEqual({ error: 'invalid_grant', error_description: 'code_verifier was incorrect' });

    // The failed attempt used the code up; get a fresh one.
    const loc2 = new URL((await fetch(`${sb.accountsUrl}/authorize?${q}`, { redirect: 'manual' })).headers.get('location')!);
    const code2 = loc2.searchParams.get('code')!;
    const ok = await tokenRequest(sb, { grant_type: 'authorization_code', code: code2, redirect_uri: redirect, client_id: sb.credentials.client_id, code_verifier: verifier });
    expect(ok.status).toBe(200);
    expect(ok.body.scope).toBe('user-read-private playlist-read-private');
    expect(ok.body.refresh_token).toBeTruthy();
    const reused = await tokenRequest(sb, { grant_type: 'authorization_code', code: code2, redirect_uri: redirect, client_id: sb.credentials.client_id, code_verifier: verifier });
    expect(reused.body).toEqual({ error: 'invalid_grant', error_description: 'Invalid authorization code' });

    // The granted scopes are enforced: no user-top-read.
    const top = await api(sb, ok.body.access_token, '/me/top/tracks');
    expect(top.status).toBe(403);
    expect(top.body).toEqual({ error: { status: 403, message: 'Insufficient client scope' } });
  });

  it('authorization code with the client secret and a redirect mismatch', async () => {
    const redirect = 'http://[::1]:9000/cb';
    const q = new URLSearchParams({ client_id: sb.credentials.client_id, response_type: 'code', redirect_uri: redirect });
    const code = new URL((await fetch(`${sb.accountsUrl}/authorize?${q}`, { redirect: 'manual' })).headers.get('location')!).searchParams.get('code')!;
    const mismatch = await tokenRequest(sb, { grant_type: 'authorization_code', code, redirect_uri: 'http://[::1]:9001/cb' }, basic(sb));
    expect(mismatch.body).toEqual({ error: 'invalid_grant', error_description: 'Invalid redirect URI' });
    const code2 = new URL((await fetch(`${sb.accountsUrl}/authorize?${q}`, { redirect: 'manual' })).headers.get('location')!).searchParams.get('code')!;
    const ok = await tokenRequest(sb, { grant_type: 'authorization_code', code: code2, redirect_uri: redirect }, basic(sb));
    expect(ok.status).toBe(200);
  });

  it('rejects localhost redirect URIs (2025 OAuth rules)', async () => {
    const q = new URLSearchParams({ client_id: sb.credentials.client_id, response_type: 'code', redirect_uri: 'http://localhost:8765/callback' });
    const r = await fetch(`${sb.accountsUrl}/authorize?${q}`, { redirect: 'manual' });
    expect(r.status).toBe(400);
  });

  it('API auth errors: missing, invalid and expired tokens give 401 with www-authenticate', async () => {
    const missing = await call(`${sb.apiUrl}/me`);
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ error: { status: 401, message: 'Missing/invalid/expired access token' } });
    expect(missing.headers.get('www-authenticate')).toContain('error="missing_token"');
    const invalid = await api(sb, 'BQnotatoken', '/me');
    expect(invalid.status).toBe(401);
    expect(invalid.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const tok = await userToken(sb);
    sb.expireAccessTokens();
    const expired = await api(sb, tok, '/me');
    expect(expired.status).toBe(401);
    expect(expired.body.error.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toContain('expired');
  });

  it('a Client Credentials token gets 403 Insufficient client scope on /me/*, but reads the catalog', async () => {
    const cc = await clientToken(sb);
    for (const p of ['/me', '/me/playlists', '/me/player/recently-played']) {
      const r = await api(sb, cc, p);
      expect(r.status, p).toBe(403);
      expect(r.body).toEqual({ error: { status: 403, message: 'Insufficient client scope' } });
    }
    const track = [...sb.data.tracks.keys()][0];
    expect((await api(sb, cc, `/tracks/${track}`)).status).toBe(200);
    // No user in Development: no playlist contents at all.
    expect((await api(sb, cc, `/playlists/${sb.data.playlists[0].id}/items`)).status).toBe(403);
  });

  it('every request is logged, token requests included', async () => {
    sb.resetLog();
    await tokenRequest(sb, { grant_type: 'client_credentials' }, basic(sb));
    await call(`${sb.apiUrl}/me`);
    expect(sb.requests.map((r) => [r.method, r.path, r.status])).toEqual([['POST', '/api/token', 200], ['GET', '/v1/me', 401]]);
  });
});

describe('sandbox refresh-token options', () => {
  it('rotateRefreshTokens: the old refresh token stops working', async () => {
    const sb = await start({ rotateRefreshTokens: true });
    try {
      const r = await tokenRequest(sb, { grant_type: 'refresh_token', refresh_token: sb.credentials.refresh_token }, basic(sb));
      expect(r.status).toBe(200);
      expect(r.body.refresh_token).toBeTruthy();
      const old = await tokenRequest(sb, { grant_type: 'refresh_token', refresh_token: sb.credentials.refresh_token }, basic(sb));
      expect(old.body).toEqual({ error: 'invalid_grant', error_description: 'Invalid refresh token' });
      const next = await tokenRequest(sb, { grant_type: 'refresh_token', refresh_token: r.body.refresh_token }, basic(sb));
      expect(next.status).toBe(200);
    } finally {
      await sb.close();
    }
  });

  it('refreshTokenStatus: the demo refresh token can start expired', async () => {
    const sb = await start({ refreshTokenStatus: 'expired' });
    try {
      const r = await tokenRequest(sb, { grant_type: 'refresh_token', refresh_token: sb.credentials.refresh_token }, basic(sb));
      expect(r.body).toEqual({ error: 'invalid_grant', error_description: 'Refresh token expired' });
      sb.setRefreshTokenStatus(sb.credentials.refresh_token, 'revoked');
      const r2 = await tokenRequest(sb, { grant_type: 'refresh_token', refresh_token: sb.credentials.refresh_token }, basic(sb));
      expect(r2.body.error_description).toBe('Refresh token revoked');
    } finally {
      await sb.close();
    }
  });

  it('tokenLifetimeSeconds is reported in expires_in', async () => {
    const sb = await start({ tokenLifetimeSeconds: 5 });
    try {
      const r = await tokenRequest(sb, { grant_type: 'client_credentials' }, basic(sb));
      expect(r.body.expires_in).toBe(5);
    } finally {
      await sb.close();
    }
  });
});
