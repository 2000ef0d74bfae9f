/**
 * Conformance vectors (test/transform/vectors/*.yaml, format in README.md there) as fixtures: the
 * declaration through the real loader, and the raw files landed in a lake. Shared by the DuckDB
 * run of the vectors (vectors.test.ts) and the engine equivalence suite (engines.test.ts).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { expect } from 'vitest';
import { parse, stringify } from 'yaml';
import { parsePipeline } from '../../core/config/index.ts';
import type { TableSpec } from '../../core/config/types.ts';
import { writeManifest } from '../../core/engine/manifest.ts';
import { LocalStorage } from '../../core/storage/local.ts';
import type { CommittedFile } from '../../core/transform/index.ts';
import { runId, writeRaw } from './helpers.ts';

export const VECTOR_DIR = join(import.meta.dirname, 'vectors');

export interface RawEntry {
  run?: number;
  stream: string;
  records?: unknown[];
  /** Raw text lines written after the records (malformed input). */
  lines?: string[];
  /** Records made from a template: `{i}` in a string becomes 0..count-1, `{i%N}` the remainder. */
  generate?: { count: number; record: unknown };
  /** How the run's manifest says it read the stream (default complete; `partial`: stopped part-way). */
  status?: 'complete' | 'partial';
}

export interface Vector {
  description: string;
  table: Record<string, unknown>;
  raw?: RawEntry[];
  build?: { target_file_mb?: number };
  expect: {
    order?: string;
    rows?: Record<string, unknown>[];
    count?: number;
    quarantined: number;
    reasons?: string[][];
    /** Parquet files per partition folder ('' = the table folder); a number or ">=n". */
    files?: Record<string, number | string>;
    /** Each entry must be a substring of one drift line; [] means no drift at all. */
    drift?: string[];
  };
}

/** A vector's file count: a number, or ">=n". */
export function countMatches(expected: number | string, actual: number): boolean {
  return typeof expected === 'number' ? actual === expected : actual >= Number(String(expected).replace('>=', ''));
}

/** The vector files, sorted; the file name without .yaml is the table name. */
export const vectorFiles = (): string[] => readdirSync(VECTOR_DIR).filter((f) => f.endsWith('.yaml')).sort();

export function readVector(file: string): { name: string; vector: Vector } {
  return { name: basename(file, '.yaml'), vector: parse(readFileSync(join(VECTOR_DIR, file), 'utf8')) as Vector };
}

function fill(template: unknown, i: number): unknown {
  if (typeof template === 'string') {
    return template.replace(/\{i(?:%(\d+))?\}/g, (_, mod?: string) => String(mod ? i % Number(mod) : i));
  }
  if (Array.isArray(template)) return template.map((t) => fill(t, i));
  if (template && typeof template === 'object') {
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, fill(v, i)]));
  }
  return template;
}

function tableStreams(table: Record<string, unknown>): string[] {
  const from = table.from;
  if (typeof from === 'string') return [from];
  return Array.isArray(from) ? from.map((f: { stream: string }) => f.stream) : [];
}

/** Per stream, the runs that read it completely (as completeReads of the manifests writeVectorRaw commits). */
export function vectorCompleteReads(v: Vector): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [i, r] of (v.raw ?? []).entries()) {
    const run = runId(r.run ?? i + 1);
    if (r.status !== 'partial' && !(out[r.stream] ??= []).includes(run)) out[r.stream].push(run);
  }
  return out;
}

/** The declaration through the real loader: schema-checked and normalized as pipeline.yaml would be. */
export function loadSpec(name: string, v: Vector): TableSpec {
  const streams = [...new Set((v.raw ?? []).map((r) => r.stream)), ...tableStreams(v.table)];
  const doc = {
    version: 1,
    name: 'vectors',
    connector: { use: 'spotify' },
    streams: Object.fromEntries(streams.map((s) => [s, { endpoint: 'me/player/recently-played' }])),
    tables: { [name]: v.table },
  };
  const { loaded, problems } = parsePipeline(stringify(doc), `${name}.yaml`);
  expect(problems.filter((p) => p.path.startsWith('tables')).map((p) => `${p.path}: ${p.message}`)).toEqual([]);
  return loaded.config.tables[name];
}

/**
 * Lands the vector's raw files in `lake` (gzip JSON Lines, in run order) and returns them as
 * committed files. With `manifests`, also commits each run's manifest (`_runs/<run>.json`), as the
 * engine does: what the Glue job reads to find the files.
 */
export async function writeVectorRaw(lake: string, v: Vector, opts: { manifests?: boolean } = {}): Promise<CommittedFile[]> {
  const committed: CommittedFile[] = [];
  const parts = new Map<string, number>();
  for (const [i, r] of (v.raw ?? []).entries()) {
    const run = runId(r.run ?? i + 1);
    const part = parts.get(`${run}/${r.stream}`) ?? 0;
    parts.set(`${run}/${r.stream}`, part + 1);
    const records = [...(r.records ?? []), ...Array.from({ length: r.generate?.count ?? 0 }, (_, k) => fill(r.generate!.record, k))];
    const lines = [...records.map((x) => JSON.stringify(x)), ...(r.lines ?? [])];
    committed.push(await writeRaw(lake, r.stream, run, [], { lines, part }));
  }
  const partial = new Set((v.raw ?? []).flatMap((r, i) => (r.status === 'partial' ? [`${runId(r.run ?? i + 1)}/${r.stream}`] : [])));
  if (opts.manifests) {
    const storage = new LocalStorage(lake);
    for (const run of [...new Set(committed.map((f) => f.runId))]) {
      const mine = committed.filter((f) => f.runId === run);
      const streams = Object.fromEntries(
        [...new Set(mine.map((f) => f.stream))].map((s) => {
          const files = mine.filter((f) => f.stream === s);
          const records = files.reduce((n, f) => n + f.records, 0);
          const status = partial.has(`${run}/${s}`) ? ('partial' as const) : ('complete' as const);
          return [s, { endpoint: 'x', records, files: files.map((f) => ({ key: f.key, records: f.records, bytes: f.bytes ?? 0, sha256: f.sha256 })), requests: {}, status }];
        }),
      );
      await writeManifest(storage, { run_id: run, pipeline: 'vectors', started_at: '2026-11-24T10:15:02.000Z', committed_at: '2026-11-24T10:15:09.000Z', streams });
    }
  }
  return committed;
}
