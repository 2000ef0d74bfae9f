/**
 * The catalog model of a table (core/transform/catalog.ts) and its Athena DDL (athena.ts), both
 * from the plan: stored columns only, each partition key once, partition projection.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPipeline } from '../../core/config/index.ts';
import type { TableSpec } from '../../core/config/types.ts';
import { COLUMN_TYPES, athenaDdl, catalogTable, planTable, projectionParameters } from '../../core/transform/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CURATED = 's3://lake-bucket/pre/curated/';

/** Hive's grammar: Athena runs DDL through it. */
async function hiveErrors(sql: string): Promise<string[]> {
  const { HiveSQL } = await import('dt-sql-parser/dist/parser/hive/index.js');
  return new HiveSQL().validate(sql).map((e: { startLine: number; message: string }) => `${e.startLine}: ${e.message}`);
}

const byPlaylist: TableSpec = {
  description: "Playlist items, one folder per playlist ('injected')",
  from: [{ stream: 'playlist_items' }],
  columns: {
    playlist_id: { path: 'playlist_id', type: 'string', required: true, description: 'the playlist' },
    position: { path: 'position', type: 'int' },
    added_at: { path: 'added_at', type: 'timestamp' },
  },
  partition_by: [
    { name: 'playlist_id', from: 'playlist_id', as: 'value' },
    { name: 'month', from: 'added_at', as: 'month' },
  ],
};

describe('catalog table from the plan', () => {
  it('keeps a column partitioned under its own name out of the columns: a partition key, once', () => {
    const t = catalogTable(planTable('by_playlist', byPlaylist), CURATED);
    expect(t.columns).toEqual([
      { name: 'position', type: 'int' },
      { name: 'added_at', type: 'timestamp' },
    ]);
    expect(t.partitionKeys).toEqual([
      { name: 'playlist_id', type: 'string', comment: 'value of playlist_id' },
      { name: 'month', type: 'string', comment: 'month of added_at' },
    ]);
    expect(t.location).toBe('s3://lake-bucket/pre/curated/by_playlist/');
    expect(t.properties).toEqual({
      classification: 'parquet',
      'projection.enabled': 'true',
      'projection.playlist_id.type': 'injected',
      'projection.month.type': 'date',
      'projection.month.format': 'yyyy-MM',
      'projection.month.range': '2006-01,NOW',
      'projection.month.interval': '1',
      'projection.month.interval.unit': 'MONTHS',
      'storage.location.template': 's3://lake-bucket/pre/curated/by_playlist/playlist_id=${playlist_id}/month=${month}/',
    });
  });

  it('projects nothing for an unpartitioned table', () => {
    expect(projectionParameters([], CURATED)).toEqual({});
  });
});

describe('Athena DDL', () => {
  it('declares stored columns, then each partition key once, Parquet, the location and the projection', async () => {
    const ddl = athenaDdl(planTable('by_playlist', byPlaylist), CURATED, 'my_lake');
    expect(ddl).toBe(
      [
        'CREATE EXTERNAL TABLE `my_lake`.`by_playlist` (',
        '  `position` int,',
        '  `added_at` timestamp',
        ')',
        "COMMENT 'Playlist items, one folder per playlist (\\'injected\\')'",
        'PARTITIONED BY (',
        "  `playlist_id` string COMMENT 'value of playlist_id',",
        "  `month` string COMMENT 'month of added_at'",
        ')',
        'STORED AS PARQUET',
        "LOCATION 's3://lake-bucket/pre/curated/by_playlist/'",
        'TBLPROPERTIES (',
        "  'classification'='parquet',",
        "  'projection.enabled'='true',",
        "  'projection.playlist_id.type'='injected',",
        "  'projection.month.type'='date',",
        "  'projection.month.format'='yyyy-MM',",
        "  'projection.month.range'='2006-01,NOW',",
        "  'projection.month.interval'='1',",
        "  'projection.month.interval.unit'='MONTHS',",
        "  'storage.location.template'='s3://lake-bucket/pre/curated/by_playlist/playlist_id=${playlist_id}/month=${month}/'",
        ')',
      ].join('\n'),
    );
    expect(await hiveErrors(ddl)).toEqual([]);
  });

  it("parses as Hive DDL for every table of the shipped pipelines, typed from the registry", async () => {
    const tables = {
      ...readPipeline(join(ROOT, 'pipeline.yaml')).loaded.config.tables,
      ...readPipeline(join(ROOT, 'connectors', 'spotify-history', 'pipeline.yaml')).loaded.config.tables,
    };
    for (const [name, spec] of Object.entries(tables)) {
      const ddl = athenaDdl(planTable(name, spec), CURATED);
      expect(await hiveErrors(ddl), name).toEqual([]);
    }
    expect(athenaDdl(planTable('artists', tables.artists), CURATED)).toContain('`genres` array<string>');
  });

  it('writes every type the registry knows in a form Hive accepts', async () => {
    const spec: TableSpec = { from: [{ stream: 's' }], columns: Object.fromEntries(COLUMN_TYPES.map((t, i) => [`c${i}`, { path: `c${i}`, type: t }])) };
    expect(await hiveErrors(athenaDdl(planTable('every_type', spec), CURATED))).toEqual([]);
  });
});
