/**
 * Athena for the lake: one workgroup per pipeline whose settings queries cannot override
 * (results location, encryption, the per-query scan limit), and one named query per `queries:`
 * entry of pipeline.yaml, run against the pipeline's Glue database.
 */
import { Construct } from 'constructs';
import { AthenaNamedQuery } from '@cdktf/provider-aws/lib/athena-named-query/index.js';
import { AthenaWorkgroup } from '@cdktf/provider-aws/lib/athena-workgroup/index.js';
import type { QuerySpec } from '../../core/config/types.ts';
import { escapeTf } from '../names.ts';
import { markOwner } from './ownership.ts';
import type { AwsContext } from './glue-transform.ts';
import type { GlueCatalog } from './glue-catalog.ts';
import type { ServiceRole } from './iam.ts';
import type { LakeStorage } from './lake-storage.ts';

/**
 * What a function needs to run Athena queries over the lake: run, follow, read and (past its
 * deadline) stop queries in the stack's workgroup only; read the catalog; read the tables' files
 * (Athena reads them with the caller's credentials) and write results to the results bucket.
 */
export function grantAthenaQueries(role: ServiceRole, o: { aws: AwsContext; workgroup: string; catalog: GlueCatalog; lake: LakeStorage }): void {
  const workgroupArn = `arn:${o.aws.partition}:athena:${o.aws.region}:${o.aws.accountId}:workgroup/${o.workgroup}`;
  role.addToPolicy({
    sid: 'QueryInWorkgroup',
    actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution'],
    resources: [workgroupArn],
  });
  o.catalog.grantRead(role);
  o.lake.grantRead(role, 'curated');
  o.lake.results.grantReadWrite(role, '');
  role.addToPolicy({ sid: 'AthenaBucketLocation', actions: ['s3:GetBucketLocation'], resources: [o.lake.lake.arn, o.lake.results.arn] });
}

export interface AthenaAnalyticsProps {
  workgroupName: string;
  pipelineName: string;
  databaseName: string;
  /** `s3://results-bucket/` */
  resultsUrl: string;
  bytesScannedCutoff: number;
  /** SSE-KMS results with this key; SSE-S3 when absent. */
  kmsKeyArn?: string;
  queries: Record<string, QuerySpec>;
}

export class AthenaAnalytics extends Construct {
  readonly workgroup: AthenaWorkgroup;
  readonly queries = new Map<string, AthenaNamedQuery>();

  constructor(scope: Construct, id: string, props: AthenaAnalyticsProps) {
    super(scope, id);
    this.workgroup = new AthenaWorkgroup(this, 'workgroup', {
      name: props.workgroupName,
      description: `Queries over the Spotify lake of pipeline ${props.pipelineName}`,
      state: 'ENABLED',
      configuration: {
        enforceWorkgroupConfiguration: true,
        publishCloudwatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoff,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: props.resultsUrl,
          encryptionConfiguration: props.kmsKeyArn ? { encryptionOption: 'SSE_KMS', kmsKeyArn: props.kmsKeyArn } : { encryptionOption: 'SSE_S3' },
        },
      },
    });
    for (const [name, q] of Object.entries(props.queries)) {
      const scope = markOwner(new Construct(this, `query-${name}`), { kind: 'query', name });
      this.queries.set(
        name,
        new AthenaNamedQuery(scope, 'query', {
          name,
          description: escapeTf(q.description ?? name),
          database: props.databaseName,
          workgroup: this.workgroup.name,
          query: escapeTf(q.sql),
        }),
      );
    }
  }
}
