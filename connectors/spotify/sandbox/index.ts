/**
 * The offline Spotify sandbox: a deterministic, seeded HTTP server imitating the Web API and the
 * accounts service as they behave in 2026 (see /work/shared/spotify-api-2026.md), for tests,
 * demos and benchmarks. It binds 127.0.0.1 only.
 *
 *   const sb = await startSandbox({ profile: 'development', seed: 42 });
 *   // token: POST `${sb.accountsUrl}/api/token` with sb.credentials; API: `${sb.apiUrl}/me`
 *   await sb.close();
 */
import { generateSandboxData, type PlayTruth, type SandboxData, type SandboxSize, type PlaylistTruth } from './data.ts';
import { ALL_SCOPES, AuthService } from './auth.ts';
import { profileRules, playlistReadable, isEditorialId, type ProfileRules, type SandboxProfile } from './render.ts';
import { createSandboxServer, type FaultOptions, type RequestLogEntry } from './server.ts';

export type { SandboxProfile } from './render.ts';
export type { SandboxData, SandboxSize, PlaylistTruth, PlaylistItemTruth, PlayTruth, FullTrack, FullArtist, FullAlbum, Episode, LocalTrack } from './data.ts';
export type { RequestLogEntry, FaultOptions } from './server.ts';
export { generateSandboxData, DEFAULT_SIZE, RECENTLY_PLAYED_WINDOW, SPOTIFY_API_BASE, EDITORIAL_ID_PREFIX } from './data.ts';
export { ALL_SCOPES, SANDBOX_EXPIRED_REFRESH_TOKEN, SANDBOX_REVOKED_REFRESH_TOKEN, pkceChallenge } from './auth.ts';
export { profileRules, REMOVED_FIELDS, ALL_REMOVED_FIELDS, playlistReadable } from './render.ts';

export interface SandboxServerOptions {
  /** 0 / undefined = a random free port. */
  port?: number;
  /** Default 42. */
  seed?: number;
  /** Default 'development'. */
  profile?: SandboxProfile;
  /** Epoch ms the data is generated relative to; default Date.now() rounded down to the minute. */
  now?: number;
  size?: Partial<SandboxSize>;
  /** Access-token lifetime; default 3600. */
  tokenLifetimeSeconds?: number;
  /** Per removed field, whether Development profiles strip it; default: strip all (doc §3). */
  stripFields?: Partial<Record<string, boolean>>;
  /** Rolling window per client; 429 + Retry-After when exceeded. Default null (off). */
  rateLimit?: { windowMs: number; maxRequests: number } | null;
  /** Seeded, deterministic fault injection on `/v1` routes. Default none. */
  faults?: FaultOptions;
  /** Every user-token API request fails with this Spotify account error (403). */
  accountError?: 'not_allowlisted' | 'owner_without_premium';
  /** A refresh returns a new refresh token and the old one stops working. Default false. */
  rotateRefreshTokens?: boolean;
  /** State of the demo credentials' refresh token: 'expired'/'revoked' → invalid_grant. Default 'valid'. */
  refreshTokenStatus?: 'valid' | 'expired' | 'revoked';
  /** Scopes granted to the demo refresh token. Default ALL_SCOPES. */
  scopes?: string[];
  /** `GET /authorize` redirects with `error=access_denied`. Default false. */
  denyAuthorization?: boolean;
  /** Clock for token expiry, rate limiting and the request log. Default Date.now. */
  clock?: () => number;
}

export interface SpotifySandbox {
  /** http://127.0.0.1:PORT */
  url: string;
  /** `${url}/v1` */
  apiUrl: string;
  /** `${url}`: token endpoint `${accountsUrl}/api/token`, authorize `${accountsUrl}/authorize`. */
  accountsUrl: string;
  profile: SandboxProfile;
  /** Demo credentials the server accepts. */
  credentials: { client_id: string; client_secret: string; refresh_token: string };
  /** Ground truth the server renders from (hrefs use SPOTIFY_API_BASE; responses use apiUrl). */
  data: SandboxData;
  /** Every request served (token requests included), in order. Write requests carry their JSON `body`. */
  requests: RequestLogEntry[];
  /** The write requests (POST/PUT/DELETE on `/v1`) served so far, in order, with their bodies and statuses. */
  writes(): RequestLogEntry[];
  /** The profile's rules (limits, shapes, stripped fields). */
  rules: ProfileRules;
  resetLog(): void;
  close(): Promise<void>;
  /** Test hooks. */
  issueUserToken(scopes?: string[]): string;
  issueClientToken(): string;
  expireAccessTokens(): void;
  setRefreshTokenStatus(token: string, status: 'valid' | 'expired' | 'revoked'): void;
  /**
   * The user plays one more track now (after the newest play), as if time passed: the next
   * incremental read of recently-played yields exactly it. Returns the new play.
   */
  addPlay(): PlayTruth;
}

export async function startSandbox(opts: SandboxServerOptions = {}): Promise<SpotifySandbox> {
  const seed = opts.seed ?? 42;
  const profile = opts.profile ?? 'development';
  if (!['development', 'development-legacy', 'extended'].includes(profile)) throw new Error(`Unknown sandbox profile: ${profile}`);
  const clock = opts.clock ?? Date.now;
  const now = opts.now ?? Math.floor(Date.now() / 60_000) * 60_000;
  const data = generateSandboxData(seed, now, opts.size ?? {});
  const rules = profileRules(profile, opts.stripFields);
  const auth = new AuthService({
    seed,
    userId: data.user.id,
    tokenLifetimeSeconds: opts.tokenLifetimeSeconds ?? 3600,
    rotateRefreshTokens: opts.rotateRefreshTokens ?? false,
    refreshTokenStatus: opts.refreshTokenStatus ?? 'valid',
    scopes: opts.scopes ?? ALL_SCOPES,
    denyAuthorization: opts.denyAuthorization ?? false,
    clock,
  });
  const requests: RequestLogEntry[] = [];
  const { server, listen } = createSandboxServer({
    seed, data, rules, auth, rateLimit: opts.rateLimit ?? null, faults: opts.faults ?? {}, clock, requests,
    accountError: opts.accountError,
  });
  const port = await listen(opts.port ?? 0);
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    apiUrl: `${url}/v1`,
    accountsUrl: url,
    profile,
    credentials: { client_id: auth.clientId, client_secret: auth.clientSecret, refresh_token: auth.demoRefreshToken },
    data,
    requests,
    rules,
    writes: () => requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD' && r.path.startsWith('/v1')),
    resetLog() {
      requests.length = 0;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
    issueUserToken: (scopes) => auth.issueUserToken(scopes),
    issueClientToken: () => auth.issueClientToken(),
    expireAccessTokens: () => auth.expireAccessTokens(),
    setRefreshTokenStatus: (token, status) => auth.setRefreshTokenStatus(token, status),
    addPlay() {
      // One second after the newest play (or now, if later), replaying the newest play's track:
      // a known track, so its artists are already in the catalog tables.
      const newest = data.plays[0];
      const at = Math.max(clock(), Date.parse(newest.played_at) + 1000);
      const play: PlayTruth = { track_id: newest.track_id, played_at: new Date(at).toISOString(), context: newest.context };
      data.plays.unshift(play);
      return play;
    },
  };
}

/**
 * How many entries `GET /playlists/{id}/items` yields when paged to the end under the sandbox's
 * profile: every entry (removed tracks and, without `additional_types=episode`, episodes come back
 * as `item: null` but still count), or 0 when the profile forbids reading the playlist.
 */
export function expectedPlaylistItemCount(
  sandbox: Pick<SpotifySandbox, 'data' | 'rules'>, playlistId: string, opts: { tokenKind?: 'user' | 'client' } = {},
): number {
  const p = sandbox.data.playlists.find((x) => x.id === playlistId);
  if (!p) return 0;
  if (opts.tokenKind === 'client' && (sandbox.rules.ownerRule || !p.public)) return 0;
  if (sandbox.rules.editorialHidden && isEditorialId(p.id)) return 0;
  return playlistReadable(sandbox.rules, p) ? p.items.length : 0;
}

/** The playlists whose items the user can read under the sandbox's profile (owned or collaborative in Development). */
export function readablePlaylists(sandbox: Pick<SpotifySandbox, 'data' | 'rules'>): PlaylistTruth[] {
  return sandbox.data.playlists.filter((p) => playlistReadable(sandbox.rules, p) && !(sandbox.rules.editorialHidden && isEditorialId(p.id)));
}

/** Requests needed to page `total` items at `limit` per page (at least one request). */
export function pagesNeeded(total: number, limit: number): number {
  return Math.max(1, Math.ceil(total / limit));
}
