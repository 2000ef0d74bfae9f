/**
 * The Glue Data Catalog of the lake: one database per pipeline and one table per declared table,
 * over the curated Parquet files (curated/<table>/<key>=<value>/...).
 *
 * Partitions use Athena partition projection: the partition values are computed from the table
 * properties instead of being registered, so no crawler and no MSCK REPAIR TABLE is ever needed
 * and a new day's partition is queryable the moment its files exist. Date-like partitions
 * project a range from Spotify's launch year to now; value partitions are `injected` (a query
 * must name the value in its WHERE clause, e.g. `WHERE playlist_id = '...'`).
 */
import { Construct } from 'constructs';
import { GlueCatalogDatabase } from '@cdktf/provider-aws/lib/glue-catalog-database/index.js';
import { GlueCatalogTable } from '@cdktf/provider-aws/lib/glue-catalog-table/index.js';
import type { PartitionSpec, TableSpec } from '../../core/config/types.ts';
import { COLUMN_TYPE_INFO } from '../../core/transform/types.ts';
import { escapeTf } from '../names.ts';
import type { ServiceRole } from './iam.ts';
import { markOwner } from './ownership.ts';

const PARQUET = {
  serde: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
  input: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  output: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
};

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
  // `${dt}` is Athena's placeholder, not a Terraform interpolation: escaped below.
  p['storage.location.template'] = `${location}${partitions.map((x) => `${x.name}=\${${x.name}}`).join('/')}/`;
  return p;
}

export interface GlueCatalogProps {
  databaseName: string;
  pipelineName: string;
  tables: Record<string, TableSpec>;
  /** `s3://bucket/prefix/curated/` (with the trailing slash). */
  curatedUrl: string;
  /** For ARNs: arn:<partition>:glue:<region>:<account>. */
  arnPrefix: string;
}

export class GlueCatalog extends Construct {
  readonly database: GlueCatalogDatabase;
  readonly tables = new Map<string, GlueCatalogTable>();
  private readonly arnPrefix: string;
  readonly databaseName: string;

  constructor(scope: Construct, id: string, props: GlueCatalogProps) {
    super(scope, id);
    this.arnPrefix = props.arnPrefix;
    this.databaseName = props.databaseName;
    this.database = new GlueCatalogDatabase(this, 'database', {
      name: props.databaseName,
      description: `Curated tables of Spotify pipeline ${props.pipelineName}`,
    });
    for (const [name, spec] of Object.entries(props.tables)) {
      const scope = markOwner(new Construct(this, `table-${name}`), { kind: 'table', name });
      const location = `${props.curatedUrl}${name}/`;
      const partitions = spec.partition_by ?? [];
      const parameters = Object.fromEntries(
        Object.entries({
          EXTERNAL: 'TRUE',
          classification: 'parquet',
          ...projectionParameters(partitions, location),
        }).map(([k, v]) => [k, escapeTf(v)]),
      );
      this.tables.set(
        name,
        new GlueCatalogTable(scope, 'table', {
          name,
          databaseName: this.database.name,
          description: spec.description ? escapeTf(spec.description) : undefined,
          tableType: 'EXTERNAL_TABLE',
          parameters,
          partitionKeys: partitions.map((p) => ({ name: p.name, type: 'string', comment: `${p.as ?? 'value'} of ${p.from}` })),
          storageDescriptor: {
            location,
            inputFormat: PARQUET.input,
            outputFormat: PARQUET.output,
            serDeInfo: { name: 'parquet', serializationLibrary: PARQUET.serde, parameters: { 'serialization.format': '1' } },
            columns: Object.entries(spec.columns).map(([col, c]) => ({
              name: col,
              type: COLUMN_TYPE_INFO[c.type].glue,
              ...(c.description ? { comment: escapeTf(c.description) } : {}),
            })),
          },
        }),
      );
    }
  }

  /** ARNs of the catalog, the database and (a pattern for) its tables. */
  arns(): string[] {
    return [`${this.arnPrefix}:catalog`, `${this.arnPrefix}:database/${this.databaseName}`, `${this.arnPrefix}:table/${this.databaseName}/*`];
  }

  /** Read the database's table definitions (what Spark and Athena need to query them). */
  grantRead(role: ServiceRole): void {
    role.addToPolicy({
      sid: 'ReadCatalog',
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartition', 'glue:GetPartitions', 'glue:BatchGetPartition'],
      // `table/<db>/*` rather than a list of tables: adding a table must not rewrite this policy.
      resources: this.arns(),
    });
  }
}
