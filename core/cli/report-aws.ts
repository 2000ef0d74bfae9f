/**
 * `report --aws`: a short-lived presigned URL of the report the deployed pipeline wrote
 * (core/lambda/report.ts: `s3://<lake bucket>/<prefix>reports/report.html`, written after each
 * transform). The object stays private; the URL is signed with the caller's credentials (the
 * standard AWS environment: AWS_PROFILE, ...; the region is aws.region, else AWS_REGION) and works
 * for --expires seconds.
 */
import { GetObjectCommand, HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { lakeBucketName, lakePrefix } from '../storage/names.ts';
import { UserError } from '../errors.ts';
import { REPORT_KEY } from '../lambda/report.ts';
import type { Prepared } from '../pipeline.ts';

export const DEFAULT_EXPIRES_SECONDS = 900;

export interface PresignedReport {
  url: string;
  bucket: string;
  key: string;
  bytes?: number;
  lastModified?: Date;
  expires: number;
}

/** HeadObject the report (a clear error when it is not there yet), then presign a GetObject of it. */
export async function presignReport(o: { s3: S3Client; bucket: string; prefix?: string; expires?: number }): Promise<PresignedReport> {
  const key = `${o.prefix ?? ''}${REPORT_KEY}`;
  const expires = o.expires ?? DEFAULT_EXPIRES_SECONDS;
  let head;
  try {
    head = await o.s3.send(new HeadObjectCommand({ Bucket: o.bucket, Key: key }));
  } catch (e) {
    const status = e instanceof S3ServiceException ? e.$metadata.httpStatusCode : undefined;
    if (status === 404 || (e as { name?: string }).name === 'NotFound' || (e as { name?: string }).name === 'NoSuchKey') {
      throw new UserError(`no report yet at s3://${o.bucket}/${key}: the deployed pipeline writes it after its first transform`);
    }
    if (status === 403) throw new UserError(`not allowed to read s3://${o.bucket}/${key} (403): use credentials that may s3:GetObject there`);
    throw e;
  }
  const url = await getSignedUrl(o.s3, new GetObjectCommand({ Bucket: o.bucket, Key: key }), { expiresIn: expires });
  return { url, bucket: o.bucket, key, bytes: head.ContentLength, lastModified: head.LastModified, expires };
}

/** The deployed lake bucket: LAKE_BUCKET when set, else storage.s3.bucket (with aws.buckets.name_suffix: region resolved). */
function deployedBucket(prep: Prepared, region: string | undefined, env: Record<string, string | undefined>): string {
  if (env.LAKE_BUCKET) return env.LAKE_BUCKET;
  const config = prep.loaded.config;
  const base = lakeBucketName(config);
  const suffix = (config.aws as { buckets?: { name_suffix?: string } } | undefined)?.buckets?.name_suffix ?? 'none';
  if (suffix === 'none') return base;
  if (suffix === 'region' && region) return `${base}-${region}`;
  throw new UserError(`the deployed bucket name ends in the ${suffix} (aws.buckets.name_suffix): set LAKE_BUCKET to it (terraform output or the plan shows it)`);
}

export async function reportAwsCommand(
  prep: Prepared,
  o: { expires?: number },
  deps: { s3?: S3Client; out?: (line: string) => void; err?: (line: string) => void; env?: Record<string, string | undefined> } = {},
): Promise<PresignedReport> {
  const env = deps.env ?? process.env;
  // The deployment's region (aws.region) when pipeline.yaml names one, else the AWS environment's.
  const configured = prep.loaded.config.aws?.region;
  const s3 = deps.s3 ?? new S3Client(configured ? { region: configured } : {});
  const region = await s3.config.region().catch(() => undefined);
  if (!region) throw new UserError('no AWS region: set AWS_REGION (or aws.region in pipeline.yaml) to the deployment\'s region');
  const bucket = deployedBucket(prep, region, env);
  const r = await presignReport({ s3, bucket, prefix: lakePrefix(prep.loaded.config), expires: o.expires });
  const out = deps.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const err = deps.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  // The URL alone on stdout (scripts take it as is); what it is on stderr.
  out(r.url);
  err(`Report s3://${r.bucket}/${r.key}${r.bytes !== undefined ? ` (${r.bytes} bytes` : ''}${r.lastModified ? `, written ${r.lastModified.toISOString()}` : ''}${r.bytes !== undefined ? ')' : ''}: the URL works for ${r.expires} s`);
  return r;
}
