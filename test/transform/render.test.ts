/**
 * One renderer, one dialect per engine (core/transform/render.ts, dialects/): whatever a dialect
 * spells differently, the table's steps after reading are the renderer's and so the same on every
 * engine. (The generated SQL itself is pinned by the vectors' DuckDB runs and Spark snapshots.)
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parsePipeline } from '../../core/config/index.ts';
import { duckdb, planTable, renderDuckdb, renderSpark, spark, type TablePlan } from '../../core/transform/index.ts';

const DIR = join(import.meta.dirname, 'vectors');

function vectorPlans(): TablePlan[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const name = basename(f, '.yaml');
      const table = (parse(readFileSync(join(DIR, f), 'utf8')) as { table: { from: unknown } }).table;
      const from = Array.isArray(table.from) ? table.from.map((s: { stream: string }) => s.stream) : [table.from as string];
      const streams = Object.fromEntries(from.map((s) => [s, { endpoint: 'me/player/recently-played' }]));
      const { loaded } = parsePipeline(JSON.stringify({ version: 1, name: 'v', connector: { use: 'spotify' }, streams, tables: { [name]: table } }), `${name}.yaml`);
      return planTable(name, loaded.config.tables[name]);
    });
}

/** The WITH steps of a query, in order, without the quoting. */
const steps = (sql: string) => [...sql.matchAll(/^[`"]?(\w+)[`"]? AS \($/gm)].map((m) => m[1]);
/** Reading is the dialect's (DuckDB parses row objects first; Spark reads paths from the line). */
const READING = new Set(['__rows', '__exploded', '__extracted', '__values']);

describe('the table renderer', () => {
  const plans = vectorPlans();

  it('renders the same steps after reading on DuckDB and Spark, for every vector', () => {
    for (const plan of plans) {
      const d = steps(renderDuckdb(plan, {}).select).filter((s) => !READING.has(s));
      const s = steps(renderSpark(plan).select).filter((x) => !READING.has(x));
      expect(d, plan.table).toEqual(s);
      expect(d).toContain('__judged');
    }
  });

  it('writes the same quarantine reasons on both engines', () => {
    const reasons = (sql: string, literal: RegExp) => [...sql.matchAll(literal)].map((m) => m[1]).filter((r) => r.includes(': '));
    let seen = 0;
    for (const plan of plans) {
      const d = reasons(renderDuckdb(plan, {}).quarantine, /'([^']*)'/g);
      expect(d, plan.table).toEqual(reasons(renderSpark(plan).quarantine, /'([^'\\]*)'/g));
      seen += d.length;
    }
    expect(seen).toBeGreaterThan(20);
  });

  it('takes its spelling from the dialect objects', () => {
    expect([duckdb.ident('a"b'), spark.ident('a`b')]).toEqual(['"a""b"', '`a``b`']);
    expect([duckdb.type('array<string>'), spark.type('array<string>')]).toEqual(['VARCHAR[]', 'ARRAY<STRING>']);
    expect(duckdb.qualify('t', 'row_number() OVER ()', (v) => `${v} = 1`, { column: '__rn', alias: '__d' })).toBe('SELECT * FROM t QUALIFY row_number() OVER () = 1');
    expect(spark.qualify('t', 'row_number() OVER ()', (v) => `${v} = 1`, { column: '__rn', alias: '__d' })).toBe(
      'SELECT * FROM (SELECT *, row_number() OVER () AS __rn FROM t) __d WHERE __rn = 1',
    );
  });
});
