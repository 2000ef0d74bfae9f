/**
 * Reading a config file the user names (pipeline.yaml, an included pipeline, the secrets file) as text, defensively:
 * only a regular file (a directory, a FIFO or /dev/zero is named, never opened), at most
 * MAX_CONFIG_BYTES, UTF-8 (a byte order mark is dropped; UTF-16/32 and invalid bytes are errors
 * with the line and column of the first bad byte). Every failure is a ConfigError: one line
 * naming the file and how to fix it.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { ConfigError } from './problem.ts';

/** The largest pipeline file read (the shipped one is about 8 KiB). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

function fail(file: string, message: string, line = 0, col = 0): ConfigError {
  return new ConfigError([{ file, line, col, path: '', message, severity: 'error' }]);
}

const why = (code: string | undefined, what: string): string => {
  switch (code) {
    case 'ENOENT':
      return 'file not found';
    case 'EACCES':
    case 'EPERM':
      return 'cannot read the file: permission denied';
    case 'ENOTDIR':
      return 'file not found (a part of the path is not a folder)';
    case 'ELOOP':
      return 'cannot read the file: too many symbolic links';
    case 'ENAMETOOLONG':
      return 'cannot read the file: the path is too long';
    case 'EISDIR':
      return `is a folder, not a ${what}`;
    default:
      return `cannot read the file (${code ?? 'unknown error'})`;
  }
};

const size = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`);

export interface ReadOptions {
  /** What the file is, for messages: `pipeline file` (default), `secrets file`. */
  what?: string;
  maxBytes?: number;
}

/** The text of a config file, or a ConfigError saying in one line why it cannot be used. */
export function readConfigText(file: string, opts: ReadOptions = {}): string {
  const what = opts.what ?? 'pipeline file';
  const maxBytes = opts.maxBytes ?? MAX_CONFIG_BYTES;
  let fd: number;
  try {
    // stat first: opening a FIFO would wait for a writer, and a device may never end.
    const st = statSync(file);
    if (st.isDirectory()) throw fail(file, `is a folder, not a ${what}`);
    if (!st.isFile()) throw fail(file, 'is not a regular file');
    if (st.size > maxBytes) throw fail(file, `is ${size(st.size)}; a ${what} may be at most ${size(maxBytes)}`);
    fd = openSync(file, 'r');
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw fail(file, why((e as NodeJS.ErrnoException).code, what));
  }
  let bytes: Buffer;
  try {
    if (!fstatSync(fd).isFile()) throw fail(file, 'is not a regular file');
    // One byte more than allowed tells a file that grew since the stat.
    const buf = Buffer.alloc(maxBytes + 1);
    let n = 0;
    for (let r = 1; r > 0 && n < buf.length; n += r) r = readSync(fd, buf, n, buf.length - n, null);
    if (n > maxBytes) throw fail(file, `is larger than ${size(maxBytes)}, the most a ${what} may be`);
    bytes = buf.subarray(0, n);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw fail(file, why((e as NodeJS.ErrnoException).code, what));
  } finally {
    closeSync(fd);
  }
  return decodeConfig(bytes, file, what);
}

/** Whether a ConfigError of readConfigText says the file does not exist (a missing secrets file means none). */
export function isMissing(e: unknown): boolean {
  return e instanceof ConfigError && e.problems.length === 1 && e.problems[0].message === 'file not found';
}

/** UTF-8 text of `bytes` without its byte order mark; other encodings and invalid bytes are errors. */
export function decodeConfig(bytes: Uint8Array, file: string, what = 'pipeline file'): string {
  const at = (b: number[]) => b.every((x, i) => bytes[i] === x);
  if (at([0x00, 0x00, 0xfe, 0xff]) || at([0xff, 0xfe, 0x00, 0x00])) throw fail(file, 'is UTF-32 encoded; save it as UTF-8', 1, 1);
  if (at([0xfe, 0xff]) || at([0xff, 0xfe])) throw fail(file, 'is UTF-16 encoded; save it as UTF-8', 1, 1);
  const start = at([0xef, 0xbb, 0xbf]) ? 3 : 0;
  const bad = invalidUtf8(bytes, start);
  if (bad !== undefined) {
    const { line, col } = bytePosition(bytes, start, bad);
    const hex = bytes[bad].toString(16).padStart(2, '0');
    throw fail(file, `is not valid UTF-8 (byte 0x${hex}); save it as UTF-8`, line, col);
  }
  if (bytes.indexOf(0, start) >= 0) {
    const { line, col } = bytePosition(bytes, start, bytes.indexOf(0, start));
    throw fail(file, `contains a NUL byte; a ${what} is text`, line, col);
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, bytes.length - start).toString('utf8');
}

/** Offset of the first byte that does not belong to a well-formed UTF-8 sequence, if any. */
export function invalidUtf8(b: Uint8Array, from = 0): number | undefined {
  let i = from;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) [n, min] = [1, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [n, min] = [2, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const x = b[i + k];
      if (x === undefined || (x & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (x & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return i;
    i += n + 1;
  }
  return undefined;
}

function bytePosition(bytes: Uint8Array, start: number, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = start;
  for (let i = start; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  // Columns count characters, as editors do: continuation bytes are not characters.
  let col = 1;
  for (let i = lineStart; i < offset; i++) if ((bytes[i] & 0xc0) !== 0x80) col++;
  return { line, col };
}
