/**
 * The hostile-config fuzzer (issue 12). Thousands of random mutations of the shipped
 * pipeline.yaml and the export pipeline it includes (test/config/fuzz/mutate.ts: types, keys,
 * aliases and alias bombs, tags, encodings, deep nesting, huge values, includes of every bad
 * kind, SQL fragments, `${...}` references, connector paths, raw text damage) go through the
 * real CLI entry, `validate -c pipeline.yaml`, in-process in a worker process
 * (test/config/fuzz/driver.ts). Each must end as a success (exit 0) or a user error (exit 2,
 * one line per problem): never another exit code, a stack trace, raw control characters, a
 * crash, more than the worker's heap (FUZZ_HEAP_MB) or longer than FUZZ_CASE_SECONDS. A few
 * cases then go through the built CLI to prove the exit codes and output are the same there.
 *
 * The seed is random per run and printed with the case count and the time; to replay a run or
 * one case:
 *
 *   FUZZ_SEED=1234 npx vitest run test/config/fuzz.test.ts
 *   FUZZ_SEED=1234 FUZZ_CASE=567 FUZZ_KEEP=1 npx vitest run test/config/fuzz.test.ts   # keeps its files
 *
 * FUZZ_CASES sets the number of cases (default 600). Each valid case binds every query and
 * dashboard panel of the shipped pipeline; on a fresh clone's two cores, beside the Spark suites,
 * 800 cases took 78-106 s of a `npm test` that has a 10-minute budget, and its three workers keep
 * both cores busy. The seed differs per run, so the cases differ too: over runs the fuzzer covers
 * far more than one run's count. A longer hunt: FUZZ_CASES=5000.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { judge, writeCase } from './fuzz/outcome.ts';
import { fuzzCase, HISTORY, MAIN } from './fuzz/mutate.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'spotify-pipeline.mjs');
const DRIVER = join(import.meta.dirname, 'fuzz', 'driver.ts');

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const ONLY = process.env.FUZZ_CASE !== undefined ? process.env.FUZZ_CASE.split(',').map(Number) : undefined;
const CASES = ONLY ? Math.max(...ONLY) + 1 : Number(process.env.FUZZ_CASES ?? 600);
/** A hang guard, not a speed test: generous, because a loaded two-core machine (Spark next door) slows a 0.4 s case many times over. */
const CASE_SECONDS = Number(process.env.FUZZ_CASE_SECONDS ?? 60);
const HEAP_MB = Number(process.env.FUZZ_HEAP_MB ?? 768);
/**
 * Workers in parallel. Much of a valid case's time is DuckDB binding the queries on its own
 * threads, which leaves the worker's JavaScript idle: three workers keep two cores busy.
 */
const SHARDS = Number(process.env.FUZZ_WORKERS ?? 3);
/** Cases replayed through the built CLI. */
const THROUGH_CLI = 8;
/** Environment of the cases: no credentials, no secrets file but the case's own. */
const ENV = { ...process.env, SPOTIFY_CLIENT_ID: '', SPOTIFY_EXPORT_PATH: '', SPOTIFY_PIPELINE_SECRETS_FILE: '', FORCE_COLOR: '0' };

interface Result {
  index: number;
  code: number | null;
  ms: number;
  problem?: string;
  steps: string[];
  stderr?: string;
}

const BASE = { main: readFileSync(join(ROOT, MAIN), 'utf8'), history: readFileSync(join(ROOT, HISTORY), 'utf8') };

const dir = mkdtempSync(join(tmpdir(), 'config-fuzz-'));
afterAll(() => {
  if (!process.env.FUZZ_KEEP) rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs the cases of one shard (index modulo SHARDS), from `from` on, in a worker; returns when it
 * ends. A case that runs past CASE_SECONDS or takes the worker down is a finding, and the caller
 * starts a new worker after it.
 */
function worker(shard: number, from: number, results: Map<number, Result>): Promise<{ next: number }> {
  return new Promise((done) => {
    // From the project root, where `--import tsx` resolves; the worker moves into its case folders.
    const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, '--import', 'tsx', DRIVER], {
      cwd: ROOT,
      env: {
        ...ENV,
        FUZZ_SEED: String(SEED),
        FUZZ_FROM: String(from),
        FUZZ_TO: String(CASES),
        FUZZ_SHARDS: String(SHARDS),
        FUZZ_SHARD: String(shard),
        FUZZ_DIR: join(dir, `shard-${shard}`),
        ...(ONLY && { FUZZ_ONLY: ONLY.join(',') }),
      },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    let running: { index: number; since: number; steps?: string[] } | undefined;
    let buffered = '';
    let stderr = '';
    let killedFor: string | undefined;
    let ended = false;
    child.stderr!.on('data', (d) => (stderr = (stderr + String(d)).slice(-4000)));
    child.stdout!.on('data', () => undefined);
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line === 'E') ended = true;
        else if (line.startsWith('B ')) running = { index: Number(line.slice(2)), since: Date.now() };
        else if (line.startsWith('S ') && running) running.steps = JSON.parse(line.slice(2)) as string[];
        else if (line.startsWith('R ')) {
          const r = JSON.parse(line.slice(2)) as Result;
          results.set(r.index, r);
          running = undefined;
        }
      }
    });
    const watchdog = setInterval(() => {
      if (running && Date.now() - running.since > CASE_SECONDS * 1000) {
        killedFor = `still running after ${CASE_SECONDS} s`;
        child.kill('SIGKILL');
      }
    }, 250);
    child.on('exit', (code, signal) => {
      clearInterval(watchdog);
      if (running && !results.has(running.index)) {
        // The steps as the worker reported them: regenerating the case here could take this
        // process down with it (an alias bomb expanded while generating once took 4 GB).
        results.set(running.index, {
          index: running.index,
          code,
          ms: Date.now() - running.since,
          problem: killedFor ?? `the worker died (exit ${code}, ${signal ?? 'no signal'}): ${stderr.split('\n').filter(Boolean).slice(-3).join(' | ')}`,
          steps: running.steps ?? ['(the worker died while generating the case)'],
        });
        done({ next: running.index + 1 });
        return;
      }
      if (!ended) results.set(-1 - shard, { index: -1 - shard, code, ms: 0, problem: `worker ${shard} ended early (exit ${code}, ${signal ?? 'no signal'}): ${stderr.slice(-1000)}`, steps: [] });
      done({ next: CASES });
    });
  });
}

/** One shard's cases, a new worker after each one that died or hung (at most 20). */
async function shardRun(shard: number, from: number, results: Map<number, Result>): Promise<void> {
  let next = from;
  for (let workers = 0; next < CASES && workers < 20; workers++) ({ next } = await worker(shard, next, results));
}

describe('hostile-config fuzzer: validate ends in success or a one-line user error, never anything else', () => {
  const results = new Map<number, Result>();
  let seconds = 0;

  it(`${ONLY ? `case(s) ${ONLY.join(',')}` : `${CASES} cases`} in-process`, async () => {
    const t0 = Date.now();
    // Said first, so a run that dies (a worker out of memory) can still be replayed.
    process.stdout.write(`config fuzzer: seed ${SEED}, starting (replay: FUZZ_SEED=${SEED} npx vitest run test/config/fuzz.test.ts)\n`);
    const from = ONLY ? Math.min(...ONLY) : 0;
    await Promise.all(Array.from({ length: SHARDS }, (_, shard) => shardRun(shard, from, results)));
    seconds = (Date.now() - t0) / 1000;
    const all = [...results.values()];
    const codes = (c: number) => all.filter((r) => r.code === c && !r.problem).length;
    const slowest = [...all].sort((a, b) => b.ms - a.ms).slice(0, 3).map((r) => `#${r.index} ${r.ms} ms (${r.steps.join('; ').slice(0, 80)})`);
    const findings = all.filter((r) => r.problem);
    process.stdout.write(
      `config fuzzer: seed ${SEED}, ${all.length} cases in ${seconds.toFixed(1)} s (${codes(0)} valid, ${codes(2)} rejected, ${findings.length} findings); slowest ${slowest.join(', ')}\n` +
        `  replay: FUZZ_SEED=${SEED} npx vitest run test/config/fuzz.test.ts\n`,
    );
    const shown = findings.slice(0, 10).map((r) => `case ${r.index} [${r.steps.join('; ')}]: ${r.problem}${r.stderr ? `\n    ${r.stderr.split('\n').slice(0, 6).join('\n    ')}` : ''}`);
    expect(shown, `replay one: FUZZ_SEED=${SEED} FUZZ_CASE=<case> FUZZ_KEEP=1 npx vitest run test/config/fuzz.test.ts`).toEqual([]);
    expect(all.length).toBe(ONLY ? ONLY.length : CASES);
  }, 600_000);

  it(`the built CLI gives the same exit codes and output (${THROUGH_CLI} of the cases)`, () => {
    const all = [...results.values()].filter((r) => !r.problem);
    expect(all.length).toBeGreaterThan(0);
    // Some valid and some rejected cases, the same ones for a seed.
    const valid = all.filter((r) => r.code === 0).slice(0, 3);
    const picked = [...valid, ...all.filter((r) => r.code === 2).slice(0, THROUGH_CLI - valid.length)];
    for (const r of picked) {
      const folder = join(dir, `cli-${r.index}`);
      writeCase(fuzzCase(SEED, r.index, BASE), folder);
      const cli = spawnSync(process.execPath, [BIN, 'validate', '-c', MAIN], { cwd: folder, env: ENV, encoding: 'utf8', timeout: 60_000 });
      const where = `case ${r.index} [${r.steps.join('; ')}]`;
      expect(judge(cli.status ?? -1, cli.stdout, cli.stderr), where).toBeUndefined();
      expect(cli.status, where).toBe(r.code);
      rmSync(folder, { recursive: true, force: true });
    }
  }, 300_000);
});
