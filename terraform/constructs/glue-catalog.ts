/**
 * The Glue Data Catalog of the lake: one database per pipeline and one table per declared table,
 * over the curated Parquet files (curated/<table>/<key>=<value>/...).
 *
 * Each table is core's catalog model of its plan (core/transform/catalog.ts): the columns inside
 * the files typed from the type registry, the partition keys, and partition projection, so no
 * crawler and no MSCK REPAIR TABLE is ever needed. `transform --explain` prints the same model as
 * Athena DDL.
 */
import { Construct } from 'constructs';
import { GlueCatalogDatabase } from '@cdktf/provider-aws/lib/glue-catalog-database/index.js';
import { GlueCatalogTable } from '@cdktf/provider-aws/lib/glue-catalog-table/index.js';
import { PARQUET_FORMAT, catalogTable } from '../../core/transform/catalog.ts';
import type { TablePlan } from '../../core/transform/plan.ts';
import { escapeTf } from '../names.ts';
import type { ServiceRole } from './iam.ts';
import { markOwner } from './ownership.ts';

export interface GlueCatalogProps {
  databaseName: string;
  pipelineName: string;
  /** The plans of the declared tables (core/transform planTable). */
  tables: TablePlan[];
  /** `s3://bucket/prefix/curated/` (with the trailing slash). */
  curatedUrl: string;
  /** For ARNs: arn:<partition>:glue:<region>:<account>. */
  arnPrefix: string;
}

export class GlueCatalog extends Construct {
  readonly database: GlueCatalogDatabase;
  readonly tables = new Map<string, GlueCatalogTable>();
  /** Each table's columns as Athena sees them (file columns, then partition keys), with their Glue types. */
  readonly columns = new Map<string, Array<{ name: string; type: string }>>();
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
    for (const plan of props.tables) {
      const name = plan.table;
      const scope = markOwner(new Construct(this, `table-${name}`), { kind: 'table', name });
      const table = catalogTable(plan, props.curatedUrl);
      this.columns.set(name, [...table.columns, ...table.partitionKeys].map((c) => ({ name: c.name, type: c.type })));
      // User text and Athena's `${...}` placeholders must reach Glue as written, not as Terraform.
      const comment = (c: { comment?: string }) => (c.comment ? { comment: escapeTf(c.comment) } : {});
      const parameters = Object.fromEntries(Object.entries({ EXTERNAL: 'TRUE', ...table.properties }).map(([k, v]) => [k, escapeTf(v)]));
      this.tables.set(
        name,
        new GlueCatalogTable(scope, 'table', {
          name,
          databaseName: this.database.name,
          description: table.description ? escapeTf(table.description) : undefined,
          tableType: 'EXTERNAL_TABLE',
          parameters,
          partitionKeys: table.partitionKeys.map((k) => ({ name: k.name, type: k.type, ...comment(k) })),
          storageDescriptor: {
            location: table.location,
            inputFormat: PARQUET_FORMAT.input,
            outputFormat: PARQUET_FORMAT.output,
            serDeInfo: { name: 'parquet', serializationLibrary: PARQUET_FORMAT.serde, parameters: { 'serialization.format': '1' } },
            columns: table.columns.map((c) => ({ name: c.name, type: c.type, ...comment(c) })),
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
