/**
 * `state show [STREAM]` and `state reset STREAM...`: the per-stream state the engine saves after
 * each committed run (engine/state.ts). A reset moves the file to `_quarantine/_state/` (undo by
 * moving it back), under the lake's lock so no run saves state at the same moment.
 */
import { join } from 'node:path';
import { lakeDir } from '../config/index.ts';
import { UserError } from '../errors.ts';
import { createLogger, redact } from '../log.ts';
import { withLakeLock } from '../engine/lock.ts';
import { stateKey } from '../engine/state.ts';
import { resetState } from '../engine/quarantine.ts';
import { LocalStorage } from '../storage/local.ts';
import type { Prepared } from '../pipeline.ts';
import { terminalSafe } from '../terminal.ts';
import type { CliContext } from './context.ts';
import { textTable } from './format.ts';

const out = (s = '') => process.stdout.write(terminalSafe(redact(s)) + '\n');

/** Stream -> the pipeline declaring it, for the pipeline and those it includes (they share the lake). */
function streamsOf(prep: Prepared): Map<string, string> {
  const m = new Map<string, string>();
  for (const p of [prep, ...(prep.includes ?? [])]) for (const s of Object.keys(p.loaded.config.streams)) if (!m.has(s)) m.set(s, p.loaded.config.name);
  return m;
}

function known(streams: Map<string, string>, names: string[], file: string): void {
  const unknown = names.filter((n) => !streams.has(n));
  if (unknown.length) throw new UserError(`unknown stream${unknown.length === 1 ? '' : 's'} ${unknown.map((n) => `"${n}"`).join(', ')} in ${file}`, `expected one of ${[...streams.keys()].join(', ')}`);
}

/** The state file's object, `undefined` when there is none, or why it cannot be read. */
async function readState(storage: LocalStorage, stream: string): Promise<Record<string, unknown> | undefined | string> {
  const body = await storage.get(stateKey(stream));
  if (body === undefined) return undefined;
  try {
    const s: unknown = JSON.parse(body.toString('utf8'));
    return s && typeof s === 'object' && !Array.isArray(s) ? (s as Record<string, unknown>) : 'corrupt: not a JSON object';
  } catch {
    return 'corrupt: not JSON (the next run moves it aside and reads the stream from the start)';
  }
}

/** One line of what a state holds: its cursor-like values, how many parent versions, how many ids owed. */
export function describeState(s: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(s)) {
    if (k === '_run_id') continue;
    if (k === '_pending_ids') parts.push(`${Array.isArray(v) ? v.length : 0} id(s) owed`);
    else if (v && typeof v === 'object') parts.push(`${k}: ${Object.keys(v).length} entr${Object.keys(v).length === 1 ? 'y' : 'ies'}`);
    else parts.push(`${k}=${String(v)}`);
  }
  return parts.join(', ') || '(empty)';
}

export async function stateShowCommand(ctx: CliContext, stream: string | undefined, o: { config: string; lake?: string }): Promise<void> {
  const prep = await ctx.prepare(o.config);
  const streams = streamsOf(prep);
  if (stream !== undefined) known(streams, [stream], o.config);
  const dir = lakeDir(prep.loaded, o.lake);
  const storage = new LocalStorage(dir);
  if (stream !== undefined) {
    const s = await readState(storage, stream);
    if (s === undefined) out(`${stream}: no saved state (the next run reads it from the start)`);
    else if (typeof s === 'string') out(`${stream}: ${join(dir, stateKey(stream))} is ${s}`);
    else out(JSON.stringify(s, null, 2));
    return;
  }
  const rows = [];
  for (const [name, pipeline] of streams) {
    const s = await readState(storage, name);
    rows.push({
      stream: name,
      pipeline,
      'saved by run': typeof s === 'object' && typeof s._run_id === 'string' ? s._run_id : '',
      state: s === undefined ? 'none (read from the start)' : typeof s === 'string' ? s : describeState(s),
    });
  }
  out(textTable(['stream', 'pipeline', 'saved by run', 'state'], rows, 80));
  out(`Lake: ${dir}`);
}

export async function stateResetCommand(ctx: CliContext, names: string[], o: { config: string; lake?: string }): Promise<void> {
  const prep = await ctx.prepare(o.config);
  known(streamsOf(prep), names, o.config);
  const dir = lakeDir(prep.loaded, o.lake);
  const storage = new LocalStorage(dir);
  await withLakeLock(dir, { command: 'state reset', logger: createLogger() }, async () => {
    for (const name of [...new Set(names)]) {
      const aside = await resetState(storage, name, 'reset by `state reset`');
      if (aside) out(`${name}: state reset (the old state is kept in ${join(dir, aside)}); the next run reads it from the start`);
      else out(`${name}: no saved state; nothing to reset`);
    }
  });
}
