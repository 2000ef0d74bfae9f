/**
 * A table as the Glue Data Catalog and Athena see it, from its plan: the columns inside the
 * Parquet files (typed from the type registry), the partition keys, the location and the table
 * properties. The Glue catalog construct (terraform/constructs/glue-catalog.ts) deploys this model
 * and athenaDdl() writes it as DDL, so the two cannot disagree.
 *
 * Partitions use Athena partition projection: the partition values are computed from the table
 * properties instead of being registered, so no crawler and no MSCK REPAIR TABLE is ever needed
 * and a new day's partition is queryable the moment its files exist. Date-like partitions
 * project a range from Spotify's launch year to now; value partitions are `injected` (a query
 * must name the value in its WHERE clause, e.g. `WHERE playlist_id = '...'`).
 */
import type { PartitionSpec } from '../config/types.ts';
import { type TablePlan, storedColumnPlans } from './plan.ts';
import { COLUMN_TYPE_INFO } from './types.ts';

/** Parquet in Hive's terms (what `STORED AS PARQUET` stands for). */
export const PARQUET_FORMAT = {
  serde: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
  input: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  output: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
} as const;

export interface CatalogColumn {
  name: string;
  /** Glue/Hive spelling. */
  type: string;
  comment?: string;
}

export interface CatalogTable {
  name: string;
  description?: string;
  /** `s3://bucket/prefix/curated/<table>/`. */
  location: string;
  /** The columns inside the data files: never a partition key (Athena rejects a name that is both). */
  columns: CatalogColumn[];
  /** Hive partition keys in folder order, each once. Folder names are strings. */
  partitionKeys: CatalogColumn[];
  /** Table properties: the classification and the partition projection. */
  properties: Record<string, string>;
}

/** Spotify launched in 2006: no listening data can be older. */
const PROJECTION_START = { date: '2006-01-01', month: '2006-01', year: '2006' } as const;
const PROJECTION_FORMAT = { date: 'yyyy-MM-dd', month: 'yyyy-MM', year: 'yyyy' } as const;
const PROJECTION_UNIT = { date: 'DAYS', month: 'MONTHS', year: 'YEARS' } as const;

/** Table properties that make Athena project the partitions (no partitions are registered). */
export function projectionParameters(partitions: PartitionSpec[], location: string): Record<string, string> {
  if (partitions.length === 0) return {};
  const p: Record<string, string> = { 'projection.enabled': 'true' };
  for (const part of partitions) {
    const as = part.as ?? 'value';
    if (as === 'value') {
      p[`projection.${part.name}.type`] = 'injected';
    } else {
      p[`projection.${part.name}.type`] = 'date';
      p[`projection.${part.name}.format`] = PROJECTION_FORMAT[as];
      p[`projection.${part.name}.range`] = `${PROJECTION_START[as]},NOW`;
      p[`projection.${part.name}.interval`] = '1';
      p[`projection.${part.name}.interval.unit`] = PROJECTION_UNIT[as];
    }
  }
  // `${dt}` is Athena's placeholder (Terraform users must escape it).
  p['storage.location.template'] = `${location}${partitions.map((x) => `${x.name}=\${${x.name}}`).join('/')}/`;
  return p;
}

/** The catalog table of a plan, its data under `curatedUrl` (`s3://bucket/prefix/curated/`). */
export function catalogTable(plan: TablePlan, curatedUrl: string): CatalogTable {
  const location = `${curatedUrl}${plan.table}/`;
  return {
    name: plan.table,
    ...(plan.description !== undefined && { description: plan.description }),
    location,
    columns: storedColumnPlans(plan).map((c) => ({
      name: c.name,
      type: COLUMN_TYPE_INFO[c.type].glue,
      ...(c.description ? { comment: c.description } : {}),
    })),
    partitionKeys: plan.partitions.map((p) => ({ name: p.name, type: COLUMN_TYPE_INFO.string.glue, comment: `${p.as} of ${p.from}` })),
    properties: { classification: 'parquet', ...projectionParameters(plan.partitions, location) },
  };
}
