/** The run summary's request accounting: the footer explains the requests column, never adds to it. */
import { describe, expect, it, vi } from 'vitest';
import { printSummary } from '../../core/cli/run.ts';
import type { RunSummary } from '../../core/engine/run.ts';

function printed(s: RunSummary): string[] {
  const written: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => (written.push(String(c)), true));
  try {
    printSummary(s);
  } finally {
    spy.mockRestore();
  }
  return written.join('').split('\n');
}

const stream = (name: string, endpoint: string, requests: number) => ({ stream: name, endpoint, status: 'ok' as const, records: 1, files: 1, bytes: 10, requests, seconds: 0, notes: {} });

describe('run summary', () => {
  it('says the requests column already holds the token and /me requests, instead of "plus" them', () => {
    // As a run counts them: each stream's requests include the token and /me calls made while it read.
    const summary: RunSummary = {
      runId: '20261204T000000000Z-abc123',
      ok: true,
      streams: [stream('recently_played', 'me/player/recently-played', 2), stream('playlist_items', 'playlists/{id}/items', 3), stream('artists', 'artists', 4)],
      tables: [],
      requestsByEndpoint: { token: 2, me: 1, 'me/player/recently-played': 1, 'playlists/{id}/items': 2, artists: 3 },
      seconds: 0.5,
    };
    const lines = printed(summary);
    expect(lines.join('\n')).not.toMatch(/plus/);
    expect(lines).toContain('(the requests column includes 2 token request(s) and 1 /me request(s))');
  });

  it('says nothing about token requests when there were none', () => {
    const lines = printed({ runId: 'r', ok: true, streams: [stream('plays', 'plays', 0)], tables: [], requestsByEndpoint: {}, seconds: 0 });
    expect(lines.join('\n')).not.toMatch(/token|\/me/);
  });
});
