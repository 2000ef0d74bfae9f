/**
 * The report in AWS: a Lambda (core/lambda/report.ts, bundled at synth time with the report's
 * spec and Vega's runtime, see ../bundle.ts) that runs every dashboard panel's query on Athena in
 * the stack's workgroup and writes `reports/report.html` to the lake bucket. The transform's
 * state machine invokes it after each Glue job run (glue-transform.ts); `report --aws` presigns
 * the object.
 *
 * Least privilege: Athena's query actions on the stack's workgroup only; the catalog read-only
 * (catalog, database, its tables); S3 read of curated/ (what Athena scans, with the caller's
 * credentials) and _runs/ (what the latest run added), write only under reports/; read and write
 * in the Athena results bucket (Athena writes results there as the caller, GetQueryResults reads
 * them); the key for all of it. Logs to its own log group with the stack's retention. A failed
 * invocation fails the state machine's execution (its alarm); an async invocation (by hand) that
 * fails lands in the extractor's failure queue like the extractor's.
 */
import { Construct } from 'constructs';
import { AssetType, TerraformAsset } from 'cdktf';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function/index.js';
import { LambdaFunctionEventInvokeConfig } from '@cdktf/provider-aws/lib/lambda-function-event-invoke-config/index.js';
import type { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue/index.js';
import type { ReportBundle } from '../bundle.ts';
import { roleName, shortName } from '../names.ts';
import type { GlueCatalog } from './glue-catalog.ts';
import type { AwsContext } from './glue-transform.ts';
import { grantAthenaQueries } from './athena-analytics.ts';
import { ServiceRole } from './iam.ts';
import type { LakeStorage } from './lake-storage.ts';

/** The report object's key below the lake prefix (core/lambda/report.ts REPORT_KEY). */
export const REPORTS_PREFIX = 'reports/';

export interface ReportFunctionProps {
  pipelineName: string;
  bundle: ReportBundle;
  lake: LakeStorage;
  catalog: GlueCatalog;
  /** The stack's Athena workgroup (its name). */
  workgroup: string;
  architecture: 'arm64' | 'x86_64';
  logRetentionDays: number;
  kmsKeyArn?: string;
  tracing?: boolean;
  /** Failed async invocations: this queue as a dead-letter queue (hardened) or an on-failure destination. */
  failures: SqsQueue;
  deadLetterQueue?: boolean;
  aws: AwsContext;
}

/** The report function's name (the key policy names its log group before the function exists). */
export const reportFunctionName = (pipelineName: string) => shortName(`${pipelineName}-report`);

export class ReportFunction extends Construct {
  readonly role: ServiceRole;
  readonly fn: LambdaFunction;
  readonly logGroup: CloudwatchLogGroup;
  readonly bundle: ReportBundle;

  constructor(scope: Construct, id: string, props: ReportFunctionProps) {
    super(scope, id);
    const { aws, lake } = props;
    this.bundle = props.bundle;
    const name = reportFunctionName(props.pipelineName);
    this.role = new ServiceRole(this, 'role', {
      name: roleName(`${props.pipelineName}-report`),
      service: 'lambda.amazonaws.com',
      description: `Report Lambda of pipeline ${props.pipelineName}: dashboards from Athena into the lake bucket`,
    });
    this.logGroup = new CloudwatchLogGroup(this, 'logs', { name: `/aws/lambda/${name}`, retentionInDays: props.logRetentionDays, kmsKeyId: props.kmsKeyArn });
    this.role.addToPolicy({ sid: 'WriteOwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${this.logGroup.arn}:*`] });

    // Athena in this workgroup only, over the catalog's tables; the run manifests for the latest runs.
    grantAthenaQueries(this.role, { aws, workgroup: props.workgroup, catalog: props.catalog, lake });
    lake.grantRead(this.role, 'runs');
    lake.lake.grantPut(this.role, `${lake.prefix}${REPORTS_PREFIX}`);
    this.role.addToPolicy({ sid: 'SendFailures', actions: ['sqs:SendMessage'], resources: [props.failures.arn] });
    if (props.kmsKeyArn) this.role.addToPolicy({ sid: 'KmsForEnvironmentAndQueue', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [props.kmsKeyArn] });
    if (props.tracing) this.role.addToPolicy({ sid: 'WriteTraces', actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] });

    const asset = new TerraformAsset(this, 'code', { path: props.bundle.dir, type: AssetType.ARCHIVE, assetHash: props.bundle.hash.slice(0, 32) });
    this.fn = new LambdaFunction(this, 'function', {
      functionName: name,
      description: `Renders the dashboards of pipeline ${props.pipelineName} from Athena into s3://<lake>/${lake.prefix}${REPORTS_PREFIX}report.html`,
      role: this.role.arn,
      runtime: 'nodejs22.x',
      architectures: [props.architecture],
      handler: props.bundle.handler,
      filename: asset.path,
      sourceCodeHash: props.bundle.hash,
      // Vega-Lite compiles every chart in memory; the queries wait on Athena.
      memorySize: 1024,
      timeout: 600,
      environment: {
        variables: {
          LAKE_BUCKET: lake.lake.name,
          LAKE_PREFIX: lake.prefix,
          ATHENA_WORKGROUP: props.workgroup,
          ATHENA_DATABASE: props.catalog.databaseName,
        },
      },
      kmsKeyArn: props.kmsKeyArn,
      ...(props.tracing ? { tracingConfig: { mode: 'Active' } } : {}),
      ...(props.deadLetterQueue ? { deadLetterConfig: { targetArn: props.failures.arn } } : {}),
      loggingConfig: { logFormat: 'Text', logGroup: this.logGroup.name },
      dependsOn: [this.logGroup],
    });
    new LambdaFunctionEventInvokeConfig(this, 'async', {
      functionName: this.fn.functionName,
      maximumRetryAttempts: 0,
      maximumEventAgeInSeconds: 3600,
      ...(props.deadLetterQueue ? {} : { destinationConfig: { onFailure: { destination: props.failures.arn } } }),
    });
  }
}
