/**
 * `run --repair`: before extracting, verify every committed raw file (integrity.ts); for each run
 * with a file that fails, take the failing streams out of that run and make the next read of those
 * streams start over:
 *   1. the run's manifest is copied to `_quarantine/_runs/` (with the reasons beside it);
 *   2. the state of each failing stream is reset (moved to `_quarantine/_state/`), and so is the
 *      state of the streams it reads its ids or parents from, so they deliver again what they
 *      can (an `ids_from` stream whose own state was lost would otherwise never be asked for the
 *      ids of older records again);
 *   3. the manifest is rewritten without those streams (removed when none is left), so their
 *      files of that run are no longer committed;
 *   4. those files are moved to `_quarantine/raw/`.
 * Then the run proceeds as usual and re-reads the reset streams. Each step can be repeated: a
 * crash in between leaves either the bad file still committed (the next repair finds it again) or
 * a stream re-read once more (the tables deduplicate).
 *
 * What the API no longer serves cannot come back (recently-played keeps 50 plays): records only the
 * bad file held and the API has since dropped are lost, and the repair says which files they were.
 */
import type { Logger } from '../plugin-api.ts';
import type { Storage } from '../storage/storage.ts';
import type { StreamConfig } from '../config/types.ts';
import { verifyFiles, type FileProblem } from './integrity.ts';
import { committedFiles, listManifests, manifestKey, type RunManifest } from './manifest.ts';
import { manifestAside, quarantineRaw, resetState } from './quarantine.ts';
import { parseFieldRef } from './fields.ts';

export interface RepairReport {
  /** Committed files checked. */
  checked: number;
  problems: FileProblem[];
  /** Run id -> streams taken out of it. */
  runs: Record<string, string[]>;
  /** Streams whose state was reset. */
  reset: string[];
}

/** The streams a stream reads from (`for_each`, `ids_from`), transitively. */
function sourcesOf(stream: string, streams: Record<string, StreamConfig>): string[] {
  const out = new Set<string>();
  const visit = (name: string) => {
    const s = streams[name];
    if (!s) return;
    for (const ref of [...(s.for_each ? [s.for_each] : []), ...(s.ids_from ?? [])]) {
      const src = parseFieldRef(ref).stream;
      if (!out.has(src)) {
        out.add(src);
        visit(src);
      }
    }
  };
  visit(stream);
  return [...out];
}

export async function repairLake(storage: Storage, opts: { logger: Logger; streams: Record<string, StreamConfig> }): Promise<RepairReport> {
  const { logger } = opts;
  const manifests = await listManifests(storage, { quarantine: logger });
  const files = committedFiles(manifests);
  const problems = await verifyFiles(files, (key) => storage.get(key));
  const report: RepairReport = { checked: files.length, problems, runs: {}, reset: [] };
  if (!problems.length) return report;

  const bad = new Map<string, Set<string>>();
  for (const p of problems) {
    const set = bad.get(p.file.runId) ?? new Set<string>();
    set.add(p.file.stream);
    bad.set(p.file.runId, set);
    logger.warn(`repair: ${p.file.key} (run ${p.file.runId}) failed verification: ${p.problem}`);
  }
  const byId = new Map(manifests.map((m) => [m.run_id, m]));
  const toReset = new Set<string>();
  for (const streams of bad.values()) {
    for (const s of streams) {
      toReset.add(s);
      for (const src of sourcesOf(s, opts.streams)) toReset.add(src);
    }
  }

  // 1. The manifests as they were, with the reasons.
  for (const [runId, streams] of bad) {
    const m = byId.get(runId)!;
    const aside = manifestAside(runId);
    await storage.put(aside, JSON.stringify(m, null, 2) + '\n');
    const reasons = problems.filter((p) => p.file.runId === runId).map((p) => `${p.file.key}: ${p.problem}`);
    await storage.put(`${aside}.reason.txt`, `run --repair took stream(s) ${[...streams].join(', ')} out of run ${runId}:\n${reasons.join('\n')}\n`);
  }
  // 2. The state of the failing streams and of their sources.
  for (const s of [...toReset].sort()) {
    await resetState(storage, s, `reset by run --repair (${[...bad.entries()].filter(([, ss]) => ss.has(s)).map(([r]) => `run ${r}`).join(', ') || 'a stream reading from it failed verification'})`);
    report.reset.push(s);
  }
  // 3. The manifests without the failing streams; 4. their files out of raw/.
  for (const [runId, streams] of bad) {
    const m = byId.get(runId)!;
    const kept: RunManifest = { ...m, streams: Object.fromEntries(Object.entries(m.streams).filter(([s]) => !streams.has(s))) };
    if (Object.keys(kept.streams).length) await storage.put(manifestKey(runId), JSON.stringify(kept, null, 2) + '\n');
    else await storage.delete(manifestKey(runId));
    await quarantineRaw(storage, [...streams].flatMap((s) => m.streams[s].files.map((f) => f.key)));
    report.runs[runId] = [...streams].sort();
  }
  logger.warn(
    `repair: took ${Object.entries(report.runs).map(([r, ss]) => `${ss.join(', ')} of run ${r}`).join('; ')} out of the lake (kept in _quarantine/); reset the state of ${report.reset.join(', ')}: this run reads them again`,
  );
  return report;
}
