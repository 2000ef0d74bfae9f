/**
 * The lake in S3. Keys are the same as on disk (`raw/...`, `_runs/...`), under an optional
 * prefix, so a local lake copied to `s3://bucket/prefix/` is a valid S3 lake and vice versa.
 *
 * S3 writes are atomic per object (a reader sees the old object or the new one), which is the
 * guarantee `Storage.put` promises; large objects go through a multipart upload, which is atomic
 * too (the object appears on CompleteMultipartUpload).
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { assertKey, type Storage } from './storage.ts';
import { crashPoint } from '../crash.ts';

/** S3 refuses parts below 5 MiB (except the last one). */
const MIN_PART_SIZE = 5 * 1024 * 1024;

export interface S3StorageOptions {
  bucket: string;
  /** Folder inside the bucket (`lake`, `team/lake`); slashes around it are ignored. */
  prefix?: string;
  /** Default: `new S3Client({})`, configured by the standard AWS environment (region, credentials, `AWS_ENDPOINT_URL_S3`). */
  client?: S3Client;
  /** Objects larger than this many bytes are uploaded in parts. Default 16 MiB; at least 5 MiB. */
  multipartThreshold?: number;
  /** Part size of multipart uploads. Default 8 MiB; at least 5 MiB. */
  partSize?: number;
  /** Parts uploaded in parallel. Default 4. */
  queueSize?: number;
  /** Safety bound on `list` pages (1000 keys each). Default 10 000 (10 million keys). */
  maxListPages?: number;
}

export class S3Storage implements Storage {
  readonly bucket: string;
  readonly prefix: string;
  readonly client: S3Client;
  private readonly multipartThreshold: number;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly maxListPages: number;

  constructor(opts: S3StorageOptions) {
    if (!opts.bucket) throw new Error('S3Storage needs a bucket name');
    this.bucket = opts.bucket;
    this.prefix = (opts.prefix ?? '').replace(/^\/+|\/+$/g, '');
    if (this.prefix) assertKey(this.prefix);
    this.client = opts.client ?? new S3Client({});
    this.partSize = Math.max(MIN_PART_SIZE, opts.partSize ?? 8 * 1024 * 1024);
    this.multipartThreshold = Math.max(MIN_PART_SIZE, opts.multipartThreshold ?? 16 * 1024 * 1024);
    this.queueSize = Math.max(1, opts.queueSize ?? 4);
    this.maxListPages = Math.max(1, opts.maxListPages ?? 10_000);
  }

  get location(): string {
    return `s3://${this.bucket}${this.prefix ? `/${this.prefix}` : ''}`;
  }

  /** The object key in the bucket for a lake key. */
  objectKey(key: string): string {
    assertKey(key);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    const Key = this.objectKey(key);
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (bytes.length > this.multipartThreshold) {
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key, Body: bytes },
        partSize: this.partSize,
        queueSize: this.queueSize,
        // A failed upload is aborted, so no invisible parts keep costing storage.
        leavePartsOnError: false,
      });
      await upload.done();
    } else {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: bytes, ContentLength: bytes.length }));
    }
    crashPoint(`write ${key}`);
  }

  async get(key: string): Promise<Buffer | undefined> {
    const Key = this.objectKey(key);
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      if (!res.Body) return Buffer.alloc(0);
      const bytes = await res.Body.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const full = this.prefix ? `${this.prefix}/${prefix}` : prefix;
    const strip = this.prefix ? this.prefix.length + 1 : 0;
    const out: string[] = [];
    let token: string | undefined;
    for (let page = 0; ; page++) {
      if (page >= this.maxListPages) {
        throw new Error(`listing ${this.location}/${prefix} stopped after ${this.maxListPages} pages; raise maxListPages if the lake really holds that many objects`);
      }
      const res: ListObjectsV2CommandOutput = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: full || undefined, ContinuationToken: token }),
      );
      for (const o of res.Contents ?? []) if (o.Key !== undefined && o.Key.length > strip) out.push(o.Key.slice(strip));
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
      if (!token) break;
    }
    // S3 lists in UTF-8 byte order; sort like LocalStorage so both list keys in the same order.
    return out.sort();
  }

  async delete(key: string): Promise<void> {
    // Deleting a missing key succeeds in S3, as it does on disk (`rm --force`).
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
    crashPoint(`delete ${key}`);
  }
}

function isNotFound(e: unknown): boolean {
  const err = e as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  if (err?.name === 'NoSuchKey' || err?.Code === 'NoSuchKey' || err?.name === 'NotFound') return true;
  // A missing bucket is a deployment mistake, not a missing object: let it fail loudly.
  return err?.$metadata?.httpStatusCode === 404 && err.name !== 'NoSuchBucket' && err.Code !== 'NoSuchBucket';
}
