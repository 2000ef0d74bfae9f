/**
 * The column type registry (core/transform/types.ts) against everything that must agree with it:
 * the schema's enum, the engines' type names, and what the local build really writes and reads.
 */
import { join } from 'node:path';
import { Ajv } from 'ajv';
import formats from 'ajv-formats';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipelineSchema } from '../../core/config/index.ts';
import type { TableSpec } from '../../core/config/types.ts';
import { openLake } from '../../core/query/index.ts';
import { sparkChecker } from '../../core/query/parsers.ts';
import { buildTables } from '../../core/transform/index.ts';
import { COLUMN_TYPES, COLUMN_TYPE_INFO, type ColumnType, type ParquetPhysical, type ParquetType } from '../../core/transform/types.ts';
import { listFiles, runId, tempLake, writeRaw } from './helpers.ts';

const column = (t: ColumnType) => `c_${t.replace(/\W+/g, '_')}`;

describe('column type registry', () => {
  it('is exactly the column types config/pipeline.schema.json allows, in the same order', () => {
    const defs = pipelineSchema.definitions as Record<string, { properties: Record<string, { enum?: string[] }> }>;
    expect(defs.column.properties.type.enum).toEqual([...COLUMN_TYPES]);
  });

  it("names types each engine accepts: DuckDB's casts bind, Spark SQL's parse", async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      for (const t of COLUMN_TYPES) await conn.run(`SELECT CAST(NULL AS ${COLUMN_TYPE_INFO[t].duckdb})`);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
    const spark = await sparkChecker();
    for (const t of COLUMN_TYPES) expect(spark.errors(`SELECT CAST(NULL AS ${COLUMN_TYPE_INFO[t].spark}) AS x`), t).toEqual([]);
  });

  describe('a table with a column of every type, built for real', () => {
    const spec: TableSpec = {
      from: [{ stream: 'samples' }],
      columns: Object.fromEntries(COLUMN_TYPES.map((t) => [column(t), { path: column(t), type: t }])),
    };
    const record: Record<string, unknown> = {
      c_string: 'x',
      c_int: 7,
      c_bigint: '9007199254740993',
      c_double: 0.5,
      c_boolean: true,
      c_date: '2026-02-28',
      c_timestamp: '2026-11-24T12:15:02+02:00',
      c_decimal: 12.3456,
      c_array_string_: ['a', null],
    };
    let lake: string;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ dir: lake, cleanup } = await tempLake());
      const files = [await writeRaw(lake, 'samples', runId(1), [record, {}])];
      await buildTables({ lakeDir: lake, tables: { every_type: spec }, files, runId: runId(2) });
    });
    afterAll(async () => cleanup());

    it("covers every type (the record sets each column)", () => {
      expect(Object.keys(record).sort()).toEqual(COLUMN_TYPES.map(column).sort());
    });

    it('stores each type in Parquet as the registry says', async () => {
      const [file] = (await listFiles(join(lake, 'curated', 'every_type'))).filter((f) => f.endsWith('.parquet'));
      const instance = await DuckDBInstance.create(':memory:');
      const conn = await instance.connect();
      try {
        const path = join(lake, 'curated', 'every_type', file).replaceAll("'", "''");
        const rows = (await conn.runAndReadAll(`SELECT name, type, converted_type, scale, precision, num_children FROM parquet_schema('${path}')`)).getRowObjectsJson();
        // Flat rows in schema order: a LIST group is followed by its repeated group and its element.
        const leaf = (r: Record<string, unknown>): ParquetType => {
          const annotation = r.converted_type === 'DECIMAL' ? `DECIMAL(${r.precision},${r.scale})` : (r.converted_type as string | null);
          return { physical: r.type as ParquetPhysical, ...(annotation ? { annotation } : {}) };
        };
        const written: Record<string, ParquetType> = {};
        for (let i = 1; i < rows.length; i++) {
          const r = rows[i];
          if (r.converted_type === 'LIST') {
            written[String(r.name)] = { list: leaf(rows[i + 2]) };
            i += 2;
          } else {
            written[String(r.name)] = leaf(r);
          }
        }
        expect(written).toEqual(Object.fromEntries(COLUMN_TYPES.map((t) => [column(t), COLUMN_TYPE_INFO[t].parquet])));
      } finally {
        conn.closeSync();
        instance.closeSync();
      }
    });

    it("returns values the registry's JSON Schema of each type describes", async () => {
      const db = await openLake(lake, { every_type: spec });
      try {
        const { rows } = await db.query('SELECT * FROM every_type ORDER BY c_string NULLS LAST');
        expect(rows).toHaveLength(2);
        const ajv = new Ajv({ strict: true, allowUnionTypes: true });
        formats.default(ajv);
        for (const t of COLUMN_TYPES) {
          const valid = ajv.compile(COLUMN_TYPE_INFO[t].json);
          expect(valid(rows[0][column(t)]), `${t}: ${JSON.stringify(rows[0][column(t)])} ${ajv.errorsText(valid.errors)}`).toBe(true);
          // Every type is nullable; the schema describes a value, so NULL is not one.
          expect(rows[1][column(t)], t).toBeNull();
        }
        expect(rows[0].c_bigint).toBe('9007199254740993');
      } finally {
        db.close();
      }
    });
  });
});
