/**
 * The engine's progress events, in order: each stream's start (with the records an ids stream
 * expects), its records, its end and outcome, then the table build table by table; a failing
 * stream ends as failed. A small in-test plugin, no HTTP.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { definePlugin, PLUGIN_API_VERSION } from '../../core/plugin-api.ts';
import { loadPipeline } from '../../core/config/index.ts';
import { runPipeline } from '../../core/engine/run.ts';
import { LocalStorage } from '../../core/storage/local.ts';
import { memoryLogger } from '../../core/log.ts';
import { buildTables } from '../../core/transform/index.ts';
import type { ProgressEvent } from '../../core/progress.ts';

const anyRecord = { type: 'object' };

function plugin(failLabels = false) {
  return definePlugin({
    apiVersion: PLUGIN_API_VERSION,
    name: 'counter',
    version: '1.0.0',
    description: 'test plugin',
    configSchema: { type: 'object' },
    secretKeys: [],
    endpoints: {
      numbers: { description: 'n', path: '/n', auth: 'client', scopes: [], paginator: { type: 'none' }, recordPath: '', recordSchema: anyRecord },
      labels: { description: 'l', path: '/l/{id}', auth: 'client', scopes: [], paginator: { type: 'none' }, recordPath: '', input: 'ids', recordSchema: anyRecord },
    },
    async check() {},
    async *read(stream, ctx) {
      if (stream.endpoint === 'numbers') {
        ctx.expectTotal?.(4);
        for (let i = 0; i < 4; i++) yield { n: i, label_id: `L${i % 3}` };
      } else {
        for (const id of ctx.ids ?? []) {
          if (failLabels) throw new Error('upstream exploded');
          yield { id };
        }
      }
    },
  });
}

const PIPELINE = `version: 1
name: progress-test
connector: { use: counter, config: {} }
storage: { local: .lake }
streams:
  numbers: { endpoint: numbers }
  labels: { endpoint: labels, ids_from: [numbers.label_id] }
tables:
  numbers:
    from: numbers
    columns:
      n: { path: n, type: bigint, required: true }
  labels:
    from: labels
    columns:
      id: { path: id, type: string, required: true }
queries: {}
`;

/** The events with each stream's run of records counted into one entry. */
function compact(events: ProgressEvent[]): unknown[] {
  const out: unknown[] = [];
  for (const e of events) {
    const prev = out[out.length - 1] as { records?: number; stream?: string } | undefined;
    if (e.type === 'record' && prev?.records !== undefined && prev.stream === e.stream) prev.records++;
    else if (e.type === 'record') out.push({ records: 1, stream: e.stream });
    else out.push(e);
  }
  return out;
}

describe('engine progress events', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'progress-engine-'));
    await writeFile(join(dir, 'pipeline.yaml'), PIPELINE);
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  const run = async (failLabels: boolean) => {
    const events: ProgressEvent[] = [];
    const lake = join(dir, '.lake');
    const s = await runPipeline({ pipeline: loadPipeline(join(dir, 'pipeline.yaml')), plugin: plugin(failLabels), connectorConfig: {}, storage: new LocalStorage(lake), lakeDir: lake, buildTables, logger: memoryLogger(), progress: (e) => events.push(e) });
    return { s, events: compact(events) };
  };

  it('streams in order with their totals and outcomes, then the tables one by one', async () => {
    const { s, events } = await run(false);
    expect(s.ok).toBe(true);
    expect(events).toEqual([
      { type: 'stream-start', stream: 'numbers', endpoint: 'numbers', total: undefined },
      { type: 'stream-total', stream: 'numbers', add: 4 },
      { records: 4, stream: 'numbers' },
      { type: 'stream-end', stream: 'numbers', status: 'ok' },
      // An ids stream knows its total up front: the distinct ids gathered for it.
      { type: 'stream-start', stream: 'labels', endpoint: 'labels', total: 3 },
      { records: 3, stream: 'labels' },
      { type: 'stream-end', stream: 'labels', status: 'ok' },
      { type: 'tables-start', tables: ['numbers', 'labels'] },
      { type: 'table-start', table: 'numbers' },
      { type: 'table-end', table: 'numbers', rows: 4 },
      { type: 'table-start', table: 'labels' },
      { type: 'table-end', table: 'labels', rows: 3 },
      { type: 'tables-end' },
    ]);
  });

  it('a failing stream ends as failed', async () => {
    const { s, events } = await run(true);
    expect(s.ok).toBe(false);
    expect(events).toContainEqual({ type: 'stream-end', stream: 'labels', status: 'failed' });
    expect(events).not.toContainEqual({ type: 'stream-end', stream: 'labels', status: 'ok' });
  });
});
