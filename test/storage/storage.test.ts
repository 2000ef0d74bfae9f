/**
 * The Storage contract for LocalStorage and for S3Storage against moto's S3 on loopback
 * (test/support/moto.ts, through the real AWS SDK), plus what only S3Storage has: a key prefix,
 * paging, multipart uploads.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { LocalStorage } from '../../core/storage/local.ts';
import { S3Storage } from '../../core/storage/s3.ts';
import { storageContract } from './contract.ts';
import { startMoto, type MotoServer } from '../support/moto.ts';

const BUCKET = 'lake';
let moto: MotoServer;
const dirs: string[] = [];

beforeAll(async () => {
  moto = await startMoto();
  await moto.createBuckets(BUCKET);
});

afterAll(async () => {
  await moto?.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

storageContract('LocalStorage', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lake-contract-'));
  dirs.push(dir);
  return new LocalStorage(dir);
});

// Each S3 storage lives under its own prefix of one bucket: isolation, and the prefix is exercised.
let n = 0;
storageContract('S3Storage (moto)', async (opts) =>
  new S3Storage({ bucket: BUCKET, prefix: `t${++n}-${randomBytes(3).toString('hex')}/lake`, client: moto.s3(), multipartThreshold: opts?.multipartThreshold }),
);

storageContract('S3Storage without prefix (moto)', async (opts) => {
  // A bucket of its own per storage: the lake at the bucket's root.
  const client = moto.s3();
  const bucket = `root-${++n}-${randomBytes(3).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return new S3Storage({ bucket, client, multipartThreshold: opts?.multipartThreshold });
});

describe('S3Storage specifics', () => {
  it('puts keys under its prefix, identical to the local keys below it', async () => {
    const client = moto.s3();
    const storage = new S3Storage({ bucket: BUCKET, prefix: '/team/lake/', client });
    expect(storage.location).toBe(`s3://${BUCKET}/team/lake`);
    expect(new S3Storage({ bucket: BUCKET, client }).location).toBe(`s3://${BUCKET}`);
    await storage.put('_runs/r1.json', '{}');
    const raw = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'team/lake/_runs/r1.json' }));
    expect(await raw.Body!.transformToString()).toBe('{}');
    // Objects written by anything else under the prefix are part of the lake (a synced local lake).
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'team/lake/raw/s/dt=2026-01-01/x.jsonl.gz', Body: 'x' }));
    expect(await storage.list('')).toEqual(['_runs/r1.json', 'raw/s/dt=2026-01-01/x.jsonl.gz']);
  });

  it('never lists a sibling prefix that merely starts with the same text', async () => {
    const client = moto.s3();
    const a = new S3Storage({ bucket: BUCKET, prefix: 'sib/a', client });
    const ab = new S3Storage({ bucket: BUCKET, prefix: 'sib/a-b', client });
    await a.put('k', '1');
    await ab.put('k', '2');
    expect(await a.list('')).toEqual(['k']);
    expect((await a.get('k'))!.toString()).toBe('1');
    await a.delete('k');
    expect((await ab.get('k'))!.toString()).toBe('2');
  });

  it('pages through ListObjectsV2 with continuation tokens, and stops at its page bound', async () => {
    const spy: string[] = [];
    const client = moto.s3(spy);
    const storage = new S3Storage({ bucket: BUCKET, prefix: 'paging', client });
    const keys = Array.from({ length: 2100 }, (_, i) => `k/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => storage.put(k, '')));
    spy.length = 0;
    expect(await storage.list('k/')).toEqual(keys);
    expect(spy.filter((c) => c === 'ListObjectsV2Command').length).toBe(3);
    const bounded = new S3Storage({ bucket: BUCKET, prefix: 'paging', client, maxListPages: 2 });
    await expect(bounded.list('k/')).rejects.toThrow(/stopped after 2 pages/);
  }, 120_000);

  it('uploads objects above the threshold in parts, and small ones in one PUT', async () => {
    const spy: string[] = [];
    const storage = new S3Storage({ bucket: BUCKET, prefix: 'mp', client: moto.s3(spy), multipartThreshold: 5 * 1024 * 1024, partSize: 5 * 1024 * 1024 });
    const big = randomBytes(12 * 1024 * 1024);
    await storage.put('big.bin', big);
    expect(spy.filter((c) => c === 'UploadPartCommand').length).toBe(3);
    expect(spy).toContain('CreateMultipartUploadCommand');
    expect(spy).toContain('CompleteMultipartUploadCommand');
    expect(spy).not.toContain('PutObjectCommand');
    expect((await storage.get('big.bin'))!.equals(big)).toBe(true);
    spy.length = 0;
    await storage.put('small.bin', randomBytes(5 * 1024 * 1024)); // exactly the threshold: one PUT
    expect(spy).toEqual(['PutObjectCommand']);
  }, 120_000);

  it('fails loudly on a missing bucket instead of reporting a missing key', async () => {
    const storage = new S3Storage({ bucket: 'no-such-bucket', client: moto.s3() });
    await expect(storage.get('_runs/x.json')).rejects.toThrow(/bucket/i);
  });

  it('needs a bucket, and rejects a prefix that is not a valid key', () => {
    expect(() => new S3Storage({ bucket: '' })).toThrow(/bucket/);
    expect(() => new S3Storage({ bucket: BUCKET, prefix: 'a/../b', client: moto.s3() })).toThrow(/invalid storage key/);
  });

  it('lists the objects another client wrote, in the same order as LocalStorage would', async () => {
    const client = moto.s3();
    const keys = ['u/Z', 'u/a', 'u/ä', 'u/😀', 'u/\uffef', 'u/B'];
    for (const k of keys) await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `order/${k}`, Body: k }));
    const listed = await new S3Storage({ bucket: BUCKET, prefix: 'order', client }).list('u/');
    expect(listed).toEqual([...keys].sort());
    const raw = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'order/u/' }));
    expect(raw.Contents!.length).toBe(keys.length);
  });
});
