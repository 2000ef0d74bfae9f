/**
 * Integrity of committed raw data: every file a run manifest lists is checked against what the
 * manifest recorded when it was written (its byte size, the SHA-256 of its stored bytes, its
 * record count) before a transform reads it, so a truncated, replaced or missing file is an error
 * naming the file instead of a table with rows silently missing. Manifests written before the
 * checksums existed are checked for what they have (size and records).
 *
 * The Glue job checks the same things in glue-jobs/lake_io.py (`file_facts`, `check_files`).
 */
import { createHash } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import { UserError } from '../errors.ts';

/** What a manifest says about one raw file. */
export interface ExpectedFile {
  key: string;
  runId: string;
  stream: string;
  records: number;
  bytes?: number;
  sha256?: string;
}

export interface FileProblem {
  file: ExpectedFile;
  problem: string;
}

/** Committed raw data does not match its manifest: names every file and says how to repair. */
export class IntegrityError extends UserError {
  constructor(readonly problems: FileProblem[]) {
    const shown = problems.slice(0, 10).map((p) => `${p.file.key} (run ${p.file.runId}): ${p.problem}`);
    const more = problems.length > 10 ? [`... and ${problems.length - 10} more`] : [];
    super(
      `committed raw data failed verification, so no table was built from it: ${problems.length === 1 ? shown[0] : `${problems.length} files:\n  ${[...shown, ...more].join('\n  ')}`}`,
      'run `spotify-pipeline run --repair`: it moves the runs of these files aside (to _quarantine/) and re-reads their streams',
    );
    this.name = 'IntegrityError';
  }
}

export const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');

/**
 * JSON Lines records in a gzip file: lines holding anything but blanks (as the transforms read
 * them: a blank line is no record, a last line without `\n` is one). Rejects when the bytes are not
 * a complete gzip stream.
 */
export function countGzipLines(body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const gz = createGunzip();
    let lines = 0;
    // Whether the line being read so far holds a non-blank byte.
    let content = false;
    gz.on('data', (chunk: Buffer) => {
      let pos = 0;
      while (pos < chunk.length) {
        const nl = chunk.indexOf(10, pos);
        const end = nl < 0 ? chunk.length : nl;
        if (!content) {
          for (let i = pos; i < end; i++) {
            const c = chunk[i];
            if (c !== 32 && c !== 9 && c !== 13) {
              content = true;
              break;
            }
          }
        }
        if (nl < 0) break;
        if (content) lines++;
        content = false;
        pos = nl + 1;
      }
    });
    gz.on('end', () => resolve(lines + (content ? 1 : 0)));
    gz.on('error', reject);
    gz.end(body);
  });
}

/** What is wrong with one stored file, or undefined when it is what its manifest says. */
export async function checkFile(f: ExpectedFile, body: Buffer | undefined): Promise<string | undefined> {
  if (body === undefined) return 'missing (listed by its run manifest, not in the lake)';
  if (f.bytes !== undefined && body.length !== f.bytes) return `${body.length} bytes, the manifest says ${f.bytes}`;
  if (f.sha256 !== undefined) {
    // The bytes its run wrote (and counted the lines of): nothing more to check.
    return sha256(body) === f.sha256 ? undefined : 'its SHA-256 is not the one in the manifest (the file was changed after its run)';
  }
  // A manifest from before checksums: the file must at least be whole gzip with its record lines.
  if (body.length < 2 || body[0] !== 0x1f || body[1] !== 0x8b) return 'not a gzip file';
  let lines: number;
  try {
    lines = await countGzipLines(body);
  } catch (e) {
    return `unreadable gzip (${(e as Error).message})`;
  }
  if (lines !== f.records) return `${lines} record line(s), the manifest says ${f.records}`;
  return undefined;
}

/**
 * Checks every file (a few at a time: gunzip runs on libuv's threads) and returns the problems,
 * in the files' order. `read` gives a file's bytes, undefined when it does not exist.
 */
export async function verifyFiles(files: ExpectedFile[], read: (key: string) => Promise<Buffer | undefined>, concurrency = 4): Promise<FileProblem[]> {
  const problems: Array<FileProblem | undefined> = new Array<FileProblem | undefined>(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const problem = await checkFile(files[i], await read(files[i].key));
      if (problem) problems[i] = { file: files[i], problem };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  return problems.filter((p): p is FileProblem => p !== undefined);
}
