/**
 * `spotify-pipeline recs` as a user runs it: a generated export whose listening follows latent
 * tastes (the export generator's `tastes` option), imported by the export's pipeline into a lake;
 * `recs --evaluate` prints the table with the model ahead of every baseline; `recs` writes the
 * table `recommendations` (read back by `query`, shown by `report`), and a second build replaces
 * the first (a new link, the old build removed); bad config is named at its file:line:col.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateExport } from '../../connectors/spotify-history/sandbox/generate.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'spotify-pipeline.mjs');

function cli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const RECS = `
recommendations:
  k: 15
  evaluation: { cutoffs: 4, horizon_days: 14 }
dashboards:
  recs:
    panels:
      - title: Current recommendations
        sql: SELECT rank, track_name AS track, reason FROM recommendations ORDER BY rank
        empty: No recommendations yet.
        table: { columns: [rank, track, reason] }
`;

describe('recs on the CLI', () => {
  let dir: string;
  let config: string;
  let tasteOf: Map<string, number>;
  let lastTastes: number[];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recs-cli-'));
    const exp = await generateExport(join(dir, 'export'), { plays: 30_000, tastes: { seed: 5, tastes: 24, tracksPerTaste: 100, driftDays: 30 }, legacyExport: false, collect: false });
    tasteOf = exp.tastes!.tasteOf;
    lastTastes = exp.tastes!.periods.at(-1)!.tastes;
    const history = await readFile(join(ROOT, 'connectors', 'spotify-history', 'pipeline.yaml'), 'utf8');
    config = join(dir, 'pipeline.yaml');
    await writeFile(config, history.replace('local: ../../.lake', `local: ${join(dir, 'lake')}`).replace(/^queries:[\s\S]*$/m, '') + RECS);
    const run = await cli(['run', '-c', config, '--no-progress'], { ...process.env, SPOTIFY_EXPORT_PATH: join(dir, 'export') });
    expect(run.code, run.stderr).toBe(0);
  }, 120_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('--evaluate prints hit-rate@10, NDCG@10 and coverage, the model ahead of every baseline', async () => {
    const r = await cli(['recs', '-c', config, '--evaluate']);
    expect(r.code, r.stderr).toBe(0);
    const rows = new Map(
      [...r.stdout.matchAll(/^(model|most-played|popularity \(recent\)|most-recent|random)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$/gm)].map((m) => [m[1], { hit: Number(m[2]), ndcg: Number(m[3]) }]),
    );
    expect([...rows.keys()]).toEqual(['model', 'most-played', 'popularity (recent)', 'most-recent', 'random']);
    for (const [name, row] of rows) {
      if (name === 'model') continue;
      expect(rows.get('model')!.hit, `${name}\n${r.stdout}`).toBeGreaterThan(row.hit);
      expect(rows.get('model')!.ndcg, `${name}\n${r.stdout}`).toBeGreaterThan(row.ndcg);
    }
    expect(r.stdout).toMatch(/hit-rate@10\s+NDCG@10\s+coverage/);
    expect(r.stdout).toMatch(/^model \/ best baseline \(.+\) hit-rate@10: \d+\.\d\dx$/m);
  });

  it('writes recommendations with reasons to the lake, readable by query and the report; a rebuild replaces them', async () => {
    const r = await cli(['recs', '-c', config]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^15 recommendations as of /);
    const q = await cli(['query', '-c', config, '--sql', 'SELECT rank, track_id, reason, source FROM recommendations ORDER BY rank', '--format', 'json']);
    expect(q.code, q.stderr).toBe(0);
    const rows = JSON.parse(q.stdout) as Array<{ rank: number; track_id: string; reason: string; source: string }>;
    expect(rows.map((x) => x.rank)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    for (const x of rows) expect(x.reason).toMatch(x.source === 'co_occurrence' ? /^often played with .+ by .+$/ : /^you played it \d+ times in \d{4}$/);
    // Ground truth: what co-occurrence recommends belongs, but for the odd one, to the tastes active at the end.
    const tastes = rows.filter((x) => x.source === 'co_occurrence').map((x) => tasteOf.get(x.track_id)!);
    expect(tastes.length).toBeGreaterThan(10);
    expect(tastes.filter((t) => lastTastes.includes(t)).length / tastes.length).toBeGreaterThanOrEqual(0.8);

    const link1 = await readlink(join(dir, 'lake', 'curated', 'recommendations'));
    const again = await cli(['recs', '-c', config, '-k', '5']);
    expect(again.code, again.stderr).toBe(0);
    const link2 = await readlink(join(dir, 'lake', 'curated', 'recommendations'));
    expect(link2).not.toBe(link1);
    expect(await readdir(join(dir, 'lake', 'curated', '_builds', 'recommendations'))).toEqual([link2.split('/').pop()]);
    expect(again.stdout).toMatch(/^5 recommendations as of /);
    expect(again.stdout.trimEnd().split('\n')).toHaveLength(6);

    // The report shows the rebuilt table (its empty state before any build: test/report/report.test.ts).
    const rep = await cli(['report', '-c', config, '--out', join(dir, 'after.html')]);
    expect(rep.code, rep.stderr).toBe(0);
    const html = await readFile(join(dir, 'after.html'), 'utf8');
    expect(html).not.toContain('No recommendations yet.');
    expect(html).toContain(rows[0].reason.replace(/&/g, '&amp;'));
  });

  it('names a contradictory setting at its file:line:col', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, (await readFile(config, 'utf8')).replace('  k: 15\n', '  k: 15\n  sources:\n    co_occurrence: { weight: 0 }\n    rediscovery: { weight: 0 }\n'));
    const r = await cli(['validate', '-c', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:\d+:\d+.*recommendations\.sources\.co_occurrence\.weight.*every source has weight 0/);
  });
});
