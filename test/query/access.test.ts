/**
 * What pipeline SQL may not do (core/query/access.ts), and how validate reports it: named queries,
 * `sql:` columns and `filter`s that read or write files are errors at their file:line:col, before
 * anything runs.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, formatProblem, readPipeline } from '../../core/config/index.ts';
import { accessFindings } from '../../core/query/access.ts';
import { sqlAccessProblems } from '../../core/query/problems.ts';
import { preparePipeline } from '../../core/pipeline.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SHIPPED = join(ROOT, 'pipeline.yaml');
const text = readFileSync(SHIPPED, 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'access-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const first = (sql: string, role: 'query' | 'expression' = 'query') => accessFindings(sql, role)[0];

describe('accessFindings: what is rejected, and where', () => {
  // [sql, role, column of the finding, what the message says]
  const REJECTED: Array<[string, 'query' | 'expression', number, RegExp]> = [
    ['SELECT * FROM ".secrets.json" CROSS JOIN plays LIMIT 1', 'query', 15, /"\.secrets\.json" used as a table reads a file/],
    ["SELECT * FROM 'history.csv'", 'query', 15, /'history\.csv' used as a table reads a file/],
    ['SELECT * FROM plays p JOIN "../x.parquet" x ON true', 'query', 28, /used as a table reads a file/],
    ['SELECT * FROM plays, "/etc/passwd"', 'query', 22, /used as a table reads a file/],
    ['SELECT * FROM plays p JOIN tracks t ON p.track_id = t.track_id, "x.csv"', 'query', 65, /used as a table reads a file/],
    ['SELECT * FROM main.".secrets.json"', 'query', 20, /used as a table reads a file/],
    ['SELECT * FROM $$x.csv$$', 'query', 15, /used as a table reads a file/],
    ["(SELECT content FROM read_text('.secrets.json'))", 'expression', 22, /read_text\(\) reads files/],
    ["(SELECT content FROM read_blob('.secrets.json'))", 'expression', 22, /read_blob\(\) reads files/],
    ["SELECT * FROM read_csv('/home/me/notes.csv')", 'query', 15, /read_csv\(\) reads files/],
    ["SELECT * FROM read_csv_auto('x.csv')", 'query', 15, /read_csv_auto\(\) reads files/],
    ["SELECT * FROM read_json_auto('x.json')", 'query', 15, /read_json_auto\(\) reads files/],
    ["SELECT * FROM read_ndjson('x.json')", 'query', 15, /read_ndjson\(\) reads files/],
    ["SELECT * FROM read_parquet('x.parquet')", 'query', 15, /read_parquet\(\) reads files/],
    ["SELECT * FROM parquet_metadata('x.parquet')", 'query', 15, /parquet_metadata\(\) reads files/],
    ["SELECT * FROM glob('/home/*')", 'query', 15, /glob\(\) reads files/],
    ["SELECT * FROM sniff_csv('x.csv')", 'query', 15, /sniff_csv\(\) reads files/],
    ["SELECT main.\"read_text\"('x')", 'query', 13, /read_text\(\) reads files/],
    ["SELECT * FROM query('SELECT 1')", 'query', 15, /query\(\) runs SQL given as text/],
    ["CALL enable_logging(storage = 'file', storage_path = '/tmp/x')", 'query', 1, /CALL runs a procedure/],
    ["SELECT * FROM enable_logging(storage = 'file')", 'query', 15, /enable_logging\(\) changes the engine/],
    ["reflect('java.nio.file.Files', 'readString', '/etc/passwd')", 'expression', 1, /reflect\(\) reads files/],
    ['(SELECT value FROM text.`/home/me/.secrets.json`)', 'expression', 20, /reads a file \(Spark's <format>\.`path`\)/],
    ["(SELECT TRANSFORM(a) USING 'cat /etc/passwd' FROM plays)", 'expression', 22, /runs a command/],
    ["COPY plays TO '/tmp/plays.csv'", 'query', 1, /COPY writes or reads a file/],
    ["ATTACH 'other.duckdb'", 'query', 1, /ATTACH opens another database file/],
    ['INSTALL httpfs', 'query', 1, /INSTALL downloads an extension/],
    ['LOAD httpfs', 'query', 1, /LOAD loads an extension/],
    ["EXPORT DATABASE '/tmp/db'", 'query', 1, /EXPORT writes files/],
    ["IMPORT DATABASE '/tmp/db'", 'query', 1, /IMPORT reads files/],
    ['PRAGMA enable_profiling', 'query', 1, /PRAGMA changes settings/],
    ['SET enable_external_access = true', 'query', 1, /SET changes a setting/],
    ['RESET lock_configuration', 'query', 1, /RESET changes a setting/],
    ["CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 's')", 'query', 1, /CREATE creates objects/],
    ["EXPLAIN ANALYZE COPY plays TO '/tmp/x.csv'", 'query', 17, /COPY writes or reads a file/],
    ["SELECT 1; COPY plays TO '/tmp/x.csv'", 'query', 11, /only one statement/],
    ["track_id IS NOT NULL; COPY plays TO 'x'", 'expression', 23, /only one statement/],
  ];

  it.each(REJECTED)('%s', (sql, role, col, message) => {
    const f = first(sql, role);
    expect(f, sql).toBeDefined();
    expect(f.message).toMatch(message);
    expect([f.line, f.col]).toEqual([1, col]);
  });

  it('cannot be hidden inside a string that an engine ends elsewhere', () => {
    // DuckDB ends '\' at the second quote; Spark reads \' as an escaped quote. Either way the path is seen.
    expect(first(`SELECT '\\' AS a FROM ".secrets.json"`)?.message).toMatch(/reads a file/);
    expect(first(`SELECT E'\\'' AS a, x FROM ".secrets.json"`)?.message).toMatch(/reads a file/);
    expect(first(`SELECT $$ ' $$ AS a FROM ".secrets.json"`)?.message).toMatch(/reads a file/);
    // On line 3 of a block.
    expect(first(`SELECT a\nFROM plays\nJOIN 'x.csv' ON true`)).toMatchObject({ line: 3, col: 6 });
  });

  it('leaves queries over the lake alone, FROM inside extract/trim and IS DISTINCT FROM included', () => {
    for (const sql of [
      'SELECT extract(year FROM played_at) AS y, trim(both \' \' FROM track_name) AS t FROM "plays" WHERE a IS DISTINCT FROM \'x\'',
      'WITH a AS (SELECT * FROM plays) SELECT * FROM a, LATERAL (SELECT 1) b JOIN tracks USING (track_id)',
      "SELECT substring('abc' FROM 2) AS s, read_count FROM plays WHERE track_id IN (SELECT track_id FROM tracks)",
      "SELECT 'read_text(x)' AS s, \"from\" FROM plays -- FROM '.secrets.json'",
      'EXPLAIN SELECT * FROM plays',
      'DESCRIBE plays',
    ]) {
      expect(accessFindings(sql, 'query'), sql).toEqual([]);
    }
  });
});

/** The shipped pipeline with text replacements (each must apply), written to a temp file. */
function variant(name: string, replacements: Array<[string, string]>) {
  let out = text;
  for (const [from, to] of replacements) {
    expect(out, from).toContain(from);
    out = out.replace(from, to);
  }
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, out);
  return { file, lines: out.split('\n') };
}

describe('validate: pipeline SQL that would read or write files', () => {
  it('the shipped pipeline and the one it includes have none', async () => {
    const prep = await preparePipeline(SHIPPED);
    for (const p of [prep, ...(prep.includes ?? [])]) expect(sqlAccessProblems(p.loaded).map(formatProblem)).toEqual([]);
  });

  it('rejects a named query, a sql: column and a filter reading files, each at its file:line:col, before anything runs', async () => {
    const { file, lines } = variant('leaky', [
      ['queries:\n', 'queries:\n  leak:\n    sql: SELECT * FROM ".secrets.json" CROSS JOIN plays LIMIT 1\n'],
      [
        '      duration_ms:  { path: track.duration_ms, type: bigint }\n      context_type',
        "      duration_ms:  { path: track.duration_ms, type: bigint }\n      note:         { sql: \"(SELECT content FROM read_text('.secrets.json'))\", type: string }\n      context_type",
      ],
      ["filter: track_id IS NOT NULL AND item_type = 'track'", "filter: track_id IS NOT NULL AND track_id NOT IN (SELECT file FROM glob('/home/*'))"],
    ]);
    // The schema and the semantic checks accept it: only the access rules say no.
    expect(readPipeline(file).problems.filter((p) => p.severity === 'error')).toEqual([]);
    const e = await preparePipeline(file).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConfigError);
    const at = (needle: string, inLine: string) => {
      const line = lines.findIndex((l) => l.includes(inLine)) + 1;
      return `${file}:${line}:${lines[line - 1].indexOf(needle) + 1}`;
    };
    expect((e as ConfigError).problems.map(formatProblem)).toEqual([
      `${at('read_text', 'read_text')} tables.plays.columns.note.sql: read_text() reads files: only the lake's tables may be read, by name`,
      `${at('glob', 'glob(')} tables.tracks.filter: glob() reads files: only the lake's tables may be read, by name`,
      `${at('".secrets.json"', 'CROSS JOIN')} queries.leak.sql: ".secrets.json" used as a table reads a file: name a table of the lake instead`,
    ]);
  });

  it('points into a block literal (queries written with |)', async () => {
    const { file, lines } = variant('block', [['      FROM playlist_tracks t JOIN artists a ON a.artist_id = t.artist_id', "      FROM playlist_tracks t JOIN artists a ON a.artist_id = t.artist_id, read_csv('/home/me/x.csv') c"]]);
    const e = (await preparePipeline(file).catch((x: unknown) => x)) as ConfigError;
    const line = lines.findIndex((l) => l.includes('read_csv')) + 1;
    expect(e.problems.map((p) => [p.line, p.col, p.path])).toEqual([[line, lines[line - 1].indexOf('read_csv') + 1, 'queries.artists_across_playlists.sql']]);
  });

  it("rejects a dashboard panel's SQL reading a file, at its line in the panel", async () => {
    const { file, lines } = variant('panel', [['          WHERE added_at IS NOT NULL\n', "          WHERE added_at IS NOT NULL AND added_by NOT IN (SELECT content FROM read_text('.secrets.json'))\n"]]);
    const e = (await preparePipeline(file).catch((x: unknown) => x)) as ConfigError;
    const line = lines.findIndex((l) => l.includes('read_text')) + 1;
    expect(e.problems.map((p) => [p.line, p.col, p.path])).toEqual([[line, lines[line - 1].indexOf('read_text') + 1, 'dashboards.playlists.panels[2].sql']]);
  });
});
