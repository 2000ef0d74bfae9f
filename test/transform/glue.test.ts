/**
 * The Glue side of transforms: the job spec compiled from pipeline.yaml (what the deployment
 * uploads), read by the job's own Python loader, and the job's Python tests: pytest in the
 * project's venv (scripts/test-python.sh), the pure unit tests and the job's functions on a local
 * SparkSession (pyspark 3.5.4, Glue 5.0's) over small local lakes.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPipeline } from '../../core/config/index.ts';
import { sparkJobSpec } from '../../core/transform/index.ts';
import { pythonEnv } from '../support/python.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const tables = readPipeline(join(ROOT, 'pipeline.yaml')).loaded.config.tables;

describe('sparkJobSpec', () => {
  it('carries the compiled SQL, the partition columns, Glue column types and the sources', () => {
    const spec = sparkJobSpec('tracks', tables.tracks);
    expect(spec).toMatchObject({
      version: 1,
      table: 'tracks',
      input_view: 'raw_lines',
      partition_by: [],
      sources: [
        { stream: 'recently_played', root: 'track' },
        { stream: 'playlist_items', root: 'item' },
      ],
    });
    expect(spec.columns).toContainEqual({ name: 'release_date_typed', type: 'date' });
    expect(spec.sql).toContain('FROM `raw_lines` WHERE _stream = ');
    // The split form is the standalone one cut at __judged.
    expect(spec.sql.startsWith(spec.judged_sql.slice(0, spec.judged_sql.indexOf('`__checked`')))).toBe(true);
    expect(spec.rows_from_judged_sql).toContain('FROM __judged');
    expect(sparkJobSpec('plays', tables.plays).partition_by).toEqual([{ name: 'dt', from: 'played_at', as: 'date' }]);
    expect(sparkJobSpec('artists', tables.artists).columns).toContainEqual({ name: 'genres', type: 'array<string>' });
  });
});

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (d: Buffer) => (output += d.toString()));
    p.stderr.on('data', (d: Buffer) => (output += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, output }));
  });
}

describe('glue-jobs Python (pytest in the project venv)', () => {
  it('scripts/test-python.sh compiles the job and passes its tests, Spark ones included, loading every spec compiled from pipeline.yaml', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'specs-'));
    try {
      for (const [name, spec] of Object.entries(tables)) await writeFile(join(dir, `${name}.json`), JSON.stringify(sparkJobSpec(name, spec)));
      const expected = JSON.stringify(Object.keys(tables).sort().map((t) => [t, sparkJobSpec(t, tables[t]).partition_by.map((p) => p.name)]));
      const py = pythonEnv();
      const t0 = performance.now();
      const r = await run('sh', [join(ROOT, 'scripts', 'test-python.sh'), '-rA'], {
        ...py.sparkEnv(),
        PYTHON: py.python,
        GLUE_SPECS_DIR: dir,
        GLUE_SPECS_EXPECT: expected,
      });
      // pytest's own report is the message: which test failed, and why.
      expect(r.code, r.output.slice(-20_000)).toBe(0);
      expect(r.output).toMatch(/PASSED glue-jobs\/tests\/test_lake_io.py::CompiledSpecs::test_every_compiled_spec_loads_and_plans/);
      expect(r.output).toMatch(/PASSED glue-jobs\/tests\/test_transform_job.py::test_run_id_replaces_only_the_partitions_that_run_delivered_rows_to/);
      // Nothing skipped: the Spark tests ran on pyspark, and S3 through moto.
      const tail = r.output.trim().split('\n').at(-1) ?? '';
      expect(tail, r.output.slice(-5000)).toMatch(/^=+ \d+ passed in [\d.]+s/);
      process.stdout.write(`glue-jobs pytest: ${tail.replace(/=/g, '').trim()} (${((performance.now() - t0) / 1000).toFixed(1)} s with start-up)\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
