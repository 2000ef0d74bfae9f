/**
 * `_quarantine/`: lake files moved aside instead of failing every later run on them. A corrupt run
 * manifest or state file (an empty file after a disk filled up, a hand edit gone wrong) would stop
 * every run and transform with a parse error; instead it is copied here with a `.reason.txt`
 * beside it, removed from its place, and a warning names the file and what was lost. Repairs
 * (`run --repair`, core/engine/repair.ts) put the manifests and raw files they take out of the
 * lake here too.
 *
 *   _quarantine/_runs/<run id>-<time>.json (+ .reason.txt)   a run manifest taken out
 *   _quarantine/_state/<stream>-<time>.json (+ .reason.txt)  a stream's state taken out
 *   _quarantine/raw/<stream>/dt=<day>/<file>                 raw files no manifest commits any more
 *
 * Order, so a crash at any step is repeated harmlessly by the next run: the copies first, then the
 * state resets, then the raw files, then the removal of the manifest from its place.
 */
import type { Logger } from '../plugin-api.ts';
import type { Storage } from '../storage/storage.ts';

export const QUARANTINE = '_quarantine';

const stamp = () => new Date().toISOString().replace(/[-:.]/g, '');

export function stateKeyOf(stream: string): string {
  return `_state/${stream}.json`;
}

/** Moves `_state/<stream>.json` aside (if there is one), so the stream's next read starts from scratch. */
export async function resetState(storage: Storage, stream: string, reason: string): Promise<string | undefined> {
  const key = stateKeyOf(stream);
  const body = await storage.get(key);
  if (body === undefined) return undefined;
  const aside = `${QUARANTINE}/_state/${stream}-${stamp()}.json`;
  await storage.put(aside, body);
  await storage.put(`${aside}.reason.txt`, `${key}: ${reason}\n`);
  await storage.delete(key);
  return aside;
}

/** Run id of a manifest key `_runs/<run id>.json`. */
export const runIdOfKey = (key: string) => key.slice('_runs/'.length, -'.json'.length);

/** Raw files whose name says they belong to a run: `raw/<stream>/<folder>/<run id>-<part>.jsonl.gz`. */
export async function rawFilesOfRun(storage: Storage, runId: string): Promise<string[]> {
  return (await storage.list('raw/')).filter((k) => {
    const name = k.slice(k.lastIndexOf('/') + 1);
    return name.startsWith(`${runId}-`) && /^-\d+\.jsonl(\.gz)?$/.test(name.slice(runId.length));
  });
}

/** Moves raw files out of `raw/` into `_quarantine/raw/` (copy, then delete: a crash leaves a copy too many). */
export async function quarantineRaw(storage: Storage, keys: string[]): Promise<void> {
  for (const key of keys) {
    const body = await storage.get(key);
    if (body !== undefined) await storage.put(`${QUARANTINE}/${key}`, body);
    await storage.delete(key);
  }
}

/** `_quarantine/_runs/<run id>-<time>.json`: where a manifest taken out goes. */
export const manifestAside = (runId: string) => `${QUARANTINE}/_runs/${runId}-${stamp()}.json`;

/**
 * A manifest that cannot be read: copied to `_quarantine/_runs/`, the state of the streams its raw
 * files belong to reset (their data is no longer committed, so it must be read again), its raw
 * files moved to `_quarantine/raw/`, then removed from `_runs/`.
 */
export async function quarantineManifest(storage: Storage, key: string, body: Buffer, reason: string, logger: Logger): Promise<void> {
  const runId = runIdOfKey(key);
  const raw = await rawFilesOfRun(storage, runId);
  const streams = [...new Set(raw.map((k) => k.split('/')[1]))].sort();
  const aside = manifestAside(runId);
  await storage.put(aside, body);
  await storage.put(`${aside}.reason.txt`, `${key}: ${reason}\nraw files of run ${runId} (moved to ${QUARANTINE}/raw/): ${raw.length}\nstreams reset: ${streams.join(', ') || 'none'}\n`);
  const reset: string[] = [];
  for (const s of streams) if (await resetState(storage, s, `reset because run manifest ${key} was corrupt (${reason})`)) reset.push(s);
  await quarantineRaw(storage, raw);
  await storage.delete(key);
  logger.warn(
    `run manifest ${storage.location}/${key} is corrupt (${reason}); moved to ${aside}. Lost: run ${runId} is no longer committed, ` +
      (raw.length
        ? `so its ${raw.length} raw file(s) of ${streams.join(', ')} are out of the tables (moved to ${QUARANTINE}/raw/); ${reset.length ? `the state of ${reset.join(', ')} was reset, so the next run reads those streams again` : 'no state to reset'}`
        : 'and it has no raw files left'),
  );
}
