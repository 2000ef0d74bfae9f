/** Shared test doubles for the config suites: a small fake connector and temp-file fixtures. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { ConnectorPlugin, PluginIssue } from '../../core/plugin-api.ts';
import { checkPipeline, readPipeline, type Problem } from '../../core/config/index.ts';

export const fakePlugin: ConnectorPlugin = {
  apiVersion: 1,
  name: 'fake',
  version: '0.0.0',
  description: 'A test double with the shapes of the Spotify endpoints',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['api_mode'],
    properties: {
      api_mode: { enum: ['development', 'extended'] },
      client_id: { type: 'string', pattern: '^[0-9a-f]{32}$' },
      client_secret: { type: 'string', minLength: 32 },
      refresh_token: { type: 'string' },
      timeout_ms: { type: 'integer', minimum: 1 },
    },
  },
  secretKeys: ['client_secret', 'refresh_token'],
  endpoints: {
    'me/player/recently-played': {
      description: 'The last 50 plays',
      path: '/me/player/recently-played',
      auth: 'user',
      scopes: ['user-read-recently-played'],
      paginator: { type: 'cursor', pageSize: { development: 50 }, cursorParam: 'after', window: 50 },
      recordPath: 'items',
      incremental: { kind: 'cursor', description: 'plays after the newest played_at of the last run' },
      parameters: {
        type: 'object',
        additionalProperties: false,
        properties: { limit: { type: 'integer', minimum: 1, maximum: 50 } },
      },
      recordSchema: { type: 'object' },
    },
    'me/playlists': {
      description: "The user's playlists",
      path: '/me/playlists',
      auth: 'user',
      scopes: ['playlist-read-private'],
      paginator: { type: 'offset', pageSize: { development: 50 } },
      recordPath: 'items',
      recordSchema: { type: 'object' },
    },
    'playlists/{id}/items': {
      description: 'The items of each playlist',
      path: '/playlists/{id}/items',
      auth: 'user',
      scopes: ['playlist-read-private'],
      paginator: { type: 'offset', pageSize: { development: 50 } },
      recordPath: 'items',
      input: 'for_each',
      versionField: 'snapshot_id',
      parameters: {
        type: 'object',
        additionalProperties: false,
        properties: { market: { type: 'string', pattern: '^[A-Z]{2}$' } },
      },
      recordSchema: { type: 'object' },
    },
    artists: {
      description: 'Artists by id',
      path: '/artists/{id}',
      auth: 'client',
      scopes: [],
      paginator: { type: 'none' },
      recordPath: '',
      input: 'ids',
      recordSchema: { type: 'object' },
    },
  },
  // A mode rule only the plugin knows, to test that its issues are positioned by path.
  validate(config, streams): PluginIssue[] {
    const issues: PluginIssue[] = [];
    for (const s of streams) {
      if (s.endpoint === 'artists' && config.api_mode === 'extended') {
        issues.push({ path: `streams.${s.name}.endpoint`, message: 'fake: artists is not offered in extended mode' });
      }
      if (s.params.flag === 'warn') {
        issues.push({ path: `streams.${s.name}.ids_from[0]`, message: 'fake: just a warning', severity: 'warning' });
      }
    }
    return issues;
  },
  async check() {},
  async *read() {},
};

const dir = mkdtempSync(join(tmpdir(), 'pipeline-config-'));
// Removed when the worker process ends: test files share a worker's modules (vitest.config.ts,
// isolate: false), so a file's afterAll would remove it under the files after it.
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** Writes a fixture and returns its path relative to the working directory, as a user would type it. */
export function writeFixture(text: string, name?: string): string {
  const file = join(dir, name ?? `pipeline-${++n}.yaml`);
  writeFileSync(file, text);
  return relative(process.cwd(), file);
}

export function fixtureDir(): string {
  return dir;
}

/** Schema and semantic problems of a pipeline text, the way the CLI collects them. */
export function problemsOf(text: string): Problem[] {
  return checkPipeline(readPipeline(writeFixture(text)), fakePlugin);
}

/** The problem at one path (fails loudly if there is not exactly one). */
export function at(problems: Problem[], path: string): Problem {
  const found = problems.filter((p) => p.path === path);
  if (found.length !== 1) {
    throw new Error(`expected one problem at ${path}, got:\n${problems.map((p) => `${p.path}: ${p.message}`).join('\n')}`);
  }
  return found[0];
}

/** The common start of small fixtures: 5 lines, so a fixture's own lines start at 6. */
export const HEAD = `version: 1
name: test-lake
connector:
  use: fake
  config: { api_mode: development }
`;

export const VALID = `# yaml-language-server: $schema=./config/pipeline.schema.json
version: 1
name: test-lake
connector:
  use: fake
  config:
    api_mode: development
    client_id: \${env:FAKE_CLIENT_ID}
    client_secret: \${secret:fake/client_secret}
storage:
  local: .lake
  s3: { bucket: test-lake-bucket, prefix: lake/ }
schedule: rate(1 hour)
streams:
  recently_played: { endpoint: me/player/recently-played, incremental: cursor }
  my_playlists: { endpoint: me/playlists }
  playlist_items: { endpoint: "playlists/{id}/items", for_each: my_playlists.id, skip_unchanged: snapshot_id }
  artists: { endpoint: artists, ids_from: [recently_played.track.artists.id] }
tables:
  plays:
    from: recently_played
    columns:
      played_at: { path: played_at, type: timestamp, required: true }
      track_id: { path: track.id, type: string }
      artist_id: { path: "track.artists[0].id", type: string }
      ms_played: { path: track.duration_ms, type: bigint }
      minutes: { sql: ms_played / 60000.0, type: double }
    dedupe: [played_at, track_id]
    partition_by: [{ name: dt, from: played_at, as: date }]
  playlist_tracks:
    from:
      - { stream: playlist_items, root: item }
    columns:
      track_id: { path: id, type: string }
      artist_id: { path: "artists[].id", type: string }
      artist_name: { path: "artists[].name", type: string }
    latest_per: [track_id]
    dedupe: { key: [track_id, artist_id], order_by: track_id }
    partition_by:
      - name: artist_bucket
        from: artist_id
queries:
  top_artists:
    description: Most played artists
    sql: |
      SELECT artist_id, count(*) AS plays FROM plays GROUP BY 1 ORDER BY 2 DESC LIMIT 10
`;
