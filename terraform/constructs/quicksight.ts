/**
 * Opt-in QuickSight over the lake (`aws.quicksight`; off by default: QuickSight is a monthly
 * subscription per user, which the plan's cost estimate adds): one ATHENA data source on the
 * stack's workgroup (so its enforced result location, encryption and scan cutoff apply) and one
 * direct-query dataset per table, a RelationalTable over the Glue catalog table with its columns
 * from the table plan. Both are owned by the principal pipeline.yaml names. Nothing is imported
 * into SPICE (no capacity charge); the account's QuickSight must already exist, and its service
 * role must be allowed to use Athena and read the lake (QuickSight's security settings).
 */
import { Construct } from 'constructs';
import { QuicksightDataSet } from '@cdktf/provider-aws/lib/quicksight-data-set/index.js';
import { QuicksightDataSource } from '@cdktf/provider-aws/lib/quicksight-data-source/index.js';
import { fit } from '../names.ts';
import { markOwner } from './ownership.ts';

export interface QuickSightProps {
  pipelineName: string;
  /** The stack's Athena workgroup (its name). */
  workgroup: string;
  databaseName: string;
  /** Each table's columns with their Glue types (GlueCatalog.columns). */
  tables: Map<string, Array<{ name: string; type: string }>>;
  principalArn: string;
}

/** What the owner may do with the data source (QuickSight's owner permission set). */
export const DATA_SOURCE_OWNER_ACTIONS = [
  'quicksight:DescribeDataSource',
  'quicksight:DescribeDataSourcePermissions',
  'quicksight:PassDataSource',
  'quicksight:UpdateDataSource',
  'quicksight:DeleteDataSource',
  'quicksight:UpdateDataSourcePermissions',
];

/** What the owner may do with a dataset (QuickSight's owner permission set). */
export const DATA_SET_OWNER_ACTIONS = [
  'quicksight:DescribeDataSet',
  'quicksight:DescribeDataSetPermissions',
  'quicksight:PassDataSet',
  'quicksight:DescribeIngestion',
  'quicksight:ListIngestions',
  'quicksight:UpdateDataSet',
  'quicksight:DeleteDataSet',
  'quicksight:CreateIngestion',
  'quicksight:CancelIngestion',
  'quicksight:UpdateDataSetPermissions',
];

/** QuickSight's input column type for a Glue (Hive) column type. */
export function quicksightType(glueType: string): 'STRING' | 'INTEGER' | 'DECIMAL' | 'DATETIME' | 'BOOLEAN' {
  const t = glueType.toLowerCase();
  if (/^(tinyint|smallint|int|integer|bigint)$/.test(t)) return 'INTEGER';
  if (/^(float|double|real|decimal(\(.*\))?)$/.test(t)) return 'DECIMAL';
  if (/^(date|timestamp)$/.test(t)) return 'DATETIME';
  if (t === 'boolean') return 'BOOLEAN';
  return 'STRING';
}

export class QuickSight extends Construct {
  readonly dataSource: QuicksightDataSource;
  readonly dataSets = new Map<string, QuicksightDataSet>();

  constructor(scope: Construct, id: string, props: QuickSightProps) {
    super(scope, id);
    // QuickSight ids: up to 128 characters of letters, digits, - and _.
    const idOf = (s: string) => fit(s.replace(/[^A-Za-z0-9_-]/g, '_'), 128);
    this.dataSource = new QuicksightDataSource(this, 'athena', {
      dataSourceId: idOf(`${props.pipelineName}-athena`),
      name: `${props.pipelineName} (Athena)`,
      type: 'ATHENA',
      parameters: { athena: { workGroup: props.workgroup } },
      sslProperties: { disableSsl: false },
      permission: [{ principal: props.principalArn, actions: DATA_SOURCE_OWNER_ACTIONS }],
    });
    for (const [table, columns] of props.tables) {
      const scope = markOwner(new Construct(this, `table-${table}`), { kind: 'table', name: table });
      this.dataSets.set(
        table,
        new QuicksightDataSet(scope, 'data-set', {
          dataSetId: idOf(`${props.pipelineName}-${table}`),
          name: `${props.pipelineName} ${table}`,
          importMode: 'DIRECT_QUERY',
          physicalTableMap: [
            {
              physicalTableMapId: idOf(table),
              relationalTable: {
                dataSourceArn: this.dataSource.arn,
                catalog: 'AwsDataCatalog',
                schema: props.databaseName,
                name: table,
                inputColumns: columns.map((c) => ({ name: c.name, type: quicksightType(c.type) })),
              },
            },
          ],
          permissions: [{ principal: props.principalArn, actions: DATA_SET_OWNER_ACTIONS }],
        }),
      );
    }
  }
}
