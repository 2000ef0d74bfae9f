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
