/**
 * CLI start-up: `npx spotify-pipeline --help`, median of 5 (the target: under 0.5 s), next to
 * what it is made of and to the baseline of compiling the TypeScript at every start (tsx, as the
 * CLI ran before the build step), all measured in this run.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const RUNS = 5;
const TARGET_S = 0.5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Wall time of a command, median of RUNS (after one warm-up run). */
function time(cmd: string, args: string[]): number {
  const once = () => {
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CHECKPOINT_DISABLE: '1' } });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${String(r.stderr)}`);
    return (performance.now() - t0) / 1000;
  };
  once();
  return median(Array.from({ length: RUNS }, once));
}

export function runCliBench(): void {
  const rows: Array<[string, number]> = [
    ['node -e 0 (floor: Node start)', time(process.execPath, ['-e', '0'])],
    ['npx --version (floor: npx start)', time('npx', ['--version'])],
    ['node bin/spotify-pipeline.mjs --help (built CLI)', time(process.execPath, ['bin/spotify-pipeline.mjs', '--help'])],
    ['npx spotify-pipeline --help', time('npx', ['spotify-pipeline', '--help'])],
    [
      'baseline: the CLI compiled by tsx at start',
      time(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', "const { run } = await import('./bin/main.ts'); process.exitCode = await run(['node', 'spotify-pipeline', '--help']);"]),
    ],
  ];
  const width = Math.max(...rows.map(([l]) => l.length));
  process.stdout.write(`CLI start-up, median of ${RUNS} (s)\n`);
  for (const [label, s] of rows) process.stdout.write(`  ${label.padEnd(width)}  ${s.toFixed(3)}\n`);
  const built = rows[2][1];
  const npx = rows[3][1];
  const baseline = rows[4][1];
  process.stdout.write(`  the built CLI starts ${(baseline / built).toFixed(1)}x faster than the tsx baseline (both run by node); npx adds ${(npx - built).toFixed(3)} s of its own\n`);
  process.stdout.write(`  npx spotify-pipeline --help: ${npx.toFixed(3)} s; target < ${TARGET_S} s: ${npx < TARGET_S ? 'met' : 'MISSED'}\n`);
}
