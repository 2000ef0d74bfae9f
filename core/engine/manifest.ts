/**
 * Run manifests (`_runs/<run id>.json`), written last: raw data a committed manifest does not
 * list is invisible to transforms, so a run killed half-way leaves nothing visible.
 */
import type { Storage } from '../storage/storage.ts';
import type { RawFile } from './raw.ts';

export interface StreamManifest {
  endpoint: string;
  records: number;
  files: RawFile[];
  requests: Record<string, number>;
  /** `complete`, or `partial` when the run stopped early (quota, wait budget) with state saved. */
  status: 'complete' | 'partial';
}

export interface RunManifest {
  run_id: string;
  pipeline: string;
  started_at: string;
  committed_at: string;
  streams: Record<string, StreamManifest>;
}

export function manifestKey(runId: string): string {
  return `_runs/${runId}.json`;
}

export async function writeManifest(storage: Storage, m: RunManifest): Promise<void> {
  await storage.put(manifestKey(m.run_id), JSON.stringify(m, null, 2) + '\n');
}

/** Every committed run, oldest first (run ids sort by time). */
export async function listManifests(storage: Storage): Promise<RunManifest[]> {
  const keys = (await storage.list('_runs/')).filter((k) => k.endsWith('.json'));
  const out: RunManifest[] = [];
  for (const key of keys) {
    const body = await storage.get(key);
    if (!body) continue;
    out.push(JSON.parse(body.toString('utf8')) as RunManifest);
  }
  return out.sort((a, b) => (a.run_id < b.run_id ? -1 : a.run_id > b.run_id ? 1 : 0));
}

/** The raw files of committed runs, per stream, in run order. */
export function committedFiles(manifests: RunManifest[]): Array<{ stream: string; key: string; runId: string; records: number }> {
  const out: Array<{ stream: string; key: string; runId: string; records: number }> = [];
  for (const m of manifests) {
    for (const [stream, s] of Object.entries(m.streams)) {
      for (const f of s.files) out.push({ stream, key: f.key, runId: m.run_id, records: f.records });
    }
  }
  return out;
}
