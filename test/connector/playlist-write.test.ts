/**
 * The recommendations write-back end to end (issue 17, bullet 4): `writeRecommendationsPlaylist`
 * with a pipeline pointed at a sandbox on 127.0.0.1 (real HTTP, the user's refresh token from the
 * secrets file), and the write log of the sandbox as the witness of what reached Spotify.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { ALL_SCOPES, startSandbox, type SpotifySandbox } from '../../connectors/spotify/sandbox/index.ts';
import { writeRecommendationsPlaylist } from '../../core/cli/recs-write.ts';
import { loginCommand } from '../../core/cli/login.ts';
import { preparePipeline } from '../../core/pipeline.ts';
import { UserError } from '../../core/plugin-api.ts';
import { browser, captureIO, pipelineDir } from '../auth/helpers.ts';
import { NOW } from './helpers.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const RECS = `
recommendations:
  playlist:
    name: Für dich, wöchentlich
    description: Recommended from your own listening
`;

/** A pipeline at the sandbox whose secrets file holds the sandbox user's refresh token (scopes as the sandbox grants). */
async function pipeline(sb: SpotifySandbox, recs = RECS) {
  const p = await pipelineDir(sb, { secrets: { 'spotify/refresh_token': sb.credentials.refresh_token } });
  dirs.push(p.dir);
  await writeFile(p.file, (await readFile(p.file, 'utf8')) + recs);
  const prep = await preparePipeline(p.file);
  return { ...p, prep, env: { SPOTIFY_CLIENT_ID: sb.credentials.client_id } };
}

/** The items of a playlist as the API serves them (every page), as track ids. */
async function items(sb: SpotifySandbox, id: string): Promise<string[]> {
  const token = sb.issueUserToken();
  const out: string[] = [];
  let url: string | null = `${sb.apiUrl}/playlists/${id}/items?limit=50`;
  for (let i = 0; url && i < 50; i++) {
    const page = (await (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).json()) as { items: Array<{ item: { id: string } }>; next: string | null };
    out.push(...page.items.map((x) => x.item.id));
    url = page.next;
  }
  return out;
}

const snapshots = (sb: SpotifySandbox) => new Map(sb.data.playlists.map((p) => [p.id, p.snapshot_id]));

describe('writeRecommendationsPlaylist against the sandbox', () => {
  let sb: SpotifySandbox;
  beforeAll(async () => {
    sb = await startSandbox({ seed: 5, now: NOW });
  });
  afterAll(async () => sb?.close());
  afterEach(() => sb.resetLog());

  const catalog = () => [...sb.data.tracks.keys()];

  it('the same 130 recommendations twice: one private playlist of the user\'s, create + PUT 100 + POST 30 the first time, no write the second, snapshot kept', async () => {
    const p = await pipeline(sb);
    const recs = catalog().slice(0, 130);
    const before = snapshots(sb);
    const io = captureIO();
    const first = await writeRecommendationsPlaylist(p.prep, { name: 'Für dich, wöchentlich', trackIds: recs, env: p.env, io });
    const id = first.playlistId!;
    expect(sb.writes().map((w) => [w.method, w.path, w.status, (w.body as { uris?: string[] }).uris?.length])).toEqual([
      ['POST', '/v1/me/playlists', 201, undefined],
      ['PUT', `/v1/playlists/${id}/items`, 200, 100],
      ['POST', `/v1/playlists/${id}/items`, 201, 30],
    ]);
    expect(sb.writes()[0].body).toEqual({ name: 'Für dich, wöchentlich', public: false, collaborative: false, description: 'Recommended from your own listening' });
    expect(first).toMatchObject({ created: true, changed: true, dryRun: false, diff: { added: recs, removed: [], moved: [] } });
    expect(io.lines).toEqual([`out: Created the private playlist "Für dich, wöchentlich" (${id}) with 130 tracks (3 write requests).`]);
    expect(await items(sb, id)).toEqual(recs);

    // The playlist is the user's own, private, and nothing else was written.
    const created = sb.data.playlists.filter((x) => x.name === 'Für dich, wöchentlich');
    expect(created.map((x) => [x.id, x.owner.id, x.public, x.collaborative])).toEqual([[id, sb.data.user.id, false, false]]);
    for (const [pid, snap] of before) expect(snapshots(sb).get(pid), pid).toBe(snap);
    expect(first.snapshotId).toBe(created[0].snapshot_id);

    // Again: reads only, no write request, the same snapshot and items.
    sb.resetLog();
    const io2 = captureIO();
    const second = await writeRecommendationsPlaylist(p.prep, { name: 'Für dich, wöchentlich', trackIds: recs, env: p.env, io: io2 });
    expect(sb.writes()).toEqual([]);
    expect(sb.requests.some((r) => r.path === `/v1/playlists/${id}/items` && r.method === 'GET')).toBe(true);
    expect(second).toMatchObject({ playlistId: id, created: false, changed: false, snapshotId: first.snapshotId, requests: [], diff: { added: [], removed: [], moved: [] } });
    expect(io2.lines).toEqual([`out: The playlist "Für dich, wöchentlich" (${id}) already holds the 130 recommended tracks in order: nothing to write; snapshot ${first.snapshotId} kept.`]);
    expect(sb.data.playlists.filter((x) => x.name === 'Für dich, wöchentlich')).toHaveLength(1);
    expect(await items(sb, id)).toEqual(recs);

    // A changed list: replaced in place (no second playlist), a new snapshot.
    sb.resetLog();
    const next = [...catalog().slice(200, 205), ...recs.slice(0, 60).reverse()];
    const third = await writeRecommendationsPlaylist(p.prep, { name: 'Für dich, wöchentlich', trackIds: next, env: p.env, io: captureIO() });
    expect(sb.writes().map((w) => [w.method, w.path, w.status])).toEqual([['PUT', `/v1/playlists/${id}/items`, 200]]);
    expect(third.changed).toBe(true);
    expect(third.snapshotId).not.toBe(first.snapshotId);
    expect(third.diff.added).toEqual(catalog().slice(200, 205));
    expect(third.diff.removed).toEqual(recs.slice(60));
    expect(third.diff.moved).toHaveLength(59); // 60 kept tracks reversed: all but one move
    expect(await items(sb, id)).toEqual(next);
    expect(sb.data.playlists.filter((x) => x.name === 'Für dich, wöchentlich')).toHaveLength(1);
  });

  it('--dry-run makes no write and prints the diff, for an existing playlist and for one that would be created', async () => {
    const p = await pipeline(sb);
    const recs = catalog().slice(300, 310);
    const made = await writeRecommendationsPlaylist(p.prep, { name: 'Dry', trackIds: recs, env: p.env, io: captureIO() });
    const snap = sb.data.playlists.find((x) => x.id === made.playlistId)!.snapshot_id;
    sb.resetLog();
    const wanted = [catalog()[400], ...recs.slice(0, 8).filter((_, i) => i !== 3), recs[3]];
    const io = captureIO();
    const dry = await writeRecommendationsPlaylist(p.prep, { name: 'Dry', trackIds: wanted, dryRun: true, env: p.env, io });
    expect(sb.writes()).toEqual([]);
    expect(dry).toMatchObject({ dryRun: true, created: false, changed: true, playlistId: made.playlistId, requests: [] });
    expect(dry.diff).toEqual({ added: [catalog()[400]], removed: [recs[8], recs[9]], moved: [recs[3]] });
    expect(io.lines).toEqual([
      `out: Dry run, nothing written: playlist "Dry" (${made.playlistId}): 1 to add, 2 to remove, 1 to move.`,
      `out:   + ${catalog()[400]} (rank 1)`,
      `out:   - ${recs[8]}`,
      `out:   - ${recs[9]}`,
      `out:   ~ ${recs[3]} (moves to rank 9)`,
    ]);
    expect(sb.data.playlists.find((x) => x.id === made.playlistId)!.snapshot_id).toBe(snap);
    expect(await items(sb, made.playlistId!)).toEqual(recs);

    const count = sb.data.playlists.length;
    const io2 = captureIO();
    const fresh = await writeRecommendationsPlaylist(p.prep, { name: 'Not there yet', trackIds: recs.slice(0, 2), dryRun: true, env: p.env, io: io2 });
    expect(sb.writes()).toEqual([]);
    expect(sb.data.playlists).toHaveLength(count);
    expect(fresh).toMatchObject({ playlistId: null, created: true, changed: true, diff: { added: recs.slice(0, 2), removed: [], moved: [] } });
    expect(io2.lines[0]).toBe('out: Dry run, nothing written: playlist "Not there yet" (none of the user\'s: it would be created, private): 2 to add, 0 to remove, 0 to move.');
  });

  it('never writes another user\'s playlist of the same name: it creates the user\'s own', async () => {
    const p = await pipeline(sb);
    const theirs = sb.data.playlists.find((x) => x.access === 'followed')!;
    const collab = sb.data.playlists.find((x) => x.access === 'collaborative')!;
    const before = snapshots(sb);
    for (const name of [theirs.name, collab.name]) {
      const r = await writeRecommendationsPlaylist(p.prep, { name, trackIds: catalog().slice(0, 3), env: p.env, io: captureIO() });
      expect(r.created).toBe(true);
      expect([theirs.id, collab.id]).not.toContain(r.playlistId);
    }
    expect(snapshots(sb).get(theirs.id)).toBe(before.get(theirs.id));
    expect(snapshots(sb).get(collab.id)).toBe(before.get(collab.id));
    const paths = new Set(sb.writes().map((w) => w.path));
    expect([...paths].some((x) => x.includes(theirs.id) || x.includes(collab.id))).toBe(false);
  });
});

describe('other API profiles', () => {
  it.each(['development-legacy', 'extended'] as const)('%s (items under `track`, or both keys): create + replace, then no write', async (profile) => {
    const sb = await startSandbox({ seed: 5, now: NOW, profile });
    try {
      const p = await pipeline(sb, RECS.replace('Für dich, wöchentlich', 'Weekly'));
      const recs = [...sb.data.tracks.keys()].slice(0, 120);
      const first = await writeRecommendationsPlaylist(p.prep, { name: 'Weekly', trackIds: recs, env: p.env, io: captureIO() });
      expect(sb.writes().map((w) => [w.method, w.status])).toEqual([['POST', 201], ['PUT', 200], ['POST', 201]]);
      sb.resetLog();
      const second = await writeRecommendationsPlaylist(p.prep, { name: 'Weekly', trackIds: recs, env: p.env, io: captureIO() });
      expect(sb.writes()).toEqual([]);
      expect(second).toMatchObject({ playlistId: first.playlistId, changed: false, snapshotId: first.snapshotId });
      expect(sb.data.playlists.find((x) => x.id === first.playlistId)!.items.map((it) => it.item!.id)).toEqual(recs);
    } finally {
      await sb.close();
    }
  });
});

describe('configuration', () => {
  it('recommendations.playlist is checked like every key: a misspelt key is an error naming the key, the fix, the file and the line', async () => {
    const sb = await startSandbox({ seed: 5, now: NOW });
    try {
      // The appended text starts with an empty line; `at` is the offending key's line within it.
      for (const [recs, message, at] of [
        ['\nrecommendations:\n  playlist:\n    nmae: Weekly\n', 'recommendations.playlist.nmae unknown key "nmae"; did you mean "name"?', 4],
        ['\nrecommendations:\n  playlists:\n    name: Weekly\n', 'recommendations.playlists unknown key "playlists"; did you mean "playlist"?', 3],
      ] as const) {
        const p = await pipelineDir(sb, { secrets: {} });
        dirs.push(p.dir);
        const base = await readFile(p.file, 'utf8');
        await writeFile(p.file, base + recs);
        const line = base.split('\n').length - 1 + at;
        const err = await preparePipeline(p.file).then(() => undefined, (e: unknown) => e as { problems?: Array<{ file: string; line: number; message: string; path: string }> });
        expect(err?.problems?.length, recs).toBeGreaterThan(0);
        const problem = err!.problems![0];
        expect(`${problem.path} ${problem.message}`).toContain(message);
        expect([problem.file, problem.line]).toEqual([p.file, line]);
      }
    } finally {
      await sb.close();
    }
  });

  it('sandbox: true writes to a fresh offline sandbox (its demo token carries the write scope) and says so', async () => {
    const sb = await startSandbox({ seed: 5, now: NOW });
    try {
      const p = await pipeline(sb);
      const io = captureIO();
      const r = await writeRecommendationsPlaylist(p.prep, { name: 'Demo', trackIds: [...sb.data.tracks.keys()].slice(0, 3), sandbox: true, seed: 5, env: {}, io });
      expect(r).toMatchObject({ created: true, changed: true });
      expect(io.lines[0]).toMatch(/^err: Using the offline Spotify sandbox at http:\/\/127\.0\.0\.1:\d+/);
      expect(io.lines[io.lines.length - 1]).toMatch(/^out: Created the private playlist "Demo" \(\w{22}\) with 3 tracks \(2 write requests\)\.$/);
      // Not the sandbox the pipeline points at, and the user's secrets file is untouched.
      expect(sb.writes()).toEqual([]);
      expect(JSON.parse(await readFile(p.secrets, 'utf8'))).toEqual({ 'spotify/refresh_token': sb.credentials.refresh_token });
    } finally {
      await sb.close();
    }
  });
});

describe('scopes', () => {
  it('a token without playlist-modify-private gets one clear line and nothing is written', async () => {
    const sb = await startSandbox({ seed: 5, now: NOW, scopes: ALL_SCOPES.filter((s) => !s.startsWith('playlist-modify')) });
    try {
      const p = await pipeline(sb);
      const run = writeRecommendationsPlaylist(p.prep, { name: 'Für dich, wöchentlich', trackIds: [...sb.data.tracks.keys()].slice(0, 3), env: p.env, io: captureIO() });
      await expect(run).rejects.toBeInstanceOf(UserError);
      await expect(run).rejects.toThrow(/^run `spotify-pipeline login` again: the write-back needs playlist-modify-private$/);
      expect(sb.writes().map((w) => [w.method, w.path, w.status])).toEqual([['POST', '/v1/me/playlists', 403]]);
      expect(sb.data.playlists.some((x) => x.created)).toBe(false);
    } finally {
      await sb.close();
    }
  });

  it('login asks for playlist-modify-private only when pipeline.yaml configures recommendations.playlist, never playlist-modify-public', async () => {
    const sb = await startSandbox({ seed: 5, now: NOW });
    try {
      const asked: string[][] = [];
      for (const recs of ['', RECS]) {
        const p = await pipelineDir(sb, { secrets: {} });
        dirs.push(p.dir);
        await writeFile(p.file, (await readFile(p.file, 'utf8')) + recs);
        const b = browser();
        const outcome = await loginCommand({ config: p.file, port: 0, env: { SPOTIFY_CLIENT_ID: sb.credentials.client_id }, openUrl: b.openUrl, timeoutSeconds: 20 }, captureIO());
        asked.push((await b.result()).authorizeUrl.searchParams.get('scope')!.split(' '));
        expect(outcome.scopes).toEqual([...asked[asked.length - 1]].sort());
      }
      expect(asked[0]).not.toContain('playlist-modify-private');
      expect(asked[1]).toContain('playlist-modify-private');
      expect(asked[1].filter((s) => !asked[0].includes(s))).toEqual(['playlist-modify-private']);
      for (const a of asked) expect(a).not.toContain('playlist-modify-public');
    } finally {
      await sb.close();
    }
  });
});
