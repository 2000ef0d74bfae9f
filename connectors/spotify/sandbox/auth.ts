/**
 * The accounts service (doc §5): `POST /api/token` for the three grants, `GET /authorize` for a
 * loopback login, and access-token verification for the API routes. Tokens are opaque and drawn
 * from a seeded stream, so two sandboxes with the same seed hand out the same tokens.
 */
import { createHash } from 'node:crypto';
import { Rng } from './prng.ts';

/**
 * Every scope the pipeline may need (doc §5.2), granted to the demo refresh token: the read
 * scopes, and the playlist write scopes of the opt-in write-back (`recommendations.playlist`).
 */
export const ALL_SCOPES = [
  'user-read-private', 'user-read-email', 'user-read-recently-played', 'user-top-read',
  'user-library-read', 'playlist-read-private', 'playlist-read-collaborative', 'user-follow-read',
  'playlist-modify-private', 'playlist-modify-public',
];

/** Refresh tokens that always fail, so clients can exercise the "re-login, never retry" path. */
export const SANDBOX_EXPIRED_REFRESH_TOKEN = 'sandbox-expired-refresh-token';
export const SANDBOX_REVOKED_REFRESH_TOKEN = 'sandbox-revoked-refresh-token';

/** 6 months after the user's authorization (doc §1, 2026-06-18 change). */
const REFRESH_TOKEN_LIFETIME_MS = 182 * 86_400_000;
const AUTH_CODE_LIFETIME_MS = 10 * 60_000;

export interface AccessToken {
  token: string;
  kind: 'client' | 'user';
  clientId: string;
  scopes: Set<string>;
  expiresAt: number;
  userId?: string;
}

interface RefreshToken {
  token: string;
  clientId: string;
  scopes: string[];
  authorizedAt: number;
  status: 'valid' | 'expired' | 'revoked';
}

interface AuthCode {
  code: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  challenge?: string;
  expiresAt: number;
}

export interface AuthOptions {
  seed: number;
  userId: string;
  tokenLifetimeSeconds: number;
  rotateRefreshTokens: boolean;
  /** State of the demo credentials' refresh token. */
  refreshTokenStatus: 'valid' | 'expired' | 'revoked';
  /** Scopes of the demo refresh token. */
  scopes: string[];
  /** Answer `GET /authorize` with `error=access_denied` (the user refused). */
  denyAuthorization: boolean;
  clock: () => number;
}

export interface HttpAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Plain-text body (sent as is). */
  text?: string;
}

export type VerifyResult = { ok: true; token: AccessToken } | { ok: false; answer: HttpAnswer };

function oauthError(error: string, description?: string): HttpAnswer {
  return { status: 400, body: description ? { error, error_description: description } : { error } };
}

const UNAUTHORIZED_BODY = { error: { status: 401, message: 'Missing/invalid/expired access token' } };

function unauthorized(error: string, description: string): HttpAnswer {
  // 2026 observed body and header (doc §6); the expired-token message is [UNCONFIRMED].
  return {
    status: 401,
    headers: { 'www-authenticate': `Bearer realm="spotify", error="${error}", error_description="${description}"` },
    body: UNAUTHORIZED_BODY,
  };
}

export function base64url(buf: Buffer): string {
  return buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function pkceChallenge(verifier: string): string {
  return base64url(createHash('sha256').update(verifier).digest());
}

/** Loopback IP literals or HTTPS; `localhost` is rejected since 2025 (doc §1, §5.2). */
export function redirectUriAllowed(uri: string): boolean {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return false;
  }
  if (u.protocol === 'https:') return u.hostname !== 'localhost';
  if (u.protocol !== 'http:') return false;
  return u.hostname === '127.0.0.1' || u.hostname === '[::1]';
}

export class AuthService {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly demoRefreshToken: string;
  private readonly rng: Rng;
  private readonly access = new Map<string, AccessToken>();
  private readonly refresh = new Map<string, RefreshToken>();
  private readonly codes = new Map<string, AuthCode>();

  constructor(private readonly opts: AuthOptions) {
    const cred = Rng.derive(opts.seed, 'credentials');
    this.clientId = cred.hex(32);
    this.clientSecret = cred.hex(32);
    this.demoRefreshToken = 'AQ' + cred.base62(128);
    this.rng = Rng.derive(opts.seed, 'tokens');
    const now = opts.clock();
    this.refresh.set(this.demoRefreshToken, {
      token: this.demoRefreshToken, clientId: this.clientId, scopes: opts.scopes,
      authorizedAt: now - 30 * 86_400_000, status: opts.refreshTokenStatus,
    });
    for (const [token, status] of [[SANDBOX_EXPIRED_REFRESH_TOKEN, 'expired'], [SANDBOX_REVOKED_REFRESH_TOKEN, 'revoked']] as const) {
      this.refresh.set(token, { token, clientId: this.clientId, scopes: opts.scopes, authorizedAt: now - 200 * 86_400_000, status });
    }
  }

  /** Test hook: every access token issued so far is now expired. */
  expireAccessTokens(): void {
    const now = this.opts.clock();
    for (const t of this.access.values()) t.expiresAt = Math.min(t.expiresAt, now - 1);
  }

  /** Test hook: mark a refresh token revoked or expired (the user removed access / 6 months passed). */
  setRefreshTokenStatus(token: string, status: 'valid' | 'expired' | 'revoked'): void {
    const rt = this.refresh.get(token);
    if (rt) rt.status = status;
  }

  /** Issue a user access token directly (tests that do not care about the OAuth dance). */
  issueUserToken(scopes: string[] = this.opts.scopes): string {
    return this.newAccess('user', this.clientId, scopes).token;
  }

  issueClientToken(): string {
    return this.newAccess('client', this.clientId, []).token;
  }

  private newAccess(kind: 'client' | 'user', clientId: string, scopes: string[]): AccessToken {
    const t: AccessToken = {
      token: 'BQ' + this.rng.base62(150),
      kind,
      clientId,
      scopes: new Set(scopes),
      expiresAt: this.opts.clock() + this.opts.tokenLifetimeSeconds * 1000,
      userId: kind === 'user' ? this.opts.userId : undefined,
    };
    this.access.set(t.token, t);
    return t;
  }

  private newRefresh(clientId: string, scopes: string[], authorizedAt: number): string {
    const token = 'AQ' + this.rng.base62(128);
    this.refresh.set(token, { token, clientId, scopes, authorizedAt, status: 'valid' });
    return token;
  }

  verify(authorization: string | undefined): VerifyResult {
    if (!authorization || !/^Bearer\s+\S/i.test(authorization)) {
      return { ok: false, answer: unauthorized('missing_token', 'No token provided') };
    }
    const token = authorization.replace(/^Bearer\s+/i, '').trim();
    const t = this.access.get(token);
    if (!t) return { ok: false, answer: unauthorized('invalid_token', 'Invalid access token') };
    if (this.opts.clock() >= t.expiresAt) return { ok: false, answer: unauthorized('invalid_token', 'The access token expired') };
    return { ok: true, token: t };
  }

  /** Which client a bearer token belongs to (for per-client rate limiting), without validating it. */
  clientOf(authorization: string | undefined): string {
    const token = authorization?.replace(/^Bearer\s+/i, '').trim();
    return (token && this.access.get(token)?.clientId) || 'anonymous';
  }

  /** `POST /api/token` (doc §5.1–5.3). */
  token(authorization: string | undefined, form: URLSearchParams): HttpAnswer {
    // Client authentication: Basic header, or client_id/client_secret in the form (both are read).
    let clientId = form.get('client_id') ?? undefined;
    let secret = form.get('client_secret') ?? undefined;
    if (authorization && /^Basic\s+/i.test(authorization)) {
      const decoded = Buffer.from(authorization.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i < 0) return oauthError('invalid_client', 'Invalid client');
      clientId = decoded.slice(0, i);
      secret = decoded.slice(i + 1);
    }
    if (!clientId) return oauthError('invalid_client');
    if (clientId !== this.clientId) return oauthError('invalid_client', 'Invalid client');
    if (secret !== undefined && secret !== this.clientSecret) return oauthError('invalid_client', 'Invalid client secret');
    const confidential = secret !== undefined;

    const grant = form.get('grant_type');
    if (!grant) return oauthError('unsupported_grant_type', 'grant_type parameter is missing');
    const now = this.opts.clock();
    const expires_in = this.opts.tokenLifetimeSeconds;

    if (grant === 'client_credentials') {
      if (!confidential) return oauthError('invalid_client', 'Invalid client secret');
      const t = this.newAccess('client', clientId, []);
      // The docs list exactly these three keys (doc §5.1).
      return { status: 200, body: { access_token: t.token, token_type: 'Bearer', expires_in } };
    }

    if (grant === 'refresh_token') {
      const value = form.get('refresh_token');
      if (!value) return oauthError('invalid_request', 'refresh_token must be supplied');
      const rt = this.refresh.get(value);
      if (!rt || rt.clientId !== clientId) return oauthError('invalid_grant', 'Invalid refresh token');
      // Expired/revoked: the client must re-authorize, never retry (doc §5.2 step 5).
      if (rt.status === 'revoked') return oauthError('invalid_grant', 'Refresh token revoked');
      if (rt.status === 'expired' || now - rt.authorizedAt >= REFRESH_TOKEN_LIFETIME_MS) {
        return oauthError('invalid_grant', 'Refresh token expired');
      }
      const t = this.newAccess('user', clientId, rt.scopes);
      const body: Record<string, unknown> = { access_token: t.token, token_type: 'Bearer', expires_in, scope: rt.scopes.join(' ') };
      // PKCE refreshes return a new refresh token; it keeps the original authorization time, since
      // refreshing does not extend the 6-month lifetime (doc §5.2 step 4-5). With
      // rotateRefreshTokens the old one stops working; otherwise both stay valid.
      if (!confidential || this.opts.rotateRefreshTokens) {
        body.refresh_token = this.newRefresh(clientId, rt.scopes, rt.authorizedAt);
        if (this.opts.rotateRefreshTokens) this.refresh.delete(value);
      }
      return { status: 200, body };
    }

    if (grant === 'authorization_code') {
      const code = this.codes.get(form.get('code') ?? '');
      if (!code || code.clientId !== clientId) return oauthError('invalid_grant', 'Invalid authorization code');
      this.codes.delete(code.code); // single use
      if (now > code.expiresAt) return oauthError('invalid_grant', 'Authorization code expired');
      if (form.get('redirect_uri') !== code.redirectUri) return oauthError('invalid_grant', 'Invalid redirect URI');
      const verifier = form.get('code_verifier');
      if (code.challenge) {
        if (!verifier) return oauthError('invalid_request', 'code_verifier required');
        if (pkceChallenge(verifier) !== code.challenge) return oauthError('invalid_grant', 'code_verifier was incorrect');
      } else if (!confidential) {
        return oauthError('invalid_client', 'Invalid client secret');
      }
      const t = this.newAccess('user', clientId, code.scopes);
      return {
        status: 200,
        body: {
          access_token: t.token, token_type: 'Bearer', scope: code.scopes.join(' '), expires_in,
          refresh_token: this.newRefresh(clientId, code.scopes, now),
        },
      };
    }

    return oauthError('unsupported_grant_type', 'grant_type must be client_credentials, authorization_code or refresh_token');
  }

  /** `GET /authorize`: no login page, the user consents at once (doc §5.2 step 1-2). */
  authorize(query: URLSearchParams): HttpAnswer {
    const clientId = query.get('client_id');
    const redirectUri = query.get('redirect_uri') ?? '';
    if (clientId !== this.clientId) return { status: 400, text: 'INVALID_CLIENT: Invalid client' };
    if (!redirectUriAllowed(redirectUri)) {
      // `localhost` and plain http to non-loopback hosts are refused since 2025 (doc §1).
      return { status: 400, text: 'INVALID_CLIENT: Insecure redirect URI' };
    }
    const state = query.get('state');
    const target = new URL(redirectUri);
    if (query.get('response_type') !== 'code') {
      target.searchParams.set('error', 'unsupported_response_type');
      if (state !== null) target.searchParams.set('state', state);
      return { status: 302, headers: { location: target.toString() } };
    }
    if (this.opts.denyAuthorization) {
      target.searchParams.set('error', 'access_denied');
      if (state !== null) target.searchParams.set('state', state);
      return { status: 302, headers: { location: target.toString() } };
    }
    const method = query.get('code_challenge_method');
    const challenge = query.get('code_challenge') ?? undefined;
    if (challenge && method !== 'S256') return { status: 400, text: 'Illegal code_challenge_method' };
    const code = 'AQ' + this.rng.base62(100);
    const scopes = (query.get('scope') ?? '').split(/[\s+]+/).filter(Boolean);
    this.codes.set(code, {
      code, clientId, redirectUri, scopes, challenge, expiresAt: this.opts.clock() + AUTH_CODE_LIFETIME_MS,
    });
    target.searchParams.set('code', code);
    if (state !== null) target.searchParams.set('state', state);
    return { status: 302, headers: { location: target.toString() } };
  }
}
