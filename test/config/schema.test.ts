import { describe, expect, it } from 'vitest';
import { ConfigError, pipelineSchema, readPipeline } from '../../core/config/index.ts';
import { writeFixture } from './fixtures.ts';

type Schema = Record<string, unknown>;
const defs = pipelineSchema.definitions as Record<string, Schema>;
const deref = (s: Schema): Schema => (typeof s.$ref === 'string' ? { ...defs[s.$ref.replace('#/definitions/', '')], ...s } : s);

/** Every schema that describes keys, with the path a user would see. */
function objectSchemas(s: Schema, path: string, out: Array<[string, Schema]> = []): Array<[string, Schema]> {
  s = deref(s);
  if (s.properties || s.patternProperties || s.type === 'object') out.push([path, s]);
  for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) objectSchemas(v, `${path}.${k}`, out);
  for (const v of Object.values((s.patternProperties ?? {}) as Record<string, Schema>)) objectSchemas(v, `${path}.<name>`, out);
  if (s.items) objectSchemas(s.items as Schema, `${path}[]`, out);
  for (const b of (s.oneOf ?? []) as Schema[]) objectSchemas(b, path, out);
  return out;
}

describe('config/pipeline.schema.json', () => {
  const all = objectSchemas(pipelineSchema, '$');

  it('documents every key (editors show these descriptions)', () => {
    const undocumented = all.flatMap(([path, s]) =>
      Object.entries((s.properties ?? {}) as Record<string, Schema>)
        .filter(([, v]) => typeof deref(v).description !== 'string')
        .map(([k]) => `${path}.${k}`),
    );
    expect(undocumented).toEqual([]);
  });

  it('closes every mapping except the ones plugins validate', () => {
    const open = all.filter(([, s]) => s.additionalProperties !== false && s.type === 'object').map(([p]) => p);
    expect(open.sort()).toEqual(['$.connector.config', '$.streams.<name>.params']);
  });

  it('names streams, tables, queries, columns and dashboards with one pattern', () => {
    const named = all.filter(([, s]) => s.patternProperties).map(([p, s]) => [p, Object.keys(s.patternProperties as object)]);
    expect(named).toEqual([
      ['$.streams', ['^[a-z][a-z0-9_]*$']],
      ['$.tables', ['^[a-z][a-z0-9_]*$']],
      ['$.tables.<name>.columns', ['^[a-z][a-z0-9_]*$']],
      ['$.queries', ['^[a-z][a-z0-9_]*$']],
      ['$.dashboards', ['^[a-z][a-z0-9_]*$']],
    ]);
  });

  const example = (artistPath: string) => `# yaml-language-server: $schema=./config/pipeline.schema.json
version: 1
name: my-spotify-lake
connector:
  use: spotify                        # a folder in connectors/, a path, or an npm package
  config:
    api_mode: development             # development | extended
    client_id: \${env:SPOTIFY_CLIENT_ID}
    client_secret: \${secret:spotify/client_secret}
    refresh_token: \${secret:spotify/refresh_token}   # user auth, for /me and playlist items
storage:
  local: .lake                        # embedded default
  s3: { bucket: my-spotify-lake }     # used by the AWS deployment
schedule: rate(1 hour)
streams:
  recently_played: { endpoint: me/player/recently-played, incremental: cursor }
  my_playlists:    { endpoint: me/playlists }
  playlist_items:  { endpoint: playlists/items, for_each: my_playlists.id, skip_unchanged: snapshot_id }
  artists:         { endpoint: artists, ids_from: [recently_played.track.artists.id] }
tables:
  plays:
    from: recently_played
    columns:
      played_at: { path: played_at, type: timestamp }
      track_id:  { path: track.id, type: string }
      artist_id: { path: ${artistPath}, type: string }
      ms_played: { path: track.duration_ms, type: bigint }
    dedupe: [played_at, track_id]
    partition_by: [{ name: dt, from: played_at, as: date }]
queries:
  top_artists_last_7_days:
    description: Most played artists of the last week
    sql: |
      SELECT a.name, count(*) AS plays FROM plays p JOIN artists a ON a.id = p.artist_id
      WHERE p.dt >= date_format(current_date - interval '7' day, '%Y-%m-%d')
      GROUP BY 1 ORDER BY 2 DESC LIMIT 10
`;

  it('accepts the example of ARCHITECTURE.md section 5 (with the bracketed path quoted)', () => {
    expect(readPipeline(writeFixture(example('"track.artists[0].id"'))).problems).toEqual([]);
  });

  it('explains why the example as printed is not valid YAML', () => {
    try {
      readPipeline(writeFixture(example('track.artists[0].id')));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems[0]).toMatchObject({ line: 26, col: 39 }) // the `[`;
      expect((e as Error).message).toContain('quote values that contain [ ] { } or ,');
    }
  });
});
