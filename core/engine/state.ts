/**
 * Per-stream state (cursors, versions of skipped parents), saved only after the run that
 * produced it has committed its manifest: state never runs ahead of the data it covers.
 */
import type { Storage } from '../storage/storage.ts';
import type { StreamState } from '../plugin-api.ts';

export function stateKey(stream: string): string {
  return `_state/${stream}.json`;
}

export async function loadState(storage: Storage, stream: string): Promise<StreamState> {
  const body = await storage.get(stateKey(stream));
  return body ? (JSON.parse(body.toString('utf8')) as StreamState) : {};
}

export async function saveState(storage: Storage, stream: string, state: StreamState, runId: string): Promise<void> {
  await storage.put(stateKey(stream), JSON.stringify({ ...state, _run_id: runId }, null, 2) + '\n');
}
