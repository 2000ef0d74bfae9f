/**
 * Crash safety, proven by crashing: the real CLI (`run`, then `transform`) is killed with SIGKILL
 * at every write step it makes, one child process per step, through the crash hook
 * (core/crash.ts: SPOTIFY_PIPELINE_CRASH_AT=<n> kills at the n-th step; a dry run with
 * SPOTIFY_PIPELINE_CRASH_LOG lists the steps). The steps are every raw part written (temp file,
 * then renamed), the manifest, each state file, each table's staging and each step of publishing a
 * table and its quarantine, and the lake lock.
 *
 * After each kill, before anything repairs the lake, the invariants hold:
 *   - committed data is complete: every manifest parses and every file it lists verifies;
 *   - state never runs ahead: each state file names a committed run;
 *   - every table (and its quarantine) reads as the whole old or the whole new one: no partition
 *     missing, no row twice;
 * and the same command run again succeeds (taking over the dead process's lock) and yields exactly
 * the tables a run without a crash yields, leaving no garbage but the dead run's uncommitted raw
 * files and temp files (which `lake gc` collects).
 *
 * Small on purpose (two streams; one table, partitioned by day, with quarantined rows) so every
 * step of both commands is covered in about a minute; it prints how many steps it covered.
 */
import { cp, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { committedFiles, listManifests } from '../../core/engine/manifest.ts';
import { verifyFiles } from '../../core/engine/integrity.ts';
import { findGarbage } from '../../core/engine/gc.ts';
import { LocalStorage } from '../../core/storage/local.ts';
import { cli, pipelineYaml, tableRows, workdir, type CliResult, type Workdir } from './support.ts';

/** The sandbox's data of the first run, and of the crashed run a day later (new plays, a new day). */
const NOW1 = '2026-11-24T12:00:00.000Z';
const NOW2 = '2026-11-25T12:00:00.000Z';

type Snapshot = Record<string, string[]>;

let w: Workdir;
/** Lakes the scenarios start from (copied into w.lake for each crash). */
let afterFirstRun: string;
let committedNotBuilt: string;
/** Tables (and quarantine) before and after the command, as a run without a crash leaves them. */
let old: Snapshot;
let expected: Snapshot;
const covered: Array<{ command: string; step: number; kind: string }> = [];

const env = (now: string, extra: Record<string, string> = {}) => ({ SPOTIFY_SANDBOX_NOW: now, ...extra });
const commands = {
  run: () => ['run', '-c', w.file, '--sandbox'],
  transform: () => ['transform', '-c', w.file],
};

async function restore(from: string): Promise<void> {
  await rm(w.lake, { recursive: true, force: true });
  await cp(from, w.lake, { recursive: true, verbatimSymlinks: true });
}

async function snapshot(from: string): Promise<void> {
  await rm(from, { recursive: true, force: true });
  await cp(w.lake, from, { recursive: true, verbatimSymlinks: true });
}

const RUN_ID = /\d{8}T\d{9}Z-[0-9a-f]{6}/g;
/** A step's kind without what differs between runs: run ids, ingest dates, temp file suffixes. */
const generic = (kind: string) => kind.replace(RUN_ID, '<run>').replace(/dt=\d{4}-\d{2}-\d{2}/g, 'dt=<day>').replace(/\.[0-9a-f]{8}\.tmp/, '.<rnd>.tmp');

/**
 * Tables as readers see them, plus each table's quarantine rows (run ids left out: a rerun after a
 * crash commits under another run id than the reference run did; so are the sandbox's ports).
 */
async function state(wd: Workdir = w): Promise<Snapshot> {
  const out = await tableRows(wd);
  const q = join(wd.lake, 'quarantine');
  for (const t of Object.keys(out)) {
    const rows: string[] = [];
    for (const f of await readdir(join(q, t)).catch(() => [])) {
      rows.push(...gunzipSync(await readFile(join(q, t, f))).toString('utf8').split('\n').filter(Boolean));
    }
    // (The sandbox's own address is in the records' links: each run starts it on another port.)
    out[`quarantine/${t}`] = rows.map((r) => r.replace(RUN_ID, '<run>').replace(/127\.0\.0\.1:\d+/g, '<sandbox>')).sort();
  }
  return out;
}

/** A quarantine as a set: a stream read twice after a crash (its state not yet saved) quarantines its rows twice. */
const asSets = (s: Snapshot): Snapshot => Object.fromEntries(Object.entries(s).map(([t, rows]) => [t, t.startsWith('quarantine/') ? [...new Set(rows)] : rows]));

/** The invariants of a lake right after a crash, before anything repairs it. */
async function checkCrashed(w: Workdir, label: string): Promise<void> {
  const storage = new LocalStorage(w.lake);
  const manifests = await listManifests(storage); // throws on a corrupt (half-written) manifest
  const problems = await verifyFiles(committedFiles(manifests), (k) => storage.get(k));
  expect(problems, `${label}: committed data is complete`).toEqual([]);
  const runs = new Set(manifests.map((m) => m.run_id));
  for (const f of await readdir(join(w.lake, '_state')).catch(() => [])) {
    if (!f.endsWith('.json')) continue;
    const s = JSON.parse(await readFile(join(w.lake, '_state', f), 'utf8')) as { _run_id?: string };
    expect(runs.has(s._run_id ?? ''), `${label}: state ${f} names committed run ${s._run_id}`).toBe(true);
  }
  const now = await state(w);
  for (const t of Object.keys(expected)) {
    const isOld = JSON.stringify(now[t]) === JSON.stringify(old[t]);
    const isNew = JSON.stringify(now[t]) === JSON.stringify(expected[t]);
    expect(isOld || isNew, `${label}: ${t} is the whole old or the whole new table (${now[t]?.length} rows; old ${old[t]?.length}, new ${expected[t]?.length})`).toBe(true);
  }
}

/** The command again, without a crash: it succeeds and leaves exactly what an uncrashed one leaves. */
async function checkRecovered(w: Workdir, label: string, args: string[], now: string): Promise<void> {
  const again = await cli(args, { cwd: w.dir, env: env(now) });
  expect(again.code, `${label}: the next ${args[0]} succeeds\n${again.stderr}`).toBe(0);
  expect(asSets(await state(w)), `${label}: the next ${args[0]} yields the expected tables`).toEqual(asSets(expected));
  const storage = new LocalStorage(w.lake);
  expect(await verifyFiles(committedFiles(await listManifests(storage)), (k) => storage.get(k))).toEqual([]);
  const left = (await findGarbage(w.lake, storage)).items.filter((i) => i.kind !== 'orphan raw' && i.kind !== 'temp file');
  expect(left, `${label}: nothing left but the dead run's raw and temp files`).toEqual([]);
}

/** Runs `f` over the items two at a time (two cores). */
async function twoAtATime<T>(items: T[], f: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all([0, 1].map(async () => {
    while (next < items.length) await f(items[next++]);
  }));
}

/**
 * Every write step of `args` on the lake `from`: a dry run lists them, then one child per step
 * is killed there, in its own copy of the lake.
 */
async function crashAtEveryStep(name: 'run' | 'transform', from: string, now: string): Promise<number> {
  const args = commands[name]();
  await restore(from);
  const log = join(w.dir, `${name}.steps`);
  await rm(log, { force: true });
  const dry = await cli(args, { cwd: w.dir, env: env(now, { SPOTIFY_PIPELINE_CRASH_LOG: log }) });
  expect(dry.code, dry.stderr).toBe(0);
  const steps = (await readFile(log, 'utf8')).trim().split('\n').map((l) => l.slice(l.indexOf(' ') + 1));
  expect(steps.length).toBeGreaterThan(10);

  // Each crash in its own lake and working folder (the two at a time must not share one).
  const base = w;
  await twoAtATime(steps.map((kind, i) => ({ kind, step: i + 1 })), async ({ kind, step }) => {
    const mine: Workdir = { ...base, dir: join(base.dir, `${name}-${step}`), lake: join(base.dir, `${name}-${step}`, 'lake') };
    await rm(mine.dir, { recursive: true, force: true });
    await cp(from, mine.lake, { recursive: true, verbatimSymlinks: true });
    await cp(base.file, join(mine.dir, 'pipeline.yaml'));
    const file = join(mine.dir, 'pipeline.yaml');
    const stepLog = join(mine.dir, 'steps');
    const myArgs = args.map((a) => (a === base.file ? file : a));
    const label = `${name} killed at step ${step} (${kind})`;
    const crashed: CliResult = await cli(myArgs, { cwd: mine.dir, env: env(now, { SPOTIFY_PIPELINE_CRASH_AT: String(step), SPOTIFY_PIPELINE_CRASH_LOG: stepLog }) });
    expect(crashed.signal, `${label}: killed\n${crashed.stderr}`).toBe('SIGKILL');
    // Deterministic: it died at the step the dry run had there (run ids and dates are its own).
    const reached = (await readFile(stepLog, 'utf8')).trim().split('\n');
    expect(generic(reached.at(-1)!), label).toBe(generic(`${step} ${kind}`));
    await checkCrashed({ ...mine, file }, label);
    await checkRecovered({ ...mine, file }, label, myArgs, now);
    covered.push({ command: name, step, kind });
    await rm(mine.dir, { recursive: true, force: true });
  });
  return steps.length;
}

beforeAll(async () => {
  // Two streams (two raw parts, two state files), one table: the publish is the same code for
  // every table, so one partitioned table with a quarantine covers its steps.
  w = await workdir(pipelineYaml({ quarantine: true, artistsTable: false }));
  afterFirstRun = join(w.dir, 'after-first-run');
  committedNotBuilt = join(w.dir, 'committed-not-built');
  const first = await cli(commands.run(), { cwd: w.dir, env: env(NOW1) });
  expect(first.code, first.stderr).toBe(0);
  await snapshot(afterFirstRun);
});
afterAll(async () => {
  const kinds = new Map<string, number>();
  covered.sort((a, b) => (a.command === b.command ? a.step - b.step : a.command === 'run' ? -1 : 1));
  for (const c of covered) {
    const kind = `${c.command}: ${generic(c.kind)}`;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  console.info(`crash harness: ${covered.length} crash points covered (SIGKILL at each, then checked and recovered):\n${[...kinds].map(([k, n]) => `  ${n} x ${k}`).join('\n')}`);
  await w?.cleanup();
});

describe('kill -9 at every write step', () => {
  it('of a run (new plays on a new day: raw parts, manifest, state, every table and quarantine published)', async () => {
    await restore(afterFirstRun);
    old = await state();
    const clean = await cli(commands.run(), { cwd: w.dir, env: env(NOW2) });
    expect(clean.code, clean.stderr).toBe(0);
    expected = await state();
    expect(expected.plays.length).toBeGreaterThan(old.plays.length);
    expect(expected['quarantine/plays'].length).toBeGreaterThan(old['quarantine/plays'].length);
    // For the transform: the second run committed, the tables still the first run's.
    await rm(join(w.lake, 'curated'), { recursive: true });
    await rm(join(w.lake, 'quarantine'), { recursive: true });
    await cp(join(afterFirstRun, 'curated'), join(w.lake, 'curated'), { recursive: true, verbatimSymlinks: true });
    await cp(join(afterFirstRun, 'quarantine'), join(w.lake, 'quarantine'), { recursive: true, verbatimSymlinks: true });
    await snapshot(committedNotBuilt);

    const n = await crashAtEveryStep('run', afterFirstRun, NOW2);
    expect(covered.filter((c) => c.command === 'run')).toHaveLength(n);
  });

  it('of a transform (every partition of the new day and the quarantine published over the old ones)', async () => {
    await restore(committedNotBuilt);
    expect(await state()).toEqual(old);
    const n = await crashAtEveryStep('transform', committedNotBuilt, NOW2);
    expect(covered.filter((c) => c.command === 'transform')).toHaveLength(n);
    const kinds = covered.map((c) => c.kind);
    for (const k of [/^write raw\/.*: temp file written$/, /^write _runs\/.*: renamed into place$/, /^write _state\//, /^publish curated\/plays: link swapped$/, /^publish quarantine\/plays: build moved into place$/, /^lock: taken$/]) {
      expect(kinds.some((x) => k.test(x)), String(k)).toBe(true);
    }
  });
});
