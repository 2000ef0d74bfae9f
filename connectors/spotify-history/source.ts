/**
 * Where an export is read from. A source lists the history files of a download and opens each as
 * a byte stream; the reader never needs more than that, so a new place to read from (S3) is one
 * more implementation of `ExportSource`:
 *
 * - `FolderSource`: a folder, searched recursively; every .zip inside it is read as well (users
 *   keep several downloads side by side);
 * - `ZipSource`: one .zip as Spotify sends it (central directory read once, entries streamed);
 * - `S3Source` (the AWS deployment, where the export is uploaded to the lake bucket's
 *   `imports/<pipeline>/`): `s3://bucket/prefix` lists objects with ListObjectsV2 and streams each
 *   with GetObject; a .zip object is read through yauzl's RandomAccessReader over ranged GETs, so
 *   nothing is downloaded whole. The client comes from the standard AWS environment.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { PassThrough } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, S3Client, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import yauzl from 'yauzl';
import { UserError } from '../../core/plugin-api.ts';
import { classify, ignored, type HistoryFileKind } from './files.ts';

export interface ExportFile {
  /** Path inside the export as records show it (`source_file`): relative to the configured path; zip entries as `<zip>/<entry>`. */
  name: string;
  basename: string;
  kind: HistoryFileKind;
  /** Uncompressed size in bytes. */
  size: number;
  /** A content hash known without reading the file (a zip entry's CRC-32), as `crc32:<hex>`. */
  knownHash?: string;
  /** Modification time of a plain file (lets a rerun skip it without hashing). */
  mtimeMs?: number;
  open(): Promise<Readable>;
}

export interface ExportSource {
  /** Every history file, sorted by name. */
  files(): Promise<ExportFile[]>;
  /** Every other file of the export (names as `ExportFile.name`), known once `files()` resolved: the run summary lists them. */
  readonly others: string[];
  close(): Promise<void>;
}

export function expandPath(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

export interface SourceOptions {
  /** The client for `s3://` paths; default one from the standard AWS environment. */
  s3?: S3Client;
}

export async function openSource(path: string, opts: SourceOptions = {}): Promise<ExportSource> {
  if (/^s3:\/\//i.test(path)) return S3Source.open(path, opts.s3 ?? new S3Client({}));
  const p = resolve(expandPath(path));
  let st;
  try {
    st = await stat(p);
  } catch {
    throw new UserError(`spotify-history: the export path ${p} does not exist`, 'set connector.config.path to the folder or .zip of your Spotify data download');
  }
  if (st.isDirectory()) return new FolderSource(p);
  if (/\.zip$/i.test(p)) return ZipSource.open(p, basename(p));
  throw new UserError(`spotify-history: ${p} is neither a folder nor a .zip`, 'set connector.config.path to the folder or .zip of your Spotify data download');
}

class FolderSource implements ExportSource {
  private readonly zips: ZipSource[] = [];
  readonly others: string[] = [];
  constructor(private readonly root: string) {}

  async files(): Promise<ExportFile[]> {
    const out: ExportFile[] = [];
    const entries = await readdir(this.root, { recursive: true, withFileTypes: true });
    for (const e of entries) {
      if (!e.isFile()) continue;
      const full = join(e.parentPath, e.name);
      const rel = relative(this.root, full).split(sep).join('/');
      if (ignored(rel)) continue;
      if (/\.zip$/i.test(e.name)) {
        const zip = await ZipSource.open(full, rel);
        this.zips.push(zip);
        out.push(...(await zip.files()));
        this.others.push(...zip.others);
        continue;
      }
      const kind = classify(e.name);
      if (!kind) {
        this.others.push(rel);
        continue;
      }
      const st = await stat(full);
      out.push({ name: rel, basename: e.name, kind, size: st.size, mtimeMs: Math.floor(st.mtimeMs), open: async () => createReadStream(full, { highWaterMark: 1 << 20 }) });
    }
    this.others.sort();
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async close(): Promise<void> {
    for (const z of this.zips) await z.close();
  }
}

class ZipSource implements ExportSource {
  readonly others: string[] = [];
  private constructor(
    private readonly zip: yauzl.ZipFile,
    private readonly entries: yauzl.Entry[],
    private readonly label: string,
  ) {}

  static open(file: string, label: string): Promise<ZipSource> {
    return ZipSource.from(() => yauzl.openPromise(file, { lazyEntries: true, autoClose: false }), label);
  }

  /** A zip read through ranged reads (an S3 object): only the central directory and the entries read are fetched. */
  static fromReader(reader: yauzl.RandomAccessReader, size: number, label: string): Promise<ZipSource> {
    return ZipSource.from(
      () =>
        new Promise<yauzl.ZipFile>((resolve, reject) =>
          yauzl.fromRandomAccessReader(reader, size, { lazyEntries: true, autoClose: false }, (err, zip) => (err ? reject(err) : resolve(zip))),
        ),
      label,
    );
  }

  private static async from(opener: () => Promise<yauzl.ZipFile>, label: string): Promise<ZipSource> {
    let zip: yauzl.ZipFile;
    try {
      zip = await opener();
    } catch (e) {
      throw new UserError(`spotify-history: ${label} is not a readable zip: ${(e as Error).message}`);
    }
    const entries: yauzl.Entry[] = [];
    for await (const entry of zip.eachEntry()) entries.push(entry);
    return new ZipSource(zip, entries, label);
  }

  async files(): Promise<ExportFile[]> {
    const out: ExportFile[] = [];
    for (const entry of this.entries) {
      if (entry.fileName.endsWith('/') || ignored(entry.fileName)) continue;
      const base = entry.fileName.split('/').pop()!;
      const kind = classify(base);
      if (!kind) {
        this.others.push(`${this.label}/${entry.fileName}`);
        continue;
      }
      out.push({
        name: `${this.label}/${entry.fileName}`,
        basename: base,
        kind,
        size: entry.uncompressedSize,
        knownHash: `crc32:${(entry.crc32 >>> 0).toString(16).padStart(8, '0')}`,
        open: () => this.zip.openReadStreamPromise(entry),
      });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async close(): Promise<void> {
    this.zip.close();
  }
}

/** Bounds the listing of a prefix: 1000 keys a page, so 10 million objects. */
const MAX_LIST_PAGES = 10_000;

/** An export uploaded to S3: every object under the prefix, zips read by ranged GETs. */
class S3Source implements ExportSource {
  private readonly zips: ZipSource[] = [];
  readonly others: string[] = [];

  private constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly url: string,
  ) {}

  static async open(url: string, client: S3Client): Promise<S3Source> {
    const m = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(url);
    if (!m || !m[1]) throw new UserError(`spotify-history: ${url} is not an s3://bucket/prefix path`);
    return new S3Source(client, m[1], m[2], url);
  }

  async files(): Promise<ExportFile[]> {
    const out: ExportFile[] = [];
    let token: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      let res: ListObjectsV2CommandOutput;
      try {
        res = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, ContinuationToken: token }));
      } catch (e) {
        throw new UserError(`spotify-history: cannot list ${this.url}: ${(e as Error).name}: ${(e as Error).message}`, 'check the path and that the extractor may read it');
      }
      for (const o of res.Contents ?? []) {
        if (!o.Key || o.Key.endsWith('/')) continue;
        const rel = o.Key.slice(this.prefix.length).replace(/^\/+/, '');
        if (ignored(rel)) continue;
        const base = rel.split('/').pop()!;
        const size = o.Size ?? 0;
        if (/\.zip$/i.test(base)) {
          const zip = await ZipSource.fromReader(new S3RangeReader(this.client, this.bucket, o.Key), size, rel);
          this.zips.push(zip);
          out.push(...(await zip.files()));
          this.others.push(...zip.others);
          continue;
        }
        const kind = classify(base);
        if (!kind) {
          this.others.push(rel);
          continue;
        }
        const key = o.Key;
        out.push({
          name: rel,
          basename: base,
          kind,
          size,
          // The ETag is a content hash S3 already knows (MD5, or MD5 of the parts): no read needed to recognise a re-upload.
          ...(o.ETag ? { knownHash: `s3etag:${o.ETag.replace(/"/g, '')}` } : {}),
          open: () => this.get(key),
        });
      }
      if (!res.IsTruncated) break;
      token = res.NextContinuationToken;
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private async get(key: string): Promise<Readable> {
    const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return res.Body as Readable;
  }

  async close(): Promise<void> {
    for (const z of this.zips) await z.close();
  }
}

/** yauzl's random access over an S3 object: each read is a ranged GET. */
class S3RangeReader extends yauzl.RandomAccessReader {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly key: string,
  ) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    // yauzl wants a stream at once; the GET is asynchronous, so hand it a pass-through to fill.
    const out = new PassThrough();
    this.client
      .send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key, Range: `bytes=${start}-${end - 1}` }))
      .then((res) => (res.Body as Readable).on('error', (e) => out.destroy(e)).pipe(out))
      .catch((e: unknown) => out.destroy(e instanceof Error ? e : new Error(String(e))));
    return out;
  }
}
