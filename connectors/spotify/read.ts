/**
 * Reading a stream: core's declarative REST reader over the descriptors in endpoints.ts, plus the
 * hooks only Spotify needs: the API mode of the config, the auth session (an app token or the
 * user's), normalization across API modes and profiles, the owner rules that skip playlists the
 * API refuses (`not_owned` needs the user's id from /me), and Spotify's account-level 403s
 * explained in one line with the fix.
 */
import { HttpError, UserError, createRestReader, type HttpClient, type JsonRecord, type ReadContext } from '../../core/plugin-api.ts';
import { apiMode, endpoints, type ParentRule } from './endpoints.ts';
import { SpotifyAuth } from './auth.ts';
import { normalize } from './normalize.ts';
import type { SpotifyConfig } from './config.ts';

/** One auth session per run (per shared HTTP client): tokens are cached for the run. */
const sessions = new WeakMap<HttpClient, SpotifyAuth>();
const users = new WeakMap<HttpClient, Promise<string>>();

export function session(ctx: {
  http: HttpClient;
  config: SpotifyConfig;
  updateSecret?: (configKey: string, value: string) => Promise<void>;
}): SpotifyAuth {
  let s = sessions.get(ctx.http);
  if (!s) {
    s = new SpotifyAuth(ctx.http, ctx.config);
    sessions.set(ctx.http, s);
  }
  // A rotated refresh token goes back to the engine at once: the old one may already be dead.
  const update = ctx.updateSecret;
  if (update && !s.onRotate) s.onRotate = (token) => void update('refresh_token', token);
  return s;
}

/** Spotify's account-level 403s explained in one line, with the fix. */
export function explainApiError(e: unknown): unknown {
  if (!(e instanceof HttpError)) return e;
  const msg = e.apiMessage;
  if (e.status === 403 && /insufficient client scope/i.test(msg)) {
    return new UserError(`${e.label}: Spotify says "Insufficient client scope": the token lacks a scope this endpoint needs`, 'run `npx spotify-pipeline login` again; it asks for the scopes of every stream in pipeline.yaml');
  }
  if (e.status === 403 && /premium/i.test(msg)) {
    return new UserError(`${e.label}: Spotify requires the app owner to have an active Premium subscription (Development Mode, since Feb 2026)`, 'renew Premium on the account that owns the app; access can take a few hours to return');
  }
  if (e.status === 403 && /(not be registered|not registered|user may not)/i.test(msg)) {
    return new UserError(`${e.label}: the Spotify user is not on this app's allowlist (Development Mode allows 5 users)`, 'add the user under User Management in the app dashboard on developer.spotify.com');
  }
  return e;
}

/** The authorized user's id, asked once per run. */
function currentUserId(ctx: ReadContext<SpotifyConfig>): Promise<string> {
  let p = users.get(ctx.http);
  if (!p) {
    p = ctx.http.get<{ id: string }>('/me', { label: 'me', auth: session(ctx).user }).then((res) => res.data.id);
    users.set(ctx.http, p);
  }
  return p;
}

/** Whether a parent playlist is one the API refuses under `rule` (so no request is spent on it). */
async function refused(rule: string, parent: JsonRecord, ctx: ReadContext<SpotifyConfig>): Promise<boolean> {
  const owner = (parent.owner as JsonRecord | undefined)?.id;
  switch (rule as ParentRule) {
    case 'spotify_owned':
      return owner === 'spotify';
    case 'not_owned':
      // Development Mode reads items only of playlists the user owns or collaborates on.
      return parent.collaborative !== true && owner !== (await currentUserId(ctx));
    default:
      throw new Error(`unknown parent rule "${rule}"`);
  }
}

export const readStream = createRestReader<SpotifyConfig>({
  endpoints,
  service: 'Spotify',
  hooks: {
    mode: apiMode,
    auth: (ctx, desc) => (desc.auth === 'user' ? session(ctx).user : session(ctx).app),
    normalize,
    skipParent: refused,
    explainError: explainApiError,
  },
});
