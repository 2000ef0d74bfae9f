/**
 * A connector that is only descriptors (test/fixtures/connectors/descriptor-rest) passes the
 * conformance kit on core's declarative reader: the endpoints that stand alone (basic plan), and
 * with its pipeline every endpoint with its fan-out (pro plan: batches, parents, skip-unchanged);
 * and `spotify-pipeline connector test` says so with exit 0.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { conformanceSuite } from '../../core/conformance/vitest.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'connectors', 'descriptor-rest');
const PIPELINE = join(FIXTURE, 'pipeline.yaml');

conformanceSuite(FIXTURE);
conformanceSuite(FIXTURE, { pipeline: PIPELINE });

function cli(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'spotify-pipeline.mjs'), ...args], { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

describe('spotify-pipeline connector test', () => {
  it('passes the descriptor-only connector with its pipeline (exit 0)', async () => {
    const r = await cli(['connector', 'test', FIXTURE, '--pipeline', PIPELINE]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('streams authors, author_books, books, events, reviews, rankings');
    expect(r.out).toContain('PASSED (9 suites passed, 0 skipped)');
  });
});
