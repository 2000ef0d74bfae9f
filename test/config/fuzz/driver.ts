/**
 * The fuzzer's worker: a child process (started by fuzz.test.ts with tsx, a heap limit and a
 * watchdog) that runs its shard of cases [FUZZ_FROM, FUZZ_TO) of seed FUZZ_SEED in-process through the real
 * CLI entry (`main`, the shipped connector registry) as `validate -c pipeline.yaml`, each in its
 * own folder under FUZZ_DIR. Progress goes to fd 3 synchronously, one line per event, so the
 * parent knows which case was running when a case hangs or kills the process:
 *
 *   B <index>                    the case started
 *   S <json: steps>              its mutations, once generated
 *   R <json: index, code, ms, problem?, steps>   its result
 */
import { mkdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../../core/cli/main.ts';
import { connectors } from '../../../connectors/index.ts';
import { fuzzCase, MAIN, HISTORY } from './mutate.ts';
import { judge, writeCase } from './outcome.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const seed = Number(process.env.FUZZ_SEED);
const from = Number(process.env.FUZZ_FROM);
const to = Number(process.env.FUZZ_TO);
/** This worker runs the cases whose index is FUZZ_SHARD modulo FUZZ_SHARDS. */
const shards = Number(process.env.FUZZ_SHARDS ?? 1);
const shard = Number(process.env.FUZZ_SHARD ?? 0);
const only = process.env.FUZZ_ONLY ? new Set(process.env.FUZZ_ONLY.split(',').map(Number)) : undefined;
const dir = process.env.FUZZ_DIR!;
const base = { main: readFileSync(join(ROOT, MAIN), 'utf8'), history: readFileSync(join(ROOT, HISTORY), 'utf8') };

const report = (line: string) => writeSync(3, line + '\n');

// Anything escaping main() is a finding of the case that was running.
let current = -1;
const escaped = (what: string) => (e: unknown) => {
  report(`R ${JSON.stringify({ index: current, code: null, ms: 0, problem: `${what}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`, steps: [] })}`);
  process.exit(70);
};
process.on('uncaughtException', escaped('uncaught exception'));
process.on('unhandledRejection', escaped('unhandled rejection'));

async function runCase(index: number): Promise<void> {
  current = index;
  report(`B ${index}`);
  const c = fuzzCase(seed, index, base);
  report(`S ${JSON.stringify(c.steps)}`);
  const folder = join(dir, String(index));
  writeCase(c, folder);
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string | Uint8Array) => ((stdout += String(s)), true));
  process.stderr.write = ((s: string | Uint8Array) => ((stderr += String(s)), true));
  process.chdir(folder);
  const t0 = performance.now();
  let code: number;
  try {
    code = await main(['node', 'spotify-pipeline', 'validate', '-c', MAIN], { connectors, commands: [] });
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    process.chdir(dir);
  }
  const ms = Math.round(performance.now() - t0);
  const problem = judge(code, stdout, stderr);
  report(`R ${JSON.stringify({ index, code, ms, problem, steps: c.steps, ...(problem && { stderr: stderr.slice(0, 2000) }) })}`);
  if (!problem && !process.env.FUZZ_KEEP) rmSync(folder, { recursive: true, force: true });
}

{
  mkdirSync(dir, { recursive: true });
  process.chdir(dir);
  for (let i = from; i < to; i++) if (i % shards === shard && (!only || only.has(i))) await runCase(i);
  report('E');
}
