/**
 * Per-stream state (cursors, versions of skipped parents), saved only after the run that
 * produced it has committed its manifest: state never runs ahead of the data it covers.
 *
 * A state file that cannot be read (not JSON, not an object) never stops the lake: it is moved
 * aside to `_quarantine/_state/` with a warning naming it and what was lost, and the stream starts
 * over from an empty state (records read again are deduplicated by the tables).
 */
import type { Logger, StreamState } from '../plugin-api.ts';
import type { Storage } from '../storage/storage.ts';
import { resetState, stateKeyOf } from './quarantine.ts';

export const stateKey = stateKeyOf;

function parseState(body: Buffer): StreamState | string {
  let s: unknown;
  try {
    s = JSON.parse(body.toString('utf8'));
  } catch (e) {
    return body.length === 0 ? 'empty file' : `not JSON (${(e as Error).message})`;
  }
  return s && typeof s === 'object' && !Array.isArray(s) ? (s as StreamState) : 'not a JSON object';
}

export async function loadState(storage: Storage, stream: string, logger?: Logger): Promise<StreamState> {
  const body = await storage.get(stateKey(stream));
  if (!body) return {};
  const state = parseState(body);
  if (typeof state !== 'string') return state;
  const aside = await resetState(storage, stream, `corrupt: ${state}`);
  const lost = `its cursor, the versions of skipped parents and any ids it still owed are lost; the stream is read from the start (records read again are deduplicated by the tables)`;
  logger?.warn(`state file ${storage.location}/${stateKey(stream)} of stream ${stream} is corrupt (${state}); moved to ${aside}: ${lost}`);
  return {};
}

export async function saveState(storage: Storage, stream: string, state: StreamState, runId: string): Promise<void> {
  await storage.put(stateKey(stream), JSON.stringify({ ...state, _run_id: runId }, null, 2) + '\n');
}
