/**
 * Transform conformance vectors (test/transform/vectors/*.yaml, format in README.md there): raw
 * records + a table declaration + the rows and quarantine count it must produce.
 *
 * Each vector runs on DuckDB for real: raw gzip JSON Lines in a temp lake, buildTables, rows read
 * back through the query layer. The same declaration's Spark SQL (the Glue job's) must parse with
 * dt-sql-parser's SparkSQL grammar, and is kept as a reviewed snapshot in
 * __snapshots__/spark/<vector>.sql: a change to the Spark renderer shows up as a diff to review.
 * engines.test.ts runs that Spark SQL on real Spark and holds its output equal to DuckDB's.
 * The rows read back must also fit the table's row JSON Schema (docs.ts, types from the registry).
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Ajv } from 'ajv';
import formats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLake } from '../../core/query/index.ts';
import { sparkChecker, type SqlChecker } from '../../core/query/parsers.ts';
import { COLUMN_TYPES, buildTables, planTable, renderSpark, rowJsonSchema } from '../../core/transform/index.ts';
import { listFiles, runId, tempLake } from './helpers.ts';
import { VECTOR_DIR as DIR, countMatches, loadSpec, readVector, vectorCompleteReads, vectorFiles, writeVectorRaw } from './vector-support.ts';

const files = vectorFiles();

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
    const { name, vector: v } = readVector(file);
    describe(name, () => {
      let lake: string;
      let cleanup: () => Promise<void>;
      beforeAll(async () => {
        ({ dir: lake, cleanup } = await tempLake());
      });
      afterAll(async () => cleanup());

      it(`DuckDB: ${v.description}`, async () => {
        const spec = loadSpec(name, v);
        const committed = await writeVectorRaw(lake, v);
        const [res] = await buildTables({
          lakeDir: lake,
          tables: { [name]: spec },
          files: committed,
          completeReads: vectorCompleteReads(v),
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
