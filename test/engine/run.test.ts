/**
 * The engine's raw/manifest/state contract, with a small in-test plugin so each failure mode
 * can be provoked exactly: a crash before the manifest leaves nothing visible, a failing stream
 * commits nothing of its own, state never runs ahead of committed data.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { definePlugin, PLUGIN_API_VERSION } from '../../core/plugin-api.ts';
import { loadPipeline } from '../../core/config/index.ts';
import { newRunId, runPipeline, streamOrder } from '../../core/engine/run.ts';
import { LocalStorage } from '../../core/storage/local.ts';
import { listManifests, committedFiles } from '../../core/engine/manifest.ts';
import { loadState } from '../../core/engine/state.ts';
import { memoryLogger } from '../../core/log.ts';
import { openLake } from '../../core/query/index.ts';
import { buildTables } from '../../core/transform/index.ts';

const anyRecord = { type: 'object' };

/** Emits `n` numbered records per run after the saved cursor; `failAt` throws mid-stream. */
function counterPlugin(opts: { n: number; failAt?: number; calls?: string[] }) {
  return definePlugin({
    apiVersion: PLUGIN_API_VERSION,
    name: 'counter',
    version: '1.0.0',
    description: 'test plugin',
    configSchema: { type: 'object' },
    secretKeys: [],
    endpoints: {
      numbers: { description: 'n', path: '/n', auth: 'client', scopes: [], paginator: { type: 'none' }, recordPath: '', incremental: { kind: 'cursor', description: 'c' }, recordSchema: anyRecord },
      labels: { description: 'l', path: '/l/{id}', auth: 'client', scopes: [], paginator: { type: 'none' }, recordPath: '', input: 'ids', recordSchema: anyRecord },
    },
    async check() {},
    async *read(stream, ctx) {
      opts.calls?.push(stream.name);
      if (stream.endpoint === 'numbers') {
        const start = Number(ctx.state.cursor ?? 0);
        for (let i = start; i < start + opts.n; i++) {
          if (opts.failAt === i) throw new Error('upstream exploded');
          yield { n: i, label_id: `L${i % 3}` };
        }
        ctx.setState({ cursor: start + opts.n });
      } else {
        for (const id of ctx.ids ?? []) yield { id, label: `label ${id}` };
      }
    },
  });
}

const PIPELINE = `version: 1
name: engine-test
connector:
  use: counter
  config: {}
storage:
  local: .lake
streams:
  labels:
    endpoint: labels
    ids_from: [numbers.label_id]
  numbers:
    endpoint: numbers
    incremental: true
tables:
  numbers:
    from: numbers
    columns:
      n: { path: n, type: bigint, required: true }
    dedupe: [n]
queries: {}
`;

describe('engine run', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'engine-'));
    await writeFile(join(dir, 'pipeline.yaml'), PIPELINE);
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  const run = (plugin: ReturnType<typeof counterPlugin>, storage = new LocalStorage(join(dir, '.lake'))) =>
    runPipeline({ pipeline: loadPipeline(join(dir, 'pipeline.yaml')), plugin, connectorConfig: {}, storage, lakeDir: join(dir, '.lake'), buildTables, logger: memoryLogger() });

  it('orders streams by dependency and fetches each id once', async () => {
    expect(streamOrder(loadPipeline(join(dir, 'pipeline.yaml')).config.streams)).toEqual(['numbers', 'labels']);
    const calls: string[] = [];
    const s = await run(counterPlugin({ n: 10, calls }));
    expect(s.ok).toBe(true);
    expect(calls).toEqual(['numbers', 'labels']);
    expect(s.streams.find((x) => x.stream === 'labels')!.records).toBe(3);
  });

  it('runs only the streams asked for (plus what they read from); ids for the others stay owed', async () => {
    const storage = new LocalStorage(join(dir, '.lake'));
    const only = await runPipeline({ pipeline: loadPipeline(join(dir, 'pipeline.yaml')), plugin: counterPlugin({ n: 6 }), connectorConfig: {}, storage, logger: memoryLogger(), streams: ['numbers'] });
    expect(only.streams.map((s) => s.stream)).toEqual(['numbers']);
    expect((await loadState(storage, 'labels'))._pending_ids).toEqual(['L0', 'L1', 'L2']);
    // Asking for labels runs numbers first (labels reads its ids from it) and pays what is owed.
    const calls: string[] = [];
    const next = await runPipeline({ pipeline: loadPipeline(join(dir, 'pipeline.yaml')), plugin: counterPlugin({ n: 0, calls }), connectorConfig: {}, storage, logger: memoryLogger(), streams: ['labels'] });
    expect(calls).toEqual(['numbers', 'labels']);
    expect(next.streams.find((s) => s.stream === 'labels')!.records).toBe(3);
    expect((await loadState(storage, 'labels'))._pending_ids).toBeUndefined();
    await expect(runPipeline({ pipeline: loadPipeline(join(dir, 'pipeline.yaml')), plugin: counterPlugin({ n: 1 }), connectorConfig: {}, storage, logger: memoryLogger(), streams: ['nope'] })).rejects.toThrow(/unknown stream\(s\) nope/);
  });

  it('lands records as gzip JSON Lines under raw/<stream>/dt=<date>/<run id>-<part>', async () => {
    const s = await run(counterPlugin({ n: 5 }));
    const storage = new LocalStorage(join(dir, '.lake'));
    const keys = await storage.list('raw/numbers/');
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(new RegExp(`^raw/numbers/dt=\\d{4}-\\d{2}-\\d{2}/${s.runId}-00000\\.jsonl\\.gz$`));
    const lines = gunzipSync((await storage.get(keys[0]))!).toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.n)).toEqual([0, 1, 2, 3, 4]);
    const [m] = await listManifests(storage);
    expect(m.run_id).toBe(s.runId);
    expect(m.streams.numbers.files.map((f) => f.key)).toEqual(keys);
    expect(await loadState(storage, 'numbers')).toMatchObject({ cursor: 5, _run_id: s.runId });
  });

  it('a run killed before its manifest leaves no visible data and no state', async () => {
    const lakeDir = join(dir, '.lake');
    const inner = new LocalStorage(lakeDir);
    // The process "dies" at the commit point: every write before the manifest happened.
    const crashing = Object.assign(Object.create(inner) as LocalStorage, {
      put: async (key: string, body: Buffer | string) => {
        if (key.startsWith('_runs/')) throw new Error('killed');
        return inner.put(key, body);
      },
    });
    await expect(run(counterPlugin({ n: 7 }), crashing)).rejects.toThrow('killed');
    expect((await inner.list('raw/numbers/')).length).toBe(1); // the data is on disk...
    expect(await listManifests(inner)).toEqual([]); // ...but not committed
    expect(await loadState(inner, 'numbers')).toEqual({});
    const tables = loadPipeline(join(dir, 'pipeline.yaml')).config.tables;
    await buildTables({ lakeDir, tables, files: committedFiles(await listManifests(inner)), runId: 'check' });
    const db = await openLake(lakeDir, tables);
    expect((await db.query('SELECT count(*) AS n FROM numbers')).rows[0].n).toBe(0);
    db.close();
    // The next run starts from the beginning again and commits exactly one copy.
    const s = await run(counterPlugin({ n: 7 }));
    expect(s.ok).toBe(true);
    const db2 = await openLake(lakeDir, tables);
    expect((await db2.query('SELECT count(*) AS n, count(DISTINCT n) AS d FROM numbers')).rows[0]).toEqual({ n: 7, d: 7 });
    db2.close();
  });

  it('a failing stream commits nothing of its own and keeps earlier data and state', async () => {
    const lakeDir = join(dir, '.lake');
    const ok = await run(counterPlugin({ n: 4 }));
    expect(ok.ok).toBe(true);
    const bad = await run(counterPlugin({ n: 4, failAt: 6 }));
    expect(bad.ok).toBe(false);
    expect(bad.error).toContain('upstream exploded');
    const storage = new LocalStorage(lakeDir);
    expect((await storage.list('raw/numbers/')).length).toBe(1); // the failed part was removed
    expect(await loadState(storage, 'numbers')).toMatchObject({ cursor: 4 });
    const db = await openLake(lakeDir, loadPipeline(join(dir, 'pipeline.yaml')).config.tables);
    expect((await db.query('SELECT count(*) AS n FROM numbers')).rows[0].n).toBe(4);
    db.close();
  });
});

describe('run ids', () => {
  it('sort in the order runs started, also within one second (the transform keeps the newest run by them)', () => {
    const t = Date.parse('2026-12-04T19:34:36.000Z');
    const ids = [0, 1, 2, 450, 999, 1000].map((ms) => newRunId(new Date(t + ms)));
    for (let n = 0; n < 20; n++) {
      const again = [0, 1, 2, 450, 999, 1000].map((ms) => newRunId(new Date(t + ms)));
      expect([...again].sort()).toEqual(again);
    }
    expect([...ids].sort()).toEqual(ids);
    expect(ids[0]).toMatch(/^20261204T193436000Z-[0-9a-f]{6}$/);
  });
});
