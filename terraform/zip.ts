/**
 * A deterministic zip archive of a few small files, built in memory at synth time: the Python
 * modules the Glue job imports travel as one `--extra-py-files` zip (see
 * constructs/glue-transform.ts). Entries are stored uncompressed (Python's zipimport reads them
 * like any other; the files are a few kilobytes) with a fixed timestamp and mode, so the same
 * files always give the same bytes and the synthesized stack does not change between machines.
 */
import { crc32 } from 'node:zlib';

export interface ZipEntry {
  /** The path inside the archive (forward slashes, no leading slash). */
  name: string;
  data: Buffer;
}

// 1980-01-01 00:00, the earliest time a zip entry can carry: nothing of the build clock leaks in.
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
// Made by Unix (3), version 2.0: lets the external attributes carry the mode rw-r--r--.
const MADE_BY = (3 << 8) | 20;
const MODE = 0o100644;

export function zipFiles(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  const seen = new Set<string>();
  for (const e of entries) {
    if (!/^[^/\\][^\\]*$/.test(e.name) || e.name.split('/').includes('..')) throw new Error(`not a relative zip entry name: ${e.name}`);
    if (seen.has(e.name)) throw new Error(`duplicate zip entry ${e.name}`);
    seen.add(e.name);
    const name = Buffer.from(e.name, 'utf8');
    const crc = crc32(e.data);
    const size = e.data.length;
    // Names are UTF-8 (general purpose flag bit 11).
    const flags = 1 << 11;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(size, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, e.data);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(MADE_BY, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(size, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    // extra length, comment length, disk number start, internal attributes: 0
    central.writeUInt32LE((MODE << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);

    offset += local.length + name.length + size;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
