/**
 * The export read from S3, as the AWS deployment reads it (uploaded to the lake bucket's
 * `imports/<pipeline>/`): the real AWS SDK against moto's S3 on loopback (test/support/moto.ts). The same plays as
 * reading the files from disk; a zip is read by ranged GETs (its central directory and the
 * entries), never downloaded whole; a re-upload of the same files imports nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import history from '../../connectors/spotify-history/index.ts';
import { generateExport, type GeneratedExport } from '../../connectors/spotify-history/sandbox/index.ts';
import { openSource } from '../../connectors/spotify-history/source.ts';
import type { HistoryConfig } from '../../connectors/spotify-history/config.ts';
import { HttpClient } from '../../core/http.ts';
import type { JsonRecord, ReadContext, StreamState } from '../../core/plugin-api.ts';
import { startMoto, type MotoServer } from '../support/moto.ts';

const BUCKET = 'lake-bucket';
let base: string;
let moto: MotoServer;
let folder: GeneratedExport;
let zipped: GeneratedExport;
const saved = { ...process.env };

async function upload(client: S3Client, root: string, prefix: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const full = join(e.parentPath, e.name);
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}${relative(root, full)}`, Body: await readFile(full) }));
    n++;
  }
  return n;
}

async function read(path: string, state: StreamState = {}): Promise<{ records: JsonRecord[]; state?: StreamState }> {
  const out: { records: JsonRecord[]; state?: StreamState } = { records: [] };
  const ctx: ReadContext<HistoryConfig> = {
    config: { path },
    http: new HttpClient({ baseURL: '' }),
    logger: { info: () => undefined, warn: () => undefined, debug: () => undefined },
    signal: new AbortController().signal,
    state,
    setState: (s) => (out.state = s),
    note: () => undefined,
  };
  for await (const r of history.read({ name: 'listening_history', endpoint: 'plays', params: {}, incremental: true }, ctx)) out.records.push(r);
  return out;
}

const ids = (rs: JsonRecord[]) => rs.map((r) => String(r.play_id)).sort();
const strip = (rs: JsonRecord[]) => rs.map(({ source_file: _f, ...r }) => r).sort((a, b) => String(a.play_id).localeCompare(String(b.play_id)) || String(a.ts).localeCompare(String(b.ts)));

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'history-s3-'));
  [moto, folder, zipped] = await Promise.all([
    startMoto(),
    generateExport(join(base, 'folder'), { plays: 300, playsPerFile: 100 }),
    generateExport(join(base, 'zip'), { plays: 300, playsPerFile: 100, zip: true }),
  ]);
  await moto.createBuckets(BUCKET);
  const client = moto.s3();
  await upload(client, folder.path, 'lake/imports/folder/');
  await upload(client, zipped.path, 'lake/imports/zipped/');
  // The connector's own client comes from the standard AWS environment, as in the Lambda.
  for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
  Object.assign(process.env, moto.env);
});

afterAll(async () => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
  await moto?.close();
  await rm(base, { recursive: true, force: true });
});

describe('the export from S3 (s3://bucket/prefix)', () => {
  it('reads uploaded files: the same plays as from disk', async () => {
    const fromS3 = await read(`s3://${BUCKET}/lake/imports/folder/`);
    const fromDisk = await read(folder.path);
    expect(fromS3.records.length).toBeGreaterThan(0);
    expect(ids(fromS3.records)).toEqual(ids(folder.truth.extended));
    expect(strip(fromS3.records)).toEqual(strip(fromDisk.records));
  });

  it('reads uploaded zips by ranged GETs, never the whole object', async () => {
    const ranges: string[] = [];
    const client = moto.s3();
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { Range?: string; Key?: string };
        if (input.Key?.endsWith('.zip')) ranges.push(input.Range ?? 'whole object');
        return next(args);
      },
      { step: 'initialize', name: 'recordRanges' },
    );
    const source = await openSource(`s3://${BUCKET}/lake/imports/zipped/`, { s3: client });
    try {
      const files = await source.files();
      expect(files.length).toBeGreaterThan(0);
      expect(files.every((f) => f.knownHash?.startsWith('crc32:'))).toBe(true);
      let bytes = 0;
      for await (const chunk of await files[0].open()) bytes += (chunk as Buffer).length;
      expect(bytes).toBe(files[0].size);
    } finally {
      await source.close();
    }
    expect(ranges.length).toBeGreaterThan(0);
    expect(ranges).not.toContain('whole object');
    expect(ranges.every((r) => /^bytes=\d+-\d+$/.test(r))).toBe(true);

    const all = await read(`s3://${BUCKET}/lake/imports/zipped/`);
    expect(ids(all.records)).toEqual(ids(zipped.truth.extended));
  });

  it('imports nothing again from a re-upload of the same files (state by content)', async () => {
    const first = await read(`s3://${BUCKET}/lake/imports/folder/`);
    await upload(moto.s3(), folder.path, 'lake/imports/folder-again/');
    const again = await read(`s3://${BUCKET}/lake/imports/folder-again/`, first.state);
    expect(again.records).toEqual([]);
  });

  it('says which path it cannot list', async () => {
    await expect(read('s3://no-such-bucket/imports/')).rejects.toThrow(/spotify-history: cannot list s3:\/\/no-such-bucket\/imports\//);
  });
});
