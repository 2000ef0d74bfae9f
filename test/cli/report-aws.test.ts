/**
 * `report --aws` against moto's S3 on loopback (test/support/moto.ts): the report object the
 * deployed pipeline wrote is found by HeadObject in the lake bucket of pipeline.yaml, its
 * presigned GetObject URL (the SDK's own presigner) is printed, and fetching that URL over HTTP
 * gives the HTML; without the object, one clear error and no URL.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { reportAwsCommand } from '../../core/cli/report-aws.ts';
import { UserError } from '../../core/errors.ts';
import { preparePipeline, type Prepared } from '../../core/pipeline.ts';
import { pluginSource } from '../../core/plugins.ts';
import { connectors } from '../../connectors/index.ts';
import { startMoto, type MotoServer } from '../support/moto.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const HTML = '<!doctype html><html lang="en"><title>report</title><article class="panel" id="a-1">é</article></html>\n';
let moto: MotoServer;
let s3: S3Client;
let prep: Prepared;

beforeAll(async () => {
  moto = await startMoto();
  s3 = moto.s3();
  prep = await preparePipeline(join(ROOT, 'pipeline.yaml'), { plugins: pluginSource(connectors) });
  // The shipped pipeline's lake: storage.s3.bucket at the bucket root.
  await moto.createBuckets(prep.loaded.config.storage.s3!.bucket);
}, 60_000);

afterAll(async () => {
  s3?.destroy();
  await moto?.close();
});

describe('report --aws (moto)', () => {
  it('says there is no report yet, in one line, and prints no URL', async () => {
    const out: string[] = [];
    const err = await reportAwsCommand(prep, { expires: 900 }, { s3, out: (l) => out.push(l), err: () => undefined, env: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe('no report yet at s3://my-spotify-lake/reports/report.html: the deployed pipeline writes it after its first transform');
    expect(out).toEqual([]);
  });

  it('prints a presigned URL of the report, valid --expires seconds, that fetches the HTML over HTTP', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'my-spotify-lake', Key: 'reports/report.html', Body: HTML, ContentType: 'text/html; charset=utf-8' }));
    const out: string[] = [];
    const notes: string[] = [];
    const r = await reportAwsCommand(prep, { expires: 120 }, { s3, out: (l) => out.push(l), err: (l) => notes.push(l), env: {} });
    expect(out).toEqual([r.url]);
    const url = new URL(r.url);
    expect(url.origin).toBe(moto.endpoint);
    expect(url.pathname).toBe('/my-spotify-lake/reports/report.html');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('120');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(notes[0]).toMatch(/^Report s3:\/\/my-spotify-lake\/reports\/report\.html \(\d+ bytes, written .*\): the URL works for 120 s$/);
    // Any HTTP client, no AWS credentials: the signature is the permission.
    const res = await fetch(r.url, { signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toBe(HTML);
    // (moto does not verify signatures: that the signature is what S3 checks is the SDK presigner's.)
  });

  it('takes the deployed bucket from LAKE_BUCKET when its name has a suffix', async () => {
    await moto.createBuckets('my-spotify-lake-123456789012');
    await s3.send(new PutObjectCommand({ Bucket: 'my-spotify-lake-123456789012', Key: 'reports/report.html', Body: HTML }));
    const r = await reportAwsCommand(prep, {}, { s3, out: () => undefined, err: () => undefined, env: { LAKE_BUCKET: 'my-spotify-lake-123456789012' } });
    expect(r.expires).toBe(900);
    expect(await (await fetch(r.url, { signal: AbortSignal.timeout(10_000) })).text()).toBe(HTML);
  });
});
