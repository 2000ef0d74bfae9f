/** Reading an export: folders, zips, both formats, streaming, and state by file content. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import history from '../../connectors/spotify-history/index.ts';
import { generateExport, type GeneratedExport } from '../../connectors/spotify-history/sandbox/index.ts';
import { jsonArrayElements } from '../../connectors/spotify-history/parse.ts';
import { HttpClient } from '../../core/http.ts';
import { UserError, type JsonRecord, type ReadContext, type StreamState } from '../../core/plugin-api.ts';
import type { HistoryConfig } from '../../connectors/spotify-history/config.ts';
import { sharedCatalog } from '../../connectors/spotify/sandbox/catalog.ts';

interface Read {
  records: JsonRecord[];
  state?: StreamState;
  notes: Record<string, number>;
  logs: string[];
}

async function read(config: Partial<HistoryConfig>, opts: { state?: StreamState; incremental?: boolean; formats?: string } = {}): Promise<Read> {
  const out: Read = { records: [], notes: {}, logs: [] };
  const log = (m: string) => out.logs.push(m);
  const ctx: ReadContext<HistoryConfig> = {
    config: config as HistoryConfig,
    http: new HttpClient({ baseURL: '' }),
    logger: { info: log, warn: log, debug: log },
    signal: new AbortController().signal,
    state: opts.state ?? {},
    setState: (s) => (out.state = s),
    note: (k, n = 1) => (out.notes[k] = (out.notes[k] ?? 0) + n),
  };
  const spec = { name: 'listening_history', endpoint: 'plays', params: opts.formats ? { formats: opts.formats } : {}, incremental: opts.incremental ?? false };
  for await (const r of history.read(spec, ctx)) out.records.push(r);
  return out;
}

const ids = (rs: Array<Record<string, unknown>>) => rs.map((r) => String(r.play_id)).sort();

let base: string;
let folder: GeneratedExport;
let zipped: GeneratedExport;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'history-read-'));
  [folder, zipped] = await Promise.all([
    generateExport(join(base, 'folder'), { plays: 400, playsPerFile: 150, catalog: sharedCatalog(42) }),
    generateExport(join(base, 'zip'), { plays: 300, playsPerFile: 100, zip: true, catalog: sharedCatalog(42) }),
  ]);
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('a generated export', () => {
  it('uses the Spotify sandbox catalog, so track ids join with the Web API tables', () => {
    expect(folder.catalog).toBe('spotify-sandbox');
    expect(folder.truth.extended.filter((t) => t.kind === 'track').every((t) => /^[0-9A-Za-z]{22}$/.test(String(t.track_id)))).toBe(true);
    expect(new Set(folder.truth.extended.map((t) => t.kind))).toEqual(new Set(['track', 'episode', 'audiobook', 'unknown']));
  });
});

describe('reading a folder', () => {
  it('reads every extended file (the re-download too) and leaves the account data out by default', async () => {
    const r = await read({ path: folder.path });
    expect(ids(r.records)).toEqual(ids(folder.truth.extended));
    expect(r.notes.files_other_format).toBe(2);
    // The older re-download repeats plays: same play ids, which the table dedupes.
    expect(new Set(ids(r.records)).size).toBeLessThan(r.records.length);
    expect(new Set(r.records.map((x) => x.source_file))).toEqual(new Set(folder.files.filter((f) => !f.includes('Account Data'))));
  });

  it('reads the account data when asked, or both', async () => {
    expect(ids((await read({ path: folder.path }, { formats: 'account' })).records)).toEqual(ids(folder.truth.account));
    expect((await read({ path: folder.path }, { formats: 'both' })).records.length).toBe(folder.truth.extended.length + folder.truth.account.length);
  });

  it('ignores files that are not history (Userdata.json, __MACOSX, hidden files)', async () => {
    const dir = join(base, 'noise');
    await cp(join(folder.path, 'my_spotify_data'), join(dir, 'my_spotify_data'), { recursive: true });
    await mkdir(join(dir, '__MACOSX'), { recursive: true });
    await writeFile(join(dir, '__MACOSX', 'Streaming_History_Audio_2020_9.json'), 'not json');
    await writeFile(join(dir, '.Streaming_History_Audio_2020_8.json'), 'not json');
    const r = await read({ path: dir });
    expect(r.records.length).toBe(folder.truth.extended.filter((t) => t.source_file.startsWith('my_spotify_data/')).length);
  });
});

describe('reading zips', () => {
  it('reads a .zip given as the path, and a folder of zips', async () => {
    const one = await read({ path: join(zipped.path, 'my_spotify_data.zip') });
    const main = zipped.truth.extended.filter((t) => t.source_file.startsWith('my_spotify_data.zip/'));
    expect(ids(one.records)).toEqual(ids(main));
    expect(one.records[0].source_file).toMatch(/^my_spotify_data\.zip\/Spotify Extended Streaming History\/Streaming_History_Audio_\d{4}(-\d{4})?_0\.json$/);
    const all = await read({ path: zipped.path });
    expect(ids(all.records)).toEqual(ids(zipped.truth.extended));
  });
});

describe('state: files already imported are skipped by content', () => {
  it('skips a copy of an imported file anywhere, imports a changed one, and skips nothing on a full read', async () => {
    const dir = join(base, 'state');
    await cp(join(folder.path, 'my_spotify_data'), join(dir, 'my_spotify_data'), { recursive: true });
    const first = await read({ path: dir }, { incremental: true });
    expect(first.records.length).toBeGreaterThan(0);
    expect(Object.keys((first.state as { files: object }).files).every((k) => /\|\d+\|sha256:[0-9a-f]{64}$/.test(k))).toBe(true);

    const ext = join(dir, 'my_spotify_data', 'Spotify Extended Streaming History');
    const name = folder.files.find((f) => f.startsWith('my_spotify_data/Spotify Extended') && f.includes('_Audio_'))!.split('/').pop()!;
    // The same file in another folder (a second download unzipped elsewhere): already imported.
    await mkdir(join(dir, 'copy'), { recursive: true });
    await cp(join(ext, name), join(dir, 'copy', name));
    const again = await read({ path: dir }, { incremental: true, state: first.state });
    expect(again.records).toEqual([]);
    expect(again.notes.skipped_imported_file).toBeGreaterThan(0);

    // A changed file is new content: imported again (its unchanged plays keep their ids).
    const text = await readFile(join(ext, name), 'utf8');
    await writeFile(join(ext, name), text.replace(/\n\]\n$/, `,\n  {"ts": "2026-02-01T10:00:00Z", "ms_played": 1000, "spotify_track_uri": "spotify:track:4uLU6hMCjMI75M1A2tKUQC"}\n]\n`));
    const changed = await read({ path: dir }, { incremental: true, state: again.state });
    expect(changed.records.length).toBe(JSON.parse(text).length + 1);

    const full = await read({ path: dir }, { state: changed.state });
    expect(full.records.length).toBeGreaterThan(changed.records.length);
  });
});

describe('streaming JSON', () => {
  it('parses across any chunk boundary, with a BOM and multi-byte characters', async () => {
    const items = [{ a: 'Zoë – 東京 🎧', b: [1, 2, { c: null }] }, { a: 'x'.repeat(600), b: true }, {}];
    const bytes = Buffer.from('\ufeff' + JSON.stringify(items, null, 2));
    const oneByte = Readable.from((function* () {
      for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1);
    })());
    const out: unknown[] = [];
    for await (const v of jsonArrayElements(oneByte)) out.push(v);
    expect(out).toEqual(items);
  });

  it('names the file that is not a JSON array', async () => {
    const dir = join(base, 'bad');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'Streaming_History_Audio_2020_0.json'), '{"ts": "2020-01-01T00:00:00Z"}');
    const err = await read({ path: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/Streaming_History_Audio_2020_0\.json is not a valid history file/);
  });
});

describe('config and check', () => {
  it('check names a missing path and an empty one (S3 paths: test/history/s3.test.ts)', async () => {
    const check = (path: string) => history.check({ config: { path }, http: new HttpClient({ baseURL: '' }), logger: { info() {}, warn() {}, debug() {} }, streams: [] });
    await expect(check(join(base, 'nope'))).rejects.toThrow(/does not exist/);
    await mkdir(join(base, 'empty'), { recursive: true });
    await expect(check(join(base, 'empty'))).rejects.toThrow(/no streaming history files/);
    await expect(check(folder.path)).resolves.toBeUndefined();
  });

  it('hashing needs a salt: validate names the key, read refuses', async () => {
    expect(history.validate!({ path: 'x', personal_data: { ip_addr: 'hash' } }, [])).toEqual([{ path: 'connector.config.personal_data', message: expect.stringMatching(/needs hash_salt/) }]);
    await expect(read({ path: folder.path, personal_data: { ip_addr: 'hash' } })).rejects.toThrow(/hash_salt is not set/);
  });
});
