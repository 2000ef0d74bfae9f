/**
 * The extractor's lease on an S3 lake: one run at a time, even when invocations overlap (a manual
 * invoke beside a schedule, a retry, reserved concurrency raised). The local CLI's lock file
 * (core/engine/lock.ts) cannot work in S3; a conditional write can:
 *
 *   <lake prefix>_lease/extractor.json  {"holder", "pipeline", "acquired_at", "expires_at"}
 *
 * is created with `If-None-Match: *` (S3 refuses the write with 412 when the object exists, so of
 * two invocations exactly one gets it). An invocation that finds a lease not yet expired skips its
 * run; one that finds an expired lease (its holder died, or timed out) takes it over with
 * `If-Match: <its ETag>` (only one of two such invocations wins). The lease expires after the
 * invocation's remaining time plus a margin, so a Lambda that dies (timeout, crash) never holds it
 * longer than it could have run; it is deleted at the end (`If-Match` on its own ETag: never
 * someone else's).
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { S3Storage } from '../storage/s3.ts';

export const LEASE_KEY = '_lease/extractor.json';

export interface LeaseBody {
  /** Who holds it: the Lambda request id (or another unique name). */
  holder: string;
  pipeline: string;
  acquired_at: string;
  expires_at: string;
}

export interface Lease {
  body: LeaseBody;
  etag: string;
}

export type LeaseOutcome = { ok: true; lease: Lease; tookOver?: LeaseBody } | { ok: false; heldBy: LeaseBody | undefined };

function status(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** 412 Precondition Failed, or 409 (a conditional write racing another on the same key). */
const lost = (e: unknown) => status(e) === 412 || status(e) === 409 || (e as { name?: string })?.name === 'PreconditionFailed';
const missing = (e: unknown) => status(e) === 404 || (e as { name?: string })?.name === 'NoSuchKey';

async function read(client: S3Client, bucket: string, key: string): Promise<{ body?: LeaseBody; etag: string } | undefined> {
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const text = res.Body ? await res.Body.transformToString('utf8') : '';
    let body: LeaseBody | undefined;
    try {
      const parsed = JSON.parse(text) as LeaseBody;
      if (typeof parsed.expires_at === 'string') body = parsed;
    } catch {
      body = undefined; // unreadable: treated as expired
    }
    return { body, etag: res.ETag ?? '' };
  } catch (e) {
    if (missing(e)) return undefined;
    throw e;
  }
}

/**
 * Takes the lake's lease for `ttlMs`, or reports who holds it. An expired (or unreadable) lease is
 * taken over.
 */
export async function acquireLease(storage: S3Storage, opts: { holder: string; pipeline: string; ttlMs: number; now?: () => number }): Promise<LeaseOutcome> {
  const { client, bucket } = storage;
  const key = storage.objectKey(LEASE_KEY);
  const now = opts.now ?? Date.now;
  const body = (): LeaseBody => ({ holder: opts.holder, pipeline: opts.pipeline, acquired_at: new Date(now()).toISOString(), expires_at: new Date(now() + opts.ttlMs).toISOString() });
  for (let attempt = 0; attempt < 3; attempt++) {
    const mine = body();
    try {
      const res = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(mine), ContentType: 'application/json', IfNoneMatch: '*' }));
      return { ok: true, lease: { body: mine, etag: res.ETag ?? '' } };
    } catch (e) {
      if (!lost(e)) throw e;
    }
    const current = await read(client, bucket, key);
    if (!current) continue; // released meanwhile: try again
    if (current.body && Date.parse(current.body.expires_at) > now()) return { ok: false, heldBy: current.body };
    try {
      const res = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(mine), ContentType: 'application/json', IfMatch: current.etag }));
      return { ok: true, lease: { body: mine, etag: res.ETag ?? '' }, tookOver: current.body };
    } catch (e) {
      if (!lost(e) && !missing(e)) throw e;
    }
  }
  const current = await read(client, bucket, key);
  return { ok: false, heldBy: current?.body };
}

/** Gives the lease back (only if it is still this holder's: If-Match on its ETag). */
export async function releaseLease(storage: S3Storage, lease: Lease): Promise<void> {
  try {
    await storage.client.send(new DeleteObjectCommand({ Bucket: storage.bucket, Key: storage.objectKey(LEASE_KEY), IfMatch: lease.etag }));
  } catch (e) {
    // Taken over after it expired, or already gone: not ours to delete.
    if (!lost(e) && !missing(e)) throw e;
  }
}

export const describeLease = (b: LeaseBody | undefined) =>
  b ? `${b.holder} (pipeline ${b.pipeline}, since ${b.acquired_at}, until ${b.expires_at})` : 'another invocation';
