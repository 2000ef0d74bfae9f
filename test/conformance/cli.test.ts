/**
 * `connector init` and `connector test` as a user runs them, on a scaffold written to a temp
 * folder: it passes as generated, its own vitest file passes, and breaking it makes
 * `connector test` exit 1 naming the stream and the rule. `init` and the scaffold's vitest run in
 * child processes (the real binary); `connector test` runs through main() in-process (fast).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { run as main } from '../../bin/main.ts';
import { scaffoldConnector } from '../../core/conformance/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'spotify-pipeline.mjs');

function run(args: string[], cwd = ROOT, bin = BIN): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

/** main() with its output captured. */
async function cli(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const write = (chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  };
  const o = vi.spyOn(process.stdout, 'write').mockImplementation(write);
  const e = vi.spyOn(process.stderr, 'write').mockImplementation(write);
  try {
    return { code: await main(['node', 'spotify-pipeline', ...args]), out };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

let parent: string;
let demo: string;
let init: { code: number; out: string };

beforeAll(async () => {
  parent = await mkdtemp(join(tmpdir(), 'connector-cli-'));
  init = await run(['connector', 'init', 'demo', '--dir', parent]);
  demo = join(parent, 'demo');
});

afterAll(async () => {
  await rm(parent, { recursive: true, force: true });
});

async function copyWith(name: string, file: string, from: string, to: string): Promise<string> {
  const dir = join(parent, name);
  await cp(demo, dir, { recursive: true });
  const text = await readFile(join(dir, file), 'utf8');
  expect(text, `the scaffold's ${file} has "${from}"`).toContain(from);
  await writeFile(join(dir, file), text.replace(from, to));
  return dir;
}

describe('connector init', () => {
  it('writes a plugin, its sandbox, its test and a README into --dir', async () => {
    expect(init.code, init.out).toBe(0);
    expect((await readdir(demo)).sort()).toEqual(['README.md', 'demo.test.ts', 'index.ts', 'package.json', 'sandbox.ts']);
    expect(init.out).toContain(`connector test ${demo}`);
  });

  it('refuses a bad name and an existing folder (exit 2)', async () => {
    const bad = await cli(['connector', 'init', 'Not OK', '--dir', parent]);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('not a valid connector name');
    const again = await cli(['connector', 'init', 'demo', '--dir', parent]);
    expect(again.code).toBe(2);
    expect(again.out).toContain('already exists');
    await expect(scaffoldConnector('x_y', parent)).rejects.toThrow(/not a valid connector name/);
  });
});

describe('connector test', () => {
  it('passes the scaffold as generated (exit 0)', async () => {
    const r = await cli(['connector', 'test', demo]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('PASSED');
    for (const suite of ['spec', 'check', 'discovery', 'basic_read', 'incremental', 'rerun', 'faults', 'secrets', 'abort']) expect(r.out).toMatch(new RegExp(`PASS ${suite}\\b`));
  });

  it('exits 1 naming the stream, the record and the rule when a record violates its schema', async () => {
    const dir = await copyWith('bad-record', 'index.ts', 'score: Number(item.score),', "score: item.id === 'item-0003' ? String(item.score) : Number(item.score),");
    const r = await cli(['connector', 'test', dir]);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain('basic_read: stream "items", record #2: record-schema: score: expected integer');
  });

  it('exits 1 naming the stream and the rule when the state loses records', async () => {
    // The scaffold's state is set by the declarative reader: this plugin overrides it with the clock.
    const dir = await copyWith('lossy-state', 'index.ts', 'read: restReader,', 'read: (stream, ctx) => restReader(stream, { ...ctx, setState: () => ctx.setState({ cursor: new Date().toISOString() }) }),');
    const r = await cli(['connector', 'test', dir, '--suite', 'incremental']);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/incremental: stream "items", record #\d+: no-loss: /);
  });

  it('exits 1 naming the plugin when it declares another plugin API version', async () => {
    const dir = await copyWith('api-v99', 'index.ts', 'apiVersion: PLUGIN_API_VERSION,', 'apiVersion: 99,');
    const r = await cli(['connector', 'test', dir]);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain('spec: api-version: connector "demo" was built for plugin API version 99, but this engine speaks version 1');
  });

  it('the scaffold\'s own vitest file passes as generated', async () => {
    const r = await run(['run', '--root', demo], ROOT, join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'));
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/Tests\s+9 passed/);
  });
});
