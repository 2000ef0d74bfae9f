/** The one stack, built from a loaded pipeline.yaml. */
import { Construct } from 'constructs';
import { TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import type { PipelineConfig } from '../core/config/types.ts';
import { LakeStorage } from './constructs/lake-storage.ts';

export class PipelineStack extends TerraformStack {
  readonly lake: LakeStorage;

  constructor(scope: Construct, id: string, pipeline: PipelineConfig) {
    super(scope, id);
    const aws = pipeline.aws ?? {};
    new AwsProvider(this, 'aws', { region: aws.region ?? 'us-east-1', defaultTags: [{ tags: { pipeline: pipeline.name } }] });
    this.lake = new LakeStorage(this, 'lake', {
      bucketName: pipeline.storage.s3?.bucket ?? `${pipeline.name}-lake`,
      kmsKeyArn: aws.kms_key_arn,
      tags: { pipeline: pipeline.name },
    });
  }
}
