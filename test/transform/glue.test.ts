/**
 * The Glue side of transforms: the job spec compiled from pipeline.yaml (what the deployment
 * uploads), read by the job's own Python loader, and the job's pure-Python unit tests.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPipeline } from '../../core/config/index.ts';
import { sparkJobSpec } from '../../core/transform/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const python = spawnSync('python3', ['--version'], { encoding: 'utf8' });
const hasPython = !python.error && python.status === 0;
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

describe.skipIf(!hasPython)(`glue-jobs Python${hasPython ? '' : ' (skipped: python3 is not installed)'}`, () => {
  it('scripts/test-python.sh compiles the job and passes its unit tests, loading every spec compiled from pipeline.yaml', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'specs-'));
    try {
      for (const [name, spec] of Object.entries(tables)) await writeFile(join(dir, `${name}.json`), JSON.stringify(sparkJobSpec(name, spec)));
      const expected = JSON.stringify(Object.keys(tables).sort().map((t) => [t, sparkJobSpec(t, tables[t]).partition_by.map((p) => p.name)]));
      const r = spawnSync('sh', [join(ROOT, 'scripts', 'test-python.sh'), '-v'], {
        encoding: 'utf8',
        cwd: ROOT,
        env: { ...process.env, GLUE_SPECS_DIR: dir, GLUE_SPECS_EXPECT: expected },
      });
      expect(r.stderr).toMatch(/test_every_compiled_spec_loads_and_plans .* ok\n/);
      expect(r.stderr).toMatch(/\nOK\s*$/);
      expect(r.status).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
