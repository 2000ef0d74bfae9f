/**
 * An S3 bucket with secure defaults: public access blocked, ACLs disabled (bucket owner
 * enforced), encryption at rest (SSE-S3, or SSE-KMS with a bucket key), a bucket policy that
 * refuses plain-HTTP requests, lifecycle rules, optional versioning and access logging. Each
 * default is a prop a caller must set to `false` explicitly to loosen.
 */
import { Construct } from 'constructs';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket/index.js';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block/index.js';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration/index.js';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls/index.js';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning/index.js';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy/index.js';
import { S3BucketLifecycleConfiguration, type S3BucketLifecycleConfigurationRule } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration/index.js';
import { S3BucketLoggingA } from '@cdktf/provider-aws/lib/s3-bucket-logging/index.js';
import { S3BucketNotification } from '@cdktf/provider-aws/lib/s3-bucket-notification/index.js';
import { BUCKET_ROLE_TAG } from './ownership.ts';
import type { ServiceRole } from './iam.ts';

export interface LifecycleRule {
  /** Rule id, unique in the bucket. */
  id: string;
  /** Key prefix the rule applies to; the whole bucket when absent. */
  prefix?: string;
  transitions?: { days: number; storageClass: 'STANDARD_IA' | 'GLACIER_IR' | 'INTELLIGENT_TIERING' | 'GLACIER' }[];
  expirationDays?: number;
  noncurrentExpirationDays?: number;
  /**
   * Remove delete markers that no noncurrent version is left behind (a versioned bucket). S3 takes
   * it only in a rule without `expirationDays` (both live in the rule's one Expiration element).
   */
  expiredDeleteMarker?: boolean;
  abortIncompleteUploadDays?: number;
}

export interface BucketPolicyStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Principal: unknown;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, unknown>;
}

export interface SecureBucketProps {
  bucketName: string;
  /** What the bucket is for (tagged `spotify-pipeline:bucket`): lake, athena-results, artifacts, access-logs. */
  purpose: string;
  /** SSE-KMS with this key and an S3 bucket key; SSE-S3 when absent. */
  kmsKeyArn?: string;
  /** Default true. `false` leaves the bucket without a default-encryption configuration. */
  encrypt?: boolean;
  /** Default true. `false` turns all four public access block settings off. */
  blockPublicAccess?: boolean;
  /** Default true: deny every request with aws:SecureTransport = false. */
  tlsOnly?: boolean;
  /** Default false. `true` keeps every overwritten or deleted object as a noncurrent version. */
  versioned?: boolean;
  lifecycleRules?: LifecycleRule[];
  /** Server access logs go to this bucket (name) under this prefix. */
  accessLogs?: { bucket: string; prefix: string };
  /** Send object events to EventBridge (for rules on Object Created). */
  eventBridge?: boolean;
  /** More bucket policy statements, given the bucket's ARN (e.g. log delivery into an access-log bucket). */
  policyStatements?: (bucketArn: string) => BucketPolicyStatement[];
}

const validSid = (s: string) => s.replace(/[^A-Za-z0-9]/g, '');

export class SecureBucket extends Construct {
  readonly bucket: S3Bucket;
  readonly name: string;
  /** One token for the ARN: grants compare resources as strings, and each `.arn` read is a new token. */
  readonly arn: string;
  readonly kmsKeyArn?: string;
  private readonly sidPrefix: string;

  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id);
    this.name = props.bucketName;
    this.sidPrefix = validSid(props.purpose.replace(/(^|-)([a-z])/g, (_, _d, c: string) => c.toUpperCase()));
    const encrypt = props.encrypt ?? true;
    this.kmsKeyArn = encrypt ? props.kmsKeyArn : undefined;
    this.bucket = new S3Bucket(this, 'bucket', { bucket: props.bucketName, tags: { [BUCKET_ROLE_TAG]: props.purpose } });
    this.arn = this.bucket.arn;

    const block = props.blockPublicAccess ?? true;
    new S3BucketPublicAccessBlock(this, 'public-access', {
      bucket: this.bucket.id,
      blockPublicAcls: block,
      blockPublicPolicy: block,
      ignorePublicAcls: block,
      restrictPublicBuckets: block,
    });
    new S3BucketOwnershipControls(this, 'ownership', {
      bucket: this.bucket.id,
      rule: { objectOwnership: 'BucketOwnerEnforced' },
    });
    if (encrypt) {
      new S3BucketServerSideEncryptionConfigurationA(this, 'encryption', {
        bucket: this.bucket.id,
        rule: [
          props.kmsKeyArn
            ? { applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: props.kmsKeyArn }, bucketKeyEnabled: true }
            : { applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } },
        ],
      });
    }
    if (props.versioned !== undefined) {
      new S3BucketVersioningA(this, 'versioning', {
        bucket: this.bucket.id,
        versioningConfiguration: { status: props.versioned ? 'Enabled' : 'Suspended' },
      });
    }

    const statements: BucketPolicyStatement[] = [];
    if (props.tlsOnly ?? true) {
      statements.push({
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [this.bucket.arn, `${this.bucket.arn}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      });
    }
    statements.push(...(props.policyStatements?.(this.bucket.arn) ?? []));
    if (statements.length) {
      new S3BucketPolicy(this, 'policy', {
        bucket: this.bucket.id,
        policy: JSON.stringify({ Version: '2012-10-17', Statement: statements }),
      });
    }

    if (props.lifecycleRules?.length) {
      new S3BucketLifecycleConfiguration(this, 'lifecycle', {
        bucket: this.bucket.id,
        rule: props.lifecycleRules.map(lifecycleRule),
      });
    }
    if (props.accessLogs) {
      new S3BucketLoggingA(this, 'access-logging', {
        bucket: this.bucket.id,
        targetBucket: props.accessLogs.bucket,
        targetPrefix: props.accessLogs.prefix,
      });
    }
    if (props.eventBridge) {
      new S3BucketNotification(this, 'eventbridge', { bucket: this.bucket.id, eventbridge: true });
    }
  }


  /** `s3://bucket/key`. */
  url(key = ''): string {
    return `s3://${this.name}/${key}`;
  }

  /** GetObject under each prefix, and ListBucket limited to those prefixes. */
  grantRead(role: ServiceRole, ...prefixes: string[]): void {
    role.addToPolicy({ sid: `${this.sidPrefix}Read`, actions: ['s3:GetObject'], resources: prefixes.map((p) => `${this.arn}/${p}*`) });
    this.grantList(role, ...prefixes);
    this.grantKms(role, ['kms:Decrypt']);
  }

  /** PutObject (and aborting its multipart uploads) under each prefix. */
  grantPut(role: ServiceRole, ...prefixes: string[]): void {
    role.addToPolicy({ sid: `${this.sidPrefix}Write`, actions: ['s3:PutObject', 's3:AbortMultipartUpload'], resources: prefixes.map((p) => `${this.arn}/${p}*`) });
    // Multipart uploads read back their encrypted parts, so writers need Decrypt too.
    this.grantKms(role, ['kms:GenerateDataKey', 'kms:Decrypt']);
  }

  grantDelete(role: ServiceRole, ...prefixes: string[]): void {
    role.addToPolicy({ sid: `${this.sidPrefix}Delete`, actions: ['s3:DeleteObject'], resources: prefixes.map((p) => `${this.arn}/${p}*`) });
  }

  grantReadWrite(role: ServiceRole, ...prefixes: string[]): void {
    this.grantRead(role, ...prefixes);
    this.grantPut(role, ...prefixes);
  }

  /** ListBucket, only for keys under the prefixes. */
  grantList(role: ServiceRole, ...prefixes: string[]): void {
    role.addToPolicy({
      sid: `${this.sidPrefix}List`,
      actions: ['s3:ListBucket'],
      resources: [this.arn],
      conditions: { StringLike: { 's3:prefix': prefixes.map((p) => `${p}*`) } },
    });
  }

  private grantKms(role: ServiceRole, actions: string[]): void {
    if (this.kmsKeyArn) role.addToPolicy({ sid: 'KmsForBuckets', actions, resources: [this.kmsKeyArn] });
  }
}

function lifecycleRule(r: LifecycleRule): S3BucketLifecycleConfigurationRule {
  if (r.expirationDays && r.expiredDeleteMarker) throw new Error(`lifecycle rule ${r.id}: S3 refuses expiration days and expired delete markers in one rule`);
  return {
    id: r.id,
    status: 'Enabled',
    filter: [r.prefix ? { prefix: r.prefix } : {}],
    ...(r.transitions?.length ? { transition: r.transitions.map((t) => ({ days: t.days, storageClass: t.storageClass })) } : {}),
    ...(r.expirationDays ? { expiration: [{ days: r.expirationDays }] } : {}),
    ...(r.expiredDeleteMarker ? { expiration: [{ expiredObjectDeleteMarker: true }] } : {}),
    ...(r.noncurrentExpirationDays ? { noncurrentVersionExpiration: [{ noncurrentDays: r.noncurrentExpirationDays }] } : {}),
    ...(r.abortIncompleteUploadDays ? { abortIncompleteMultipartUpload: [{ daysAfterInitiation: r.abortIncompleteUploadDays }] } : {}),
  };
}
