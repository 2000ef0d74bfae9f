import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  formatProblem,
  loadPipeline,
  loadPipelineWith,
  readPipeline,
  type Problem,
} from '../../core/config/index.ts';
import { HEAD, VALID, at, fakePlugin, problemsOf, writeFixture } from './fixtures.ts';
import { COLUMN_TYPES } from '../../core/transform/types.ts';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

const where = (p: Problem) => [p.line, p.col, p.path, p.message];

describe('loadPipeline', () => {
  it('loads a valid pipeline and normalizes its shorthands', () => {
    const file = writeFixture(VALID);
    const loaded = loadPipeline(file, fakePlugin);
    expect(loaded.file).toBe(file);
    const { config } = loaded;
    expect(config.version).toBe(1);
    expect(config.connector.config.client_secret).toBe('${secret:fake/client_secret}');
    expect(config.streams.playlist_items).toEqual({
      endpoint: 'playlists/{id}/items',
      for_each: 'my_playlists.id',
      skip_unchanged: 'snapshot_id',
    });
    // from: string -> [{stream}]; dedupe: [..] -> {key}; partition `as` defaults to value.
    expect(config.tables.plays.from).toEqual([{ stream: 'recently_played' }]);
    expect(config.tables.plays.dedupe).toEqual({ key: ['played_at', 'track_id'] });
    expect(config.tables.plays.partition_by).toEqual([{ name: 'dt', from: 'played_at', as: 'date' }]);
    expect(config.tables.playlist_tracks.from).toEqual([{ stream: 'playlist_items', root: 'item' }]);
    expect(config.tables.playlist_tracks.dedupe).toEqual({ key: ['track_id', 'artist_id'], order_by: 'track_id' });
    expect(config.tables.playlist_tracks.partition_by).toEqual([{ name: 'artist_bucket', from: 'artist_id', as: 'value' }]);
    expect(config.queries.top_artists.sql).toContain('FROM plays');
    expect(problemsOf(VALID)).toEqual([]);
  });

  it('fills absent optional sections with empty ones', () => {
    const { loaded, problems } = readPipeline(writeFixture(HEAD + 'streams: {}\n'));
    expect(problems).toEqual([]);
    expect(loaded.config.tables).toEqual({});
    expect(loaded.config.queries).toEqual({});
    expect(loaded.config.storage).toEqual({});
  });

  it('reports a misspelled key, a wrong type and an unknown endpoint together, each at its line and column', () => {
    const file = writeFixture(`version: 1
name: test-lake
connector:
  use: fake
  config:
    api_mode: development
streams:
  plays:
    endpoint: me/player/recent
    incremantal: cursor
aws:
  lambda:
    memory_mb: abc
`);
    const err = configError(() => loadPipeline(file, fakePlugin));
    expect(err.problems.map(where)).toEqual([
      [
        9,
        15,
        'streams.plays.endpoint',
        'unknown endpoint "me/player/recent"; expected one of me/player/recently-played, me/playlists, playlists/{id}/items, artists',
      ],
      [
        10,
        5,
        'streams.plays.incremantal',
        'unknown key "incremantal"; did you mean "incremental"? expected one of endpoint, incremental, for_each, ids_from, ids, skip_unchanged, params, schedule',
      ],
      [13, 16, 'aws.lambda.memory_mb', 'expected integer, got string "abc"'],
    ]);
    expect(err.problems.every((p) => p.file === file && p.severity === 'error')).toBe(true);
    // The message is every problem, one per line, in the compiler style editors link to.
    expect(err.message.split('\n')).toEqual(err.problems.map(formatProblem));
    expect(err.message.split('\n')[0]).toBe(
      `${file}:9:15 streams.plays.endpoint: unknown endpoint "me/player/recent"; expected one of me/player/recently-played, me/playlists, playlists/{id}/items, artists`,
    );
  });

  it('without a plugin, reports schema problems only', () => {
    const file = writeFixture(HEAD + 'streams:\n  plays: { endpoint: nope, incremantal: true }\n');
    const err = configError(() => loadPipeline(file));
    expect(err.problems.map((p) => p.path)).toEqual(['streams.plays.incremantal']);
  });

  it('reports a YAML syntax error with its line and column, and only the first of its echoes', () => {
    const file = writeFixture('version: 1\nname: x\nstreams:\n  plays: endpoint: x\n  other: 1\n');
    const err = configError(() => readPipeline(file));
    expect(err.problems).toHaveLength(1);
    expect(where(err.problems[0])).toEqual([4, 10, '', 'YAML syntax: Nested mappings are not allowed in compact mappings']);
    expect(err.message).toBe(`${file}:4:10: YAML syntax: Nested mappings are not allowed in compact mappings`);
  });

  it('explains the brackets-inside-braces trap', () => {
    const file = writeFixture('columns:\n  a: { path: track.artists[0].id, type: string }\n');
    const err = configError(() => readPipeline(file));
    expect(err.problems[0].line).toBe(2);
    expect(err.problems[0].col).toBe(27);
    expect(err.problems[0].message).toContain('quote values that contain [ ] { } or ,');
  });

  it('never echoes source text in a syntax error (it could hold a secret)', () => {
    const file = writeFixture('version: 1\nsecret: [hunter2-very-secret\n');
    const err = configError(() => readPipeline(file));
    expect(err.message).not.toContain('hunter2');
  });

  it('reports duplicate keys', () => {
    const err = configError(() => readPipeline(writeFixture('version: 1\nname: a\nname: b\n')));
    expect(where(err.problems[0])).toEqual([3, 1, '', 'YAML syntax: Map keys must be unique']);
  });

  it('reports a missing file and an empty file', () => {
    const missing = configError(() => readPipeline('no/such/pipeline.yaml'));
    expect(missing.message).toBe('no/such/pipeline.yaml: file not found');
    const { problems } = readPipeline(writeFixture('# nothing yet\n'));
    expect(problems.map(formatProblem)[0]).toMatch(/:1:1: the file is empty; a pipeline needs at least version, name, connector and streams$/);
  });
});

describe('schema messages', () => {
  const problems = problemsOf(
    HEAD +
      `streams:
  Plays: { endpoint: me/playlists }
  a: { endpiont: me/playlists }
  b: { endpoint: me/playlists, incremental: yes, schedule: every hour }
  c: { endpoint: "playlists/{id}/items", for_each: my_playlists }
tables:
  t1:
    from: 5
    columns: { x: { path: a, sql: b, type: string }, y: { type: strin } }
  t2:
    from: [{ stream: a, rot: item }]
    columns:
      z: { path: "a..b", type: string }
    dedupe: { keys: [z] }
    partition_by: [{ name: dt, from: z, as: dat }]
  t3:
    from: a
    columns: {}
    dedupe: 7
queries:
  q: { description: x }
  r: { sql: "  " }
aws: { alarm_email: nope, lambda: { timeout_seconds: 1000 } }
storage: { s3: { prefix: /x } }
`,
  );

  it.each([
    // [path, line, col, message]
    ['streams.Plays', 7, 3, 'invalid name "Plays": a stream name uses lowercase letters, digits and _, starting with a letter'],
    // A typo of a required key is one message, not also "missing endpoint".
    ['streams.a.endpiont', 8, 8, 'unknown key "endpiont"; did you mean "endpoint"? expected one of endpoint, incremental, for_each, ids_from, ids, skip_unchanged, params, schedule'],
    // YAML 1.2: `yes` is a string, not true.
    ['streams.b.incremental', 9, 45, 'expected one of true, false, cursor, field; got string "yes"'],
    ['streams.b.schedule', 9, 60, 'invalid value "every hour": use rate(<n> minutes|hours|days) or cron(<minutes> <hours> <day of month> <month> <day of week> <year>), e.g. rate(1 hour)'],
    ['streams.c.for_each', 10, 52, 'invalid value "my_playlists": use <stream>.<field path>, e.g. my_playlists.id or recently_played.track.artists.id'],
    // oneOf: no branch fits the type -> one message naming the forms.
    ['tables.t1.from', 13, 11, 'expected a stream name or a list of sources {stream, root}, got number 5'],
    ['tables.t1.columns.x', 14, 16, 'give either "path" or "sql", not both'],
    ['tables.t1.columns.y.type', 14, 65, `expected one of ${COLUMN_TYPES.join(', ')}; got string "strin" (did you mean "string"?)`],
    // oneOf: the list branch fits -> its inner problem, not the string branch's complaints.
    ['tables.t2.from[0].rot', 16, 25, 'unknown key "rot"; did you mean "root"? expected one of stream, root'],
    ['tables.t2.columns.z.path', 18, 18, 'invalid value "a..b": use a dot path such as track.id, track.artists[0].id or items[].id'],
    ['tables.t2.dedupe.keys', 19, 15, 'unknown key "keys"; did you mean "key"? expected one of key, order_by'],
    ['tables.t2.partition_by[0].as', 20, 45, 'expected one of value, date, month, year; got string "dat" (did you mean "date"?)'],
    ['tables.t3.columns', 23, 14, 'must not be empty'],
    ['tables.t3.dedupe', 24, 13, 'expected a list of key columns or a mapping {key, order_by}, got number 7'],
    ['queries.q', 26, 3, 'missing required key "sql"'],
    ['queries.r.sql', 27, 13, 'invalid value "  ": must not be empty'],
    ['aws.alarm_email', 28, 21, 'invalid value "nope": expected email format'],
    ['aws.lambda.timeout_seconds', 28, 54, 'must be <= 900, got number 1000'],
    ['storage.s3', 29, 12, 'missing required key "bucket"'],
    ['storage.s3.prefix', 29, 26, 'invalid value "/x": must not be empty or start with /'],
  ])('%s', (path, line, col, message) => {
    expect(where(at(problems, path))).toEqual([line, col, path, message]);
  });

  it('says nothing else (no oneOf noise, no duplicates)', () => {
    expect(problems.map((p) => p.path)).toEqual([
      'streams.Plays',
      'streams.a.endpiont',
      'streams.b.incremental',
      'streams.b.schedule',
      'streams.c.for_each',
      'tables.t1.from',
      'tables.t1.columns.x',
      'tables.t1.columns.y',
      'tables.t1.columns.y.type',
      'tables.t2.from[0].rot',
      'tables.t2.columns.z.path',
      'tables.t2.dedupe.keys',
      'tables.t2.partition_by[0].as',
      'tables.t3.columns',
      'tables.t3.dedupe',
      'queries.q',
      'queries.r.sql',
      'aws.alarm_email',
      'aws.lambda.timeout_seconds',
      'storage.s3',
      'storage.s3.prefix',
    ]);
    expect(at(problems, 'tables.t1.columns.y').message).toBe('missing required key "path" or "sql"');
  });

  it('checks version and name', () => {
    const ps = problemsOf('version: 2\nname: My Lake\nconnector: { use: fake, config: { api_mode: development } }\nstreams: {}\n');
    expect(ps.map(where)).toEqual([
      [1, 10, 'version', 'expected 1, got number 2'],
      [2, 7, 'name', 'invalid value "My Lake": use 2 to 41 lowercase letters, digits and -, starting with a letter (it names AWS resources)'],
    ]);
  });

  it('reports missing top-level keys at the document and a non-mapping document', () => {
    const ps = problemsOf('version: 1\nname: abc\n');
    expect(ps.map((p) => [p.line, p.col, p.message])).toEqual([
      [1, 1, 'missing required key "connector"'],
      [1, 1, 'missing required key "streams"'],
    ]);
    expect(problemsOf('hello\n').map((p) => p.message)).toEqual(['expected mapping, got string "hello"']);
  });
});

describe('positions', () => {
  const { loaded } = readPipeline(writeFixture(VALID));
  const pos = (path: string) => {
    const p = loaded.pos(path);
    return [p.line, p.col];
  };

  it('finds scalar values in block and flow mappings', () => {
    expect(pos('name')).toEqual([3, 7]);
    expect(pos('connector.config.client_secret')).toEqual([9, 20]);
    expect(pos('storage.s3.bucket')).toEqual([12, 17]);
    expect(pos('streams.playlist_items.for_each')).toEqual([17, 65]);
  });

  it('finds list items (both index spellings) and keys inside them', () => {
    expect(pos('streams.artists.ids_from[0]')).toEqual([18, 44]);
    expect(pos('streams.artists.ids_from.0')).toEqual([18, 44]);
    expect(pos('tables.plays.partition_by[0].from')).toEqual([29, 38]);
    expect(pos('tables.playlist_tracks.from[0].root')).toEqual([32, 41]);
    expect(pos('tables.playlist_tracks.partition_by[0].from')).toEqual([41, 15]);
  });

  it('marks a block mapping or list by its key, and a flow one by its bracket', () => {
    expect(pos('tables.plays.columns')).toEqual([22, 5]);
    expect(pos('tables.playlist_tracks.partition_by')).toEqual([39, 5]);
    expect(pos('tables.plays.partition_by')).toEqual([29, 19]);
    expect(pos('')).toEqual([2, 1]);
  });

  it('maps normalized paths back to what was written', () => {
    expect(pos('tables.plays.from[0].stream')).toEqual([21, 11]); // from: recently_played
    expect(pos('tables.plays.dedupe.key[1]')).toEqual([28, 25]); // dedupe: [played_at, track_id]
    expect(pos('tables.playlist_tracks.dedupe.key[1]')).toEqual([38, 31]); // written as {key: [...]}
  });

  it('falls back to the nearest parent for paths that are not in the file', () => {
    expect(pos('tables.playlist_tracks.partition_by[0].as')).toEqual([40, 9]);
    expect(pos('streams.my_playlists.params.market')).toEqual([16, 17]);
    expect(pos('streams.nope.endpoint')).toEqual([14, 1]);
  });

  it('follows YAML aliases to where the value was typed', () => {
    const file = writeFixture(`${HEAD}streams:
  a: &base { endpoint: me/playlists }
  b: *base
`);
    const { loaded: l, problems } = readPipeline(file);
    expect(problems).toEqual([]);
    expect(l.config.streams.b.endpoint).toBe('me/playlists');
    expect(l.pos('streams.b.endpoint')).toMatchObject({ line: 7, col: 24 });
  });
});

describe('loadPipelineWith', () => {
  const broken = `version: one
name: test-lake
connector:
  use: fake
  config: { api_mode: development }
streams:
  plays: { endpoint: me/player/recent, incremantal: cursor }
`;

  it('loads the plugin the file names and reports schema and plugin problems together', async () => {
    const names: string[] = [];
    const err = await loadPipelineWith(writeFixture(broken), async (use) => {
      names.push(use);
      return fakePlugin;
    }).catch((e: unknown) => e);
    expect(names).toEqual(['fake']);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.map((p) => [p.line, p.col, p.path])).toEqual([
      [1, 10, 'version'],
      [7, 22, 'streams.plays.endpoint'],
      [7, 40, 'streams.plays.incremantal'],
    ]);
  });

  it('reports the schema problems when the plugin cannot be loaded', async () => {
    const err = await loadPipelineWith(writeFixture(broken), async () => {
      throw new Error('no such connector');
    }).catch((e: unknown) => e);
    expect((err as ConfigError).problems.map((p) => p.path)).toEqual(['version', 'streams.plays.incremantal']);
  });

  it('returns the pipeline, the plugin and the warnings', async () => {
    const file = writeFixture(HEAD + 'streams: {}\nqueries:\n  q: { sql: SELECT 1 }\n');
    const { loaded, plugin, warnings } = await loadPipelineWith(file, async () => fakePlugin);
    expect(loaded.config.name).toBe('test-lake');
    expect(plugin).toBe(fakePlugin);
    expect(warnings.map((w) => [w.path, w.severity])).toEqual([['queries.q.sql', 'warning']]);
  });
});
