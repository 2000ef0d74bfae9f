/**
 * The Spotify Web API connector (2026 behaviour: Development and Extended Quota modes).
 * It depends only on core's public plugin API.
 */
import { definePlugin, PLUGIN_API_VERSION, UserError, type PluginIssue } from '../../core/plugin-api.ts';
import { apiMode, endpoints, retiredEndpoints } from './endpoints.ts';
import { configSchema, type SpotifyConfig } from './config.ts';
import { explainApiError, readStream, session } from './read.ts';
import { login } from './login.ts';
import { playlistWriter } from './write.ts';

const DEFAULT_RATE_LIMIT = { window_seconds: 30, max_requests: 100 };

export default definePlugin<SpotifyConfig>({
  apiVersion: PLUGIN_API_VERSION,
  name: 'spotify',
  displayName: 'Spotify',
  version: '0.1.0',
  description: 'Spotify Web API (2026): listening history, playlists, library and catalog',
  configSchema,
  secretKeys: ['client_secret', 'refresh_token'],
  endpoints,
  retiredEndpoints,
  apiMode,

  httpOptions(config) {
    const rl = config.rate_limit === undefined ? DEFAULT_RATE_LIMIT : config.rate_limit;
    return {
      baseURL: (config.api_base_url ?? 'https://api.spotify.com/v1').replace(/\/$/, ''),
      rateLimit: rl ? { windowMs: rl.window_seconds * 1000, maxRequests: rl.max_requests } : null,
      waitBudgetMs: (config.wait_budget_seconds ?? 120) * 1000,
    };
  },

  hasCredentials(config) {
    return typeof config.client_id === 'string' && config.client_id.length > 0;
  },

  validate(config, streams) {
    const issues: PluginIssue[] = [];
    const mode = apiMode(config);
    for (const s of streams) {
      const removed = endpoints[s.endpoint]?.modes?.[mode]?.removed;
      if (removed) {
        issues.push({
          path: `streams.${s.name}.endpoint`,
          message: `endpoint "${s.endpoint}" is not available with api_mode: ${mode}: ${removed.change} (since ${removed.date}); use ${removed.instead}`,
        });
      }
    }
    return issues;
  },

  async check(ctx) {
    const auth = session(ctx);
    const needsUser = ctx.streams.some((s) => endpoints[s.endpoint]?.auth === 'user');
    const needsApp = ctx.streams.some((s) => endpoints[s.endpoint]?.auth === 'client');
    try {
      if (needsApp) await auth.app.token();
      if (needsUser) {
        await ctx.http.get('/me', { label: 'me', auth: auth.user });
      }
    } catch (e) {
      throw explainApiError(e);
    }
    if (!needsUser && !needsApp) throw new UserError('the pipeline has no Spotify streams to check');
  },

  read: readStream,

  login,

  // The opt-in recommendations write-back: one private playlist of the user's (write.ts).
  playlistWriter,

  async sandbox(options) {
    const [{ startSandbox }, { sharedCatalog }] = await Promise.all([import('./sandbox/index.ts'), import('./sandbox/catalog.ts')]);
    const mode = apiMode(options.config);
    // Test hook: SPOTIFY_SANDBOX_NOW (ISO time or epoch ms) pins the time the data is relative to
    // (default: the current minute), so runs in different minutes serve the same plays.
    const pinned = process.env.SPOTIFY_SANDBOX_NOW;
    const now = pinned ? (/^\d+$/.test(pinned) ? Number(pinned) : Date.parse(pinned)) : undefined;
    if (now !== undefined && !Number.isFinite(now)) throw new Error(`SPOTIFY_SANDBOX_NOW=${pinned} is neither an ISO time nor epoch milliseconds`);
    const sb = await startSandbox({
      port: options.port,
      seed: options.seed,
      now,
      profile: (options.profile as 'development' | 'development-legacy' | 'extended' | undefined) ?? mode,
      // The conformance kit's fault names, mapped to the sandbox's own fault options.
      faults: options.faults && {
        burst429: options.faults.rateLimitStorm,
        error5xxRate: options.faults.serverErrors,
        resetRate: options.faults.resets,
      },
    });
    return {
      url: sb.url,
      config: {
        api_base_url: sb.apiUrl,
        accounts_base_url: sb.accountsUrl,
        client_id: sb.credentials.client_id,
        client_secret: sb.credentials.client_secret,
        refresh_token: sb.credentials.refresh_token,
        // The sandbox has no rate limit unless asked; the client-side limiter would only slow the demo.
        rate_limit: null,
      },
      faults: ['rateLimitStorm', 'serverErrors', 'resets'],
      // Other sandboxes of the same lake (the export's) play tracks of this catalog, so joins work.
      shared: { catalog: sharedCatalog(options.seed ?? 42) },
      // Time passes: the user plays one more track (the next incremental run reads exactly it).
      advance: async () => {
        sb.addPlay();
      },
      close: () => sb.close(),
    };
  },
});
