/** Shared fixtures for the login suites: a pipeline pointed at a sandbox, a browser stand-in, captured output. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SpotifySandbox } from '../../connectors/spotify/sandbox/index.ts';
import type { CommandIO } from '../../core/cli/login.ts';

/** Streams of the test pipeline: user streams only, so no client secret is involved. */
export const TEST_STREAMS: Record<string, { endpoint: string; extra?: string }> = {
  recently_played: { endpoint: 'me/player/recently-played', extra: 'incremental: cursor' },
  my_playlists: { endpoint: 'me/playlists' },
  playlist_items: { endpoint: 'playlists/{id}/items', extra: 'for_each: my_playlists.id' },
};

export function pipelineYaml(sb: Pick<SpotifySandbox, 'apiUrl' | 'accountsUrl'>, name = 'auth-test-lake', refreshToken = '${secret:spotify/refresh_token}'): string {
  const streams = Object.entries(TEST_STREAMS)
    .map(([n, s]) => `  ${n}:\n    endpoint: ${s.endpoint}\n${s.extra ? `    ${s.extra}\n` : ''}`)
    .join('');
  return `version: 1
name: ${name}
connector:
  use: spotify
  config:
    api_mode: development
    client_id: \${env:SPOTIFY_CLIENT_ID}
${refreshToken ? `    refresh_token: ${refreshToken}\n` : ''}    api_base_url: ${sb.apiUrl}
    accounts_base_url: ${sb.accountsUrl}
    rate_limit: null
storage:
  local: .lake
streams:
${streams}`;
}

export async function pipelineDir(sb: Pick<SpotifySandbox, 'apiUrl' | 'accountsUrl'>, opts: { name?: string; refreshToken?: string; secrets?: unknown } = {}): Promise<{ dir: string; file: string; secrets: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'auth-'));
  const file = join(dir, 'pipeline.yaml');
  await writeFile(file, pipelineYaml(sb, opts.name, opts.refreshToken));
  const secrets = join(dir, '.secrets.json');
  if (opts.secrets !== undefined) await writeFile(secrets, JSON.stringify(opts.secrets), { mode: 0o644 });
  return { dir, file, secrets };
}

export function captureIO(): CommandIO & { lines: string[]; text(): string } {
  const lines: string[] = [];
  return {
    lines,
    out: (s) => lines.push(`out: ${s}`),
    err: (s) => lines.push(`err: ${s}`),
    text: () => lines.join('\n'),
  };
}

export interface Followed {
  authorizeUrl: URL;
  /** Where /authorize redirected the browser (the callback, with code or error). */
  location: URL;
  status: number;
  page: string;
}

/**
 * A browser that consents at once: GET the authorize URL, then the callback it redirects to
 * (optionally with a tampered query). Every wait is bounded.
 */
export function browser(tamper?: (callback: URL) => void): { openUrl: (url: string) => Promise<void>; result: () => Promise<Followed> } {
  let done!: (f: Followed) => void;
  let fail!: (e: unknown) => void;
  const result = new Promise<Followed>((resolve, reject) => {
    done = resolve;
    fail = reject;
  });
  result.catch(() => undefined);
  return {
    result: () => result,
    openUrl: async (url: string) => {
      try {
        const r1 = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5_000) });
        if (r1.status !== 302) throw new Error(`authorize answered ${r1.status}: ${await r1.text()}`);
        const location = new URL(r1.headers.get('location')!);
        tamper?.(location);
        const r2 = await fetch(location, { signal: AbortSignal.timeout(10_000) });
        done({ authorizeUrl: new URL(url), location, status: r2.status, page: await r2.text() });
      } catch (e) {
        fail(e);
        throw e;
      }
    },
  };
}
