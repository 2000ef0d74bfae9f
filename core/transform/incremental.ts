/**
 * Incremental local builds: what a table's last build was made of, and what the next one has to do.
 *
 * After every DuckDB build of a table, `curated/_state/<table>.json` records the build it describes
 * (the build ids `curated/<table>` and `quarantine/<table>` link to), a fingerprint of the table's
 * definition, every committed raw file it read (key, bytes, SHA-256, lines) and its figures. The
 * next build compares that with the committed files of today:
 *
 * - nothing new, nothing changed: the table is skipped (its figures are the recorded ones);
 * - only new files, all of runs newer than the newest run already built: an incremental build
 *   reads only the new files and rewrites only the partitions their rows land in (the rule below);
 * - anything else is a full build, with the reason: no state (first build, or a build by the Spark
 *   engine or an older version), a published build that is not the recorded one (a crash between
 *   publishing and recording), a changed definition (columns, filter, dedupe, partitions, file
 *   size, drift settings), a committed file that changed or went away (`run --repair`), a new file
 *   of an older run (its rows could lose dedupe ties they would win in a full build), a table with
 *   `latest_per` (a new read supersedes a parent's rows in every partition), or `--full`.
 *
 * The partition rule: an incremental build rewrites every partition a new row lands in (after
 * the table's own checks and filter), from the partition's current Parquet files plus the new rows,
 * deduped together exactly as a full build would (old rows rank below every new run). When the
 * dedupe key contains the source column of every partition, two rows with the same key always share
 * a partition and nothing else is touched; otherwise the partitions holding an old row with the key
 * of a new row are rewritten too. An unpartitioned table is one partition. Every other partition is
 * carried into the new build unchanged (hard links to the same files). The quarantine keeps its
 * earlier parts and gains one for the new rows that fail.
 *
 * The state is written after both links are swapped; a crash before that leaves a state that does
 * not match the published build, so the next build is a full one.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TablePlan } from './plan.ts';
import { currentBuild, quarantineDirs, tableDirs } from './write.ts';

/** Bump when what a build writes changes in a way an incremental build cannot carry forward. */
export const BUILD_STATE_FORMAT = 1;

export interface StateInput {
  key: string;
  runId: string;
  records: number;
  bytes?: number;
  sha256?: string;
  /**
   * The file's modification time when this build read it (ms): an unchanged file is not hashed
   * again unless its size or this time differ (a file changed in place gets a new one).
   */
  mtimeMs?: number;
}

/** The figures of a built table (TableResult without the per-build ones). */
export interface StateFigures {
  rows: number;
  files: number;
  bytes: number;
  partitions: number;
  quarantined: number;
  records: number;
  inputRows: number;
  filtered: number;
  duplicates: number;
}

export interface BuildState {
  format: number;
  table: string;
  /** The build ids curated/<table> and quarantine/<table> linked to when this was written. */
  build: string;
  quarantine: string;
  fingerprint: string;
  /** The newest run among the inputs. */
  newestRun: string;
  /** A table with `parents`: the complete reads of the parent stream it was built with. */
  parentReads?: string[];
  /**
   * After an incremental build: the build it replaced, kept under curated/_builds/<table>/ so the
   * next incremental build reuses its partition folders (most hold the same files, hard links)
   * instead of making each again.
   */
  spare?: string;
  /**
   * A full build's streamed statement stopped on a row the judged build keeps (a number with an
   * exponent in a text column, say): raw is append-only, so a later full build with the same
   * fingerprint would stop on it again and goes to the judged build directly. Incremental builds
   * carry it over.
   */
  streamedRejected?: true;
  inputs: StateInput[];
  figures: StateFigures;
}

export type Decision =
  | { mode: 'full'; reason: string }
  | { mode: 'skip'; state: BuildState }
  | { mode: 'incremental'; state: BuildState; added: StateInput[] };

export const stateFile = (lakeDir: string, table: string): string => join(lakeDir, 'curated', '_state', `${table}.json`);

/** The recorded state of a table's last build, or undefined when there is none usable. */
export async function readBuildState(lakeDir: string, table: string): Promise<BuildState | undefined> {
  let text: string;
  try {
    text = await readFile(stateFile(lakeDir, table), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const s = JSON.parse(text) as BuildState;
    if (s.format !== BUILD_STATE_FORMAT || s.table !== table || !Array.isArray(s.inputs) || typeof s.figures !== 'object' || !s.figures) return undefined;
    return s;
  } catch {
    return undefined; // unreadable: the next build is a full one and writes a new state
  }
}

export async function writeBuildState(lakeDir: string, state: BuildState): Promise<void> {
  const path = stateFile(lakeDir, state.table);
  await mkdir(join(lakeDir, 'curated', '_state'), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state)}\n`);
  await rename(tmp, path);
}

/** Removes a table's build state (another engine publishes in its place). */
export async function forgetBuildState(lakeDir: string, table: string): Promise<void> {
  await rm(stateFile(lakeDir, table), { force: true });
  await rmdir(join(lakeDir, 'curated', '_state')).catch(() => undefined); // only when empty
}

/** What the table's output depends on besides its raw files. */
export function fingerprint(plan: TablePlan, extra: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify({ format: BUILD_STATE_FORMAT, plan, ...extra })).digest('hex');
}

/** Whether rows with the same dedupe key always land in the same partition (see the rule above). */
export function dedupeStaysInPartition(plan: TablePlan): boolean {
  if (!plan.dedupe || plan.partitions.length === 0) return true;
  const key = new Set(plan.dedupe.key);
  return plan.partitions.every((p) => key.has(p.from));
}

export async function decide(lakeDir: string, plan: TablePlan, inputs: StateInput[], print: string, full: boolean, parentReads: string[] = []): Promise<Decision> {
  if (full) return { mode: 'full', reason: '--full' };
  const state = await readBuildState(lakeDir, plan.table);
  if (!state) return { mode: 'full', reason: 'no build state' };
  if (state.build !== (await currentBuild(tableDirs(lakeDir, plan.table))) || state.quarantine !== (await currentBuild(quarantineDirs(lakeDir, plan.table)))) {
    return { mode: 'full', reason: 'the published build is not the one recorded' };
  }
  if (state.fingerprint !== print) return { mode: 'full', reason: 'the table definition changed' };
  const now = new Map(inputs.map((f) => [f.key, f]));
  for (const old of state.inputs) {
    const f = now.get(old.key);
    if (!f) return { mode: 'full', reason: `${old.key} is no longer committed` };
    const changed = f.records !== old.records || (f.bytes !== undefined && old.bytes !== undefined && f.bytes !== old.bytes) || (f.sha256 !== undefined && old.sha256 !== undefined && f.sha256 !== old.sha256);
    if (changed) return { mode: 'full', reason: `${old.key} changed` };
  }
  const before = new Set(state.inputs.map((f) => f.key));
  const added = inputs.filter((f) => !before.has(f.key));
  const parentsRead = plan.latestParents && JSON.stringify([...parentReads].sort()) !== JSON.stringify([...(state.parentReads ?? [])].sort());
  if (parentsRead) return { mode: 'full', reason: `parents: a new complete read of ${plan.latestParents?.stream}` };
  if (!added.length) return { mode: 'skip', state };
  if (plan.latestPer.length) return { mode: 'full', reason: 'latest_per: a new read can replace rows in any partition' };
  const oldest = added.map((f) => f.runId).sort()[0];
  if (oldest <= state.newestRun) return { mode: 'full', reason: `run ${oldest} is not newer than the last build's newest run ${state.newestRun}` };
  return { mode: 'incremental', state, added };
}
