/**
 * The `aws:` section of pipeline.yaml as the deployment reads it, with every default in one
 * place. config/pipeline.schema.json documents and validates each key; this module only fills in
 * what the user left out. Secure settings default to secure: loosening one is an explicit key
 * (`aws.buckets.public_access: allow`, `aws.buckets.encryption: none`, ...) and makes
 * `spotify-pipeline plan` fail the matching check.
 */
import type { AwsSettings, PipelineConfig } from '../core/config/types.ts';

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** Keys of `aws:` beyond the ones core/config/types.ts models (the schema is the source of truth). */
export interface AwsDeploySettings extends AwsSettings {
  lambda?: AwsSettings['lambda'] & { architecture?: 'arm64' | 'x86_64'; reserved_concurrency?: number };
  glue?: AwsSettings['glue'] & { worker_type?: string; timeout_minutes?: number };
  lifecycle?: AwsSettings['lifecycle'] & {
    raw_archive_days?: number;
    noncurrent_version_expiration_days?: number;
    abort_incomplete_upload_days?: number;
    curated_noncurrent_days?: number;
    state_noncurrent_days?: number;
    expired_delete_markers?: boolean;
  };
  secrets?: { recovery_window_days?: number };
  alarm_topic_arn?: string;
  profile?: 'default' | 'hardened';
  log_retention_days?: number | 'never';
  access_logging?: { bucket?: string; prefix?: string };
  buckets?: {
    public_access?: 'block' | 'allow';
    encryption?: 'sse' | 'none';
    tls_only?: boolean;
    raw_versioning?: boolean;
    name_suffix?: BucketNameSuffix;
  };
  backend?: { s3?: { bucket: string; key?: string; region?: string } };
}

/** What `aws.buckets.name_suffix` appends to every bucket name (computed at plan time from the data sources). */
export type BucketNameSuffix = 'none' | 'account' | 'region' | 'account-region';

/** Every deployment setting with its default applied. */
export interface DeploySettings {
  region?: string;
  /** `aws.profile`: hardened implies a stack-created key, access logs, tracing, a DLQ (see `hardening`). */
  profile: 'default' | 'hardened';
  kmsKeyArn?: string;
  /**
   * What the profile turns on (all false in the default profile): `createKey` a customer-managed
   * key when kms_key_arn is absent; `tracing` X-Ray for the Lambda and the state machine;
   * `deadLetterQueue` the Lambda's DLQ; `allBuckets` versioning and event notifications on every bucket.
   */
  hardening: { createKey: boolean; tracing: boolean; deadLetterQueue: boolean; allBuckets: boolean };
  /**
   * reservedConcurrency: opt-in (`aws.lambda.reserved_concurrency`); unset by default, because a
   * new account's concurrency quota (10) cannot spare any. One run at a time is the S3 lease's job.
   */
  lambda: { memoryMb: number; timeoutSeconds: number; architecture: 'arm64' | 'x86_64'; reservedConcurrency?: number };
  glue: { workers: number; workerType: string; timeoutMinutes: number };
  athena: { bytesScannedCutoff: number };
  lifecycle: {
    rawTransitionDays: number;
    rawArchiveDays?: number;
    rawExpirationDays?: number;
    /** Noncurrent versions of raw/, _runs/, imports/ and anything else in the versioned lake bucket. */
    noncurrentVersionExpirationDays: number;
    /** Noncurrent versions of curated/ and quarantine/ (rebuilt by every transform). */
    curatedNoncurrentDays: number;
    /** Noncurrent versions of _state/ and _lease/ (rewritten by every run). */
    stateNoncurrentDays: number;
    queryResultsExpirationDays: number;
    abortIncompleteUploadDays: number;
    /** Remove delete markers left with no noncurrent version behind them (versioned lake bucket). */
    expiredDeleteMarkers: boolean;
  };
  /** Days a deleted secret can be restored; 0 = deleted at once (a redeploy can reuse its name). */
  secrets: { recoveryWindowDays: number };
  /** 0 = never expire (loosened explicitly with `never`). */
  logRetentionDays: number;
  alarmEmail?: string;
  alarmTopicArn?: string;
  accessLogging?: { bucket?: string; prefix: string };
  buckets: { blockPublicAccess: boolean; encrypt: boolean; tlsOnly: boolean; rawVersioning: boolean; nameSuffix: BucketNameSuffix };
  backend?: { bucket: string; key: string; region?: string; source: 'env' | 'pipeline.yaml' };
  /** The default schedule when pipeline.yaml has none. */
  schedule: string;
  /** `aws.quicksight` (off when absent): who owns the data source and datasets, and the users the cost estimate counts. */
  quicksight?: { principalArn: string; authors: number; readers: number };
}

export const DEFAULTS = {
  memoryMb: 512,
  timeoutSeconds: 900,
  glueWorkers: 2,
  glueWorkerType: 'G.1X',
  glueTimeoutMinutes: 60,
  // 1 GiB: a personal listening lake scans kilobytes; a runaway query stops at a few cents.
  bytesScannedCutoff: 1024 ** 3,
  // Raw is re-read by every transform run, so it stays in Standard for a quarter before IA.
  rawTransitionDays: 90,
  noncurrentVersionExpirationDays: 30,
  // curated is rebuilt from raw by every transform, and _state/_lease are rewritten by every run:
  // a week of copies is enough to roll back a bad build or a damaged cursor.
  curatedNoncurrentDays: 7,
  stateNoncurrentDays: 7,
  queryResultsExpirationDays: 30,
  abortIncompleteUploadDays: 7,
  logRetentionDays: 30,
  // Secrets Manager's own default; 0 (force delete) is an explicit choice: a deleted secret is gone.
  secretRecoveryWindowDays: 7,
  /** Profile hardened: a year, what checkov's CKV_AWS_338 asks. */
  hardenedLogRetentionDays: 365,
  schedule: 'rate(1 day)',
  /** aws.quicksight: the one author who builds analyses over the datasets, no readers. */
  quicksightAuthors: 1,
  quicksightReaders: 0,
} as const;

export function awsSettings(pipeline: PipelineConfig): AwsDeploySettings {
  return (pipeline.aws ?? {});
}

/**
 * The deployment's settings. `env` may name an S3 state backend (TF_STATE_BUCKET, TF_STATE_KEY,
 * TF_STATE_REGION), which wins over `aws.backend` so CI can pick the state without editing
 * pipeline.yaml.
 */
export function deploySettings(pipeline: PipelineConfig, env: Record<string, string | undefined> = {}): DeploySettings {
  const aws = awsSettings(pipeline);
  const hardened = aws.profile === 'hardened';
  const retention = aws.log_retention_days === 'never' ? 0 : (aws.log_retention_days ?? (hardened ? DEFAULTS.hardenedLogRetentionDays : DEFAULTS.logRetentionDays));
  // Hardened turns access logging on (a created log bucket) unless aws.access_logging says where.
  const accessLogging = aws.access_logging ?? (hardened ? {} : undefined);
  const b = aws.buckets ?? {};
  let backend: DeploySettings['backend'];
  const defaultKey = `${pipeline.name}/terraform.tfstate`;
  if (env.TF_STATE_BUCKET) {
    backend = { bucket: env.TF_STATE_BUCKET, key: env.TF_STATE_KEY || defaultKey, region: env.TF_STATE_REGION || aws.region, source: 'env' };
  } else if (aws.backend?.s3) {
    const s3 = aws.backend.s3;
    backend = { bucket: s3.bucket, key: s3.key ?? defaultKey, region: s3.region ?? aws.region, source: 'pipeline.yaml' };
  }
  return {
    region: aws.region,
    profile: hardened ? 'hardened' : 'default',
    kmsKeyArn: aws.kms_key_arn,
    hardening: { createKey: hardened && !aws.kms_key_arn, tracing: hardened, deadLetterQueue: hardened, allBuckets: hardened },
    lambda: {
      memoryMb: aws.lambda?.memory_mb ?? DEFAULTS.memoryMb,
      timeoutSeconds: aws.lambda?.timeout_seconds ?? DEFAULTS.timeoutSeconds,
      architecture: aws.lambda?.architecture ?? 'arm64',
      reservedConcurrency: aws.lambda?.reserved_concurrency,
    },
    glue: {
      workers: aws.glue?.workers ?? DEFAULTS.glueWorkers,
      workerType: aws.glue?.worker_type ?? DEFAULTS.glueWorkerType,
      timeoutMinutes: aws.glue?.timeout_minutes ?? DEFAULTS.glueTimeoutMinutes,
    },
    athena: { bytesScannedCutoff: aws.athena?.bytes_scanned_cutoff ?? DEFAULTS.bytesScannedCutoff },
    lifecycle: {
      rawTransitionDays: aws.lifecycle?.raw_transition_days ?? DEFAULTS.rawTransitionDays,
      rawArchiveDays: aws.lifecycle?.raw_archive_days,
      rawExpirationDays: aws.lifecycle?.raw_expiration_days,
      noncurrentVersionExpirationDays: aws.lifecycle?.noncurrent_version_expiration_days ?? DEFAULTS.noncurrentVersionExpirationDays,
      curatedNoncurrentDays: aws.lifecycle?.curated_noncurrent_days ?? DEFAULTS.curatedNoncurrentDays,
      stateNoncurrentDays: aws.lifecycle?.state_noncurrent_days ?? DEFAULTS.stateNoncurrentDays,
      queryResultsExpirationDays: aws.lifecycle?.query_results_expiration_days ?? DEFAULTS.queryResultsExpirationDays,
      abortIncompleteUploadDays: aws.lifecycle?.abort_incomplete_upload_days ?? DEFAULTS.abortIncompleteUploadDays,
      expiredDeleteMarkers: aws.lifecycle?.expired_delete_markers !== false,
    },
    secrets: { recoveryWindowDays: aws.secrets?.recovery_window_days ?? DEFAULTS.secretRecoveryWindowDays },
    logRetentionDays: retention,
    alarmEmail: aws.alarm_email,
    alarmTopicArn: aws.alarm_topic_arn,
    accessLogging: accessLogging ? { bucket: accessLogging.bucket, prefix: accessLogging.prefix ?? '' } : undefined,
    buckets: {
      blockPublicAccess: b.public_access !== 'allow',
      encrypt: b.encryption !== 'none',
      tlsOnly: b.tls_only !== false,
      rawVersioning: b.raw_versioning !== false,
      nameSuffix: b.name_suffix ?? 'none',
    },
    backend,
    schedule: pipeline.schedule ?? DEFAULTS.schedule,
    ...(aws.quicksight ? { quicksight: { principalArn: aws.quicksight.principal_arn, authors: aws.quicksight.authors ?? DEFAULTS.quicksightAuthors, readers: aws.quicksight.readers ?? DEFAULTS.quicksightReaders } } : {}),
  };
}
