/**
 * Transform conformance vectors (test/transform/vectors/*.yaml, format in README.md there): raw
 * records + a table declaration + the rows and quarantine count it must produce.
 *
 * Each vector runs on DuckDB for real: raw gzip JSON Lines in a temp lake, buildTables, rows read
 * back through the query layer. The same declaration's Spark SQL (the Glue job's) must parse with
 * dt-sql-parser's SparkSQL grammar, and is kept as a reviewed snapshot in
 * __snapshots__/spark/<vector>.sql: a change to the Spark renderer shows up as a diff to review.
 * The rows read back must also fit the table's row JSON Schema (docs.ts, types from the registry).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Ajv } from 'ajv';
import formats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parsePipeline } from '../../core/config/index.ts';
import type { TableSpec } from '../../core/config/types.ts';
import { openLake } from '../../core/query/index.ts';
import { sparkChecker, type SqlChecker } from '../../core/query/parsers.ts';
import { COLUMN_TYPES, buildTables, planTable, renderSpark, rowJsonSchema, type CommittedFile } from '../../core/transform/index.ts';
import { listFiles, runId, tempLake, writeRaw } from './helpers.ts';

const DIR = join(import.meta.dirname, 'vectors');

interface RawEntry {
  run?: number;
  stream: string;
  records?: unknown[];
  /** Raw text lines written after the records (malformed input). */
  lines?: string[];
  /** Records made from a template: `{i}` in a string becomes 0..count-1, `{i%N}` the remainder. */
  generate?: { count: number; record: unknown };
}

interface Vector {
  description: string;
  table: Record<string, unknown>;
  raw?: RawEntry[];
  build?: { target_file_mb?: number };
  expect: {
    order?: string;
    rows?: Record<string, unknown>[];
    count?: number;
    quarantined: number;
    reasons?: string[][];
    /** Parquet files per partition folder ('' = the table folder); a number or ">=n". */
    files?: Record<string, number | string>;
    /** Each entry must be a substring of one drift line; [] means no drift at all. */
    drift?: string[];
  };
}

function fill(template: unknown, i: number): unknown {
  if (typeof template === 'string') {
    return template.replace(/\{i(?:%(\d+))?\}/g, (_, mod?: string) => String(mod ? i % Number(mod) : i));
  }
  if (Array.isArray(template)) return template.map((t) => fill(t, i));
  if (template && typeof template === 'object') {
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, fill(v, i)]));
  }
  return template;
}

/** The declaration through the real loader: schema-checked and normalized as pipeline.yaml would be. */
function loadSpec(name: string, v: Vector): TableSpec {
  const streams = [...new Set((v.raw ?? []).map((r) => r.stream)), ...tableStreams(v.table)];
  const doc = {
    version: 1,
    name: 'vectors',
    connector: { use: 'spotify' },
    streams: Object.fromEntries(streams.map((s) => [s, { endpoint: 'me/player/recently-played' }])),
    tables: { [name]: v.table },
  };
  const { loaded, problems } = parsePipeline(stringify(doc), `${name}.yaml`);
  expect(problems.filter((p) => p.path.startsWith('tables')).map((p) => `${p.path}: ${p.message}`)).toEqual([]);
  return loaded.config.tables[name];
}

function tableStreams(table: Record<string, unknown>): string[] {
  const from = table.from;
  if (typeof from === 'string') return [from];
  return Array.isArray(from) ? from.map((f: { stream: string }) => f.stream) : [];
}

function countMatches(expected: number | string, actual: number): boolean {
  return typeof expected === 'number' ? actual === expected : actual >= Number(String(expected).replace('>=', ''));
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();

describe('transform conformance vectors', () => {
  let spark: SqlChecker;
  beforeAll(async () => {
    spark = await sparkChecker();
  });

  it('cover every declaration feature', () => {
    const all = files.map((f) => readFileSync(join(DIR, f), 'utf8')).join('\n');
    for (const feature of ['[0]', '[]', 'array<string>', 'sql:', 'filter:', 'order_by', 'latest_per', 'as: date', 'as: month', 'as: year', 'as: value', 'root:', 'required: true', 'precision_from', 'target_file_mb', 'lines:']) {
      expect(all, feature).toContain(feature);
    }
    // Every type of the registry, so a new type is run on DuckDB and snapshotted for Spark.
    for (const type of COLUMN_TYPES) {
      expect(all, type).toMatch(new RegExp(`type: "?${type}"?(?![\\w<])`));
    }
  });

  for (const file of files) {
    const name = basename(file, '.yaml');
    describe(name, () => {
      const v = parse(readFileSync(join(DIR, file), 'utf8')) as Vector;
      let lake: string;
      let cleanup: () => Promise<void>;
      beforeAll(async () => {
        ({ dir: lake, cleanup } = await tempLake());
      });
      afterAll(async () => cleanup());

      it(`DuckDB: ${v.description}`, async () => {
        const spec = loadSpec(name, v);
        const committed: CommittedFile[] = [];
        const parts = new Map<string, number>();
        for (const [i, r] of (v.raw ?? []).entries()) {
          const run = runId(r.run ?? i + 1);
          const part = parts.get(`${run}/${r.stream}`) ?? 0;
          parts.set(`${run}/${r.stream}`, part + 1);
          const records = [...(r.records ?? []), ...Array.from({ length: r.generate?.count ?? 0 }, (_, k) => fill(r.generate!.record, k))];
          const lines = [...records.map((x) => JSON.stringify(x)), ...(r.lines ?? [])];
          committed.push(await writeRaw(lake, r.stream, run, [], { lines, part }));
        }
        const [res] = await buildTables({
          lakeDir: lake,
          tables: { [name]: spec },
          files: committed,
          runId: runId(90),
          targetFileMb: v.build?.target_file_mb,
        });
        const db = await openLake(lake, { [name]: spec });
        try {
          const { rows } = await db.query(`SELECT * FROM ${name}${v.expect.order ? ` ORDER BY ${v.expect.order}` : ''}`);
          if (v.expect.rows) expect(rows).toEqual(v.expect.rows);
          if (v.expect.count !== undefined) expect(rows.length).toBe(v.expect.count);
          const ajv = new Ajv({ strict: true, allowUnionTypes: true });
          formats.default(ajv);
          const fits = ajv.compile(rowJsonSchema(planTable(name, spec)));
          for (const row of rows) expect(fits(row), `${JSON.stringify(row)}: ${ajv.errorsText(fits.errors)}`).toBe(true);
        } finally {
          db.close();
        }
        expect(res.quarantined).toBe(v.expect.quarantined);

        if (v.expect.reasons) {
          const qfiles = await listFiles(join(lake, 'quarantine', name));
          const lines = [];
          for (const f of qfiles) {
            const text = gunzipSync(await readFile(join(lake, 'quarantine', name, f))).toString('utf8');
            lines.push(...text.trim().split('\n').map((l) => JSON.parse(l)));
          }
          expect(lines.map((l) => l.reasons)).toEqual(v.expect.reasons);
        }
        if (v.expect.files) {
          const parquet = (await listFiles(join(lake, 'curated', name))).filter((f) => f.endsWith('.parquet'));
          for (const [folder, n] of Object.entries(v.expect.files)) {
            const inFolder = parquet.filter((f) => f.slice(0, f.lastIndexOf('/') + 1 || 0) === (folder ? `${folder}/` : ''));
            expect(countMatches(n, inFolder.length), `${folder}: ${inFolder.length} file(s), expected ${n}`).toBe(true);
          }
        }
        if (v.expect.drift) {
          if (v.expect.drift.length === 0) expect(res.drift).toEqual([]);
          for (const d of v.expect.drift) expect(res.drift.some((line) => line.includes(d)), `${d}\nin\n${res.drift.join('\n')}`).toBe(true);
        }
      });

      it('Spark SQL parses and matches its reviewed snapshot', async () => {
        const spec = loadSpec(name, v);
        const sql = renderSpark(planTable(name, spec));
        // The standalone quarantine query is the same CTEs as the rows query plus its own tail:
        // parsing the rows query and the tail covers every line of both.
        expect(spark.errors(sql.select)).toEqual([]);
        expect(spark.errors(sql.fromJudged.quarantine)).toEqual([]);
        expect(sql.quarantine.endsWith(sql.fromJudged.quarantine)).toBe(true);
        await expect(`-- ${v.description}\n\n-- rows\n${sql.select};\n\n-- quarantine\n${sql.quarantine};\n`).toMatchFileSnapshot(
          join('__snapshots__', 'spark', `${name}.sql`),
        );
      });
    });
  }
});
