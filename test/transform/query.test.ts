/** The query layer: Trino -> DuckDB dialect bridging, views over the lake, JSON-safe results. */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TableSpec } from '../../core/config/types.ts';
import { trinoFormat } from '../../core/query/dialect.ts';
import { type Lake, openLake, trinoToDuckdb } from '../../core/query/index.ts';
import { buildTables } from '../../core/transform/index.ts';
import { BJORK, MASSIVE, RADIOHEAD, play, runId, tempLake, track, writeRaw } from './helpers.ts';

describe('trinoToDuckdb', () => {
  it('rewrites Trino type syntax inside CAST / TRY_CAST only', () => {
    expect(trinoToDuckdb('SELECT CAST(x AS array(varchar)) FROM t')).toBe('SELECT CAST(x AS varchar[]) FROM t');
    expect(trinoToDuckdb('SELECT TRY_CAST(j AS array(row(a varchar, b array(bigint))))')).toBe(
      'SELECT TRY_CAST(j AS STRUCT(a varchar, b bigint[])[])',
    );
    expect(trinoToDuckdb('SELECT CAST(ts AS timestamp(3) with time zone)')).toBe('SELECT CAST(ts AS timestamp with time zone)');
    expect(trinoToDuckdb('SELECT CAST(n AS varchar), CAST(CAST(d AS date) AS varchar)')).toBe(
      'SELECT CAST(n AS varchar), CAST(CAST(d AS date) AS varchar)',
    );
  });

  it('rewrites lambdas and the functions that take them', () => {
    expect(trinoToDuckdb('SELECT transform(tags, t -> upper(t)) FROM a')).toBe('SELECT list_transform(tags, lambda t: upper(t)) FROM a');
    expect(trinoToDuckdb('SELECT filter(xs, (x) -> x > 1)')).toBe('SELECT list_filter(xs, lambda x: x > 1)');
    expect(trinoToDuckdb("SELECT any_match(genres, g -> g LIKE '%rock%')")).toBe(
      "SELECT list_bool_or(list_transform(genres, lambda g: g LIKE '%rock%'))",
    );
    expect(trinoToDuckdb('SELECT none_match(xs, x -> x IS NULL)')).toBe('SELECT (NOT list_bool_or(list_transform(xs, lambda x: x IS NULL)))');
  });

  it('translates date_parse formats (strptime needs a constant)', () => {
    expect(trinoToDuckdb("SELECT date_parse(s, '%Y-%m-%d %H:%i:%s') FROM t")).toBe("SELECT strptime(s, '%Y-%m-%d %H:%M:%S') FROM t");
  });

  it('leaves strings, comments, quoted names and the aggregate FILTER clause alone', () => {
    const sql = `SELECT 'transform(a, x -> x) CAST(a AS array(int))' AS "filter", count(*) FILTER (WHERE n > 1) -- x -> y\nFROM t`;
    expect(trinoToDuckdb(sql)).toBe(sql);
  });

  it('translates MySQL-style specifiers in one pass', () => {
    expect(trinoFormat('%Y-%m-%d %H:%i:%s')).toBe('%Y-%m-%d %H:%M:%S');
    expect(trinoFormat('%M %W %c/%e %% %T')).toBe('%B %A %-m/%-d %% %H:%M:%S');
  });
});

describe('Trino functions on DuckDB (macros)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let db: Lake;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempLake());
    db = await openLake(dir, {});
  });
  afterAll(async () => {
    db.close();
    await cleanup();
  });
  const one = async (expr: string) => (await db.query(`SELECT ${expr} AS v`)).rows[0].v;

  it('date_format with Trino specifiers', async () => {
    expect(await one(`date_format(TIMESTAMP '2026-03-04 05:06:07.089', '%Y-%m-%d %H:%i:%s')`)).toBe('2026-03-04 05:06:07');
    expect(await one(`date_format(TIMESTAMP '2026-03-04 15:06:07', '%c/%e %W %M %j %r %T %p %%')`)).toBe(
      '3/4 Wednesday March 063 03:06:07 PM 15:06:07 PM %',
    );
    expect(await one(`date_format(DATE '2026-11-24', '%Y-%m')`)).toBe('2026-11');
    expect(await one(`date_format(TIMESTAMP '2026-03-04 05:06:07.089', '%f')`)).toBe('089000');
  });

  it('matches the TS format translation for every specifier', async () => {
    const letters = 'abcdefHhIijklMmprSsTvWxYy';
    for (const c of letters) {
      expect(await one(`__trino_fmt('%${c}')`)).toBe(trinoFormat(`%${c}`));
    }
  });

  it('date/time functions', async () => {
    expect(await one(`date_parse('2026-03-04 05:06', '%Y-%m-%d %H:%i')`)).toBe('2026-03-04T05:06:00.000Z');
    expect(await one(`from_iso8601_timestamp('2026-11-24T12:15:02.5+02:00')`)).toBe('2026-11-24T10:15:02.500Z');
    expect(await one(`from_iso8601_date('2026-11-24')`)).toBe('2026-11-24');
    expect(await one(`date_trunc('day', TIMESTAMP '2026-03-04 05:06:07')`)).toBe('2026-03-04T00:00:00.000Z');
    expect(await one(`to_unixtime(TIMESTAMP '1970-01-02 00:00:01.5')`)).toBe(86401.5);
    expect(await one(`from_unixtime(86400)`)).toBe('1970-01-02T00:00:00.000Z');
    expect(await one(`date_add('day', 3, DATE '2026-02-27')`)).toBe('2026-03-02T00:00:00.000Z');
    expect(await one(`date_add('month', -1, TIMESTAMP '2026-03-31 10:00:00')`)).toBe('2026-02-28T10:00:00.000Z');
    // Trino counts whole days elapsed (DuckDB's own date_diff would say 1).
    expect(await one(`date_diff('day', TIMESTAMP '2026-01-01 23:00', TIMESTAMP '2026-01-02 01:00')`)).toBe(0);
    expect(await one(`day_of_week(DATE '2026-11-22')`)).toBe(7); // a Sunday
    expect(await one(`CAST(current_date - interval '7' day AS date) = current_date - 7`)).toBe(true);
    expect(await one(`date_format(DATE '2026-11-24' - interval '7' day, '%Y-%m-%d')`)).toBe('2026-11-17');
  });

  it('collections, aggregates, casts and integer division', async () => {
    expect(await one(`cardinality(ARRAY['a', 'b', 'c'])`)).toBe(3);
    expect(await one(`element_at(ARRAY['a', 'b'], 2)`)).toBe('b');
    expect(await one(`element_at(ARRAY['a', 'b'], -1)`)).toBe('b');
    expect(await one(`array_join(ARRAY['a', 'b'], ', ')`)).toBe('a, b');
    expect(await one(`CAST(42 AS varchar)`)).toBe('42');
    expect(await one(`CAST(ARRAY['1', '2'] AS array(bigint))`)).toEqual([1, 2]);
    expect(await one(`any_match(ARRAY['pop', 'art rock'], g -> g LIKE '%rock%')`)).toBe(true);
    expect(await one(`regexp_like('Radiohead', '^Radio')`)).toBe(true);
    expect(await one(`json_extract_scalar('{"a": {"b": "x"}}', '$.a.b')`)).toBe('x');
    expect(await one('7 / 2')).toBe(3);
    const agg = await db.query(`SELECT approx_distinct(x) AS d, arbitrary(x) IS NOT NULL AS a FROM (VALUES (1), (2), (2), (3)) t(x)`);
    expect(agg.rows).toEqual([{ d: 3, a: true }]);
  });

  it('returns JSON-safe values', async () => {
    const { columns, rows } = await db.query(
      `SELECT 9007199254740993::BIGINT AS big, 12::BIGINT AS small, 1.5::DECIMAL(18,3) AS dec, DATE '2026-01-02' AS d, NULL AS n, {'k': [1, 2]} AS s`,
    );
    expect(columns).toEqual(['big', 'small', 'dec', 'd', 'n', 's']);
    expect(rows).toEqual([{ big: '9007199254740993', small: 12, dec: 1.5, d: '2026-01-02', n: null, s: { k: [1, 2] } }]);
    expect(JSON.parse(JSON.stringify(rows))).toEqual(rows);
  });
});

describe('openLake over built tables', () => {
  let lake: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir: lake, cleanup } = await tempLake());
  });
  afterEach(async () => cleanup());

  const TABLES: Record<string, TableSpec> = {
    plays: {
      from: [{ stream: 'recently_played' }],
      columns: {
        played_at: { path: 'played_at', type: 'timestamp', required: true },
        track_id: { path: 'track.id', type: 'string', required: true },
        artist_id: { path: 'track.artists[0].id', type: 'string' },
        duration_ms: { path: 'track.duration_ms', type: 'bigint' },
      },
      dedupe: { key: ['played_at', 'track_id'] },
      partition_by: [{ name: 'dt', from: 'played_at', as: 'date' }],
    },
    artists: {
      from: [{ stream: 'artists' }],
      columns: {
        artist_id: { path: 'id', type: 'string', required: true },
        name: { path: 'name', type: 'string' },
        genres: { path: 'genres', type: 'array<string>' },
        popularity: { path: 'popularity', type: 'int' },
      },
      dedupe: { key: ['artist_id'] },
    },
  };

  const TOP_ARTISTS = `
    SELECT a.name AS artist, count(*) AS plays
    FROM plays p JOIN artists a ON a.artist_id = p.artist_id
    WHERE p.dt >= date_format(current_date - interval '7' day, '%Y-%m-%d')
    GROUP BY a.name
    ORDER BY plays DESC, artist
    LIMIT 10`;

  const daysAgo = (n: number, hour = 12) => {
    const d = new Date();
    d.setUTCDate(d.getUTCDate() - n);
    d.setUTCHours(hour, 0, 0, 0);
    return d.toISOString();
  };

  it('runs the Athena named queries (date_format, interval) on the views', async () => {
    const t1 = track('t1', 'Idioteque', [RADIOHEAD], { durationMs: 300_000 });
    const t2 = track('t2', 'Hyperballad', [BJORK], { durationMs: 240_000 });
    const t3 = track('t3', 'Teardrop', [MASSIVE], { durationMs: 330_000 });
    const files = [
      await writeRaw(lake, 'recently_played', runId(10), [
        play(daysAgo(1), t1),
        play(daysAgo(2), t1),
        play(daysAgo(3), t2),
        play(daysAgo(10), t3),
        play(daysAgo(10, 13), t3),
        play(daysAgo(12), t3),
      ]),
      await writeRaw(lake, 'artists', runId(10), [RADIOHEAD, BJORK, MASSIVE].map((a) => ({ ...a, genres: ['alt'], popularity: null }))),
    ];
    await buildTables({ lakeDir: lake, tables: TABLES, files, runId: runId(11) });
    const db = await openLake(lake, TABLES);
    try {
      expect((await db.query(TOP_ARTISTS)).rows).toEqual([
        { artist: 'Radiohead', plays: 2 },
        { artist: 'Björk', plays: 1 },
      ]);
      const perDay = await db.query(
        `SELECT dt AS day, count(*) AS plays, round(sum(duration_ms) / 60000.0, 1) AS minutes FROM plays GROUP BY dt ORDER BY dt DESC LIMIT 2`,
      );
      expect(perDay.rows).toEqual([
        { day: daysAgo(1).slice(0, 10), plays: 1, minutes: 5 },
        { day: daysAgo(2).slice(0, 10), plays: 1, minutes: 5 },
      ]);
      const formatted = await db.query(
        `SELECT date_format(played_at, '%Y-%m-%d %H:%i') AS at, typeof(dt) AS dt_type FROM plays WHERE played_at < current_date - interval '11' day`,
      );
      expect(formatted.rows).toEqual([{ at: `${daysAgo(12).slice(0, 10)} 12:00`, dt_type: 'VARCHAR' }]);
    } finally {
      db.close();
    }
  });

  it('creates typed empty views before the first build', async () => {
    const db = await openLake(lake, TABLES);
    try {
      expect(await db.query(TOP_ARTISTS)).toMatchObject({ columns: ['artist', 'plays'], rows: [] });
      const { rows } = await db.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'artists' ORDER BY ordinal_position`);
      expect(rows).toEqual([
        { column_name: 'artist_id', data_type: 'VARCHAR' },
        { column_name: 'name', data_type: 'VARCHAR' },
        { column_name: 'genres', data_type: 'VARCHAR[]' },
        { column_name: 'popularity', data_type: 'INTEGER' },
      ]);
    } finally {
      db.close();
    }
  });
});
