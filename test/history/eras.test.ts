/**
 * Exports in each era's exact field layout (hand-written from ../shared/spotify-export-formats.md,
 * not from the sandbox): the <= 2023 account file (StreamingHistory0.json, endTime/artistName/
 * trackName/msPlayed, pretty-printed), the 2024+ account files (music, podcast, audiobook), the
 * endsong era (minified, endvideo.json). Every file that is not imported is named in the summary,
 * with the reason; the shipped queries answer for account-only users.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import history from '../../connectors/spotify-history/index.ts';
import { writeZip } from '../../connectors/spotify-history/sandbox/zip.ts';
import { HttpClient } from '../../core/http.ts';
import type { JsonRecord, ReadContext, StreamState } from '../../core/plugin-api.ts';
import type { HistoryConfig } from '../../connectors/spotify-history/config.ts';
import { preparePipeline, runLocal, type Prepared } from '../../core/pipeline.ts';
import { memoryLogger } from '../../core/log.ts';
import { openLake } from '../../core/query/index.ts';
import { printSummary } from '../../core/cli/run.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURES = join(import.meta.dirname, 'fixtures');

interface Read {
  records: JsonRecord[];
  notes: Record<string, number>;
  details: string[];
  logs: string[];
  state?: StreamState;
}

async function read(path: string, opts: { formats?: string; state?: StreamState; incremental?: boolean } = {}): Promise<Read> {
  const out: Read = { records: [], notes: {}, details: [], logs: [] };
  const log = (m: string) => out.logs.push(m);
  const ctx: ReadContext<HistoryConfig> = {
    config: { path },
    http: new HttpClient({ baseURL: '' }),
    logger: { info: log, warn: log, debug: log },
    signal: new AbortController().signal,
    state: opts.state ?? {},
    setState: (s) => (out.state = s),
    note: (k, n = 1, detail) => {
      out.notes[k] = (out.notes[k] ?? 0) + n;
      if (detail) out.details.push(`${k}: ${detail}`);
    },
  };
  const spec = { name: 'listening_history', endpoint: 'plays', params: opts.formats ? { formats: opts.formats } : {}, incremental: opts.incremental ?? false };
  for await (const r of history.read(spec, ctx)) out.records.push(r);
  return out;
}

const by = (rs: JsonRecord[], field: string, value: string) => rs.filter((r) => r[field] === value);

let base: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'history-eras-'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('the 2024+ account data: music, podcast and audiobook files', () => {
  const dir = join(FIXTURES, 'account-2024');

  it('imports audiobook plays (audiobookName, chapterName, authorName), with their own kind', async () => {
    const r = await read(dir);
    const books = by(r.records, 'kind', 'audiobook');
    expect(books).toHaveLength(2);
    expect(books[0]).toMatchObject({
      ts: '2024-03-03T21:10:00.000Z', ms_played: 1_260_000, format: 'account', kind_source: 'file', uri: null,
      audiobook_title: 'Project Hail Mary', chapter_title: 'Chapter 1', author_name: 'Andy Weir', artist_name: null, track_name: null,
      source_file: 'Spotify Account Data/StreamingHistory_audiobook_0.json',
    });
    // Hours-long plays are kept as they are.
    expect(books[1].ms_played).toBe(12_600_000);
    expect(by(r.records, 'kind', 'episode')).toMatchObject([{ show_name: 'The Daily', episode_name: 'The Election, One Year Out', kind_source: 'file' }]);
    // A music row without artistName/trackName (seen in 2025 exports) is still a track play.
    expect(by(r.records, 'kind', 'track')).toMatchObject([{ artist_name: 'Fontaines D.C.' }, { artist_name: null, track_name: null, ms_played: 0 }]);
  });

  it('names every file it does not import in the summary, with the reason', async () => {
    const r = await read(dir);
    expect(r.notes).toMatchObject({ files_unknown_history: 1, files_not_history: 2 });
    expect(r.details).toContainEqual(expect.stringMatching(/^files_unknown_history: Spotify Account Data\/StreamingHistory_video_0\.json: named like listening history, but a file family this connector does not know: not imported$/));
    expect(r.details).toContainEqual('files_not_history: Spotify Account Data/Playlist1.json, Spotify Account Data/Userdata.json: no listening history (the rest of the download): not read');
    // A history file that is dropped is a warning too, not only a summary line.
    expect(r.logs.some((l) => l.includes('StreamingHistory_video_0.json'))).toBe(true);
  });

  it('reads the same from the zip Spotify sends, and names the zip entries it does not import', async () => {
    const zip = join(base, 'my_spotify_data.zip');
    const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    await writeZip(zip, files.map((p) => ({ name: relative(dir, p).split('\\').join('/'), path: p })));
    const [plain, zipped] = [await read(dir), await read(zip)];
    expect(zipped.records.map((x) => x.play_id).sort()).toEqual(plain.records.map((x) => x.play_id).sort());
    expect(by(zipped.records, 'kind', 'audiobook')).toHaveLength(2);
    expect(zipped.details).toContainEqual(expect.stringContaining('my_spotify_data.zip/Spotify Account Data/StreamingHistory_video_0.json: named like listening history'));
  });

  it('an incremental rerun names the files it skips as already imported', async () => {
    const first = await read(dir, { incremental: true });
    const again = await read(dir, { incremental: true, state: first.state });
    expect(again.records).toEqual([]);
    expect(again.details).toContainEqual(expect.stringMatching(/^skipped_imported_file: .*StreamingHistory_audiobook_0\.json.*: imported by an earlier run/));
  });
});

describe('the <= 2023 account file StreamingHistory0.json', () => {
  it('alone: plays with artistName and trackName are tracks (kind_source assumed), a podcast among them too', async () => {
    const r = await read(join(FIXTURES, 'account-2023'));
    expect(r.records).toHaveLength(5);
    expect(r.records.every((x) => x.kind === 'track' && x.kind_source === 'assumed')).toBe(true);
    expect(r.records[0]).toMatchObject({ ts: '2020-06-16T16:55:00.000Z', artist_name: 'Daft Punk', track_name: 'One More Time', ms_played: 320_357, uri: null, track_id: null });
    expect(r.details).toContainEqual(expect.stringContaining('MyData/SearchQueries.json, MyData/Userdata.json: no listening history'));
    // The same export as the zip Spotify sent then.
    const dir = join(FIXTURES, 'account-2023');
    const zip = join(base, 'my_spotify_data_2023.zip');
    await writeZip(zip, ['StreamingHistory0.json', 'Userdata.json'].map((f) => ({ name: `MyData/${f}`, path: join(dir, 'MyData', f) })));
    const zipped = await read(zip);
    expect(zipped.records.map((x) => [x.play_id, x.kind, x.kind_source])).toEqual(r.records.map((x) => [x.play_id, 'track', 'assumed']));
    expect(zipped.details).toEqual(['files_not_history: my_spotify_data_2023.zip/MyData/Userdata.json: no listening history (the rest of the download): not read']);
  });

  it('next to the extended history: a show of its episodes makes an episode, its tracks a matched track; the extended files not read are named', async () => {
    const dir = join(base, 'both-2023');
    await cp(join(FIXTURES, 'account-2023'), dir, { recursive: true });
    await cp(join(FIXTURES, 'endsong-2023'), dir, { recursive: true });
    const r = await read(dir, { formats: 'account' });
    const kinds = Object.fromEntries(r.records.map((x) => [`${x.ts}`, [x.kind, x.kind_source]]));
    expect(kinds).toEqual({
      '2020-06-16T16:55:00.000Z': ['track', 'track_match'],
      '2020-06-16T17:40:00.000Z': ['episode', 'show_match'],
      '2020-06-17T08:02:00.000Z': ['track', 'assumed'],
      '2020-12-31T23:59:00.000Z': ['track', 'assumed'],
      '2021-01-01T00:03:00.000Z': ['track', 'assumed'],
    });
    expect(r.records[1]).toMatchObject({ show_name: 'The Daily', episode_name: 'The Field: Rust Belt Voters', artist_name: null, track_name: null });
    expect(r.details).toContainEqual(expect.stringMatching(/^files_other_format: MyData\/endsong_0\.json, MyData\/endvideo\.json: extended history not read \(formats: account\)$/));
    // The classification does not change a play's id: a re-import replaces the row, never adds one.
    const alone = await read(join(FIXTURES, 'account-2023'));
    expect(r.records.map((x) => x.play_id)).toEqual(alone.records.map((x) => x.play_id));
  });
});

describe('the endsong era', () => {
  it('imports endvideo.json next to endsong_0.json', async () => {
    const r = await read(join(FIXTURES, 'endsong-2023'));
    expect(r.records.filter((x) => x.source_file === 'MyData/endvideo.json')).toMatchObject([{ kind: 'episode', kind_source: 'uri', show_name: 'Video Show', ms_played: 0, offline: null }]);
    expect(by(r.records, 'kind', 'unknown')).toMatchObject([{ kind_source: null, ms_played: 0 }]);
    expect(r.notes.files_unknown_history).toBeUndefined();
  });
});

describe('a <= 2023 account-only export through the engine and the shipped tables and queries', () => {
  let web: Prepared;
  let hist: Prepared;
  let lake: string;
  let summary: Awaited<ReturnType<typeof runLocal>>;

  beforeAll(async () => {
    [web, hist] = await Promise.all([preparePipeline(join(ROOT, 'pipeline.yaml')), preparePipeline(join(ROOT, 'connectors', 'spotify-history', 'pipeline.yaml'))]);
    lake = join(base, 'lake');
    summary = await runLocal(hist, { lake, logger: memoryLogger(), connectorConfig: { path: join(FIXTURES, 'account-2023') } });
    expect(summary.ok, summary.error).toBe(true);
  });

  it('history_top_tracks and hours_per_artist_per_year return these plays (no Web API data needed)', async () => {
    const db = await openLake(lake, { ...web.loaded.config.tables, ...hist.loaded.config.tables });
    try {
      const top = await db.query(hist.loaded.config.queries.history_top_tracks.sql);
      expect(top.rows.map((x) => [x.track_name, x.artist_name, Number(x.plays)])).toEqual([
        ['The Field: Rust Belt Voters', 'The Daily', 1],
        ['Karma Police', 'Radiohead', 2],
        ['Digital Love', 'Daft Punk', 1],
        ['One More Time', 'Daft Punk', 1],
      ]);
      const hours = await db.query(web.loaded.config.queries.hours_per_artist_per_year.sql);
      expect(hours.rows.map((x) => [x.artist, Number(x.year), Number(x.plays)])).toEqual([
        ['Radiohead', 2021, 1],
        ['The Daily', 2020, 1],
        ['Daft Punk', 2020, 2],
        ['Radiohead', 2020, 1],
      ]);
      const sources = await db.query('SELECT kind_source, count(*) AS n FROM listening_history GROUP BY 1');
      expect(sources.rows.map((x) => [x.kind_source, Number(x.n)])).toEqual([['assumed', 5]]);
    } finally {
      db.close();
    }
  });

  it('the printed run summary lists the files not imported, with the reason', () => {
    expect(summary.streams[0].details).toEqual(['files_not_history: MyData/SearchQueries.json, MyData/Userdata.json: no listening history (the rest of the download): not read']);
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (lines.push(String(s)), true));
    try {
      printSummary(summary);
    } finally {
      spy.mockRestore();
    }
    expect(lines.join('')).toContain('Notes:\n  listening_history: files_not_history: MyData/SearchQueries.json, MyData/Userdata.json: no listening history (the rest of the download): not read\n');
  });
});
