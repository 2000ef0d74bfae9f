import { describe, expect, it } from 'vitest';
import type { TableSpec } from '../../core/config/types.ts';
import { compileTable, parsePath, planTable, TableSpecError } from '../../core/transform/index.ts';
import { splitAtEach, toJsonPathString } from '../../core/transform/paths.ts';
import { sparkJsonPath, sparkLiteral } from '../../core/transform/spark.ts';

describe('parsePath', () => {
  it('parses keys, indexes and []', () => {
    expect(parsePath('track.artists[0].id').segments).toEqual([
      { kind: 'key', name: 'track' },
      { kind: 'key', name: 'artists' },
      { kind: 'index', index: 0 },
      { kind: 'key', name: 'id' },
    ]);
    expect(parsePath('track.artists[].name').segments[2]).toEqual({ kind: 'each' });
    expect(parsePath('"a.b"."c d"[2]').segments).toEqual([
      { kind: 'key', name: 'a.b' },
      { kind: 'key', name: 'c d' },
      { kind: 'index', index: 2 },
    ]);
    expect(parsePath('').segments).toEqual([]);
  });

  it('rejects malformed paths with the reason', () => {
    expect(() => parsePath('a..b')).toThrow(/empty key/);
    expect(() => parsePath('a[x]')).toThrow(/neither an index nor \[\]/);
    expect(() => parsePath('a[0')).toThrow(/unclosed/);
    expect(() => parsePath('a.')).toThrow(/ends with/);
    expect(() => parsePath('a"b"')).toThrow(/missing "\."/);
  });

  it('renders JSONPath and splits at []', () => {
    expect(toJsonPathString(parsePath('track.album.release_date'))).toBe('$.track.album.release_date');
    expect(toJsonPathString(parsePath('a[3]."x y"'))).toBe('$.a[3]."x y"');
    const split = splitAtEach(parsePath('item.artists[].external_urls.spotify'));
    expect(split?.array.text).toBe('item.artists');
    expect(split?.element.text).toBe('external_urls.spotify');
  });
});

const plays: TableSpec = {
  from: [{ stream: 'recently_played' }],
  columns: {
    played_at: { path: 'played_at', type: 'timestamp' },
    track_id: { path: 'track.id', type: 'string' },
    artist_id: { path: 'track.artists[0].id', type: 'string' },
  },
  dedupe: { key: ['played_at', 'track_id'] },
  partition_by: [{ name: 'dt', from: 'played_at', as: 'date' }],
};

describe('planTable', () => {
  it('resolves columns, explode, collect and partitions into a backend-neutral plan', () => {
    const plan = planTable('track_artists', {
      from: [{ stream: 'recently_played' }],
      columns: {
        played_at: { path: 'played_at', type: 'timestamp' },
        artist_id: { path: 'track.artists[].id', type: 'string' },
        artist_name: { path: 'track.artists[].name', type: 'string' },
        genres: { path: 'track.album.genres[]', type: 'array<string>' },
        day: { sql: 'CAST(played_at AS DATE)', type: 'date' },
      },
      partition_by: [{ name: 'month', from: 'played_at', as: 'month' }],
    });
    expect(plan.explode?.text).toBe('track.artists');
    expect(plan.columns.map((c) => [c.name, c.kind, c.kind === 'path' ? c.base : '-'])).toEqual([
      ['played_at', 'path', 'row'],
      ['artist_id', 'path', 'element'],
      ['artist_name', 'path', 'element'],
      ['genres', 'path', 'row'],
      ['day', 'sql', '-'],
    ]);
    const genres = plan.columns[3];
    expect(genres.kind === 'path' && genres.collect).toEqual({ text: '', segments: [] });
    expect(plan.partitions).toEqual([{ name: 'month', from: 'played_at', as: 'month', fromType: 'timestamp' }]);
    expect(plan.storedColumns).toEqual(['played_at', 'artist_id', 'artist_name', 'genres', 'day']);
  });

  it('drops a same-named value partition column from the files (Hive layout)', () => {
    const plan = planTable('t', {
      from: [{ stream: 's' }],
      columns: { playlist_id: { path: 'playlist_id', type: 'string' }, n: { path: 'n', type: 'int' } },
      partition_by: [{ name: 'playlist_id', from: 'playlist_id', as: 'value' }],
    });
    expect(plan.storedColumns).toEqual(['n']);
  });

  it('accepts the short dedupe form', () => {
    const spec = { ...plays, dedupe: ['played_at', 'track_id'] } as unknown as TableSpec;
    expect(planTable('plays', spec).dedupe).toEqual({ key: ['played_at', 'track_id'] });
  });

  const bad = (patch: Partial<TableSpec>, message: RegExp) => {
    const spec = { ...plays, ...patch };
    expect(() => planTable('plays', spec)).toThrow(TableSpecError);
    expect(() => planTable('plays', spec)).toThrow(message);
  };

  it('names the key of every mistake', () => {
    bad({ columns: { a: { path: 'x[].a', type: 'string' }, b: { path: 'y[].b', type: 'string' } } }, /columns\.b\.path: at most one \[\]/);
    bad({ columns: { a: { path: 'x[].y[].z', type: 'string' } } }, /at most one \[\]/);
    bad({ columns: { a: { path: 'x', sql: 'y', type: 'string' } } }, /exactly one of path or sql/);
    bad({ columns: { a: { path: 'x', type: 'text' as never } } }, /columns\.a\.type: unknown type "text"/);
    bad({ columns: { __a: { path: 'x', type: 'string' } } }, /columns\.__a/);
    bad({ dedupe: { key: ['nope'] } }, /dedupe\.key: unknown column "nope"/);
    bad({ latest_per: ['nope'] }, /latest_per: unknown column/);
    bad({ partition_by: [{ name: 'dt', from: 'track_id', as: 'date' }] }, /needs a date or timestamp column/);
    bad({ partition_by: [{ name: 'track_id', from: 'played_at', as: 'date' }] }, /also a column/);
    bad({ from: [] }, /tables\.plays\.from/);
    expect(() => planTable('_staging', plays)).toThrow(/table names/);
    const col = (extra: object) => ({ columns: { ...plays.columns, d: { path: 'album.release_date', type: 'date', ...extra } } }) as Partial<TableSpec>;
    bad(col({ type: 'string', precision_from: 'album.release_date_precision' }), /columns\.d\.precision_from: needs type: date/);
    bad(col({ precision_from: 'tracks[].precision' }), /columns\.d\.precision_from: must be a path on the same object/);
    bad({ dedupe: { key: ['track_id'], order_by: 'played_at DESC NULLS FIRST' } }, /dedupe\.order_by: "played_at DESC NULLS FIRST" is not a column name/);
    bad({ target_file_mb: 0 }, /target_file_mb: must be a positive number/);
  });

  it('reads precision_from beside its value, and order_by as columns (greatest first unless ASC)', () => {
    const plan = planTable('albums', {
      from: [{ stream: 's' }],
      columns: {
        id: { path: 'id', type: 'string' },
        day: { path: 'tracks[].album.release_date', type: 'date', precision_from: 'tracks[].album.release_date_precision' },
        n: { path: 'n', type: 'int' },
      },
      dedupe: { key: ['id'], order_by: 'n, day ASC' },
      target_file_mb: 64,
    });
    const day = plan.columns[1];
    expect(day.kind === 'path' && [day.base, day.path.text, day.precision?.text]).toEqual(['element', 'album.release_date', 'album.release_date_precision']);
    expect(plan.dedupe?.orderBy).toEqual([
      { column: 'n', desc: true },
      { column: 'day', desc: false },
    ]);
    expect(plan.targetFileMb).toBe(64);
  });
});

describe('compileTable (DuckDB)', () => {
  const files = ['/lake/raw/recently_played/dt=2026-11-24/20261124T101502Z-ab12cd-00000.jsonl.gz'];

  it('reads raw lines as JSON objects with file and line, without schema inference', () => {
    const { select } = compileTable('plays', plays, { recently_played: files });
    expect(select).toContain(`read_json_objects(['${files[0]}'], format = 'newline_delimited', filename = true, ignore_errors = true, hive_partitioning = false) WITH ORDINALITY`);
    // One JSON parse per record for all path columns, not one per column.
    expect(select).toContain(`json_extract_string(__row, ['$.played_at', '$.track.id', '$.track.artists[0].id']) AS __text__row`);
    expect(select).toContain(`__text__row[3] AS "__raw_artist_id"`);
    expect(select).toContain(`timezone('UTC', TRY_CAST("__raw_played_at" AS TIMESTAMPTZ)) AS "played_at"`);
    expect(select).toContain('PARTITION BY "played_at", "track_id" ORDER BY __run_id DESC NULLS LAST, __file DESC, __line DESC');
    expect(select).toMatch(/SELECT "played_at", "track_id", "artist_id", strftime\("played_at", '%Y-%m-%d'\) AS "dt"\nFROM "__deduped"/);
  });

  it('splits at the shared judged relation so the JSON work can run once', () => {
    const c = compileTable('plays', plays, { recently_played: files });
    expect(c.judged).toContain('read_json_objects');
    expect(c.fromJudged.select).not.toContain('read_json_objects');
    expect(c.fromJudged.select).toContain('FROM __judged');
    expect(c.fromJudged.quarantine).toContain('FROM __judged WHERE len(__reasons) > 0');
    expect(c.select.endsWith(c.fromJudged.select.slice(c.fromJudged.select.indexOf('SELECT "played_at"')))).toBe(true);
  });

  it('binds an empty source without read_json_objects', () => {
    const { select, quarantine } = compileTable('plays', plays, {});
    expect(select).not.toContain('read_json_objects');
    expect(select).toContain('WHERE false');
    expect(quarantine).toContain(`SELECT 'plays' AS "table"`);
  });

  it('escapes quotes in file paths', () => {
    const { select } = compileTable('plays', plays, { recently_played: ["/it's/raw/x-00000.jsonl.gz"] });
    expect(select).toContain(`'/it''s/raw/x-00000.jsonl.gz'`);
  });

  it('renders order_by, filter and latest_per', () => {
    const { select, quarantine } = compileTable(
      'pl',
      {
        from: [{ stream: 'playlist_items' }],
        columns: { playlist_id: { path: 'playlist_id', type: 'string' }, pos: { path: 'position', type: 'int' } },
        filter: 'pos >= 0',
        latest_per: ['playlist_id'],
        dedupe: { key: ['playlist_id', 'pos'], order_by: 'pos DESC' },
      },
      {},
    );
    expect(select).toContain('QUALIFY __run_id IS NOT DISTINCT FROM max(__run_id) OVER (PARTITION BY "playlist_id")');
    expect(select).toContain('WHERE len(__reasons) = 0 AND (pos >= 0)');
    expect(select).toContain('ORDER BY "pos" DESC NULLS LAST, __run_id DESC');
    expect(quarantine).toContain('len(__reasons) > 0 AND (__malformed IS TRUE OR (pos >= 0) IS NOT FALSE)');
  });
});

describe('Spark SQL rendering details', () => {
  it('escapes literals the Spark way (backslashes; a doubled quote would be two literals)', () => {
    expect(sparkLiteral(`it's a \\ "x"\nnext`)).toBe(`'it\\'s a \\\\ "x"\\nnext'`);
  });

  it('renders JSON paths with bracket keys where a dot would not do', () => {
    expect(sparkJsonPath(parsePath('track.artists[0].id'))).toBe('$.track.artists[0].id');
    expect(sparkJsonPath(parsePath('"a.b"."c d"[2]'))).toBe("$['a.b']['c d'][2]");
    expect(() => sparkJsonPath(parsePath(`"it's"`))).toThrow(/Spark paths/);
  });
});
