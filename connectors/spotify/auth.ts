/**
 * Spotify tokens for one run: an app token (Client Credentials) for catalog endpoints and a
 * user token (refresh-token grant, Authorization Code or PKCE) for /me and playlist contents.
 * Tokens are cached for the run and refreshed before expiry or after a 401.
 */
import { UserError, type AuthProvider, type HttpClient } from '../../core/plugin-api.ts';

export interface SpotifyCredentials {
  client_id?: string;
  client_secret?: string;
  refresh_token?: string;
  accounts_base_url?: string;
}

interface TokenResponse {
  access_token?: string;
  expires_in?: number;
  refresh_token?: string;
  scope?: string;
  error?: string;
  error_description?: string;
}

const LOGIN_HINT = 'run `npx spotify-pipeline login` to authorize again and store a new refresh token';

/** One-line explanations of the accounts service's errors, with the fix. Never echoes a credential. */
export function explainTokenError(status: number, body: TokenResponse | string | undefined, grant: string): UserError {
  const err = typeof body === 'object' && body ? body.error : undefined;
  const desc = typeof body === 'object' && body ? (body.error_description ?? '') : '';
  if (err === 'invalid_client') {
    return new UserError(`Spotify rejected the client credentials (${desc || 'invalid_client'})`, 'check connector.config.client_id / client_secret (the app\'s Client ID and secret on developer.spotify.com/dashboard)');
  }
  if (err === 'invalid_grant' && grant === 'refresh_token') {
    // Since mid-2026 refresh tokens expire 6 months after authorization: never retry, re-login.
    return new UserError(`Spotify refused the refresh token: ${desc || 'invalid_grant'}`, LOGIN_HINT);
  }
  return new UserError(`Spotify token request (${grant}) failed: HTTP ${status} ${err ?? ''} ${desc}`.trim());
}

class Token implements AuthProvider {
  private value?: string;
  private expiresAt = 0;
  private margin = 60_000;
  private pending?: Promise<string>;
  constructor(private readonly fetchToken: () => Promise<{ token: string; expiresIn: number }>) {}

  token(force = false): Promise<string> {
    // Refresh early (a minute, or a quarter of a short lifetime) so a page loop never sends an
    // expired token; a 401 still forces a refresh if the server expired it sooner.
    if (!force && this.value && Date.now() < this.expiresAt - this.margin) return Promise.resolve(this.value);
    // One refresh at a time: concurrent requests share it.
    this.pending ??= this.fetchToken()
      .then(({ token, expiresIn }) => {
        this.value = token;
        this.expiresAt = Date.now() + expiresIn * 1000;
        this.margin = Math.min(60_000, (expiresIn * 1000) / 4);
        return token;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }
}

export class SpotifyAuth {
  readonly app: AuthProvider;
  readonly user: AuthProvider;
  /** The refresh token to keep: Spotify may rotate it on refresh. */
  refreshToken?: string;
  onRotate?: (token: string) => void;

  constructor(
    private readonly http: HttpClient,
    private readonly creds: SpotifyCredentials,
  ) {
    this.refreshToken = creds.refresh_token;
    this.app = new Token(() => this.request({ grant_type: 'client_credentials' }, true));
    this.user = new Token(() => {
      if (!this.refreshToken) {
        throw new UserError('this stream needs a Spotify user token but connector.config.refresh_token is not set', LOGIN_HINT);
      }
      const form: Record<string, string> = { grant_type: 'refresh_token', refresh_token: this.refreshToken };
      // PKCE apps have no secret: the client id goes in the form instead of a Basic header.
      if (!this.creds.client_secret && this.creds.client_id) form.client_id = this.creds.client_id;
      return this.request(form, !!this.creds.client_secret);
    });
  }

  private async request(form: Record<string, string>, basic: boolean): Promise<{ token: string; expiresIn: number }> {
    const { client_id, client_secret } = this.creds;
    if (!client_id) throw new UserError('connector.config.client_id is not set', 'set it to your Spotify app\'s Client ID');
    if (basic && !client_secret) {
      throw new UserError('connector.config.client_secret is not set; catalog endpoints need Client Credentials', 'set client_secret (from the app dashboard)');
    }
    const base = (this.creds.accounts_base_url ?? 'https://accounts.spotify.com').replace(/\/$/, '');
    const headers: Record<string, string> = {};
    if (basic) headers.Authorization = `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`;
    const res = await this.http.postForm<TokenResponse>(`${base}/api/token`, form, { label: 'token', headers });
    const body = res.data;
    if (res.status !== 200 || typeof body !== 'object' || !body?.access_token) {
      throw explainTokenError(res.status, body, form.grant_type);
    }
    if (body.refresh_token && body.refresh_token !== this.refreshToken && form.grant_type === 'refresh_token') {
      this.refreshToken = body.refresh_token;
      this.onRotate?.(body.refresh_token);
    }
    return { token: body.access_token, expiresIn: body.expires_in ?? 3600 };
  }
}
