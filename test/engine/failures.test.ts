/**
 * Failure semantics of a run, against a scripted loopback HTTP server answering with Spotify's
 * recorded error shapes (../shared/spotify-api-2026.md): a 403 on one parent's items skips that
 * parent and the run goes on; a fan-out stream whose every parent failed is a failed stream
 * (exit 1) naming them; a 401 that survives a token refresh is an authorization problem (exit 2,
 * the fix is to log in again) and what was read before it stays committed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { parsePipeline } from '../../core/config/index.ts';
import { runPipeline, type RunSummary } from '../../core/engine/run.ts';
import { listManifests } from '../../core/engine/manifest.ts';
import { loadState } from '../../core/engine/state.ts';
import { LocalStorage } from '../../core/storage/local.ts';
import { memoryLogger } from '../../core/log.ts';
import { createRestReader, type ConnectorPlugin, type JsonRecord, type RestEndpoint } from '../../core/plugin-api.ts';

type Answer = { status: number; body: unknown };
type Script = (path: string, auth: string | undefined) => Answer | undefined;

const FORBIDDEN = { status: 403, body: { error: { status: 403, message: 'Forbidden' } } };
const NOT_FOUND = { status: 404, body: { error: { status: 404, message: 'Resource not found' } } };
const EXPIRED = { status: 401, body: { error: { status: 401, message: 'Missing/invalid/expired access token' } } };

const playlists = [
  { id: 'own1', name: 'Mine', snapshot_id: 'AAAA', owner: { id: 'me' }, collaborative: false },
  { id: 'collab', name: 'Shared with me', snapshot_id: 'BBBB', owner: { id: 'friend' }, collaborative: true },
  { id: 'own2', name: 'Also mine', snapshot_id: 'CCCC', owner: { id: 'me' }, collaborative: false },
];
const items = (id: string) => ({
  href: `/v1/playlists/${id}/items`,
  limit: 50,
  offset: 0,
  total: 2,
  next: null,
  items: [0, 1].map((i) => ({ added_at: '2026-03-01T10:00:00Z', added_by: { id: 'me', type: 'user' }, is_local: false, item: { id: `${id}-t${i}`, type: 'track', name: `Track ${i}` } })),
});
const page = (list: unknown[]) => ({ href: '', limit: 50, offset: 0, total: list.length, next: null, items: list });

const endpoints: Record<string, RestEndpoint> = {
  'me/playlists': { description: 'playlists', path: '/me/playlists', auth: 'user', scopes: [], recordPath: 'items', paginator: { type: 'offset', pageSize: { default: 50 } }, recordSchema: {} },
  'playlists/{id}/items': {
    description: 'items',
    path: '/playlists/{id}/items',
    auth: 'user',
    scopes: [],
    recordPath: 'items',
    paginator: { type: 'offset', pageSize: { default: 50 } },
    input: 'for_each',
    parentField: 'playlist_id',
    positionField: 'position',
    versionField: 'snapshot_id',
    recordSchema: {},
  },
  'me/tracks': { description: 'saved', path: '/me/tracks', auth: 'user', scopes: [], recordPath: 'items', paginator: { type: 'offset', pageSize: { default: 50 } }, recordSchema: {} },
};

function pluginFor(baseURL: string, tokens: { issued: number }): ConnectorPlugin {
  const auth = {
    token: (force?: boolean) => {
      if (force || tokens.issued === 0) tokens.issued++;
      return Promise.resolve(`tok-${tokens.issued}`);
    },
  };
  return {
    apiVersion: 1,
    name: 'scripted',
    version: '0.0.0',
    description: 'a scripted loopback API',
    configSchema: {},
    secretKeys: [],
    endpoints,
    httpOptions: () => ({ baseURL, auth, maxAttempts: 1, sleep: () => Promise.resolve() }),
    check: () => Promise.resolve(),
    read: createRestReader({ endpoints, service: 'Scripted' }),
  };
}

const PIPELINE = `version: 1
name: failures
connector: { use: scripted, config: {} }
storage: { local: .lake }
streams:
  my_playlists:   { endpoint: me/playlists }
  playlist_items: { endpoint: "playlists/{id}/items", for_each: my_playlists.id, skip_unchanged: snapshot_id }
  saved:          { endpoint: me/tracks }
tables:
  playlist_tracks:
    from: playlist_items
    columns:
      playlist_id: { path: playlist_id, type: string, required: true }
      position:    { path: position, type: int, required: true }
      track_id:    { path: item.id, type: string }
    latest_per: [playlist_id]
    parents: my_playlists.id
`;

describe('failure semantics of a run', () => {
  let server: Server;
  let script: Script;
  let dir: string;
  let storage: LocalStorage;
  const tokens = { issued: 0 };

  beforeEach(async () => {
    tokens.issued = 0;
    dir = await mkdtemp(join(tmpdir(), 'failures-'));
    storage = new LocalStorage(dir);
    server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      const a = script(path, req.headers.authorization) ?? NOT_FOUND;
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(a.body));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  });
  afterEach(async () => {
    await new Promise((ok) => server.close(ok));
    await rm(dir, { recursive: true, force: true });
  });

  async function run(tables = false): Promise<{ summary: RunSummary; lines: string[]; records: Record<string, JsonRecord[]> }> {
    const { port } = server.address() as AddressInfo;
    const read = parsePipeline(PIPELINE, 'pipeline.yaml');
    expect(read.problems).toEqual([]);
    const logger = memoryLogger();
    const build = tables ? { lakeDir: dir, buildTables: (await import('../../core/transform/index.ts')).buildTables } : { skipTransform: true };
    const summary = await runPipeline({ pipeline: read.loaded, plugin: pluginFor(`http://127.0.0.1:${port}`, tokens), connectorConfig: {}, storage, logger, ...build });
    const records: Record<string, JsonRecord[]> = {};
    const manifest = (await listManifests(storage)).find((m) => m.run_id === summary.runId);
    for (const [name, s] of Object.entries(manifest?.streams ?? {})) {
      records[name] = [];
      for (const f of s.files) for (const line of gunzipSync((await storage.get(f.key))!).toString('utf8').split('\n')) if (line) records[name].push(JSON.parse(line) as JsonRecord);
    }
    return { summary, lines: logger.lines, records };
  }
  const status = (s: RunSummary, stream: string) => s.streams.find((x) => x.stream === stream)?.status;

  it('a 403 on one playlist\'s items skips that playlist with a warning naming it and the reason; the run finishes', async () => {
    script = (path) => {
      if (path === '/me/playlists') return { status: 200, body: page(playlists) };
      if (path === '/playlists/collab/items') return FORBIDDEN;
      if (path.startsWith('/playlists/')) return { status: 200, body: items(path.split('/')[2]) };
      if (path === '/me/tracks') return { status: 200, body: page([{ added_at: '2026-01-01T00:00:00Z', track: { id: 's1' } }]) };
      return undefined;
    };
    const { summary, lines, records } = await run();
    expect(summary.ok, summary.error).toBe(true);
    expect(status(summary, 'playlist_items')).toBe('ok');
    expect(status(summary, 'saved')).toBe('ok');
    expect(records.playlist_items.map((r) => r.playlist_id)).toEqual(['own1', 'own1', 'own2', 'own2']);
    expect(records.saved).toHaveLength(1);
    expect(summary.streams.find((x) => x.stream === 'playlist_items')!.notes).toMatchObject({ skipped_forbidden: 1 });
    expect(lines.filter((l) => l.startsWith('warn:') && l.includes('collab'))).toEqual([
      'warn: playlist_items: playlists/{id}/items: collab (Shared with me) skipped: HTTP 403 Forbidden (the API refuses to read it for this user); read again next run',
    ]);
    // The refused playlist's version is not saved: the next run asks again.
    const state = await loadState(storage, 'playlist_items');
    expect(state.versions).toEqual({ own1: 'AAAA', own2: 'CCCC' });
  });

  it('an account-level 403 (not one parent) still fails the run', async () => {
    script = (path) => {
      if (path === '/me/playlists') return { status: 200, body: page(playlists) };
      if (path.startsWith('/playlists/')) return { status: 403, body: { error: { status: 403, message: 'Insufficient client scope' } } };
      return { status: 200, body: page([]) };
    };
    const { port } = server.address() as AddressInfo;
    const plugin = pluginFor(`http://127.0.0.1:${port}`, tokens);
    const { UserError } = await import('../../core/errors.ts');
    const { HttpError } = await import('../../core/errors.ts');
    plugin.read = createRestReader({
      endpoints,
      hooks: { explainError: (e) => (e instanceof HttpError && /scope/.test(e.apiMessage) ? new UserError('the token lacks a scope', 'log in again') : e) },
    });
    const summary = await runPipeline({ pipeline: parsePipeline(PIPELINE, 'pipeline.yaml').loaded, plugin, connectorConfig: {}, storage, logger: memoryLogger(), skipTransform: true });
    expect(summary.ok).toBe(false);
    expect(summary.userError).toBe(true);
    expect(status(summary, 'playlist_items')).toBe('failed');
    expect(status(summary, 'saved')).toBe('not run');
  });

  it('a fan-out stream whose every parent answered 404 is a failed stream naming them (exit 1); the other streams still run', async () => {
    script = (path) => {
      if (path === '/me/playlists') return { status: 200, body: page(playlists.slice(0, 2)) };
      if (path === '/playlists/own1/items') return NOT_FOUND;
      if (path === '/playlists/collab/items') return FORBIDDEN;
      if (path === '/me/tracks') return { status: 200, body: page([{ added_at: '2026-01-01T00:00:00Z', track: { id: 's1' } }]) };
      return undefined;
    };
    const { summary, records } = await run();
    expect(summary.ok).toBe(false);
    expect(summary.userError).toBe(false);
    expect(status(summary, 'playlist_items')).toBe('failed');
    expect(summary.error).toBe(
      'connector scripted, stream playlist_items: every parent failed, none was read: own1 (Mine): HTTP 404 not found; collab (Shared with me): HTTP 403 Forbidden',
    );
    // The streams that do not depend on it ran and are committed.
    expect(status(summary, 'my_playlists')).toBe('ok');
    expect(status(summary, 'saved')).toBe('ok');
    expect(records.saved).toHaveLength(1);
    expect(records.playlist_items).toBeUndefined();
  });

  it('no parent at all, or only unchanged ones, is not a failure', async () => {
    script = (path) => {
      if (path === '/me/playlists') return { status: 200, body: page([]) };
      return { status: 200, body: page([]) };
    };
    const { summary } = await run();
    expect(summary.ok, summary.error).toBe(true);
  });

  it('a 401 that survives a token refresh is an authorization problem (exit 2, log in again); what was read stays committed', async () => {
    script = (path) => {
      if (path === '/me/playlists') return { status: 200, body: page(playlists) };
      if (path === '/playlists/own1/items') return { status: 200, body: items('own1') };
      return EXPIRED;
    };
    const { summary, records } = await run();
    expect(summary.ok).toBe(false);
    expect(summary.userError).toBe(true);
    expect(summary.error).toContain('HTTP 401 Missing/invalid/expired access token');
    expect(summary.hint).toMatch(/spotify-pipeline login/);
    expect(tokens.issued).toBe(2); // one refresh, then no retry loop
    // my_playlists completed before and is committed; so is the playlist read before the 401.
    expect(status(summary, 'my_playlists')).toBe('ok');
    expect(records.my_playlists).toHaveLength(3);
    expect(status(summary, 'playlist_items')).toBe('partial');
    expect(records.playlist_items.map((r) => r.playlist_id)).toEqual(['own1', 'own1']);
    expect((await loadState(storage, 'playlist_items')).versions).toEqual({ own1: 'AAAA' });
    expect(status(summary, 'saved')).toBe('not run');
  });

  it('an unfollowed playlist loses its rows in playlist_tracks (parents); one not re-read keeps them', async () => {
    let listed = playlists;
    script = (path) => {
      if (path === '/me/playlists') return { status: 200, body: page(listed) };
      if (path.startsWith('/playlists/')) return { status: 200, body: items(path.split('/')[2]) };
      return { status: 200, body: page([]) };
    };
    const first = await run(true);
    expect(first.summary.ok, first.summary.error).toBe(true);
    expect(first.summary.tables.find((t) => t.table === 'playlist_tracks')?.rows).toBe(6);
    // Unfollowed: the next (complete) list no longer has it; the others are unchanged (not re-read).
    listed = playlists.filter((p) => p.id !== 'collab');
    const second = await run(true);
    expect(second.summary.ok, second.summary.error).toBe(true);
    expect(second.summary.streams.find((x) => x.stream === 'playlist_items')!.notes).toMatchObject({ skipped_unchanged: 2 });
    expect(second.summary.tables.find((t) => t.table === 'playlist_tracks')?.rows).toBe(4);
  });
});
