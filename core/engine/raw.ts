/**
 * The raw zone writer: records of one stream in one run become gzip JSON Lines parts at
 * `raw/<stream>/dt=<ingest date>/<run id>-<part>.jsonl.gz`. Raw is append-only: a run only ever
 * writes keys under its own run id, so nothing already stored can be overwritten.
 */
import { gzipSync } from 'node:zlib';
import type { Storage } from '../storage/storage.ts';

export interface RawFile {
  key: string;
  records: number;
  bytes: number;
}

export interface RawWriterOptions {
  /** Roll to a new part after this many records or uncompressed bytes. */
  maxRecords?: number;
  maxBytes?: number;
}

export function rawKey(stream: string, ingestDate: string, runId: string, part: number): string {
  return `raw/${stream}/dt=${ingestDate}/${runId}-${String(part).padStart(5, '0')}.jsonl.gz`;
}

export class RawWriter {
  readonly files: RawFile[] = [];
  records = 0;
  private lines: string[] = [];
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
    const line = JSON.stringify(record);
    this.lines.push(line);
    this.size += line.length + 1;
    this.records++;
    if (this.lines.length >= (this.opts.maxRecords ?? 100_000) || this.size >= (this.opts.maxBytes ?? 64 * 1024 * 1024)) {
      await this.flush();
    }
  }

  /** Writes the buffered part, if any. */
  async flush(): Promise<void> {
    if (this.lines.length === 0) return;
    const body = gzipSync(Buffer.from(this.lines.join('\n') + '\n'));
    const key = rawKey(this.stream, this.ingestDate, this.runId, this.part++);
    await this.storage.put(key, body);
    this.files.push({ key, records: this.lines.length, bytes: body.length });
    this.lines = [];
    this.size = 0;
  }

  get bytes(): number {
    return this.files.reduce((a, f) => a + f.bytes, 0);
  }
}
