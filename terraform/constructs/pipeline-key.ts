/**
 * The pipeline's customer-managed KMS key (profile hardened, when pipeline.yaml names no
 * `aws.kms_key_arn`): one key, rotated yearly, for everything that accepts one (buckets, secrets,
 * log groups, schedules, the alarm topic, the failure queue, the Lambda environment, Glue, Athena).
 *
 * The key policy lets the account administer the key and delegate its use to IAM (each role is
 * granted kms:Decrypt / kms:GenerateDataKey on this key only, by the construct that uses it), and
 * lets the services that encrypt on the pipeline's behalf use it, each scoped: CloudWatch Logs for
 * this pipeline's log groups only (encryption context), CloudWatch alarms and EventBridge for
 * publishing to the encrypted alarm topic (from this account only).
 */
import { Construct } from 'constructs';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias/index.js';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key/index.js';
import { accountAdministersKey, type AwsContext } from './glue-transform.ts';

export interface PipelineKeyProps {
  pipelineName: string;
  /** Alias name without `alias/`. */
  alias: string;
  /** Log group name patterns (with `*`) the key encrypts. */
  logGroups: string[];
  aws: AwsContext;
}

export class PipelineKey extends Construct {
  readonly key: KmsKey;
  /** One token for the ARN: grants compare resources as strings. */
  readonly arn: string;

  constructor(scope: Construct, id: string, props: PipelineKeyProps) {
    super(scope, id);
    this.key = new KmsKey(this, 'key', {
      description: `Encrypts the data, secrets, logs and messages of pipeline ${props.pipelineName} (profile hardened)`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: JSON.stringify(pipelineKeyPolicy(props.aws, props.logGroups)),
    });
    new KmsAlias(this, 'alias', { name: `alias/${props.alias}`, targetKeyId: this.key.keyId });
    this.arn = this.key.arn;
  }
}

/** The key policy: no `kms:*`, no principal `*`; services scoped to this account and pipeline. */
export function pipelineKeyPolicy(aws: AwsContext, logGroups: string[]) {
  return {
    Version: '2012-10-17',
    Statement: [
      accountAdministersKey(aws, { grants: true }),
      {
        Sid: 'CloudWatchLogsEncryptsPipelineLogs',
        Effect: 'Allow',
        Principal: { Service: `logs.${aws.region}.amazonaws.com` },
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        Resource: '*',
        Condition: {
          ArnLike: { 'kms:EncryptionContext:aws:logs:arn': logGroups.map((g) => `arn:${aws.partition}:logs:${aws.region}:${aws.accountId}:log-group:${g}`) },
        },
      },
      {
        Sid: 'AlarmsPublishToEncryptedTopic',
        Effect: 'Allow',
        Principal: { Service: ['cloudwatch.amazonaws.com', 'events.amazonaws.com'] },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceAccount': aws.accountId } },
      },
    ],
  };
}
