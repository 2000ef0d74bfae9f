/**
 * Where an export is read from. A source lists the history files of a download and opens each as
 * a byte stream; the reader never needs more than that, so a new place to read from (S3) is one
 * more implementation of `ExportSource`:
 *
 * - `FolderSource`: a folder, searched recursively; every .zip inside it is read as well (users
 *   keep several downloads side by side);
 * - `ZipSource`: one .zip as Spotify sends it (central directory read once, entries streamed);
 * - S3 (planned, for the AWS deployment): `s3://bucket/prefix` lists objects with ListObjectsV2
 *   and streams each with GetObject; a .zip object is read through yauzl's RandomAccessReader
 *   over ranged GETs, so nothing is downloaded whole. Until then `openSource` says so.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
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
  close(): Promise<void>;
}

export function expandPath(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

export async function openSource(path: string): Promise<ExportSource> {
  if (/^s3:\/\//i.test(path)) {
    throw new UserError(
      `spotify-history: reading the export from S3 (${path}) is not implemented yet`,
      'download the export and set path to its folder or .zip',
    );
  }
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
        continue;
      }
      const kind = classify(e.name);
      if (!kind) continue;
      const st = await stat(full);
      out.push({ name: rel, basename: e.name, kind, size: st.size, mtimeMs: Math.floor(st.mtimeMs), open: async () => createReadStream(full, { highWaterMark: 1 << 20 }) });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async close(): Promise<void> {
    for (const z of this.zips) await z.close();
  }
}

class ZipSource implements ExportSource {
  private constructor(
    private readonly zip: yauzl.ZipFile,
    private readonly entries: yauzl.Entry[],
    private readonly label: string,
  ) {}

  static async open(file: string, label: string): Promise<ZipSource> {
    let zip: yauzl.ZipFile;
    try {
      zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false });
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
      if (!kind) continue;
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
