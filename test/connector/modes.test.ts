/**
 * API modes and parameters, from the descriptors: endpoints removed in Development Mode are
 * rejected by `validate` (naming the endpoint, the Spotify change and the replacement) before any
 * request; every stream param is declared and validated; the page and batch sizes are the largest
 * the API (the sandbox of that mode) accepts, so no run could use fewer requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { batchSize, endpoints, pageSize } from '../../connectors/spotify/endpoints.ts';
import { startSandbox, type SpotifySandbox } from '../../connectors/spotify/sandbox/index.ts';
import { parsePipeline } from '../../core/config/index.ts';
import { preparePipeline } from '../../core/pipeline.ts';
import { runPipeline } from '../../core/engine/run.ts';
import { LocalStorage } from '../../core/storage/local.ts';
import { memoryLogger } from '../../core/log.ts';
import { api, clientToken, userToken } from '../sandbox/helpers.ts';
import { NOW, connectorConfig, pipelineText, plugin, problemsOf, removeTempDirs, runStreams, tempDir, type Mode, type Streams } from './helpers.ts';

afterAll(removeTempDirs);

/** Each endpoint removed in Development Mode, in a stream that is otherwise valid. */
const REMOVED: Array<[string, Streams]> = [
  ['users/{id}/playlists', { theirs: { endpoint: 'users/{id}/playlists', ids: ['alina.petrova'] } }],
  ['playlists/{id}/tracks', { mine: { endpoint: 'me/playlists' }, theirs: { endpoint: 'playlists/{id}/tracks', for_each: 'mine.id' } }],
  ['artists/{id}/top-tracks', { a: { endpoint: 'artists', ids: ['0OdUWJ0sBjDrqHygGUXeCF'] }, theirs: { endpoint: 'artists/{id}/top-tracks', for_each: 'a.id' } }],
];

describe('endpoints removed in Development Mode', () => {
  let sb: SpotifySandbox;
  beforeAll(async () => {
    sb = await startSandbox({ profile: 'development', seed: 42, now: NOW });
  });
  afterAll(async () => {
    await sb?.close();
  });

  it('every Extended-only endpoint declares when, why and what instead', () => {
    const removed = Object.keys(endpoints).filter((e) => endpoints[e].modes?.development?.removed);
    expect(removed.sort()).toEqual(REMOVED.map(([e]) => e).sort());
    for (const e of removed) {
      const r = endpoints[e].modes!.development.removed!;
      expect(r.date, e).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(r.change, e).toMatch(/February 2026/);
      expect(r.instead, e).toMatch(/endpoint: /);
      // What it names instead is itself available in Development Mode.
      for (const m of r.instead.matchAll(/endpoint: ([\w/{}-]+)/g)) expect(endpoints[m[1]]?.modes?.development?.removed, `${e} -> ${m[1]}`).toBeUndefined();
    }
  });

  it.each(REMOVED)('validate rejects %s, naming the change and the replacement, and nothing is sent', async (endpoint, streams) => {
    sb.resetLog();
    const removal = endpoints[endpoint].modes!.development.removed!;
    const errors = problemsOf('development', streams).filter((p) => p.severity === 'error');
    expect(errors.map((p) => p.path)).toEqual(['streams.theirs.endpoint']);
    const msg = errors[0].message;
    for (const part of [endpoint, removal.change, removal.instead, removal.date, 'api_mode: development']) expect(msg).toContain(part);

    // The front door every command uses refuses the file with the same message, with a line number.
    const dir = await tempDir();
    const file = join(dir, 'pipeline.yaml');
    await writeFile(file, pipelineText('development', streams));
    await expect(preparePipeline(file)).rejects.toThrow(new RegExp(`pipeline\\.yaml:\\d+:\\d+ streams\\.theirs\\.endpoint: .*${removal.instead.replace(/[{}()/.]/g, '\\$&')}`));

    // The same streams are valid in Extended Quota Mode.
    expect(problemsOf('extended', streams).filter((p) => p.severity === 'error')).toEqual([]);
    expect(sb.requests).toEqual([]);
  });

  it.each(REMOVED)('a run that skipped validation still stops at %s before sending it anything', async (endpoint, streams) => {
    const only: Streams = { theirs: streams.theirs };
    const read = parsePipeline(pipelineText('development', only), 'pipeline.yaml');
    sb.resetLog();
    const summary = await runPipeline({
      pipeline: read.loaded, plugin, connectorConfig: connectorConfig(sb, 'development'), storage: new LocalStorage(await tempDir()),
      logger: memoryLogger(), skipTransform: true,
    });
    expect(summary.ok).toBe(false);
    expect(summary.userError).toBe(true);
    expect(summary.error).toContain(endpoints[endpoint].modes!.development.removed!.change);
    expect(summary.hint).toContain(endpoints[endpoint].modes!.development.removed!.instead);
    expect(sb.requests).toEqual([]);
  });
});

describe('stream params', () => {
  const errorsOf = (streams: Streams) => problemsOf('development', streams).filter((p) => p.severity === 'error').map((p) => `${p.path}: ${p.message}`);

  it('every parameter is declared with a description, fan-out lists included', () => {
    for (const [name, desc] of Object.entries(endpoints)) {
      const props = (desc.parameters?.properties ?? {}) as Record<string, { description?: string }>;
      for (const [k, p] of Object.entries(props)) expect(p.description, `${name} params.${k}`).toMatch(/\w{3}/);
      for (const f of desc.fanOut ?? []) expect(props[f.param], `${name}: fan-out param ${f.param} is declared`).toBeDefined();
    }
  });

  it('accepts the documented params', () => {
    expect(errorsOf({
      s: { endpoint: 'search', params: { queries: ['night'], types: ['track', 'episode'], market: 'DE' } },
      t: { endpoint: 'me/top/tracks', params: { time_ranges: ['short_term'] } },
      a: { endpoint: 'artists', ids: ['0OdUWJ0sBjDrqHygGUXeCF'] },
      b: { endpoint: 'artists/{id}/albums', for_each: 'a.id', params: { include_groups: 'album,appears_on' } },
      m: { endpoint: 'me/tracks', incremental: 'field', params: { market: 'JP' } },
    })).toEqual([]);
  });

  it.each([
    ['search without queries', { s: { endpoint: 'search' } }, /streams\.s\.params.*queries/],
    ['an unknown search type', { s: { endpoint: 'search', params: { queries: ['x'], types: ['audiobooks'] } } }, /streams\.s\.params\.types\[0\]/],
    ['an unknown time range', { t: { endpoint: 'me/top/artists', params: { time_ranges: ['forever'] } } }, /streams\.t\.params\.time_ranges\[0\]/],
    ['a bad include_groups', { a: { endpoint: 'artists', ids: ['x'] }, b: { endpoint: 'artists/{id}/albums', for_each: 'a.id', params: { include_groups: 'albums' } } }, /streams\.b\.params\.include_groups/],
    ['an unknown key', { t: { endpoint: 'me/top/artists', params: { time_range: 'short_term' } } }, /streams\.t\.params.*time_range/],
    ['params on an endpoint without any', { f: { endpoint: 'me/following', params: { type: 'artist' } } }, /streams\.f\.params: endpoint "me\/following" takes no params/],
    ['incremental where the endpoint has none', { f: { endpoint: 'me/following', incremental: true } }, /streams\.f\.incremental/],
  ] as Array<[string, Streams, RegExp]>)('rejects %s', (_what, streams, re) => {
    const errors = errorsOf(streams);
    expect(errors.length, errors.join('\n')).toBeGreaterThan(0);
    expect(errors.some((e) => re.test(e)), errors.join('\n')).toBe(true);
  });
});

/**
 * Page and batch sizes: the descriptor's size for a mode is accepted by that mode's sandbox and
 * one more is refused (400), so the connector uses the largest page the API allows.
 */
describe.each([
  { profile: 'development' as const, mode: 'development' as Mode },
  { profile: 'extended' as const, mode: 'extended' as Mode },
])('page and batch sizes are the largest the $profile API accepts', ({ profile, mode }) => {
  let sb: SpotifySandbox;
  let user: string;
  let app: string;
  beforeAll(async () => {
    sb = await startSandbox({ profile, seed: 42, now: NOW });
    user = await userToken(sb);
    app = await clientToken(sb);
  });
  afterAll(async () => {
    await sb?.close();
  });

  /** A path of the endpoint with a real id and its required query. */
  function probePath(endpoint: string): string {
    const d = sb.data;
    const owned = d.playlists.find((p) => p.access === 'owned' && p.items.length > 0)!;
    const ids: Record<string, string> = {
      'playlists/{id}/items': owned.id,
      'playlists/{id}/tracks': owned.id,
      'users/{id}/playlists': d.user.id,
      'albums/{id}/tracks': [...d.albums.keys()][0],
      'artists/{id}/albums': [...d.artistAlbums.keys()][0],
    };
    const path = endpoints[endpoint].path.replace('{id}', ids[endpoint] ?? '');
    const extra: Record<string, string> = { search: 'q=e&type=track', 'me/following': 'type=artist' };
    return `${path}?${extra[endpoint] ? `${extra[endpoint]}&` : ''}`;
  }

  it('paged endpoints', async () => {
    const paged = Object.keys(endpoints).filter((e) => endpoints[e].paginator.type !== 'none' && !endpoints[e].modes?.[mode]?.removed);
    expect(paged.length).toBeGreaterThanOrEqual(10);
    for (const e of paged) {
      const size = pageSize(endpoints[e], mode);
      const token = endpoints[e].auth === 'user' ? user : app;
      expect((await api(sb, token, `${probePath(e)}limit=${size}`)).status, `${e} limit=${size}`).toBe(200);
      const over = await api(sb, token, `${probePath(e)}limit=${size + 1}`);
      expect(over.status, `${e} limit=${size + 1}`).toBe(400);
      expect(over.body.error.message).toBe('Invalid limit');
    }
  });

  it('batch endpoints', async () => {
    for (const e of ['artists', 'tracks', 'albums']) {
      const desc = endpoints[e];
      const size = batchSize(desc, mode);
      const pool = e === 'artists' ? [...sb.data.artists.keys()] : e === 'tracks' ? [...sb.data.tracks.keys()] : [...sb.data.albums.keys()];
      const batch = (n: number) => api(sb, app, `${desc.batch!.path}?ids=${pool.slice(0, n).join(',')}`);
      if (mode === 'development') {
        // One id a request: the batch form is gone (403) in Development Mode.
        expect(size, e).toBe(1);
        expect((await batch(2)).status, e).toBe(403);
      } else {
        expect((await batch(size)).status, `${e} ${size} ids`).toBe(200);
        expect((await batch(size + 1)).status, `${e} ${size + 1} ids`).toBe(400);
      }
    }
  });

  it('the search offset limit', async () => {
    const size = pageSize(endpoints.search, mode);
    const max = endpoints.search.maxOffset!;
    expect((await api(sb, app, `/search?q=e&type=track&limit=${size}&offset=${max}`)).status).toBe(200);
    expect((await api(sb, app, `/search?q=e&type=track&limit=${size}&offset=${max + 1}`)).status).toBe(400);
  });
});

describe('a removed endpoint never runs, whatever the profile serves', () => {
  it('development-legacy still serves /playlists/{id}/tracks, but api_mode development refuses it', async () => {
    const sb = await startSandbox({ profile: 'development-legacy', seed: 42, now: NOW });
    try {
      const streams: Streams = { mine: { endpoint: 'me/playlists' }, theirs: { endpoint: 'playlists/{id}/tracks', for_each: 'mine.id' } };
      expect(problemsOf('development', streams).some((p) => p.path === 'streams.theirs.endpoint')).toBe(true);
      // With the valid replacement the same data comes through, normalized to `item`.
      const res = await runStreams(sb, 'development', { mine: streams.mine, items: { endpoint: 'playlists/{id}/items', for_each: 'mine.id' } });
      expect(res.records.items.length).toBeGreaterThan(1234);
      expect(res.records.items.every((r) => 'item' in r && !('track' in r))).toBe(true);
      expect(res.log.filter((r) => r.path.endsWith('/tracks'))).toEqual([]);
    } finally {
      await sb.close();
    }
  });
});
