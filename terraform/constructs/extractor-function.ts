/**
 * The extractor: the engine's Lambda handler (bundled at synth time, see ../bundle.ts) on a
 * schedule. One function per lake; two runs never write the same stream's state at once because
 * each invocation first takes the lake's lease (core/lambda/lease.ts: `_lease/extractor.json`,
 * a conditional write) and skips its run when another holds it. Reserved concurrency is opt-in
 * (`aws.lambda.reserved_concurrency`): a new account's quota (10) cannot spare any, and the
 * deploy would fail. Failed async invocations (and schedules that could not invoke it)
 * land in an encrypted SQS queue; logs go to a log group with a retention.
 *
 * Schedules: EventBridge Scheduler, one for the pipeline's `schedule` (payload: the streams that
 * have no schedule of their own) and one per stream that declares `schedule` (payload: that
 * stream), each with its own role that may only invoke this function. The same for each pipeline
 * the main one includes (one function serves the lake); an included pipeline whose connector reads
 * uploaded files (the export) is run by an EventBridge rule on Object Created under its
 * `imports/<pipeline>/` prefix instead of a clock.
 */
import { Construct } from 'constructs';
import { AssetType, TerraformAsset } from 'cdktf';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function/index.js';
import { LambdaFunctionEventInvokeConfig } from '@cdktf/provider-aws/lib/lambda-function-event-invoke-config/index.js';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue/index.js';
import { SchedulerSchedule } from '@cdktf/provider-aws/lib/scheduler-schedule/index.js';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule/index.js';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target/index.js';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission/index.js';
import type { ExtractorBundle } from '../bundle.ts';
import { shortName, roleName } from '../names.ts';
import { WRITE_PLAYLIST_ACTION } from '../../core/lambda/events.ts';
import { grantAthenaQueries } from './athena-analytics.ts';
import type { GlueCatalog } from './glue-catalog.ts';
import type { AwsContext } from './glue-transform.ts';
import { ServiceRole } from './iam.ts';
import type { LakeStorage } from './lake-storage.ts';
import { markOwner } from './ownership.ts';

export interface ExtractorFunctionProps {
  pipelineName: string;
  bundle: ExtractorBundle;
  memoryMb: number;
  timeoutSeconds: number;
  architecture: 'arm64' | 'x86_64';
  /** Reserved concurrency; unset by default (the lease keeps runs one at a time). */
  reservedConcurrency?: number;
  /** Days; 0 = never expire (only when loosened explicitly). */
  logRetentionDays: number;
  /** Environment of the function (lake location, secrets prefix, `${env:...}` values). */
  environment: Record<string, string>;
  /** The pipeline's schedule, and the streams it runs. */
  schedule: { expression: string; streams: string[] };
  /** Streams with a schedule of their own. */
  streamSchedules: { stream: string; expression: string }[];
  /**
   * With `recommendations.playlist`: the schedule that writes the recommendations to the user's
   * playlist (`{ pipeline, action: "write-playlist" }`, core/lambda/playlist.ts). The function's
   * role then also needs grantPlaylistRefresh, and its environment ATHENA_WORKGROUP/ATHENA_DATABASE.
   */
  playlistRefresh?: { expression: string; playlist: string };
  /** The pipelines the main one includes: their own schedules, or the upload that runs them. */
  included?: IncludedRuns[];
  /**
   * The pipeline's customer-managed key: encrypts the environment variables, the log group, the
   * failure queue and the schedules (AWS-managed or AWS-owned keys when absent).
   */
  kmsKeyArn?: string;
  /** X-Ray tracing (Active) of the function (profile hardened). */
  tracing?: boolean;
  /** Failed async invocations go to the failure queue as the function's dead-letter queue instead of an on-failure destination (profile hardened). */
  deadLetterQueue?: boolean;
  accountId: string;
}

/** How one included pipeline is run: by clock (its `schedule`, per-stream schedules) and/or by an upload. */
export interface IncludedRuns {
  pipeline: string;
  /** Its `schedule` and the streams it runs (those without their own). */
  schedule?: { expression: string; streams: string[] };
  streamSchedules: { stream: string; expression: string }[];
  /** Run when an object is created under this key prefix of this bucket (the export's `imports/<pipeline>/`). */
  upload?: { bucketName: string; keyPrefix: string; streams: string[] };
}

export class ExtractorFunction extends Construct {
  readonly role: ServiceRole;
  readonly fn: LambdaFunction;
  readonly logGroup: CloudwatchLogGroup;
  readonly failures: SqsQueue;
  readonly schedulerRole: ServiceRole;
  readonly schedules: SchedulerSchedule[] = [];
  /** The weekly playlist refresh (with `recommendations.playlist`). */
  readonly playlistSchedule?: SchedulerSchedule;
  /** Rules that run an included pipeline when its files are uploaded, by pipeline name. */
  readonly uploadRules = new Map<string, CloudwatchEventRule>();
  readonly bundle: ExtractorBundle;
  private readonly kmsKeyArn?: string;

  constructor(scope: Construct, id: string, props: ExtractorFunctionProps) {
    super(scope, id);
    this.bundle = props.bundle;
    const name = shortName(`${props.pipelineName}-extractor`);

    this.role = new ServiceRole(this, 'role', {
      name: roleName(`${props.pipelineName}-extractor`),
      service: 'lambda.amazonaws.com',
      description: `Extractor Lambda of pipeline ${props.pipelineName}`,
    });
    this.logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: `/aws/lambda/${name}`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.kmsKeyArn,
    });
    this.role.addToPolicy({
      sid: 'WriteOwnLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [`${this.logGroup.arn}:*`],
    });
    this.failures = new SqsQueue(this, 'failures', {
      name: `${name}-failures`,
      ...(props.kmsKeyArn ? { kmsMasterKeyId: props.kmsKeyArn } : { sqsManagedSseEnabled: true }),
      messageRetentionSeconds: 14 * 24 * 3600,
    });
    this.role.addToPolicy({ sid: 'SendFailures', actions: ['sqs:SendMessage'], resources: [this.failures.arn] });
    // Sending to a queue encrypted with the key needs a data key; Decrypt for the environment.
    if (props.kmsKeyArn) this.role.addToPolicy({ sid: 'KmsForEnvironmentAndQueue', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [props.kmsKeyArn] });
    if (props.tracing) {
      // X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level permissions: `*` is the only resource they take.
      this.role.addToPolicy({ sid: 'WriteTraces', actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] });
    }

    const asset = new TerraformAsset(this, 'code', { path: props.bundle.dir, type: AssetType.ARCHIVE, assetHash: props.bundle.hash.slice(0, 32) });
    this.fn = new LambdaFunction(this, 'function', {
      functionName: name,
      description: `Extracts the streams of pipeline ${props.pipelineName} into the raw lake`,
      role: this.role.arn,
      runtime: 'nodejs22.x',
      architectures: [props.architecture],
      handler: props.bundle.handler,
      filename: asset.path,
      sourceCodeHash: props.bundle.hash,
      memorySize: props.memoryMb,
      timeout: props.timeoutSeconds,
      // One run at a time is the lease's job (runs share stream state and cursors); reserving
      // concurrency only where the user asks keeps new accounts (quota 10) deployable.
      reservedConcurrentExecutions: props.reservedConcurrency,
      environment: { variables: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' } },
      kmsKeyArn: props.kmsKeyArn,
      ...(props.tracing ? { tracingConfig: { mode: 'Active' } } : {}),
      ...(props.deadLetterQueue ? { deadLetterConfig: { targetArn: this.failures.arn } } : {}),
      loggingConfig: { logFormat: 'Text', logGroup: this.logGroup.name },
      dependsOn: [this.logGroup],
    });
    new LambdaFunctionEventInvokeConfig(this, 'async', {
      functionName: this.fn.functionName,
      // No blind retry: the next scheduled run resumes from the committed state.
      maximumRetryAttempts: 0,
      maximumEventAgeInSeconds: 3600,
      // With a dead-letter queue a destination would record each failure twice.
      ...(props.deadLetterQueue ? {} : { destinationConfig: { onFailure: { destination: this.failures.arn } } }),
    });

    this.schedulerRole = new ServiceRole(this, 'scheduler-role', {
      name: roleName(`${props.pipelineName}-scheduler`),
      service: 'scheduler.amazonaws.com',
      description: `EventBridge Scheduler: invokes the extractor of pipeline ${props.pipelineName}`,
      trustConditions: { StringEquals: { 'aws:SourceAccount': props.accountId } },
    });
    this.schedulerRole.addToPolicy({ sid: 'InvokeExtractor', actions: ['lambda:InvokeFunction'], resources: [this.fn.arn] });
    this.schedulerRole.addToPolicy({ sid: 'SendFailures', actions: ['sqs:SendMessage'], resources: [this.failures.arn] });
    // The schedules are encrypted with the key, and their dead letters go to a queue encrypted with it.
    if (props.kmsKeyArn) this.schedulerRole.addToPolicy({ sid: 'KmsForSchedulesAndQueue', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [props.kmsKeyArn] });
    this.kmsKeyArn = props.kmsKeyArn;

    if (props.schedule.streams.length) {
      this.schedules.push(this.schedule(this, 'schedule', name, props.schedule.expression, props.pipelineName, props.schedule.streams));
    }
    for (const s of props.streamSchedules) {
      const scope = markOwner(new Construct(this, `stream-${s.stream}`), { kind: 'stream', name: s.stream });
      // Stream names have no `-`, so `<name>-<stream>` never collides with another schedule.
      this.schedules.push(this.schedule(scope, 'schedule', shortName(`${name}-${s.stream}`), s.expression, props.pipelineName, [s.stream]));
    }
    for (const inc of props.included ?? []) this.runIncluded(inc);
    if (props.playlistRefresh) {
      const r = props.playlistRefresh;
      this.playlistSchedule = this.schedule(this, 'playlist-schedule', shortName(`${name}-playlist`), r.expression, props.pipelineName, [], {
        description: `Writes the recommendations of pipeline ${props.pipelineName} to the user's playlist "${r.playlist}"`,
        input: { pipeline: props.pipelineName, action: WRITE_PLAYLIST_ACTION },
      });
    }
  }

  private runIncluded(inc: IncludedRuns): void {
    const pipelineScope = new Construct(this, `pipeline-${inc.pipeline}`);
    const ownedBy = (streams: string[], scope: Construct) => (streams.length === 1 ? markOwner(scope, { kind: 'stream', name: streams[0] }) : scope);
    if (inc.schedule?.streams.length) {
      const scope = ownedBy(inc.schedule.streams, new Construct(pipelineScope, 'clock'));
      this.schedules.push(this.schedule(scope, 'schedule', shortName(`${inc.pipeline}-extract`), inc.schedule.expression, inc.pipeline, inc.schedule.streams));
    }
    for (const s of inc.streamSchedules) {
      const scope = markOwner(new Construct(pipelineScope, `stream-${s.stream}`), { kind: 'stream', name: s.stream });
      this.schedules.push(this.schedule(scope, 'schedule', shortName(`${inc.pipeline}-${s.stream}`), s.expression, inc.pipeline, [s.stream]));
    }
    if (!inc.upload) return;
    const scope = ownedBy(inc.upload.streams, new Construct(pipelineScope, 'upload'));
    const rule = new CloudwatchEventRule(scope, 'rule', {
      name: shortName(`${inc.pipeline}-uploaded`),
      description: `A file was uploaded to ${inc.upload.keyPrefix}: run pipeline ${inc.pipeline} (it imports only files it has not imported)`,
      eventPattern: JSON.stringify({
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: { bucket: { name: [inc.upload.bucketName] }, object: { key: [{ prefix: inc.upload.keyPrefix }] } },
      }),
    });
    new CloudwatchEventTarget(scope, 'target', {
      rule: rule.name,
      arn: this.fn.arn,
      input: JSON.stringify({ pipeline: inc.pipeline }),
      // A burst of uploads (a zip and its parts) finds the lease held and skips (or queues behind
      // a reserved concurrency of 1): one retry window is enough, the next upload or run imports whatever is left.
      retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 3600 },
    });
    new LambdaPermission(scope, 'invoke', {
      statementId: `InvokeOnUpload-${inc.pipeline}`,
      action: 'lambda:InvokeFunction',
      functionName: this.fn.functionName,
      principal: 'events.amazonaws.com',
      sourceArn: rule.arn,
    });
    this.uploadRules.set(inc.pipeline, rule);
  }

  private schedule(scope: Construct, id: string, name: string, expression: string, pipeline: string, streams: string[], what?: { description: string; input: object }): SchedulerSchedule {
    return new SchedulerSchedule(scope, id, {
      name,
      groupName: 'default',
      description: what?.description ?? `Runs ${streams.join(', ')} of pipeline ${pipeline}`,
      scheduleExpression: expression,
      scheduleExpressionTimezone: 'UTC',
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      kmsKeyArn: this.kmsKeyArn,
      target: {
        arn: this.fn.arn,
        roleArn: this.schedulerRole.arn,
        input: JSON.stringify(what?.input ?? { pipeline, streams }),
        retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 3600 },
        deadLetterConfig: { arn: this.failures.arn },
      },
    });
  }

  /** The playlist refresh reads the recommendations through Athena (the lake's workgroup and catalog). */
  grantPlaylistRefresh(o: { aws: AwsContext; workgroup: string; catalog: GlueCatalog; lake: LakeStorage }): void {
    grantAthenaQueries(this.role, o);
  }

  grantInvoke(role: ServiceRole): void {
    role.addToPolicy({ sid: 'InvokeExtractor', actions: ['lambda:InvokeFunction'], resources: [this.fn.arn] });
  }
}
