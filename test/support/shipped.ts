/**
 * The shipped pipeline on its sandboxes, for tests that need a filled lake: the Web API
 * connector's config for a running sandbox, and the included pipelines (the generated export) run
 * into the same lake as `run` runs them.
 */
import { expect } from 'vitest';
import { sharedCatalog } from '../../connectors/spotify/sandbox/catalog.ts';
import type { SpotifySandbox } from '../../connectors/spotify/sandbox/index.ts';
import { memoryLogger } from '../../core/log.ts';
import { connectorConfig, runLocal, type Prepared } from '../../core/pipeline.ts';

export function sandboxConfig(sb: SpotifySandbox) {
  return {
    api_mode: 'development',
    api_base_url: sb.apiUrl,
    accounts_base_url: sb.accountsUrl,
    ...sb.credentials,
    rate_limit: null,
  };
}

/** Runs every included pipeline on its own sandbox into `lake`, sharing the Web API sandbox's catalog (seed). */
export async function runIncludes(prep: Prepared, lake: string, seed: number): Promise<void> {
  for (const inc of prep.includes ?? []) {
    // What the Web API sandbox shares (as `run` passes it), so the export's track ids are its catalog's.
    const choice = await connectorConfig(inc, { sandbox: 'always', seed, peers: { spotify: { catalog: sharedCatalog(seed) } } });
    try {
      const s = await runLocal(inc, { lake, logger: memoryLogger(), connectorConfig: choice.config });
      expect(s.ok, s.error).toBe(true);
    } finally {
      await choice.sandbox?.close();
    }
  }
}
