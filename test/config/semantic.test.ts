import { describe, expect, it } from 'vitest';
import type { ConnectorPlugin } from '../../core/plugin-api.ts';
import { ConfigError, loadPipeline, readPipeline, validatePipeline, type LoadedPipeline, type Problem } from '../../core/config/index.ts';
import { HEAD, at, fakePlugin, problemsOf, writeFixture } from './fixtures.ts';

/** [line, col] of the first `needle` on the line that contains `lineMark`: an independent check of positions. */
function spot(text: string, lineMark: string, needle: string): [number, number] {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.includes(lineMark));
  if (i < 0) throw new Error(`no line with ${lineMark}`);
  const col = lines[i].indexOf(needle, lines[i].indexOf(lineMark));
  if (col < 0) throw new Error(`no ${needle} on line ${i + 1}`);
  return [i + 1, col + 1];
}

const pos = (p: Problem) => [p.line, p.col];

describe('streams', () => {
  const text =
    HEAD +
    `streams:
  a: { endpoint: me/playlist }
  b: { endpoint: "playlists/{id}/items" }
  c: { endpoint: me/playlists, for_each: a.id, ids: [x] }
  d: { endpoint: artists }
  e: { endpoint: artists, ids_from: [nope.id, e.id] }
  f: { endpoint: me/playlists, incremental: true }
  g: { endpoint: me/player/recently-played, incremental: field, params: { limit: 500, foo: 1 } }
  h: { endpoint: "playlists/{id}/items", for_each: i.id, skip_unchanged: snapshotid, params: { market: usa } }
  i: { endpoint: "playlists/{id}/items", for_each: j.id }
  j: { endpoint: "playlists/{id}/items", for_each: h.id, skip_unchanged: snapshot_id }
  k: { endpoint: me/playlists, skip_unchanged: snapshot_id, params: { x: 1 } }
  l: { endpoint: artists, ids_from: [a.id], params: { flag: warn } }
  m: { endpoint: me/player/recently-played, incremental: cursor, params: { limit: 50 } }
  n: { endpoint: me/player/recently-played, incremental: true }
  o: { endpoint: artists, ids: ["0TnOYISbd1XYRBk9myaseg"] }
`;
  const problems = problemsOf(text);

  it('rejects an unknown endpoint, suggesting the closest', () => {
    const p = at(problems, 'streams.a.endpoint');
    expect(pos(p)).toEqual(spot(text, '  a: {', 'me/playlist'));
    expect(p.message).toBe(
      'unknown endpoint "me/playlist"; did you mean "me/playlists"? expected one of me/player/recently-played, me/playlists, playlists/{id}/items, artists',
    );
  });

  it('requires for_each for a for_each endpoint, at the stream', () => {
    const p = at(problems, 'streams.b');
    expect(pos(p)).toEqual(spot(text, '  b: {', 'b'));
    expect(p.message).toBe('endpoint "playlists/{id}/items" makes one request per parent record; add for_each: <stream>.<field> (e.g. the parent\'s id)');
  });

  it('forbids for_each and ids on an endpoint that takes neither', () => {
    expect(at(problems, 'streams.c.for_each').message).toBe('endpoint "me/playlists" takes no parent record; for_each is only for playlists/{id}/items');
    expect(pos(at(problems, 'streams.c.for_each'))).toEqual(spot(text, '  c: {', 'for_each'));
    expect(at(problems, 'streams.c.ids').message).toBe('endpoint "me/playlists" does not take ids; ids is only for artists');
  });

  it('requires ids_from or ids for an ids endpoint', () => {
    expect(at(problems, 'streams.d').message).toBe('endpoint "artists" fetches records by id; add ids_from: [<stream>.<field>] or ids: [...]');
    expect(problems.filter((p) => p.path.startsWith('streams.o'))).toEqual([]);
  });

  it('checks the streams that references read from', () => {
    const unknown = at(problems, 'streams.e.ids_from[0]');
    expect(pos(unknown)).toEqual(spot(text, '  e: {', 'nope.id'));
    expect(unknown.message).toBe('unknown stream "nope"; expected one of a, b, c, d, f, g, h, i, j, k, l, m, n, o');
    const self = at(problems, 'streams.e.ids_from[1]');
    expect(pos(self)).toEqual(spot(text, '  e: {', 'e.id]'));
    expect(self.message).toBe('a stream cannot read from itself; "e.id" names stream "e"');
  });

  it('names a dependency cycle once', () => {
    const cycles = problems.filter((p) => p.message.includes('cycle'));
    expect(cycles).toHaveLength(1);
    expect(cycles[0].path).toBe('streams.h.for_each');
    expect(pos(cycles[0])).toEqual(spot(text, '  h: {', 'i.id'));
    expect(cycles[0].message).toBe('streams depend on each other in a cycle: h -> i -> j -> h');
  });

  it('allows incremental only where the endpoint has it, of its kind', () => {
    expect(at(problems, 'streams.f.incremental').message).toBe(
      'endpoint "me/playlists" has no incremental reads (every run reads it whole); remove incremental',
    );
    expect(pos(at(problems, 'streams.f.incremental'))).toEqual(spot(text, '  f: {', 'true'));
    expect(at(problems, 'streams.g.incremental').message).toBe(
      'endpoint "me/player/recently-played" reads incrementally by cursor (plays after the newest played_at of the last run); use incremental: cursor or true',
    );
    expect(problems.filter((p) => /^streams\.[mn]\./.test(p.path))).toEqual([]);
  });

  it('accepts skip_unchanged only as the version field the endpoint declares', () => {
    expect(at(problems, 'streams.h.skip_unchanged').message).toBe(
      'expected "snapshot_id" (the version field endpoint "playlists/{id}/items" compares), got "snapshotid"',
    );
    expect(at(problems, 'streams.k.skip_unchanged').message).toBe(
      'endpoint "me/playlists" declares no version field of its parent records, so nothing can be skipped; remove skip_unchanged',
    );
    expect(problems.filter((p) => p.path === 'streams.j.skip_unchanged')).toEqual([]);
  });

  it("validates params against the endpoint's schema, positioned inside params", () => {
    const limit = at(problems, 'streams.g.params.limit');
    expect(pos(limit)).toEqual(spot(text, '  g: {', '500'));
    expect(limit.message).toBe('must be <= 50, got number 500');
    const foo = at(problems, 'streams.g.params.foo');
    expect(pos(foo)).toEqual(spot(text, '  g: {', 'foo'));
    expect(foo.message).toBe('unknown key "foo"; expected one of limit');
    expect(at(problems, 'streams.h.params.market').message).toBe('invalid value "usa": must match the pattern ^[A-Z]{2}$');
    expect(at(problems, 'streams.k.params').message).toBe('endpoint "me/playlists" takes no params');
  });

  it("maps the plugin's own issues to positions, keeping their severity", () => {
    const warn = at(problems, 'streams.l.ids_from[0]');
    expect(warn).toMatchObject({ severity: 'warning', message: 'fake: just a warning' });
    expect(pos(warn)).toEqual(spot(text, '  l: {', 'a.id'));
    const extended = problemsOf(HEAD.replace('development', 'extended') + 'streams:\n  x: { endpoint: artists, ids: [a] }\n');
    expect(extended.map((p) => [p.line, p.col, p.path, p.message, p.severity])).toEqual([
      [7, 18, 'streams.x.endpoint', 'fake: artists is not offered in extended mode', 'error'],
    ]);
  });

  it('says nothing more', () => {
    // The 18th: l passes params (to trigger the fake's warning) to an endpoint that takes none.
    expect(at(problems, 'streams.l.params').message).toBe('endpoint "artists" takes no params');
    expect(problems.length).toBe(18);
  });
});

describe('connector.config', () => {
  const text = `version: 1
name: test-lake
connector:
  use: fake
  config:
    api_mode: extendd
    client_id: \${env:X}
    client_secret: 1234567890
    refresh_token: \${secret:fake/refresh_token}
    timeout_ms: "\${env:TIMEOUT}"
    extra: 1
streams: {}
`;
  const problems = problemsOf(text);

  it("validates against the plugin's config schema, at the offending key", () => {
    expect(problems.map((p) => [p.line, p.col, p.path, p.message])).toEqual([
      [6, 15, 'connector.config.api_mode', 'expected one of development, extended; got string "extendd" (did you mean "extended"?) (connector "fake" config)'],
      // A secret key's value is never echoed, even when it is typed in clear and wrong.
      [8, 20, 'connector.config.client_secret', 'expected string, got number (value hidden) (connector "fake" config)'],
      [11, 5, 'connector.config.extra', 'unknown key "extra"; expected one of api_mode, client_id, client_secret, refresh_token, timeout_ms (connector "fake" config)'],
    ]);
    expect(JSON.stringify(problems)).not.toContain('1234567890');
  });

  it('leaves ${env:..} and ${secret:..} values to be judged once resolved', () => {
    expect(problems.some((p) => /client_id|timeout_ms|refresh_token/.test(p.path))).toBe(false);
  });

  it('reports a missing required setting at connector.config', () => {
    const ps = problemsOf('version: 1\nname: abc\nconnector:\n  use: fake\n  config: {}\nstreams: {}\n');
    expect(ps.map((p) => [p.line, p.col, p.path, p.message])).toEqual([[5, 3, 'connector.config', 'missing required key "api_mode" (connector "fake" config)']]);
  });
});

describe('tables', () => {
  const text =
    HEAD +
    `streams:
  s: { endpoint: me/playlists }
tables:
  t:
    from: nope
    columns:
      a: { path: "x[].y", type: string }
      b: { path: "z[].w", type: bigint }
      c: { path: "p[].q[]", type: string }
      d: { path: "x[].k", type: string }
      e: { sql: "upper(a)", type: string }
    dedupe: [a, zz]
    latest_per: [yy]
    parents: zz.id
    partition_by:
      - { name: a, from: b }
      - { name: m, from: b, as: month }
      - { name: m, from: nope }
  u:
    from: [{ stream: s, root: "items[]" }, { stream: s2 }]
    columns:
      a: { path: "x[].y", type: string }
    dedupe: { key: [a, zz], order_by: nope }
    parents: s.id
  v:
    from: [{ stream: s, root: "items[].tracks[]" }]
    columns:
      id: { path: id, type: string }
      day: { path: added_at, type: timestamp }
    partition_by: [{ name: dt, from: day, as: date }, { name: plain, from: id }]
`;
  const problems = problemsOf(text);
  const msg = (path: string) => at(problems, path).message;

  it('checks that source streams exist, at the shorthand the user wrote', () => {
    const p = at(problems, 'tables.t.from');
    expect(pos(p)).toEqual(spot(text, 'from: nope', 'nope'));
    expect(p.message).toBe('unknown stream "nope"; expected one of s');
    expect(msg('tables.u.from[1].stream')).toBe('unknown stream "s2"; did you mean "s"? expected one of s');
  });

  it('checks that dedupe, latest_per and partition columns are declared', () => {
    const key = at(problems, 'tables.t.dedupe[1]');
    expect(pos(key)).toEqual(spot(text, 'dedupe: [a, zz]', 'zz'));
    expect(key.message).toBe('unknown column "zz"; expected one of a, b, c, d, e');
    expect(msg('tables.u.dedupe.key[1]')).toBe('unknown column "zz"; expected one of a');
    expect(msg('tables.u.dedupe.order_by')).toBe('unknown column "nope"; expected one of a');
    expect(msg('tables.t.latest_per[0]')).toBe('unknown column "yy"; expected one of a, b, c, d, e');
    expect(msg('tables.t.partition_by[2].from')).toBe('unknown column "nope"; expected one of a, b, c, d, e');
  });

  it('checks that parents names a stream and goes with one latest_per column', () => {
    const p = at(problems, 'tables.t.parents');
    expect(pos(p)).toEqual(spot(text, 'parents: zz.id', 'zz.id'));
    expect(p.message).toBe('unknown stream "zz"; expected one of s');
    expect(msg('tables.u.parents')).toBe('parents needs latest_per with exactly one column (the parent id each row belongs to)');
  });

  it('checks partition names and formats', () => {
    expect(msg('tables.t.partition_by[0].name')).toBe(
      '"a" is already a column; Glue and Athena need partition columns named apart from the table\'s columns (e.g. dt)',
    );
    expect(msg('tables.t.partition_by[1].as')).toBe('as: month formats a date or timestamp, but column "b" is bigint; use as: value');
    expect(msg('tables.t.partition_by[2].name')).toBe('partition "m" is declared twice');
    expect(problems.filter((p) => p.path.startsWith('tables.v.partition_by'))).toEqual([]);
  });

  it('allows one exploded list per table', () => {
    const second = at(problems, 'tables.t.columns.b.path');
    expect(pos(second)).toEqual(spot(text, '      b: {', '"z[].w"'));
    expect(second.message).toBe('a table can explode only one list; column "a" already explodes "x[]"');
    expect(msg('tables.t.columns.c.path')).toBe('explodes 2 lists (p[], p[].q[]); a table can explode only one');
    // `d` explodes the same list as `a`: one list, many columns from it.
    expect(problems.filter((p) => p.path === 'tables.t.columns.d.path')).toEqual([]);
    expect(msg('tables.u.from[0].root')).toBe('a table can explode only one list; this root explodes "items[]" and column "a" explodes "x[]"');
    expect(msg('tables.v.from[0].root')).toBe('explodes 2 lists (items[], items[].tracks[]); a table can explode only one');
  });

  it('says nothing more', () => {
    expect(problems.length).toBe(16);
  });
});

describe('queries', () => {
  const text =
    HEAD +
    `streams: {}
tables:
  plays:
    from: s
    columns: { id: { path: id, type: string } }
queries:
  fine: { sql: "SELECT * FROM Plays" }
  commented: { sql: "SELECT 1 -- FROM plays" }
  literal: { sql: "SELECT 'plays' AS x FROM other" }
  block: { sql: "/* plays */ SELECT 1" }
`;
  const warnings = problemsOf(text).filter((p) => p.path.startsWith('queries'));

  it('warns (without failing) when a query names no declared table', () => {
    expect(warnings.map((p) => [p.path, p.severity])).toEqual([
      ['queries.commented.sql', 'warning'],
      ['queries.literal.sql', 'warning'],
      ['queries.block.sql', 'warning'],
    ]);
    expect(warnings[0].message).toBe('references none of the declared tables (plays); is a table name misspelled?');
    expect(pos(warnings[0])).toEqual(spot(text, 'commented:', '"SELECT'));
  });

  it('does not fail a load for warnings', () => {
    const file = writeFixture(HEAD + 'streams: {}\nqueries:\n  q: { sql: SELECT 1 }\n');
    expect(() => loadPipeline(file, fakePlugin)).not.toThrow();
    const { loaded } = readPipeline(file);
    expect(validatePipeline(loaded, fakePlugin).map((p) => p.message)).toEqual([
      'references no table, and the pipeline declares none',
    ]);
  });
});

describe('robustness', () => {
  it('does not report a key twice when the schema already rejected it', () => {
    const ps = problemsOf(HEAD + 'streams:\n  c: { endpoint: "playlists/{id}/items", for_each: my_playlists }\n');
    expect(ps.map((p) => p.path)).toEqual(['streams.c.for_each']);
  });

  it('survives configs of the wrong shape', () => {
    const ps = problemsOf('version: 1\nname: abc\nconnector: 5\nstreams: [a, b]\ntables: { t: 3, u: { from: [7], columns: [] } }\nqueries: x\n');
    expect(ps.length).toBeGreaterThan(0);
    expect(ps.every((p) => p.line > 0)).toBe(true);
  });

  it('reports a plugin that throws while validating, instead of crashing', () => {
    const broken: ConnectorPlugin = {
      ...fakePlugin,
      validate() {
        throw new Error('boom');
      },
    };
    const { loaded } = readPipeline(writeFixture(HEAD + 'streams: {}\n'));
    expect(validatePipeline(loaded, broken).map((p) => [p.path, p.message])).toEqual([
      ['connector.use', 'connector "fake" failed while validating the pipeline: boom'],
    ]);
  });

  it('works on a LoadedPipeline built by hand (positions from its own pos())', () => {
    const loaded: LoadedPipeline = {
      file: 'inline.yaml',
      config: {
        version: 1,
        name: 'abc',
        connector: { use: 'fake', config: { api_mode: 'development' } },
        storage: {},
        streams: { x: { endpoint: 'nope' } },
        tables: {},
        queries: {},
      },
      pos: () => ({ file: 'inline.yaml', line: 3, col: 4 }),
    };
    expect(validatePipeline(loaded, fakePlugin)).toMatchObject([{ file: 'inline.yaml', line: 3, col: 4, path: 'streams.x.endpoint' }]);
  });

  it('throws one ConfigError with schema and semantic problems, sorted by position', () => {
    const file = writeFixture(HEAD + 'streams:\n  b: { endpoint: nope }\n  a: { endpoint: me/playlists, bogus: 1 }\n');
    try {
      loadPipeline(file, fakePlugin);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems.map((p) => p.path)).toEqual(['streams.b.endpoint', 'streams.a.bogus']);
    }
  });
});

describe('plugin schemas with oneOf', () => {
  it('collapses a oneOf in a parameters schema into one message', () => {
    const plugin: ConnectorPlugin = {
      ...fakePlugin,
      endpoints: {
        ...fakePlugin.endpoints,
        'me/playlists': {
          ...fakePlugin.endpoints['me/playlists'],
          parameters: {
            type: 'object',
            additionalProperties: false,
            $defs: { range: { enum: ['short_term', 'medium_term', 'long_term'] } },
            properties: {
              time_range: { oneOf: [{ title: 'a range name', $ref: '#/$defs/range' }, { title: 'a number of days', type: 'integer', minimum: 1 }] },
            },
          },
        },
      },
    };
    const text = HEAD + 'streams:\n  p: { endpoint: me/playlists, params: { time_range: short_trm } }\n  q: { endpoint: me/playlists, params: { time_range: 0 } }\n';
    const { loaded } = readPipeline(writeFixture(text));
    expect(validatePipeline(loaded, plugin).map((p) => [p.path, p.message])).toEqual([
      ['streams.p.params.time_range', 'expected one of short_term, medium_term, long_term; got string "short_trm" (did you mean "short_term"?)'],
      ['streams.q.params.time_range', 'must be >= 1, got number 0'],
    ]);
  });
});

describe('dashboards', () => {
  const text =
    HEAD +
    `streams:
  s: { endpoint: me/playlists }
queries:
  q: { sql: "SELECT 1 AS n FROM t" }
dashboards:
  main:
    panels:
      - { title: both, query: q, sql: "SELECT 1 AS n", number: { field: n } }
      - { title: none shown, query: q }
      - { title: two shown, query: q, table: {}, number: { field: n } }
      - { title: unknown query, query: qq, table: {} }
      - { title: fine, query: q, number: { field: n } }
  other:
    panels:
      - { title: bad chart, sql: "SELECT 1 AS n", chart: { mark: pie, encoding: { x: { field: n, type: amount } } } }
`;
  const problems = problemsOf(text);
  const lines = text.split('\n');

  it('a panel has one query and one way to show it, each mistake at its line', () => {
    expect(at(problems, 'dashboards.main.panels[0].sql').message).toBe('give either query (a named query) or sql, not both');
    expect(at(problems, 'dashboards.main.panels[1]').message).toBe('a panel needs one of chart (Vega-Lite), table or number');
    expect(at(problems, 'dashboards.main.panels[2].number').message).toBe('a panel shows its rows one way: table and number are both given');
    const unknown = at(problems, 'dashboards.main.panels[3].query');
    expect(unknown.message).toBe('no named query "qq" (queries: q)');
    expect(pos(unknown)).toEqual(spot(text, 'unknown query', 'qq'));
    expect(problems.filter((p) => p.path.startsWith('dashboards.main.panels[4]'))).toEqual([]);
    expect(lines[unknown.line - 1]).toContain('title: unknown query');
  });

  it('the chart is held to its Vega-Lite subset by the schema', () => {
    expect(at(problems, 'dashboards.other.panels[0].chart.mark').message).toMatch(/pie/);
    expect(at(problems, 'dashboards.other.panels[0].chart.encoding.x.type').message).toMatch(/quantitative, temporal, ordinal, nominal/);
  });
});
