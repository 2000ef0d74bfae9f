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
 *
 * Every area of the versioned lake bucket has a noncurrent-version rule: raw/ (and _runs/,
 * imports/, anything else) keeps overwritten or deleted copies for noncurrent_version_expiration_days,
 * curated/ and quarantine/ (rebuilt by every transform) and _state/ and _lease/ (rewritten by
 * every run) for a shorter time; delete markers left with nothing behind them are removed.
 *
 * `nameSuffix` (aws.buckets.name_suffix) is appended to every bucket name: an unresolved token
 * (account id, region) known only at plan time, so the names are fitted to leave room for it.
 */
import { Construct } from 'constructs';
import type { DeploySettings } from '../settings.ts';
import { fit } from '../names.ts';
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
  /** Appended to every bucket name (`-<account id>`, ...), and the most characters it can resolve to. */
  nameSuffix?: { text: string; maxLength: number };
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
    const suffix = props.nameSuffix ?? { text: '', maxLength: 0 };
    // S3 bucket names: at most 63 characters, the suffix included.
    const named = (base: string) => `${fit(base, 63 - suffix.maxLength)}${suffix.text}`;
    const lakeName = named(props.bucketName);

    // Profile hardened: every bucket versioned (noncurrent copies expire) and sending events (checkov CKV_AWS_21, CKV2_AWS_62).
    const everyBucket = s.hardening.allBuckets ? { versioned: true, eventBridge: true } : {};
    const otherNoncurrent: LifecycleRule[] = s.hardening.allBuckets ? [{ id: 'expire-noncurrent-versions', noncurrentExpirationDays: lc.noncurrentVersionExpirationDays, expiredDeleteMarker: lc.expiredDeleteMarkers }] : [];
    let logTarget: ((bucket: string) => { bucket: string; prefix: string }) | undefined;
    if (s.accessLogging) {
      const logging = s.accessLogging;
      if (!logging.bucket) {
        const name = named(`${props.bucketName}-access-logs`);
        this.accessLogs = new SecureBucket(this, 'access-logs', {
          bucketName: name,
          purpose: 'access-logs',
          ...everyBucket,
          encrypt: s.buckets.encrypt,
          blockPublicAccess: s.buckets.blockPublicAccess,
          tlsOnly: s.buckets.tlsOnly,
          lifecycleRules: [{ id: 'expire-access-logs', expirationDays: 365, abortIncompleteUploadDays: lc.abortIncompleteUploadDays }, ...otherNoncurrent],
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
    const area = (a: LakeArea) => `${props.prefix}${LAKE_AREAS[a]}`;
    // S3 applies the earliest of overlapping expirations, so the bucket-wide rule (raw's period)
    // leaves the shorter per-area ones in force. Versioning suspended: nothing noncurrent to expire.
    const noncurrent: LifecycleRule[] = s.buckets.rawVersioning
      ? [
          { id: 'expire-noncurrent-versions', noncurrentExpirationDays: lc.noncurrentVersionExpirationDays, expiredDeleteMarker: lc.expiredDeleteMarkers },
          ...(['curated', 'quarantine'] as const).map((a) => ({ id: `expire-noncurrent-${a}`, prefix: area(a), noncurrentExpirationDays: lc.curatedNoncurrentDays })),
          ...(['state', 'lease'] as const).map((a) => ({ id: `expire-noncurrent-${a}`, prefix: area(a), noncurrentExpirationDays: lc.stateNoncurrentDays })),
        ]
      : [];
    this.lake = new SecureBucket(this, 'lake', {
      ...common,
      bucketName: lakeName,
      purpose: 'lake',
      versioned: s.buckets.rawVersioning,
      eventBridge: true,
      accessLogs: logTarget?.(lakeName),
      lifecycleRules: [
        { id: 'raw-to-cheaper-storage', prefix: area('raw'), transitions: rawTransitions, expirationDays: lc.rawExpirationDays },
        ...noncurrent,
        abort,
      ],
    });
    this.bucket = this.lake.bucket;

    const resultsName = named(`${props.bucketName}-athena-results`);
    this.results = new SecureBucket(this, 'athena-results', {
      ...common,
      ...everyBucket,
      bucketName: resultsName,
      purpose: 'athena-results',
      accessLogs: logTarget?.(resultsName),
      lifecycleRules: [{ id: 'expire-query-results', expirationDays: lc.queryResultsExpirationDays, abortIncompleteUploadDays: lc.abortIncompleteUploadDays }, ...otherNoncurrent],
    });

    const artifactsName = named(`${props.bucketName}-artifacts`);
    this.artifacts = new SecureBucket(this, 'artifacts', {
      ...common,
      ...everyBucket,
      bucketName: artifactsName,
      purpose: 'artifacts',
      accessLogs: logTarget?.(artifactsName),
      lifecycleRules: [{ id: 'expire-glue-temp', prefix: ARTIFACT_PREFIXES.glueTemp, expirationDays: 7 }, abort, ...otherNoncurrent],
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
