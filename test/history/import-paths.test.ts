/**
 * An import parses each history file whole (JSON.parse) when it is within the cap and streams it
 * otherwise: both paths write the same raw files, byte for byte (same parts, records, sha256).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import history from '../../connectors/spotify-history/index.ts';
import { parsing } from '../../connectors/spotify-history/parse.ts';
import { generateExport, type GeneratedExport } from '../../connectors/spotify-history/sandbox/index.ts';
import { preparePipeline, type Prepared } from '../../core/pipeline.ts';
import { runPipeline } from '../../core/engine/run.ts';
import { sha256 } from '../../core/engine/integrity.ts';
import { listManifests } from '../../core/engine/manifest.ts';
import { LocalStorage } from '../../core/storage/local.ts';
import { memoryLogger } from '../../core/log.ts';
import type { ConnectorPlugin } from '../../core/plugin-api.ts';
import { sharedCatalog } from '../../connectors/spotify/sandbox/catalog.ts';

const PIPELINE = join(import.meta.dirname, '..', '..', 'connectors', 'spotify-history', 'pipeline.yaml');

let base: string;
let folder: GeneratedExport;
let zipped: GeneratedExport;
let prep: Prepared;
const cap = parsing.wholeFileMaxBytes;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'history-paths-'));
  [folder, zipped] = await Promise.all([
    generateExport(join(base, 'folder'), { plays: 1500, playsPerFile: 400, catalog: sharedCatalog(7) }),
    generateExport(join(base, 'zip'), { plays: 900, playsPerFile: 300, zip: true, catalog: sharedCatalog(7) }),
  ]);
  prep = await preparePipeline(PIPELINE);
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

afterEach(() => {
  parsing.wholeFileMaxBytes = cap;
  vi.restoreAllMocks();
});

/** Both formats, so every file family of the generated export is read. */
const plugin: ConnectorPlugin = {
  ...(history as unknown as ConnectorPlugin),
  read: (stream, ctx) => (history as unknown as ConnectorPlugin).read({ ...stream, params: { ...stream.params, formats: 'both' } }, ctx),
};

/** Imports the export into a fresh lake (raw only): each part as the manifest lists it, in order, checked against the stored bytes. */
async function importRaw(exp: GeneratedExport, lake: string): Promise<Array<{ records: number; bytes: number; sha256: string }>> {
  const storage = new LocalStorage(lake);
  const summary = await runPipeline({ pipeline: prep.loaded, plugin, connectorConfig: { path: exp.path }, storage, logger: memoryLogger() });
  expect(summary.ok, summary.error).toBe(true);
  const [manifest] = await listManifests(storage);
  const parts = Object.values(manifest.streams).flatMap((s) => s.files);
  expect(parts.length).toBeGreaterThan(0);
  const stored = [];
  for (const key of await storage.list('raw/')) stored.push(sha256(await readFile(join(lake, key))));
  expect(stored).toEqual(parts.map((f) => f.sha256));
  return parts.map((f) => ({ records: f.records, bytes: f.bytes, sha256: f.sha256! }));
}

describe('whole-file and streaming imports write the same raw files', () => {
  it.each([
    ['a folder', () => folder],
    ['zips', () => zipped],
  ])('%s', async (name, exp) => {
    // Default: every generated file is far under the cap, so each is parsed whole.
    const parse = vi.spyOn(JSON, 'parse');
    const whole = await importRaw(exp(), join(base, `lake-whole-${name}`));
    const histories = exp().files.filter((f) => /\.json$/.test(f)).length;
    expect(parse.mock.calls.filter(([t]) => typeof t === 'string' && t.trimStart().startsWith('[') && t.length > 1000).length).toBeGreaterThanOrEqual(histories);
    parse.mockClear();

    // Cap 0: every file through the streaming parser.
    parsing.wholeFileMaxBytes = 0;
    const streamed = await importRaw(exp(), join(base, `lake-stream-${name}`));
    expect(parse.mock.calls.filter(([t]) => typeof t === 'string' && t.trimStart().startsWith('[') && t.length > 1000)).toEqual([]);

    expect(whole).toEqual(streamed);
    expect(whole.reduce((a, f) => a + f.records, 0)).toBe(exp().truth.extended.length + exp().truth.account.length);
  });
});
