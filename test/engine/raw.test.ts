/**
 * The raw writer batches lines into zlib writes of >= GZIP_BATCH characters: the parts it stores
 * (keys, record and byte counts, SHA-256 and every byte) are those of writing one record at a time,
 * the writer it replaced, kept here as the reference.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import zlib, { createGzip, gunzipSync } from 'node:zlib';
import { GZIP_BATCH, RawWriter, rawKey, type RawFile, type RawWriterOptions } from '../../core/engine/raw.ts';
import type { Storage } from '../../core/storage/storage.ts';

class MemoryStorage implements Storage {
  readonly objects = new Map<string, Buffer>();
  readonly location = 'memory';
  async put(key: string, body: Buffer | string): Promise<void> {
    this.objects.set(key, Buffer.from(body));
  }
  async get(key: string): Promise<Buffer | undefined> {
    return this.objects.get(key);
  }
  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }
}

/** The writer before batching: one zlib write per record, the same part rules. */
async function referenceParts(records: unknown[], opts: RawWriterOptions): Promise<{ files: RawFile[]; bodies: Buffer[] }> {
  const files: RawFile[] = [];
  const bodies: Buffer[] = [];
  let gz: zlib.Gzip | undefined;
  let chunks: Buffer[] = [];
  let n = 0;
  let size = 0;
  const flush = async () => {
    if (!gz || n === 0) return;
    const done = once(gz, 'end');
    gz.end();
    await done;
    const body = Buffer.concat(chunks);
    files.push({ key: rawKey('plays', '2026-01-02', 'run1', files.length), records: n, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') });
    bodies.push(body);
    gz = undefined;
    n = 0;
    size = 0;
  };
  for (const r of records) {
    const line = JSON.stringify(r) + '\n';
    if (!gz) {
      gz = createGzip();
      chunks = [];
      gz.on('data', (c: Buffer) => chunks.push(c));
    }
    if (!gz.write(line)) await once(gz, 'drain');
    size += line.length;
    n++;
    if (n >= (opts.maxRecords ?? 100_000) || size >= (opts.maxBytes ?? 64 * 1024 * 1024)) await flush();
  }
  await flush();
  return { files, bodies };
}

/** Deterministic records of varied length, with multi-byte text (the byte rule counts characters). */
function records(count: number): unknown[] {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: count }, (_, i) => ({
    i,
    ts: new Date(1.6e12 + Math.floor(rnd() * 1e11)).toISOString(),
    name: `Zoë – 東京 🎧 ${'x'.repeat(Math.floor(rnd() * 300))}`,
    ms_played: Math.floor(rnd() * 300_000),
    shuffle: rnd() < 0.5,
    skipped: null,
  }));
}

async function written(recs: unknown[], opts: RawWriterOptions) {
  const storage = new MemoryStorage();
  const w = new RawWriter(storage, 'plays', 'run1', '2026-01-02', opts);
  for (const r of recs) await w.write(r);
  await w.flush();
  return { files: w.files, bodies: w.files.map((f) => storage.objects.get(f.key)!), records: w.records, storage };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the raw writer batches gzip writes', () => {
  const recs = records(6000);

  it.each([
    ['one part', {}],
    ['parts rolled by maxRecords', { maxRecords: 1700 }],
    ['parts rolled by maxBytes (mid-batch)', { maxBytes: 300_000 }],
    ['parts smaller than a batch', { maxRecords: 50, maxBytes: 40_000 }],
  ] as Array<[string, RawWriterOptions]>)('stores the same bytes as one write per record: %s', async (_, opts) => {
    const ref = await referenceParts(recs, opts);
    const got = await written(recs, opts);
    expect(got.files).toEqual(ref.files);
    expect(got.bodies.map((b) => b.toString('hex'))).toEqual(ref.bodies.map((b) => b.toString('hex')));
    expect(got.records).toBe(recs.length);
    expect(got.storage.objects.size).toBe(ref.files.length);
    // And the parts hold every record, in order.
    const lines = got.bodies.flatMap((b) => gunzipSync(b).toString('utf8').split('\n').filter(Boolean));
    expect(lines).toEqual(recs.map((r) => JSON.stringify(r)));
  });

  it('hands zlib chunks of at least GZIP_BATCH characters (the last of each part excepted)', async () => {
    const sizes: number[] = [];
    const proto = zlib.Gzip.prototype as unknown as { write: (this: zlib.Gzip, ...a: unknown[]) => boolean };
    const write = proto.write;
    vi.spyOn(proto, 'write').mockImplementation(function (this: zlib.Gzip, chunk: unknown, ...rest: unknown[]) {
      sizes.push(typeof chunk === 'string' ? chunk.length : (chunk as Buffer).length);
      return write.call(this, chunk, ...rest);
    });
    const { files } = await written(recs, { maxBytes: 600_000 });
    expect(files.length).toBeGreaterThan(2);
    // One write per batch: a few per part instead of one per record.
    expect(sizes.length).toBeLessThan(recs.length / 50);
    const small = sizes.filter((s) => s < GZIP_BATCH).length;
    expect(small).toBeLessThanOrEqual(files.length);
    // Bounded: a batch is flushed once it reaches the threshold, so it exceeds it by under one line.
    expect(Math.max(...sizes)).toBeLessThan(GZIP_BATCH + 1000);
  });
});
