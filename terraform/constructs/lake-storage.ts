/**
 * The lake's S3 storage: three buckets, each with the secure defaults of SecureBucket.
 *
 * - the lake bucket (storage.s3.bucket) holds raw/, _runs/, _state/, curated/ and quarantine/
 *   under one prefix. These are prefixes of one bucket, not buckets of their own, because the
 *   engine's storage contract is one root whose keys are the same on disk and in S3 (a local
 *   lake copied to S3 is a valid S3 lake). The bucket is versioned for raw's sake (raw is the
 *   source of truth and must survive an accidental overwrite or delete); curated is rebuilt by
 *   every transform, so noncurrent versions expire after a few weeks.
 * - the Athena results bucket: query results, expired after N days.
 * - the artifacts bucket: the Glue script, the per-table specs and Glue's temp dir.
 * - with `aws.access_logging` and no target bucket given, an access-log bucket (SSE-S3: S3
 *   server access logging cannot deliver to SSE-KMS buckets).
 */
import { Construct } from 'constructs';
import type { DeploySettings } from '../settings.ts';
import { bucketName } from '../names.ts';
import { SecureBucket, type LifecycleRule } from './secure-bucket.ts';
import type { ServiceRole } from './iam.ts';

/** Areas of the lake (key prefixes below the lake prefix); the same on disk. */
export const LAKE_AREAS = {
  raw: 'raw/',
  runs: '_runs/',
  state: '_state/',
  curated: 'curated/',
  quarantine: 'quarantine/',
  /** Files users upload for connectors that read files (the export: `imports/<pipeline>/`). */
  imports: 'imports/',
  /** The extractor's lease: one run at a time on the lake (core/lambda/lease.ts). */
  lease: '_lease/',
  /** Corrupt manifests and state moved aside instead of failing every run (core/engine/quarantine.ts). */
  aside: '_quarantine/',
} as const;
export type LakeArea = keyof typeof LAKE_AREAS;

/** Prefixes in the artifacts bucket. */
export const ARTIFACT_PREFIXES = { glueJobs: 'glue-jobs/', specs: 'glue-jobs/specs/', glueTemp: 'glue-temp/' } as const;

export interface LakeStorageProps {
  /** The lake bucket's name (storage.s3.bucket). */
  bucketName: string;
  /** The lake's prefix inside the bucket: '' or `prefix/`. */
  prefix: string;
  settings: DeploySettings;
  /** For the access-log bucket policy's aws:SourceAccount condition. */
  accountId: string;
}

export class LakeStorage extends Construct {
  readonly lake: SecureBucket;
  readonly results: SecureBucket;
  readonly artifacts: SecureBucket;
  readonly accessLogs?: SecureBucket;
  readonly prefix: string;
  /** Backwards-compatible alias of `lake.bucket`. */
  readonly bucket;

  constructor(scope: Construct, id: string, props: LakeStorageProps) {
    super(scope, id);
    const s = props.settings;
    const lc = s.lifecycle;
    this.prefix = props.prefix;
    validateLifecycle(lc);

    // Profile hardened: every bucket versioned (noncurrent copies expire) and sending events (checkov CKV_AWS_21, CKV2_AWS_62).
    const everyBucket = s.hardening.allBuckets ? { versioned: true, eventBridge: true } : {};
    const noncurrent: LifecycleRule[] = s.hardening.allBuckets ? [{ id: 'expire-noncurrent-versions', noncurrentExpirationDays: lc.noncurrentVersionExpirationDays }] : [];
    let logTarget: ((bucket: string) => { bucket: string; prefix: string }) | undefined;
    if (s.accessLogging) {
      const logging = s.accessLogging;
      if (!logging.bucket) {
        const name = bucketName(`${props.bucketName}-access-logs`);
        this.accessLogs = new SecureBucket(this, 'access-logs', {
          bucketName: name,
          purpose: 'access-logs',
          ...everyBucket,
          encrypt: s.buckets.encrypt,
          blockPublicAccess: s.buckets.blockPublicAccess,
          tlsOnly: s.buckets.tlsOnly,
          lifecycleRules: [{ id: 'expire-access-logs', expirationDays: 365, abortIncompleteUploadDays: lc.abortIncompleteUploadDays }, ...noncurrent],
          policyStatements: (arn) => [
            {
              Sid: 'AllowS3ServerAccessLogDelivery',
              Effect: 'Allow',
              Principal: { Service: 'logging.s3.amazonaws.com' },
              Action: 's3:PutObject',
              Resource: `${arn}/${logging.prefix}*`,
              Condition: { StringEquals: { 'aws:SourceAccount': props.accountId } },
            },
          ],
        });
      }
      const target = logging.bucket ?? this.accessLogs!.name;
      logTarget = (bucket) => ({ bucket: target, prefix: `${logging.prefix}${bucket}/` });
    }

    const common = {
      kmsKeyArn: s.kmsKeyArn,
      encrypt: s.buckets.encrypt,
      blockPublicAccess: s.buckets.blockPublicAccess,
      tlsOnly: s.buckets.tlsOnly,
    };
    const abort: LifecycleRule = { id: 'abort-incomplete-multipart-uploads', abortIncompleteUploadDays: lc.abortIncompleteUploadDays };

    const rawTransitions: NonNullable<LifecycleRule['transitions']> = [{ days: lc.rawTransitionDays, storageClass: 'STANDARD_IA' }];
    if (lc.rawArchiveDays) rawTransitions.push({ days: lc.rawArchiveDays, storageClass: 'GLACIER_IR' });
    this.lake = new SecureBucket(this, 'lake', {
      ...common,
      bucketName: props.bucketName,
      purpose: 'lake',
      versioned: s.buckets.rawVersioning,
      eventBridge: true,
      accessLogs: logTarget?.(props.bucketName),
      lifecycleRules: [
        { id: 'raw-to-cheaper-storage', prefix: `${props.prefix}${LAKE_AREAS.raw}`, transitions: rawTransitions, expirationDays: lc.rawExpirationDays },
        ...(s.buckets.rawVersioning ? [{ id: 'expire-noncurrent-versions', noncurrentExpirationDays: lc.noncurrentVersionExpirationDays }] : []),
        abort,
      ],
    });
    this.bucket = this.lake.bucket;

    const resultsName = bucketName(`${props.bucketName}-athena-results`);
    this.results = new SecureBucket(this, 'athena-results', {
      ...common,
      ...everyBucket,
      bucketName: resultsName,
      purpose: 'athena-results',
      accessLogs: logTarget?.(resultsName),
      lifecycleRules: [{ id: 'expire-query-results', expirationDays: lc.queryResultsExpirationDays, abortIncompleteUploadDays: lc.abortIncompleteUploadDays }, ...noncurrent],
    });

    const artifactsName = bucketName(`${props.bucketName}-artifacts`);
    this.artifacts = new SecureBucket(this, 'artifacts', {
      ...common,
      ...everyBucket,
      bucketName: artifactsName,
      purpose: 'artifacts',
      accessLogs: logTarget?.(artifactsName),
      lifecycleRules: [{ id: 'expire-glue-temp', prefix: ARTIFACT_PREFIXES.glueTemp, expirationDays: 7 }, abort, ...noncurrent],
    });
  }

  /** Key prefixes of lake areas (below the lake prefix). */
  keys(...areas: LakeArea[]): string[] {
    return areas.map((a) => `${this.prefix}${LAKE_AREAS[a]}`);
  }

  grantRead(role: ServiceRole, ...areas: LakeArea[]): void {
    this.lake.grantRead(role, ...this.keys(...areas));
  }

  grantReadWrite(role: ServiceRole, ...areas: LakeArea[]): void {
    this.lake.grantReadWrite(role, ...this.keys(...areas));
  }

  grantDelete(role: ServiceRole, ...areas: LakeArea[]): void {
    this.lake.grantDelete(role, ...this.keys(...areas));
  }
}

/** S3 refuses some transition schedules; say which key to change instead of failing at apply. */
function validateLifecycle(lc: DeploySettings['lifecycle']): void {
  const problems: string[] = [];
  if (lc.rawArchiveDays !== undefined && lc.rawArchiveDays < lc.rawTransitionDays + 30) {
    problems.push(`aws.lifecycle.raw_archive_days (${lc.rawArchiveDays}) must be at least raw_transition_days + 30 (${lc.rawTransitionDays + 30}): S3 keeps objects 30 days in Standard-IA`);
  }
  const last = Math.max(lc.rawTransitionDays, lc.rawArchiveDays ?? 0);
  if (lc.rawExpirationDays !== undefined && lc.rawExpirationDays <= last) {
    problems.push(`aws.lifecycle.raw_expiration_days (${lc.rawExpirationDays}) must be greater than the last transition (${last} days)`);
  }
  if (problems.length) throw new Error(`invalid lifecycle settings in pipeline.yaml:\n  ${problems.join('\n  ')}`);
}
