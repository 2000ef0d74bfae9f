/**
 * Spotify's account-level refusals become one line that says what is wrong and how to fix it,
 * and end the run as a configuration problem (exit 2), not as a crash.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type SandboxServerOptions, type SpotifySandbox } from '../../connectors/spotify/sandbox/index.ts';
import { preparePipeline, runLocal } from '../../core/pipeline.ts';
import { memoryLogger } from '../../core/log.ts';

const PIPELINE = join(import.meta.dirname, '..', '..', 'pipeline.yaml');
let sb: SpotifySandbox | undefined;
let dir: string | undefined;
afterEach(async () => {
  await sb?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function runWith(opts: SandboxServerOptions) {
  sb = await startSandbox({ seed: 3, ...opts });
  dir = await mkdtemp(join(tmpdir(), 'account-'));
  const prep = await preparePipeline(PIPELINE);
  const config = { api_mode: 'development', api_base_url: sb.apiUrl, accounts_base_url: sb.accountsUrl, ...sb.credentials, rate_limit: null };
  return runLocal(prep, { lake: dir, logger: memoryLogger(), connectorConfig: config });
}

describe('Spotify account errors', () => {
  it.each([
    ['not_allowlisted', /not on this app's allowlist/, /User Management/],
    ['owner_without_premium', /Premium/, /renew Premium/],
  ] as const)('%s is explained with its fix', async (accountError, message, fix) => {
    const s = await runWith({ accountError });
    expect(s.ok).toBe(false);
    expect(s.userError).toBe(true);
    expect(s.error).toMatch(message);
    expect(s.error!.split('\n')).toHaveLength(1);
    expect(s.hint).toMatch(fix);
  });

  it('a token without a scope a stream needs says which command fixes it', async () => {
    // The user authorized only recently-played: reading playlists is refused.
    const s = await runWith({ scopes: ['user-read-recently-played', 'user-read-private'] });
    expect(s.ok).toBe(false);
    expect(s.userError).toBe(true);
    expect(s.error).toMatch(/Insufficient client scope/);
    expect(s.hint).toMatch(/spotify-pipeline login/);
  });
});
