/**
 * The raw zone writer: records of one stream in one run become gzip JSON Lines parts at
 * `raw/<stream>/dt=<ingest date>/<run id>-<part>.jsonl.gz`. Raw is append-only: a run only ever
 * writes keys under its own run id, so nothing already stored can be overwritten.
 */
import { createGzip, type Gzip } from 'node:zlib';
import { once } from 'node:events';
import type { Storage } from '../storage/storage.ts';
import { sha256 } from './integrity.ts';

export interface RawFile {
  key: string;
  /** JSON lines in the file. */
  records: number;
  /** Stored (gzip) bytes. */
  bytes: number;
  /** SHA-256 of the stored bytes, hex (manifest format 2; absent in older manifests). */
  sha256?: string;
}

export interface RawWriterOptions {
  /** Roll to a new part after this many records or uncompressed bytes. */
  maxRecords?: number;
  maxBytes?: number;
}

export function rawKey(stream: string, ingestDate: string, runId: string, part: number): string {
  return `raw/${stream}/dt=${ingestDate}/${runId}-${String(part).padStart(5, '0')}.jsonl.gz`;
}

/**
 * Lines handed to zlib at once (in characters, so at least this many bytes). zlib's output does
 * not depend on how its input is split, so the parts are byte-identical to writing line by line;
 * one write per record cost a threadpool job (and its kernel time) per record.
 */
export const GZIP_BATCH = 256 * 1024;

/**
 * zlib runs on a thread of its own while the records are read: up to four batches wait for it,
 * and its output buffer takes a whole batch (at 16 KiB, a batch needed two jobs, each waiting for a
 * turn of the event loop). Neither changes the bytes.
 */
const GZIP_STREAM = { writableHighWaterMark: 4 * GZIP_BATCH, chunkSize: GZIP_BATCH };

/**
 * Compresses as records arrive: only the gzip output of the current part and one batch of lines
 * (GZIP_BATCH) are held in memory, so memory stays flat however large a stream is.
 */
export class RawWriter {
  readonly files: RawFile[] = [];
  records = 0;
  private gz?: Gzip;
  private chunks: Buffer[] = [];
  /** Lines not yet handed to zlib, and their length. */
  private batch: string[] = [];
  private batchLength = 0;
  private partRecords = 0;
  private size = 0;
  private part = 0;

  constructor(
    private readonly storage: Storage,
    private readonly stream: string,
    private readonly runId: string,
    private readonly ingestDate: string,
    private readonly opts: RawWriterOptions = {},
  ) {}

  async write(record: unknown): Promise<void> {
    const line = JSON.stringify(record) + '\n';
    if (!this.gz) {
      this.gz = createGzip(GZIP_STREAM);
      this.chunks = [];
      this.gz.on('data', (c: Buffer) => this.chunks.push(c));
    }
    this.batch.push(line);
    this.batchLength += line.length;
    if (this.batchLength >= GZIP_BATCH) await this.compressBatch();
    this.size += line.length;
    this.partRecords++;
    this.records++;
    if (this.partRecords >= (this.opts.maxRecords ?? 100_000) || this.size >= (this.opts.maxBytes ?? 64 * 1024 * 1024)) {
      await this.flush();
    }
  }

  private async compressBatch(): Promise<void> {
    if (!this.gz || !this.batch.length) return;
    const text = this.batch.length === 1 ? this.batch[0] : this.batch.join('');
    this.batch = [];
    this.batchLength = 0;
    if (!this.gz.write(text)) await once(this.gz, 'drain');
    // A turn of the event loop: zlib's finished job hands back its output and the next batch
    // starts compressing, beside the records that follow. Without it, records handed over in
    // promises only never leave the microtask queue, and zlib waits for the next drain.
    else await new Promise((resolve) => setImmediate(resolve));
  }

  /** Writes the current part, if any. */
  async flush(): Promise<void> {
    const gz = this.gz;
    if (!gz || this.partRecords === 0) return;
    await this.compressBatch();
    const done = once(gz, 'end');
    gz.end();
    await done;
    const body = Buffer.concat(this.chunks);
    const key = rawKey(this.stream, this.ingestDate, this.runId, this.part++);
    await this.storage.put(key, body);
    this.files.push({ key, records: this.partRecords, bytes: body.length, sha256: sha256(body) });
    this.gz = undefined;
    this.chunks = [];
    this.partRecords = 0;
    this.size = 0;
  }

  get bytes(): number {
    return this.files.reduce((a, f) => a + f.bytes, 0);
  }
}
