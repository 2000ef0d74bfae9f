/** Time passing in the Spotify sandbox: one more play, which an incremental read gets alone. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type SpotifySandbox } from '../../connectors/spotify/sandbox/index.ts';

let sb: SpotifySandbox;
beforeAll(async () => {
  sb = await startSandbox({ seed: 7 });
});
afterAll(async () => sb?.close());

describe('addPlay', () => {
  it('adds a play after the newest; recently-played after the old newest returns exactly it', async () => {
    const token = sb.issueUserToken();
    const get = async (q: string) => (await (await fetch(`${sb.apiUrl}/me/player/recently-played?${q}`, { headers: { Authorization: `Bearer ${token}` } })).json()) as { items: Array<{ played_at: string; track: { id: string } }> };
    const before = await get('limit=50');
    const newest = Date.parse(before.items[0].played_at);
    const play = sb.addPlay();
    expect(Date.parse(play.played_at)).toBeGreaterThan(newest);
    const after = await get(`after=${newest}&limit=50`);
    expect(after.items.map((i) => [i.played_at, i.track.id])).toEqual([[play.played_at, play.track_id]]);
    // The window stays the newest 50.
    expect((await get('limit=50')).items).toHaveLength(50);
  });
});
