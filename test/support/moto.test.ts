/**
 * The moto harness itself: a server of its own on 127.0.0.1, ready when started, state that
 * resets, a recording of what arrives, and no process left after close().
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadBucketCommand, ListBucketsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startMoto, type MotoServer } from './moto.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('startMoto', () => {
  let moto: MotoServer;
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.close();
  });

  it('listens on 127.0.0.1 and answers S3 at once', async () => {
    expect(moto.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await moto.createBuckets('harness');
    expect((await moto.s3().send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual(['harness']);
  });

  it('records the requests that arrive, only while recording, and forgets them on clear', async () => {
    await moto.recording.clear();
    await moto.s3().send(new PutObjectCommand({ Bucket: 'harness', Key: 'unrecorded', Body: 'x' }));
    await moto.recording.start();
    await moto.s3().send(new PutObjectCommand({ Bucket: 'harness', Key: 'a/b c', Body: 'body' }));
    await moto.recording.stop();
    const requests = await moto.recording.requests();
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual(['PUT /harness/a/b%20c?x-id=PutObject']);
    expect(requests[0].headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=MOTOTESTKEY\//);
    await moto.recording.clear();
    expect(await moto.recording.requests()).toEqual([]);
  });

  it('forgets every resource on reset', async () => {
    await moto.reset();
    await expect(moto.s3().send(new HeadBucketCommand({ Bucket: 'harness' }))).rejects.toMatchObject({ name: 'NotFound' });
  });

  it('leaves no process behind', async () => {
    const other = await startMoto();
    expect(alive(other.pid)).toBe(true);
    await other.close();
    expect(alive(other.pid)).toBe(false);
  });
});
