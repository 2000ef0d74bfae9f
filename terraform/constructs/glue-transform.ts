/**
 * The transform at Spark scale: a Glue 5.0 job running glue-jobs/transform_job.py over the
 * per-table specs (one S3 object per table), started whenever a run commits.
 *
 * Code: the script, and next to it one zip passed as `--extra-py-files` holding the modules it
 * imports (lake_io.py) and the data they read (job-args.json). Glue puts that zip on the Python
 * path, not in a folder: a .json given to --extra-py-files is no module, and one given to
 * --extra-files lands in the working directory, not next to lake_io. Inside the zip, lake_io
 * reads job-args.json with `pkgutil.get_data(__name__, "job-args.json")`, which works the same
 * from the zip (zipimport) and from glue-jobs/ on disk (tests, local runs).
 *
 * Arguments: the script's own argument names come from glue-jobs/job-args.json, the list
 * lake_io parses; the synth fails when the stack would pass a name the list does not know or
 * leave out one it requires.
 *
 * Trigger: the extractor writes `_runs/<run id>.json` last; the lake bucket sends Object Created
 * events to EventBridge, and a rule on that key pattern starts a small Step Functions machine
 * that takes the run id from the key and calls glue:StartJobRun with `--run_id` (the job then
 * rebuilds only the partitions that run delivered). Why not the alternatives: EventBridge cannot
 * target a Glue job directly; a Glue EVENT trigger needs a Glue workflow and, like a direct
 * start, fails when the previous transform is still running (max concurrent runs is 1). The
 * state machine retries ConcurrentRunsExceededException with backoff, so a run that commits
 * mid-transform is never lost, and there is no starter code to maintain.
 *
 * Security: a Glue security configuration encrypts what the job writes to S3, its CloudWatch
 * logs and its job bookmarks. CloudWatch and bookmark encryption need a KMS key: the
 * pipeline's `aws.kms_key_arn`, or else a key this construct creates (with rotation).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Construct } from 'constructs';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule/index.js';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target/index.js';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { GlueJob } from '@cdktf/provider-aws/lib/glue-job/index.js';
import { GlueSecurityConfiguration } from '@cdktf/provider-aws/lib/glue-security-configuration/index.js';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias/index.js';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key/index.js';
import { S3Object } from '@cdktf/provider-aws/lib/s3-object/index.js';
import { SfnStateMachine } from '@cdktf/provider-aws/lib/sfn-state-machine/index.js';
import type { TableSpec } from '../../core/config/types.ts';
import jobArgs from '../../glue-jobs/job-args.json' with { type: 'json' };
import { escapeTf, roleName, shortName } from '../names.ts';
import { zipFiles } from '../zip.ts';
import { ServiceRole } from './iam.ts';
import { ARTIFACT_PREFIXES, type LakeStorage } from './lake-storage.ts';
import { markOwner } from './ownership.ts';

export interface AwsContext {
  accountId: string;
  region: string;
  partition: string;
}

export interface GlueTransformProps {
  pipelineName: string;
  lake: LakeStorage;
  tables: Record<string, TableSpec>;
  /** The PySpark script (glue-jobs/transform_job.py); a missing one fails the synth. */
  scriptFile: string;
  /**
   * Files the script imports or its modules read (glue-jobs/lake_io.py, glue-jobs/job-args.json),
   * shipped at the root of one zip passed as `--extra-py-files`; a missing one fails the synth.
   */
  moduleFiles: string[];
  /** The content of a table's spec object. */
  specFor: (table: string, spec: TableSpec) => string;
  /**
   * The derived tables' spec objects by table name (`derived/<name>.json`: the recommendations),
   * which the job builds from the curated tables after writing them.
   */
  derivedSpecs?: Record<string, string>;
  workers: number;
  workerType: string;
  timeoutMinutes: number;
  logRetentionDays: number;
  /** The pipeline's customer-managed key; a key is created for logs and bookmarks when absent. */
  kmsKeyArn?: string;
  /** X-Ray tracing of the starter state machine (profile hardened). */
  tracing?: boolean;
  /** The report function (ARN) the state machine invokes once the job has finished; none: the machine only starts the job. */
  reportFunctionArn?: string;
  aws: AwsContext;
}

export class GlueTransform extends Construct {
  readonly job: GlueJob;
  readonly role: ServiceRole;
  readonly securityConfiguration: GlueSecurityConfiguration;
  readonly key?: KmsKey;
  readonly logGroups: CloudwatchLogGroup[] = [];
  readonly starter: SfnStateMachine;
  readonly starterRole: ServiceRole;
  readonly eventsRole: ServiceRole;
  readonly runCommitted: CloudwatchEventRule;
  readonly script: S3Object;
  /** The zip of `moduleFiles` (`--extra-py-files`). */
  readonly modules: S3Object;
  readonly specs = new Map<string, S3Object>();
  readonly derivedSpecs = new Map<string, S3Object>();
  /** The state machine waits for the job and then renders the report. */
  readonly reports: boolean;

  constructor(scope: Construct, id: string, props: GlueTransformProps) {
    super(scope, id);
    const { aws, lake } = props;
    this.reports = !!props.reportFunctionArn;
    const name = shortName(`${props.pipelineName}-transform`);
    const logPrefix = `/aws-glue/jobs/${name}`;
    const logArn = (group: string) => `arn:${aws.partition}:logs:${aws.region}:${aws.accountId}:log-group:${group}`;

    let keyArn = props.kmsKeyArn;
    if (!keyArn) {
      this.key = new KmsKey(this, 'key', {
        description: `Encrypts the Glue transform logs and job bookmarks of pipeline ${props.pipelineName}`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: JSON.stringify(keyPolicy(aws, `${logPrefix}*`)),
      });
      new KmsAlias(this, 'key-alias', { name: `alias/${name}`, targetKeyId: this.key.keyId });
      keyArn = this.key.arn;
    }

    this.securityConfiguration = new GlueSecurityConfiguration(this, 'security', {
      name,
      encryptionConfiguration: {
        s3Encryption: props.kmsKeyArn ? { s3EncryptionMode: 'SSE-KMS', kmsKeyArn: props.kmsKeyArn } : { s3EncryptionMode: 'SSE-S3' },
        cloudwatchEncryption: { cloudwatchEncryptionMode: 'SSE-KMS', kmsKeyArn: keyArn },
        jobBookmarksEncryption: { jobBookmarksEncryptionMode: 'CSE-KMS', kmsKeyArn: keyArn },
      },
    });

    // Glue 5.0 writes to <prefix>/output and <prefix>/error; continuous logs of an encrypted job
    // go to <group>-<security configuration>. Created here so they have a retention.
    const groups = { output: `${logPrefix}/output`, error: `${logPrefix}/error`, continuous: `${logPrefix}-${name}` };
    for (const [kind, group] of Object.entries(groups)) {
      this.logGroups.push(
        new CloudwatchLogGroup(this, `logs-${kind}`, {
          name: group,
          retentionInDays: props.logRetentionDays,
          kmsKeyId: keyArn,
        }),
      );
    }

    // No placeholder: a stack whose transform cannot run must not synthesize.
    if (!existsSync(props.scriptFile)) throw new Error(`the Glue job script ${props.scriptFile} does not exist: nothing could build the tables in AWS`);
    const scriptKey = `${ARTIFACT_PREFIXES.glueJobs}transform_job.py`;
    this.script = new S3Object(this, 'script', {
      bucket: lake.artifacts.bucket.id,
      key: scriptKey,
      contentType: 'text/x-python',
      content: escapeTf(readFileSync(props.scriptFile, 'utf8')),
    });
    for (const f of props.moduleFiles) {
      if (!existsSync(f)) throw new Error(`${f} does not exist: the Glue job script imports it (or its modules read it) and would fail at start`);
    }
    const modulesKey = `${ARTIFACT_PREFIXES.glueJobs}${GLUE_MODULES_ZIP}`;
    this.modules = new S3Object(this, 'modules', {
      bucket: lake.artifacts.bucket.id,
      key: modulesKey,
      contentType: 'application/zip',
      contentBase64: zipFiles(props.moduleFiles.map((f) => ({ name: basename(f), data: readFileSync(f) }))).toString('base64'),
    });
    for (const [table, spec] of Object.entries(props.tables)) {
      const owner = markOwner(new Construct(this, `table-${table}`), { kind: 'table', name: table });
      this.specs.set(
        table,
        new S3Object(owner, 'spec', {
          bucket: lake.artifacts.bucket.id,
          key: `${ARTIFACT_PREFIXES.specs}${table}.json`,
          contentType: 'application/json',
          content: escapeTf(props.specFor(table, spec)),
        }),
      );
    }
    for (const [table, content] of Object.entries(props.derivedSpecs ?? {})) {
      const owner = markOwner(new Construct(this, `table-${table}`), { kind: 'table', name: table });
      this.derivedSpecs.set(
        table,
        new S3Object(owner, 'spec', {
          bucket: lake.artifacts.bucket.id,
          key: `${ARTIFACT_PREFIXES.specs}derived/${table}.json`,
          contentType: 'application/json',
          content: escapeTf(content),
        }),
      );
    }

    this.role = new ServiceRole(this, 'role', {
      name: roleName(name),
      service: 'glue.amazonaws.com',
      description: `Glue transform job of pipeline ${props.pipelineName}`,
      trustConditions: { StringEquals: { 'aws:SourceAccount': aws.accountId } },
    });
    lake.grantRead(this.role, 'raw', 'runs');
    lake.grantReadWrite(this.role, 'curated', 'quarantine');
    // A table build swaps partitions in (staging -> live -> trash) and clears the old ones.
    lake.grantDelete(this.role, 'curated', 'quarantine');
    lake.artifacts.grantRead(this.role, ARTIFACT_PREFIXES.glueJobs);
    lake.artifacts.grantReadWrite(this.role, ARTIFACT_PREFIXES.glueTemp);
    lake.artifacts.grantDelete(this.role, ARTIFACT_PREFIXES.glueTemp);
    // No Glue catalog access: the script reads raw through the run manifests and writes Parquet by
    // path (temp views only, no saveAsTable), and the catalog's tables use partition projection.
    this.role.addToPolicy({
      sid: 'WriteOwnLogs',
      actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:AssociateKmsKey'],
      resources: [logArn(`${logPrefix}*`)],
    });
    this.role.addToPolicy({ sid: 'KmsForLogsAndBookmarks', actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'], resources: [keyArn] });

    this.job = new GlueJob(this, 'job', {
      name,
      description: `Builds the curated tables of pipeline ${props.pipelineName} from committed raw data (Spark)`,
      roleArn: this.role.arn,
      glueVersion: '5.0',
      command: { name: 'glueetl', pythonVersion: '3', scriptLocation: lake.artifacts.url(scriptKey) },
      workerType: props.workerType,
      numberOfWorkers: props.workers,
      timeout: props.timeoutMinutes,
      maxRetries: 0,
      executionProperty: { maxConcurrentRuns: 1 },
      securityConfiguration: this.securityConfiguration.name,
      defaultArguments: {
        '--job-language': 'python',
        '--enable-continuous-cloudwatch-log': 'true',
        '--continuous-log-logGroup': logPrefix,
        '--custom-logGroup-prefix': logPrefix,
        // The job finds its input through the run manifests (and --run_id), not Glue's bookmarks.
        '--job-bookmark-option': 'job-bookmark-disable',
        '--TempDir': lake.artifacts.url(ARTIFACT_PREFIXES.glueTemp),
        '--extra-py-files': lake.artifacts.url(modulesKey),
        ...scriptArguments(
          {
            lake_bucket: lake.lake.name,
            // Never empty: an argument without a value may not survive Glue's argument passing, and
            // lake_io reads `/` as the bucket root (its prefixes are normalized without slashes).
            lake_prefix: lake.prefix || '/',
            // Specs are listed, not named: adding a table adds an object, it does not change the job.
            spec_prefix: lake.artifacts.url(ARTIFACT_PREFIXES.specs),
          },
          STARTER_ARGUMENTS,
        ),
      },
      dependsOn: [...this.logGroups, this.script, this.modules],
    });

    // The starter: the committed run's id from the manifest's key, then glue:StartJobRun with a
    // retry for a transform that is still running.
    this.starterRole = new ServiceRole(this, 'starter-role', {
      name: roleName(`${name}-starter`),
      service: 'states.amazonaws.com',
      description: `Starts the Glue transform of pipeline ${props.pipelineName}`,
      trustConditions: { StringEquals: { 'aws:SourceAccount': aws.accountId } },
    });
    this.grantStart(this.starterRole);
    if (props.reportFunctionArn) {
      // startJobRun.sync: Step Functions follows the run (GetJobRun) and stops it if the execution is stopped.
      this.starterRole.addToPolicy({ sid: 'StartTransform', actions: ['glue:GetJobRun', 'glue:GetJobRuns', 'glue:BatchStopJobRun'], resources: [this.job.arn] });
      this.starterRole.addToPolicy({ sid: 'InvokeReport', actions: ['lambda:InvokeFunction'], resources: [props.reportFunctionArn] });
    }
    if (props.tracing) {
      // Step Functions sends traces with the machine's role; these X-Ray actions take no resource but `*`.
      this.starterRole.addToPolicy({ sid: 'WriteTraces', actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'], resources: ['*'] });
    }
    this.starter = new SfnStateMachine(this, 'starter', {
      name: `${name}-starter`,
      type: 'STANDARD',
      roleArn: this.starterRole.arn,
      ...(props.tracing ? { tracingConfiguration: { enabled: true } } : {}),
      definition: JSON.stringify(
        starterDefinition({
          comment: props.reportFunctionArn
            ? `Runs ${name} when a run of pipeline ${props.pipelineName} commits, then renders the report`
            : `Starts ${name} when a run of pipeline ${props.pipelineName} commits`,
          jobName: this.job.name,
          startJobRun: `arn:${aws.partition}:states:::glue:startJobRun`,
          ...(props.reportFunctionArn ? { report: { functionArn: props.reportFunctionArn, invoke: `arn:${aws.partition}:states:::lambda:invoke` } } : {}),
        }),
      ),
    });

    this.runCommitted = new CloudwatchEventRule(this, 'run-committed', {
      name: shortName(`${props.pipelineName}-run-committed`),
      description: `A run of pipeline ${props.pipelineName} committed its manifest: start the transform`,
      eventPattern: JSON.stringify({
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: {
          bucket: { name: [lake.lake.name] },
          object: { key: [{ wildcard: `${lake.prefix}_runs/*.json` }] },
        },
      }),
    });
    this.eventsRole = new ServiceRole(this, 'events-role', {
      name: roleName(`${props.pipelineName}-run-committed`),
      service: 'events.amazonaws.com',
      description: `EventBridge: starts the transform of pipeline ${props.pipelineName} when a run commits`,
      trustConditions: { StringEquals: { 'aws:SourceAccount': aws.accountId } },
    });
    this.eventsRole.addToPolicy({ sid: 'StartTransformStarter', actions: ['states:StartExecution'], resources: [this.starter.arn] });
    new CloudwatchEventTarget(this, 'run-committed-target', {
      rule: this.runCommitted.name,
      arn: this.starter.arn,
      roleArn: this.eventsRole.arn,
    });
  }

  grantStart(role: ServiceRole): void {
    role.addToPolicy({ sid: 'StartTransform', actions: ['glue:StartJobRun'], resources: [this.job.arn] });
  }
}

/** The zip of the job's Python modules, next to the script in the artifacts bucket. */
export const GLUE_MODULES_ZIP = 'lake_io.zip';

/** The script's own arguments, as glue-jobs/job-args.json lists them (without the leading `--`). */
export const JOB_ARGUMENTS: { required: readonly string[]; optional: readonly string[] } = { required: jobArgs.required, optional: jobArgs.optional };

/** The script argument the starter passes per run: the committed run's id. */
const RUN_ID = 'run_id';
/** The script arguments the starter passes per run (over the job's default arguments). */
export const STARTER_ARGUMENTS: readonly string[] = [RUN_ID];

/**
 * The job's default arguments for the script, as `--name: value`, checked against
 * glue-jobs/job-args.json together with the names the starter adds per run: a name the script
 * does not know, or a required one left out, fails the synth naming it.
 */
export function scriptArguments(defaults: Record<string, string>, perRun: readonly string[]): Record<string, string> {
  const known = new Set([...JOB_ARGUMENTS.required, ...JOB_ARGUMENTS.optional]);
  for (const name of [...Object.keys(defaults), ...perRun]) {
    if (!known.has(name)) throw new Error(`the stack passes --${name} to the Glue job, but glue-jobs/job-args.json does not list it: the script would ignore it`);
  }
  for (const name of JOB_ARGUMENTS.required) {
    if (defaults[name] === undefined) throw new Error(`glue-jobs/job-args.json requires --${name}, but the stack does not pass it to the Glue job: every run would fail`);
  }
  return Object.fromEntries(Object.entries(defaults).map(([k, v]) => [`--${k}`, v]));
}

/**
 * The starter's Amazon States Language: JSONPath with intrinsic functions, evaluated by Step
 * Functions itself (no code to deploy). The input is EventBridge's Object Created event; its
 * `detail.object.key` is `<lake prefix>_runs/<run id>.json`.
 *
 * - `RunOfKey` keeps the key's last segment, `<run id>.json` (the prefix may have any number of
 *   segments, so the segment is counted from the end).
 * - `OneRun`: the run id is what precedes `.json`. States.StringSplit splits at every `.`, so a
 *   run id is taken only from a name with exactly one dot and something before it (the engine's
 *   run ids have no dot: `20261204T193436123Z-9f9da3`); any other name starts a full rebuild (no
 *   `--run_id`), which is always correct, instead of the job reading up to a wrong run.
 * - `StartTransform` calls glue:StartJobRun with those arguments (merged over the job's defaults
 *   by Glue) and retries while the previous transform is still running.
 * - With a report (the pipeline has dashboards): StartTransform waits for the job run to end
 *   (`.sync`; a failed run fails the execution), keeps its input (ResultPath null), and `Report`
 *   invokes the report function with the run's arguments. Lambda's own transient errors are
 *   retried; the function's errors (a failed panel, its timeout) are not caught: the execution
 *   fails, and the starter's ExecutionsFailed alarm says so (alarms.ts).
 */
export function starterDefinition(opts: { comment: string; jobName: string; startJobRun: string; report?: { functionArn: string; invoke: string } }) {
  const key = '$.detail.object.key';
  const segments = `States.StringSplit(${key}, '/')`;
  return {
    Comment: opts.comment,
    StartAt: 'RunOfKey',
    States: {
      RunOfKey: {
        Type: 'Pass',
        Parameters: { 'file.$': `States.ArrayGetItem(${segments}, States.MathAdd(States.ArrayLength(${segments}), -1))` },
        Next: 'OneRun',
      },
      OneRun: {
        Type: 'Choice',
        Choices: [
          {
            And: [{ Not: { Variable: '$.file', StringMatches: '*.*.json' } }, { Not: { Variable: '$.file', StringEquals: '.json' } }],
            Next: 'Incremental',
          },
        ],
        Default: 'FullRebuild',
      },
      Incremental: {
        Type: 'Pass',
        Parameters: { arguments: { [`--${RUN_ID}.$`]: "States.ArrayGetItem(States.StringSplit($.file, '.'), 0)" } },
        Next: 'StartTransform',
      },
      FullRebuild: {
        Type: 'Pass',
        Result: { arguments: {} },
        Next: 'StartTransform',
      },
      StartTransform: {
        Type: 'Task',
        Resource: opts.report ? `${opts.startJobRun}.sync` : opts.startJobRun,
        Parameters: { JobName: opts.jobName, 'Arguments.$': '$.arguments' },
        Retry: [{ ErrorEquals: ['Glue.ConcurrentRunsExceededException'], IntervalSeconds: 120, BackoffRate: 2, MaxAttempts: 6 }],
        ...(opts.report ? { ResultPath: null, Next: 'Report' } : { End: true }),
      },
      ...(opts.report
        ? {
            Report: {
              Type: 'Task',
              Resource: opts.report.invoke,
              Parameters: { FunctionName: opts.report.functionArn, Payload: { 'arguments.$': '$.arguments' } },
              Retry: [{ ErrorEquals: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'], IntervalSeconds: 5, BackoffRate: 2, MaxAttempts: 4 }],
              End: true,
            },
          }
        : {}),
    },
  };
}

/**
 * The statement of every key policy the stack writes: the account keeps administering the key
 * without `kms:*` (the actions are listed, PutKeyPolicy included so nobody is ever locked out) and
 * IAM policies may grant its use. `grants`: services that take grants (Lambda, SNS with a key) may be
 * delegated them.
 */
export function accountAdministersKey(aws: AwsContext, opts: { grants?: boolean } = {}) {
  return {
    Sid: 'AccountAdministersAndDelegatesToIam',
    Effect: 'Allow',
    Principal: { AWS: `arn:${aws.partition}:iam::${aws.accountId}:root` },
    Action: [
      'kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:PutKeyPolicy', 'kms:GetKeyRotationStatus', 'kms:EnableKeyRotation',
      'kms:ListResourceTags', 'kms:TagResource', 'kms:UntagResource', 'kms:UpdateKeyDescription', 'kms:EnableKey',
      'kms:DisableKey', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion', 'kms:CreateAlias', 'kms:DeleteAlias',
      'kms:UpdateAlias', ...(opts.grants ? ['kms:CreateGrant'] : []), 'kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey',
    ],
    Resource: '*',
  };
}

/**
 * The created key's policy. The account keeps administering it (without `kms:*`: actions are
 * listed, PutKeyPolicy included so nobody is ever locked out); IAM policies may grant its use
 * (the Glue role's does); CloudWatch Logs may use it for this pipeline's Glue log groups only.
 */
function keyPolicy(aws: AwsContext, logGroupPattern: string) {
  return {
    Version: '2012-10-17',
    Statement: [
      accountAdministersKey(aws),
      {
        Sid: 'CloudWatchLogsEncryptsGlueLogs',
        Effect: 'Allow',
        Principal: { Service: `logs.${aws.region}.amazonaws.com` },
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        Resource: '*',
        Condition: {
          ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${aws.partition}:logs:${aws.region}:${aws.accountId}:log-group:${logGroupPattern}` },
        },
      },
    ],
  };
}
