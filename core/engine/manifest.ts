/**
 * Run manifests (`_runs/<run id>.json`), written last: raw data a committed manifest does not
 * list is invisible to transforms, so a run killed half-way leaves nothing visible.
 *
 * Each file entry records what the transforms verify before reading it (core/engine/integrity.ts,
 * glue-jobs/lake_io.py): `records` (its JSON lines), `bytes` (its stored size) and, since manifest
 * format 2, `sha256` (of its stored bytes). Older manifests (no `format`, no `sha256`) are read and
 * checked for what they have.
 */
import { UserError } from '../errors.ts';
import type { Logger } from '../plugin-api.ts';
import type { Storage } from '../storage/storage.ts';
import type { RawFile } from './raw.ts';
import { quarantineManifest } from './quarantine.ts';

/** The manifest format this engine writes: 2 added per-file `sha256`. */
export const MANIFEST_FORMAT = 2;

export interface StreamManifest {
  endpoint: string;
  records: number;
  files: RawFile[];
  requests: Record<string, number>;
  /** `complete`, or `partial` when the run stopped early (quota, wait budget) with state saved. */
  status: 'complete' | 'partial';
}

export interface RunManifest {
  /** 2 (absent in manifests written before per-file checksums). */
  format?: number;
  run_id: string;
  pipeline: string;
  started_at: string;
  committed_at: string;
  streams: Record<string, StreamManifest>;
}

export const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function manifestKey(runId: string): string {
  return `_runs/${runId}.json`;
}

export async function writeManifest(storage: Storage, m: RunManifest): Promise<void> {
  await storage.put(manifestKey(m.run_id), JSON.stringify(m, null, 2) + '\n');
}

/**
 * Why `key` is not a raw file key of `stream`, or undefined: `raw/<stream>/<folder>/<file>.jsonl.gz`
 * (or `.jsonl`), relative, with no `.` or `..` segment, so a manifest can never point outside the
 * lake's raw zone (or at another stream's data).
 */
export function rawKeyProblem(key: unknown, stream: string): string | undefined {
  if (typeof key !== 'string' || !key) return 'a file entry has no key';
  const parts = key.split('/');
  if (key.startsWith('/') || key.includes('\\') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    return `file key "${key}" is not a relative lake key (no absolute paths, no . or .. segments)`;
  }
  if (parts.length !== 4 || parts[0] !== 'raw' || parts[1] !== stream || !/\.jsonl(\.gz)?$/.test(parts[3])) {
    return `file key "${key}" is not a raw file of stream ${stream} (raw/${stream}/dt=<day>/<run id>-<part>.jsonl.gz)`;
  }
  return undefined;
}

/** The manifest in `body`, or why it is not one (not JSON, wrong shape, a key outside the raw zone). */
export function parseManifest(body: Buffer): RunManifest | string {
  let m: unknown;
  try {
    m = JSON.parse(body.toString('utf8'));
  } catch (e) {
    return body.length === 0 ? 'empty file' : `not JSON (${(e as Error).message})`;
  }
  if (!m || typeof m !== 'object' || Array.isArray(m)) return 'not a JSON object';
  const run = m as Partial<RunManifest>;
  if (typeof run.run_id !== 'string' || !RUN_ID.test(run.run_id)) return 'no valid run_id';
  if (!run.streams || typeof run.streams !== 'object' || Array.isArray(run.streams)) return 'no streams object';
  for (const [stream, s] of Object.entries(run.streams)) {
    if (!s || typeof s !== 'object' || !Array.isArray(s.files)) return `streams.${stream}.files is not a list`;
    for (const f of s.files as unknown[]) {
      const file = (f ?? {}) as Partial<RawFile>;
      const bad = rawKeyProblem(file.key, stream);
      if (bad) return `streams.${stream}: ${bad}`;
      if (typeof file.records !== 'number' || !Number.isInteger(file.records) || file.records < 0) return `streams.${stream}: ${file.key} has no record count`;
      if (file.bytes !== undefined && (typeof file.bytes !== 'number' || file.bytes < 0)) return `streams.${stream}: ${file.key} has an invalid byte size`;
      if (file.sha256 !== undefined && (typeof file.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(file.sha256))) return `streams.${stream}: ${file.key} has an invalid sha256`;
    }
  }
  return run as RunManifest;
}

/** A run manifest that cannot be read; `run`/`transform` move such files aside (see listManifests). */
export class CorruptManifestError extends UserError {
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`run manifest ${key} is corrupt: ${reason}`, '`spotify-pipeline run` or `transform` moves it aside to _quarantine/ (and resets the state of its streams so they are read again)');
    this.name = 'CorruptManifestError';
  }
}

export interface ListOptions {
  /**
   * Move corrupt manifests aside (to `_quarantine/_runs/`, resetting the state of the streams whose
   * raw files carry that run id) with a warning here, instead of failing. Only for a caller that
   * holds the lake lock (run, transform): it writes.
   */
  quarantine?: Logger;
  /**
   * Leave a corrupt manifest out, told why, instead of failing: for a reader that writes nothing
   * and holds no lock (the report, locally and in AWS).
   */
  skipCorrupt?: (key: string, why: string) => void;
}

/** Every committed run, oldest first (run ids sort by time). A corrupt one fails, is moved aside, or is skipped. */
export async function listManifests(storage: Storage, opts: ListOptions = {}): Promise<RunManifest[]> {
  const keys = (await storage.list('_runs/')).filter((k) => k.endsWith('.json') && !k.slice('_runs/'.length).includes('/'));
  const out: RunManifest[] = [];
  for (const key of keys) {
    const body = await storage.get(key);
    if (!body) continue;
    const m = parseManifest(body);
    if (typeof m === 'string') {
      if (opts.skipCorrupt) {
        opts.skipCorrupt(key, m);
        continue;
      }
      if (!opts.quarantine) throw new CorruptManifestError(key, m);
      await quarantineManifest(storage, key, body, m, opts.quarantine);
      continue;
    }
    out.push(m);
  }
  return out.sort((a, b) => (a.run_id < b.run_id ? -1 : a.run_id > b.run_id ? 1 : 0));
}

export interface CommittedRawFile {
  stream: string;
  key: string;
  runId: string;
  records: number;
  bytes?: number;
  sha256?: string;
}

/**
 * Per stream, the committed runs that read it completely (not stopped part-way; manifests from
 * before `status` count as complete), oldest first: a table with `parents` keeps only the parents
 * of the newest one.
 */
export function completeReads(manifests: RunManifest[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of manifests) {
    for (const [stream, s] of Object.entries(m.streams)) if (s.status !== 'partial') (out[stream] ??= []).push(m.run_id);
  }
  return out;
}

/** The raw files of committed runs, per stream, in run order, with what their manifest says of them. */
export function committedFiles(manifests: RunManifest[]): CommittedRawFile[] {
  const out: CommittedRawFile[] = [];
  for (const m of manifests) {
    for (const [stream, s] of Object.entries(m.streams)) {
      for (const f of s.files) {
        // Validated when read (parseManifest); checked again for manifests built in code.
        const bad = rawKeyProblem(f.key, stream);
        if (bad) throw new CorruptManifestError(manifestKey(m.run_id), bad);
        out.push({ stream, key: f.key, runId: m.run_id, records: f.records, ...(f.bytes !== undefined && { bytes: f.bytes }), ...(f.sha256 !== undefined && { sha256: f.sha256 }) });
      }
    }
  }
  return out;
}
