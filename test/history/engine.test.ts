/**
 * The export through the engine and the tables (connectors/spotify-history/pipeline.yaml):
 * importing the same export again (unchanged, or re-downloaded as a zip) adds no row, and the
 * personal fields of the export appear nowhere under the lake unless the config keeps them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { generateExport, type GeneratedExport } from '../../connectors/spotify-history/sandbox/index.ts';
import { preparePipeline, runLocal, type Prepared } from '../../core/pipeline.ts';
import { memoryLogger } from '../../core/log.ts';
import { openLake } from '../../core/query/index.ts';
import type { JsonRecord } from '../../core/plugin-api.ts';
import { sharedCatalog } from '../../connectors/spotify/sandbox/catalog.ts';

const PIPELINE = join(import.meta.dirname, '..', '..', 'connectors', 'spotify-history', 'pipeline.yaml');

let base: string;
let folder: GeneratedExport;
let zipped: GeneratedExport;
let prep: Prepared;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'history-engine-'));
  // The same export twice: as folders, and as the zips a second download would be.
  [folder, zipped] = await Promise.all([
    generateExport(join(base, 'folder'), { plays: 500, playsPerFile: 200, catalog: sharedCatalog(42) }),
    generateExport(join(base, 'zip'), { plays: 500, playsPerFile: 200, zip: true, catalog: sharedCatalog(42) }),
  ]);
  prep = await preparePipeline(PIPELINE);
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

const run = (lake: string, config: JsonRecord) => runLocal(prep, { lake, logger: memoryLogger(), connectorConfig: config });

async function rows(lake: string): Promise<{ n: number; distinct: number }> {
  const db = await openLake(lake, prep.loaded.config.tables);
  try {
    const r = await db.query('SELECT count(*) AS n, count(DISTINCT play_id) AS distinct_ids FROM listening_history');
    return { n: Number(r.rows[0].n), distinct: Number(r.rows[0].distinct_ids) };
  } finally {
    db.close();
  }
}

/** Everything under the lake as text: gzip files unpacked, Parquet files as their rows. */
async function lakeText(lake: string): Promise<string> {
  const parts: string[] = [];
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    for (const e of await readdir(lake, { recursive: true, withFileTypes: true })) {
      if (!e.isFile()) continue;
      const p = join(e.parentPath, e.name);
      if (p.endsWith('.gz')) parts.push(gunzipSync(await readFile(p)).toString('utf8'));
      else if (p.endsWith('.parquet')) parts.push(JSON.stringify((await conn.runAndReadAll(`SELECT * FROM read_parquet('${p.replace(/'/g, "''")}')`)).getRowObjectsJson()));
      else parts.push(await readFile(p, 'utf8'));
    }
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  return parts.join('\n');
}

const personal = (x: GeneratedExport) => [...x.personal.ips, ...[...x.personal.userAgents].filter((u) => u.length >= 12), ...x.personal.usernames];

describe('importing the same export twice', () => {
  let lake: string;
  let distinct: number;

  beforeAll(async () => {
    lake = join(base, 'lake');
    const first = await run(lake, { path: folder.path });
    expect(first.ok, first.error).toBe(true);
    distinct = new Set(folder.truth.extended.map((t) => t.play_id)).size;
  });

  it('the first import holds one row per play, though the re-download inside the export repeats plays', async () => {
    expect(folder.truth.extended.length).toBeGreaterThan(distinct);
    expect(await rows(lake)).toEqual({ n: distinct, distinct });
  });

  it('the same folder again: no file is read again, no row added', async () => {
    const again = await run(lake, { path: folder.path });
    expect(again.ok, again.error).toBe(true);
    expect(again.streams[0].records).toBe(0);
    expect(again.streams[0].notes.skipped_imported_file).toBeGreaterThan(0);
    expect(await rows(lake)).toEqual({ n: distinct, distinct });
  });

  it('the same plays re-downloaded as zips: read again, deduped by play_id, no row added', async () => {
    const third = await run(lake, { path: zipped.path });
    expect(third.ok, third.error).toBe(true);
    expect(third.streams[0].records).toBe(zipped.truth.extended.length);
    expect(await rows(lake)).toEqual({ n: distinct, distinct });
  });

  it('IP addresses, user agents and usernames of the export appear nowhere under the lake (raw gz, tables, state, manifests)', async () => {
    const text = await lakeText(lake);
    expect(text.length).toBeGreaterThan(100_000);
    const values = personal(folder);
    expect(values.length).toBeGreaterThan(10);
    expect(values.filter((v) => text.includes(v))).toEqual([]);
  });
});

describe('personal data kept on request', () => {
  it('lands in raw only when the config says keep (so the scan above is not vacuous)', async () => {
    const lake = join(base, 'lake-keep');
    const r = await run(lake, { path: folder.path, personal_data: { ip_addr: 'keep', user_agent: 'keep', username: 'keep' } });
    expect(r.ok, r.error).toBe(true);
    const text = await lakeText(lake);
    expect(personal(folder).filter((v) => !text.includes(v))).toEqual([]);
  });
});
