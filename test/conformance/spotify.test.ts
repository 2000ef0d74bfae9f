/**
 * The Spotify connector passes the conformance kit against its sandbox, reading the streams of
 * the shipped pipeline.yaml (with their fan-out: playlist items per playlist, artists by id).
 * The faults suite runs through a thin wrapper that forwards the kit's fault request to the
 * Spotify sandbox's own fault injection (until the plugin's sandbox() forwards it itself).
 */
import { join } from 'node:path';
import spotify from '../../connectors/spotify/index.ts';
import { conformanceSuite } from '../../core/conformance/vitest.ts';
import type { ConnectorPlugin, SandboxHandle } from '../../core/plugin-api.ts';

const PIPELINE = join(import.meta.dirname, '..', '..', 'pipeline.yaml');

const withFaults: ConnectorPlugin = {
  ...(spotify as unknown as ConnectorPlugin),
  async sandbox(options) {
    const f = options.faults;
    if (!f) return spotify.sandbox!(options);
    const { startSandbox } = await import('../../connectors/spotify/sandbox/index.ts');
    const sb = await startSandbox({
      seed: options.seed,
      faults: { burst429: f.rateLimitStorm, error5xxRate: f.serverErrors, resetRate: f.resets },
    });
    const handle: SandboxHandle = {
      url: sb.url,
      config: { api_base_url: sb.apiUrl, accounts_base_url: sb.accountsUrl, ...sb.credentials, rate_limit: null },
      faults: ['rateLimitStorm', 'serverErrors', 'resets'],
      close: () => sb.close(),
    };
    return handle;
  },
};

conformanceSuite(withFaults, { pipeline: PIPELINE });
