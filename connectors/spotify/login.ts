/**
 * `spotify-pipeline login` for Spotify: Authorization Code + PKCE with a loopback redirect
 * (doc §5.2). The user consents in the browser; Spotify redirects to
 * `http://127.0.0.1:PORT/callback` (an IP literal: `localhost` is refused since 2025); the code
 * is exchanged with the PKCE verifier (no client secret needed) for a refresh token, which
 * expires 6 months after this consent.
 */
import {
  addMonths, pkceChallenge, pkceVerifier, randomState, startLoopbackCallback, UserError,
  type LoginContext, type LoginResult, type StreamSpec,
} from '../../core/plugin-api.ts';
import { endpoints, scopesFor } from './endpoints.ts';
import { explainTokenError } from './auth.ts';
import { WRITE_READ_SCOPES, playlistWriter } from './write.ts';
import type { SpotifyConfig } from './config.ts';

/** The port most Spotify examples register (`http://127.0.0.1:8888/callback`). */
export const DEFAULT_LOGIN_PORT = 8888;
export const CALLBACK_PATH = '/callback';
export const DEFAULT_LOGIN_TIMEOUT_MS = 5 * 60_000;
/** Spotify refresh tokens stop working this many months after the user's authorization (doc §5.2 step 5). */
export const REFRESH_TOKEN_LIFETIME_MONTHS = 6;
/** `check` (and any `/me` call) needs it; the endpoint descriptors do not list it. */
const ME_SCOPE = 'user-read-private';
const EXCHANGE_TIMEOUT_MS = 30_000;
const DEFAULT_ACCOUNTS = 'https://accounts.spotify.com';

interface TokenResponse {
  access_token?: string;
  refresh_token?: string;
  scope?: string;
  error?: string;
  error_description?: string;
}

/**
 * The least scopes the pipeline's streams need, plus `user-read-private` for `/me`; with the
 * playlist write-back configured, also what it needs (reading the user's playlists and writing a
 * private one). Sorted.
 */
export function loginScopes(streams: Pick<StreamSpec, 'endpoint'>[], opts: { playlistWrite?: boolean } = {}): string[] {
  const write = opts.playlistWrite ? [...playlistWriter.scopes, ...WRITE_READ_SCOPES] : [];
  return [...new Set([...scopesFor(streams.map((s) => s.endpoint)), ME_SCOPE, ...write])].sort();
}

export interface AuthorizeParams {
  accountsBaseUrl: string;
  clientId: string;
  redirectUri: string;
  state: string;
  challenge: string;
  scopes: string[];
}

export function authorizeUrl(p: AuthorizeParams): string {
  const url = new URL(`${p.accountsBaseUrl.replace(/\/$/, '')}/authorize`);
  url.search = new URLSearchParams({
    client_id: p.clientId,
    response_type: 'code',
    redirect_uri: p.redirectUri,
    state: p.state,
    scope: p.scopes.join(' '),
    code_challenge_method: 'S256',
    code_challenge: p.challenge,
  }).toString();
  return url.toString();
}

export interface ExchangeParams {
  accountsBaseUrl: string;
  clientId: string;
  code: string;
  redirectUri: string;
  verifier: string;
  signal?: AbortSignal;
}

/**
 * Trade the authorization code for tokens, PKCE style: no Authorization header, `client_id` and
 * `code_verifier` in the form. Spotify checks sha256(verifier) against the challenge it was sent.
 */
export async function exchangeCode(p: ExchangeParams): Promise<{ refreshToken: string; scopes?: string[] }> {
  const form = new URLSearchParams({
    grant_type: 'authorization_code',
    code: p.code,
    redirect_uri: p.redirectUri,
    client_id: p.clientId,
    code_verifier: p.verifier,
  });
  const signal = p.signal ? AbortSignal.any([p.signal, AbortSignal.timeout(EXCHANGE_TIMEOUT_MS)]) : AbortSignal.timeout(EXCHANGE_TIMEOUT_MS);
  const url = `${p.accountsBaseUrl.replace(/\/$/, '')}/api/token`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form, signal });
  } catch (e) {
    if (p.signal?.aborted) throw p.signal.reason ?? e;
    const why = (e as Error).name === 'TimeoutError' ? `no answer within ${EXCHANGE_TIMEOUT_MS / 1000} s` : ((e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message);
    throw new UserError(`could not reach the Spotify token endpoint ${url} (${why})`, 'check the network (or connector.config.accounts_base_url) and run the login again');
  }
  const text = await res.text();
  let body: TokenResponse | string = text.slice(0, 200);
  try {
    body = JSON.parse(text) as TokenResponse;
  } catch {
    // a non-JSON answer (proxy page) is explained by its status
  }
  if (res.status !== 200 || typeof body !== 'object' || !body?.access_token) {
    const e = explainTokenError(res.status, typeof body === 'object' ? body : undefined, 'authorization_code');
    throw new UserError(e.message, e.hint ?? 'run the login again (an authorization code works once and only for a few minutes)');
  }
  if (!body.refresh_token) {
    throw new UserError('Spotify answered the login without a refresh token, so scheduled runs could not use it', 'run the login again');
  }
  return { refreshToken: body.refresh_token, scopes: typeof body.scope === 'string' ? body.scope.split(/\s+/).filter(Boolean) : undefined };
}

function callbackError(params: URLSearchParams): UserError {
  const error = params.get('error') ?? 'no code';
  if (error === 'access_denied') {
    return new UserError(
      'the Spotify authorization was refused (access_denied): you, or Spotify for this account, declined the app\'s access request; nothing was stored',
      'run the login again and choose Agree; in Development Mode the Spotify user must also be on the app\'s allowlist (User Management in the app dashboard)',
    );
  }
  const desc = params.get('error_description');
  return new UserError(`Spotify did not authorize the login: ${error}${desc ? ` (${desc})` : ''}; nothing was stored`, 'check the app\'s redirect URIs and Client ID in the dashboard, then run the login again');
}

export async function login(ctx: LoginContext<SpotifyConfig>): Promise<LoginResult> {
  const clientId = ctx.config.client_id;
  if (typeof clientId !== 'string' || clientId === '') {
    const why = ctx.unresolved.client_id ? ` (${ctx.unresolved.client_id})` : '';
    throw new UserError(
      `connector.config.client_id is not set${why}; the login needs your Spotify app's Client ID`,
      'set it, e.g. `export SPOTIFY_CLIENT_ID=<Client ID>` with `client_id: ${env:SPOTIFY_CLIENT_ID}` in pipeline.yaml (developer.spotify.com/dashboard)',
    );
  }
  const userStreams = ctx.streams.filter((s) => endpoints[s.endpoint]?.auth === 'user');
  if (userStreams.length === 0 && !ctx.playlistWrite) {
    throw new UserError('no stream of this pipeline reads user data, so there is nothing to log in for (the catalog streams use the app\'s Client Credentials)', 'add a user stream (e.g. endpoint: me/playlists) first');
  }
  const accounts = (ctx.config.accounts_base_url ?? DEFAULT_ACCOUNTS).replace(/\/$/, '');
  const scopes = loginScopes(ctx.streams, { playlistWrite: ctx.playlistWrite });
  const verifier = pkceVerifier(64);
  const state = randomState();
  const callback = await startLoopbackCallback({
    port: ctx.port ?? DEFAULT_LOGIN_PORT,
    path: CALLBACK_PATH,
    state,
    timeoutMs: ctx.timeoutMs ?? DEFAULT_LOGIN_TIMEOUT_MS,
    signal: ctx.signal,
  });
  try {
    const url = authorizeUrl({ accountsBaseUrl: accounts, clientId, redirectUri: callback.redirectUri, state, challenge: pkceChallenge(verifier), scopes });
    const why = [userStreams.length ? `the streams ${userStreams.map((s) => s.name).join(', ')}` : '', ctx.playlistWrite ? 'the playlist write-back (recommendations.playlist)' : ''].filter(Boolean).join(' and ');
    ctx.logger.info(`Asking Spotify for: ${scopes.join(', ')} (for ${why})`);
    ctx.logger.info(`Waiting for the browser on ${callback.redirectUri} (this redirect URI must be registered for your app)`);
    // Not awaited first: a caller that follows the redirect gets its page only after the exchange.
    const opened = Promise.resolve().then(() => ctx.openUrl(url));
    const failedToOpen = opened.then(() => new Promise<never>(() => undefined));
    const answer = await Promise.race([callback.wait(), failedToOpen]);
    opened.catch(() => undefined);
    if (!answer.params.get('code')) {
      const err = callbackError(answer.params);
      answer.respond({ ok: false, title: 'Spotify login not completed', message: err.message });
      throw err;
    }
    let tokens: Awaited<ReturnType<typeof exchangeCode>>;
    try {
      tokens = await exchangeCode({ accountsBaseUrl: accounts, clientId, code: answer.params.get('code')!, redirectUri: callback.redirectUri, verifier, signal: ctx.signal });
    } catch (e) {
      answer.respond({ ok: false, title: 'Spotify login failed', message: e instanceof Error ? e.message : String(e) });
      throw e;
    }
    const granted = tokens.scopes ?? scopes;
    const missing = scopes.filter((s) => !granted.includes(s));
    if (missing.length > 0) ctx.logger.warn(`Spotify granted fewer scopes than asked; missing: ${missing.join(', ')} (streams needing them will fail with "Insufficient client scope")`);
    answer.respond({ ok: true, title: 'Spotify login complete', message: 'The pipeline is authorized.' });
    const authorized = ctx.now?.() ?? new Date();
    return {
      secrets: { refresh_token: tokens.refreshToken },
      authorizedAt: authorized.toISOString(),
      expiresAt: addMonths(authorized, REFRESH_TOKEN_LIFETIME_MONTHS).toISOString(),
      scopes: [...granted].sort(),
    };
  } finally {
    await callback.close();
  }
}
