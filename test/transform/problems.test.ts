/**
 * validate's compile checks: tables that cannot compile (plan, Spark syntax, DuckDB binding) and
 * named queries that are not Trino SQL, each reported at the key and the file line:col.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatProblem, readPipeline } from '../../core/config/index.ts';
import { dashboardProblems, queryProblems, sqlProblems } from '../../core/query/problems.ts';
import { tableProblems } from '../../core/transform/problems.ts';
import { lakeTables, preparePipeline, viewTables } from '../../core/pipeline.ts';
import { MAX_SQL_NESTING, tooDeep } from '../../core/query/parsers.ts';

const SHIPPED = join(import.meta.dirname, '..', '..', 'pipeline.yaml');
const text = readFileSync(SHIPPED, 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'problems-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The shipped pipeline with text replacements; every replacement must apply. */
function variant(name: string, replacements: Array<[string, string]>) {
  let out = text;
  for (const [from, to] of replacements) {
    expect(out, from).toContain(from);
    out = out.replace(from, to);
  }
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, out);
  const read = readPipeline(file);
  expect(read.problems.filter((p) => p.severity === 'error')).toEqual([]);
  return { loaded: read.loaded, lines: out.split('\n'), file };
}

const lineOf = (lines: string[], needle: string) => lines.findIndex((l) => l.includes(needle)) + 1;

describe('shipped pipeline.yaml', () => {
  it('every table compiles for DuckDB and Spark, also those of included pipelines', async () => {
    const prep = await preparePipeline(SHIPPED);
    for (const p of [prep, ...(prep.includes ?? [])]) expect((await tableProblems(p.loaded)).map(formatProblem)).toEqual([]);
  });

  it('every named query parses as Athena (Trino) SQL and binds on the local engine', async () => {
    const prep = await preparePipeline(SHIPPED);
    expect(Object.keys(prep.loaded.config.queries).length).toBeGreaterThan(0);
    expect((await queryProblems(prep.loaded, { tables: lakeTables(prep) })).map(formatProblem)).toEqual([]);
    // What validate runs, for the pipeline and its includes at once, over every table a query may read.
    const all = [prep.loaded, ...(prep.includes ?? []).map((i) => i.loaded)];
    expect((await sqlProblems(all, viewTables(prep))).map(formatProblem)).toEqual([]);
  });
});

describe('tableProblems', () => {
  it('names the key and line of a declaration the plan rejects', async () => {
    // Both pass the schema and the semantic checks; neither can be compiled.
    const { loaded, lines, file } = variant('plan', [
      ['played_at:    { path: played_at, type: timestamp, required: true }', 'played_at:    { path: played_at, type: string, required: true }'],
      ['{ path: album.release_date, type: date, precision_from:', '{ path: album.release_date, type: string, precision_from:'],
    ]);
    const problems = await tableProblems(loaded);
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'tables.plays.partition_by[0].as: "date" needs a date or timestamp column, "played_at" is string',
      'tables.tracks.columns.release_date_typed.precision_from: needs type: date (the column is string)',
    ]);
    expect(problems[0]).toMatchObject({ file, line: lineOf(lines, '{ name: dt, from: played_at, as: date }'), severity: 'error' });
    expect(problems[1].line).toBe(lineOf(lines, 'type: string, precision_from'));
  });

  it('points into SQL that Spark cannot parse, at the column of the mistake', async () => {
    const { loaded, lines } = variant('spark', [["filter: track_id IS NOT NULL AND item_type = 'track'", "filter: track_id IS NOT NULL AND item_type = = 'track'"]]);
    const [p, ...rest] = await tableProblems(loaded);
    expect(rest).toEqual([]);
    expect(p.path).toBe('tables.tracks.filter');
    expect(p.message).toMatch(/^not valid Spark SQL \(the Glue job runs it\): '=' is not valid at this position/);
    const line = lineOf(lines, 'item_type = =');
    expect(p.line).toBe(line);
    expect(lines[line - 1].slice(p.col - 1)).toBe("= 'track'");
  });

  it('refuses brackets nested too deep before parsing (thousands took the parser minutes and a stack overflow)', async () => {
    const deep = `${'('.repeat(3000)}1${')'.repeat(3000)}`;
    const { loaded, lines } = variant('deep', [["filter: track_id IS NOT NULL AND item_type = 'track'", `filter: track_id IS NOT NULL AND item_type = 'track' AND ${deep} = 1`]]);
    const [p, ...rest] = await tableProblems(loaded);
    expect(rest).toEqual([]);
    expect(p.path).toBe('tables.tracks.filter');
    expect(p.message).toBe(`not valid Spark SQL (the Glue job runs it): brackets nested more than ${MAX_SQL_NESTING} deep: simplify the expression`);
    const line = lineOf(lines, 'item_type = \'track\' AND ((');
    expect(p.line).toBe(line);
    // The column of the bracket that goes one level too deep.
    expect(lines[line - 1].slice(0, p.col - 1).split('(').length - 1).toBe(MAX_SQL_NESTING);
    // Quoted brackets and brackets in comments do not count; a query just under the limit parses.
    expect(tooDeep(`SELECT '${'('.repeat(100)}' AS x -- ${'('.repeat(100)}`)).toBeUndefined();
    expect(tooDeep(`SELECT ${'('.repeat(MAX_SQL_NESTING)}1${')'.repeat(MAX_SQL_NESTING)}`)).toBeUndefined();
  });

  it('blames the derived column or filter that DuckDB cannot bind', async () => {
    const { loaded, lines } = variant('bind', [
      ['      duration_ms:  { path: track.duration_ms, type: bigint }\n', '      duration_ms:  { path: track.duration_ms, type: bigint }\n      minutes:      { sql: "round(duration_ms / 60000.0, 1)", type: double }\n      hours:        { sql: "minutes / 60 + nope", type: double }\n'],
      ["filter: track_id IS NOT NULL AND item_type = 'track'", "filter: track_id IS NOT NULL AND itemtype = 'track'"],
    ]);
    const problems = await tableProblems(loaded);
    expect(problems.map((p) => [p.path, p.line])).toEqual([
      ['tables.plays.columns.hours.sql', lineOf(lines, 'minutes / 60 + nope')],
      ['tables.tracks.filter', lineOf(lines, 'itemtype')],
    ]);
    expect(problems[0].message).toMatch(/^DuckDB cannot run it: Binder Error: .*"nope"/);
  });
});

describe('queryProblems', () => {
  it('reports Trino syntax errors at the file line and column inside the block', async () => {
    const { loaded, lines } = variant('queries', [
      ["WHERE p.dt >= date_format(current_date - interval '7' day, '%Y-%m-%d')", "WHERE p.dt >= = date_format(current_date - interval '7' day, '%Y-%m-%d')"],
      ['ORDER BY items DESC, playlist', 'ORDER BY items DESC, playlist, p.nope'],
    ]);
    const problems = await queryProblems(loaded, { tables: lakeTables(await preparePipeline(SHIPPED)) });
    expect(problems.map((p) => [p.path, p.severity])).toEqual([
      ['queries.top_artists_last_7_days.sql', 'error'],
      ['queries.playlist_sizes.sql', 'warning'],
    ]);
    const [syntax, bind] = problems;
    expect(syntax.message).toMatch(/^not valid Athena \(Trino\) SQL: '=' is not valid at this position/);
    const line = lineOf(lines, 'p.dt >= =');
    expect([syntax.line, lines[line - 1].slice(syntax.col - 1, syntax.col + 13)]).toEqual([line, '= date_format(']);
    expect(bind.message).toMatch(/^the local DuckDB engine cannot run it: Binder Error: .*nope/);
  });
});

describe('dashboardProblems', () => {
  it("names a panel field its query does not return, at the field's line and column", async () => {
    const { loaded, lines } = variant('dashboards', [
      ['            x: { field: hours, type: quantitative, title: Hours }\n            tooltip: [{ field: artist', '            x: { field: hourz, type: quantitative, title: Hours }\n            tooltip: [{ field: artist'],
      ['table: { columns: [artist, playlists, tracks] }', 'table: { columns: [artist, playlist, tracks] }'],
      ["SELECT date_trunc('month', added_at) AS month, count(*) AS tracks_added", "SELECT date_trunc('month', added_at) AS month, count(*) AS tracks_added,,"],
    ]);
    const prep = await preparePipeline(SHIPPED);
    const problems = await dashboardProblems(loaded, viewTables(prep));
    expect(problems.map((p) => [p.path, p.severity, p.message])).toEqual([
      ['dashboards.listening.panels[5].chart.encoding.x.field', 'error', '"hourz" is not a column of its query (it returns artist, hours, plays)'],
      ['dashboards.playlists.panels[1].table.columns[1]', 'error', '"playlist" is not a column of its query (it returns artist, playlists, tracks)'],
      ['dashboards.playlists.panels[2].sql', 'error', expect.stringMatching(/^not valid Athena \(Trino\) SQL: /)],
    ]);
    const field = problems[0];
    expect(lines[field.line - 1].slice(field.col - 1, field.col + 4)).toBe('hourz');
    const syntax = problems[2];
    expect(lines[syntax.line - 1]).toContain('tracks_added,,');
    // What validate runs: the same problems through sqlProblems.
    expect((await sqlProblems([loaded], viewTables(prep))).filter((p) => p.path.startsWith('dashboards')).length).toBe(3);
  });
});
