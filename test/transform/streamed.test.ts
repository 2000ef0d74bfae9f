/**
 * The streamed full build (compile.ts renderDuckdbStreamed, index.ts buildStreamed) against the
 * judged build it stands in for: on clean data both must write the same bytes and report the same
 * figures; on every input the typed read could read differently, or with a row to quarantine, the
 * streamed statement must stop and the judged build run instead, with the judged build's result.
 */
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import type { TableSpec } from '../../core/config/types.ts';
import { buildTables, type CommittedFile, type TableResult } from '../../core/transform/index.ts';
import { renderDuckdbStreamed } from '../../core/transform/compile.ts';
import { planTable } from '../../core/transform/plan.ts';
import { BJORK, MASSIVE, RADIOHEAD, listFiles, play, runId, track, twoTempLakes, writeRaw } from './helpers.ts';

const lakes = twoTempLakes();
let lake: string;
let other: string;
beforeEach(() => void ({ lake, other } = lakes));

const PLAYS: TableSpec = {
  from: [{ stream: 'recently_played' }],
  columns: {
    played_at: { path: 'played_at', type: 'timestamp', required: true },
    track_id: { path: 'track.id', type: 'string', required: true },
    track_name: { path: 'track.name', type: 'string' },
    artist_id: { path: 'track.artists[0].id', type: 'string' },
    second_artist: { path: 'track.artists[1].name', type: 'string' },
    released: { path: 'track.album.release_date', precision_from: 'track.album.release_date_precision', type: 'date' },
    duration_ms: { path: 'track.duration_ms', type: 'bigint' },
    minutes: { sql: 'round(duration_ms / 60000.0, 2)', type: 'double' },
    context_type: { path: 'context.type', type: 'string' },
  },
  dedupe: { key: ['played_at', 'track_id'] },
  partition_by: [{ name: 'dt', from: 'played_at', as: 'date' }],
};

const TRACKS = [
  track('t1', 'Idioteque', [RADIOHEAD], { durationMs: 309_000, release: '2000', precision: 'year' }),
  track('t2', 'Hyperballad', [BJORK], { durationMs: 321_000, release: '1995-11', precision: 'month' }),
  track('t3', 'Teardrop (feat. Björk)', [MASSIVE, BJORK], { durationMs: 330_000 }),
];

/**
 * 20 files over three runs (more files than the streamed build's 16 numbered scans, so some scans
 * hold two files and number lines across them), with keys delivered again within a file, across
 * parts of a run and across runs, each time with other values: only the last delivery may win.
 */
async function history(dir: string): Promise<CommittedFile[]> {
  const files: CommittedFile[] = [];
  let n = 0;
  for (const [run, parts] of [
    [runId(8), 9],
    [runId(9), 8],
    [runId(10), 3],
  ] as const) {
    for (let part = 0; part < parts; part++) {
      const records = [];
      for (let i = 0; i < 40; i++, n++) {
        const t = TRACKS[n % 3];
        const at = new Date(Date.UTC(2026, 10, 1 + (n % 9), 8, n % 60)).toISOString();
        records.push(play(at, { ...t, duration_ms: 100_000 + n }));
        // The same key again, later in the same file, with another duration.
        if (i % 7 === 0) records.push(play(at, { ...t, duration_ms: 900_000 + n }, null));
      }
      // An earlier part's key delivered again (a later part and, across runs, a later run).
      records.push(play(new Date(Date.UTC(2026, 10, 1, 8, 0)).toISOString(), { ...TRACKS[0], name: `again in ${run} part ${part}` }));
      files.push(await writeRaw(dir, 'recently_played', run, records, { part }));
    }
  }
  return files;
}

/** Everything a reader sees of the two lakes' tables and quarantines, bytes included. */
async function contents(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const area of ['curated', 'quarantine']) {
    for (const f of await listFiles(join(dir, area))) {
      const body = await readFile(join(dir, area, f));
      out[`${area}/${f}`] = f.endsWith('.gz') ? gunzipSync(body).toString('utf8') : body.toString('base64');
    }
  }
  return out;
}

const figures = (r: TableResult) => {
  const { seconds: _s, phases: _p, ...rest } = r;
  return rest;
};

/** The same raw data built by both paths: the streamed one (default) here, the judged one in `other`. */
async function both(files: CommittedFile[], tables: Record<string, TableSpec> = { plays: PLAYS }) {
  await cp(join(lake, 'raw'), join(other, 'raw'), { recursive: true });
  const [streamed] = await buildTables({ lakeDir: lake, tables, files, runId: runId(12) });
  const [judged] = await buildTables({ lakeDir: other, tables, files, runId: runId(12), streamed: false });
  expect(Object.keys(judged.phases ?? {})).toContain('judge');
  expect(figures(streamed)).toEqual(figures(judged));
  expect(await contents(lake)).toEqual(await contents(other));
  return { streamed, judged };
}

describe('streamed full builds', () => {
  it('write byte for byte what the judged build writes, last delivery winning within a file, a run and across runs', async () => {
    const files = await history(lake);
    const { streamed } = await both(files);
    expect(Object.keys(streamed.phases ?? {})).toContain('streamed copy');
    expect(Object.keys(streamed.phases ?? {})).not.toContain('judge');
    expect(streamed).toMatchObject({ quarantined: 0, records: 20 * 47, filtered: 0 });
    expect(streamed.duplicates).toBeGreaterThan(0);
    expect(streamed.rows + (streamed.duplicates ?? 0)).toBe(streamed.records);
  });

  const clean = () => [play('2026-11-24T09:30:00Z', TRACKS[0]), play('2026-11-24T09:35:00Z', TRACKS[1]), play('2026-11-23T20:00:00Z', TRACKS[2], null)];
  const cases: Array<[string, string]> = [
    ['a row with a reason (no track id)', JSON.stringify(play('2026-11-24T10:00:00Z', { ...TRACKS[0], id: null }))],
    ['a malformed line', '{"played_at": "2026-11-24T10:00:00Z", "track": {"id": "t9"'],
    ['a string where the paths need an object', JSON.stringify({ played_at: '2026-11-24T10:00:00Z', track: 't1' })],
    ['an object where a path needs a list', JSON.stringify(play('2026-11-24T10:00:00Z', { ...TRACKS[0], artists: { id: 'x' } }))],
    ['an object with a duplicate key', '{"played_at": "2026-11-24T10:00:00Z", "track": {"id": "t1", "id": "t2", "name": "dup"}}'],
    ['a number with an exponent in a text column', '{"played_at": "2026-11-24T10:00:00Z", "track": {"id": "t1", "name": 1.0e-7}}'],
    ['a text that reads like DuckDB’s exponent', JSON.stringify(play('2026-11-24T10:00:00Z', { ...TRACKS[0], name: '5e-07' }))],
    ['a line that is a list', '[1, 2]'],
    ['a line that is null', 'null'],
    ['a date of the wrong precision', JSON.stringify(play('2026-11-24T10:00:00Z', { ...TRACKS[0], album: { ...TRACKS[0].album, release_date: '2000-01-01' } }))],
  ];
  it.each(cases)('leave %s to the judged build, with its result', async (_what, line) => {
    const lines = [...clean().map((r) => JSON.stringify(r)), line, JSON.stringify(play('2026-11-24T11:00:00Z', TRACKS[2]))];
    const f = await writeRaw(lake, 'recently_played', runId(10), [], { lines });
    const { streamed } = await both([f]);
    expect(Object.keys(streamed.phases ?? {})).toEqual(expect.arrayContaining(['streamed attempt', 'judge']));
    expect(Object.keys(streamed.phases ?? {})).not.toContain('streamed copy');
    // Nothing of the stopped statement is left behind.
    expect((await listFiles(join(lake, 'curated', '_staging'))).length).toBe(0);
  });

  it('go straight to the judged build when the last build quarantined rows', async () => {
    const bad = await writeRaw(lake, 'recently_played', runId(10), [play('2026-11-24T10:00:00Z', { ...TRACKS[0], id: null }), play('2026-11-24T11:00:00Z', TRACKS[1])]);
    const [first] = await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files: [bad], runId: runId(11) });
    expect(first.quarantined).toBe(1);
    const good = await writeRaw(lake, 'recently_played', runId(11), [play('2026-11-24T12:00:00Z', TRACKS[2])]);
    const [second] = await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files: [bad, good], runId: runId(12), full: true });
    expect(second).toMatchObject({ rows: 2, quarantined: 1 });
    expect(Object.keys(second.phases ?? {})).toContain('judge');
    expect(Object.keys(second.phases ?? {})).not.toContain('streamed attempt');
  });

  it('after a streamed statement stopped on a row the judged build keeps, go straight to the judged build until the definition changes', async () => {
    const exponent = '{"played_at": "2026-11-24T10:00:00Z", "track": {"id": "t1", "name": 1.0e-7}}';
    const odd = await writeRaw(lake, 'recently_played', runId(10), [], { lines: [...clean().map((r) => JSON.stringify(r)), exponent] });
    const phases = (r: TableResult) => Object.keys(r.phases ?? {});
    const [first] = await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files: [odd], runId: runId(11) });
    expect(first).toMatchObject({ rows: 4, quarantined: 0 });
    expect(phases(first)).toEqual(expect.arrayContaining(['streamed attempt', 'judge']));
    // An incremental build carries what the full one learnt; the next full build does not try again.
    const more = await writeRaw(lake, 'recently_played', runId(11), [play('2026-11-24T12:00:00Z', TRACKS[2])]);
    const [second] = await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files: [odd, more], runId: runId(12) });
    expect(second.build?.mode).toBe('incremental');
    const [third] = await buildTables({ lakeDir: lake, tables: { plays: PLAYS }, files: [odd, more], runId: runId(13), full: true });
    expect(third).toMatchObject({ rows: 5, quarantined: 0, build: { mode: 'full' } });
    expect(phases(third)).toContain('judge');
    expect(phases(third)).not.toContain('streamed attempt');
    // Without the text column that stopped it, the streamed statement runs again (and succeeds).
    const { track_name: _dropped, ...columns } = PLAYS.columns;
    const [fourth] = await buildTables({ lakeDir: lake, tables: { plays: { ...PLAYS, columns } }, files: [odd, more], runId: runId(14), full: true });
    expect(fourth).toMatchObject({ rows: 5, quarantined: 0 });
    expect(phases(fourth)).toContain('streamed copy');
    expect(phases(fourth)).not.toContain('judge');
  });

  it('report the same drift of the newest run as the judged build', async () => {
    const old = await writeRaw(lake, 'recently_played', runId(9), [play('2026-11-20T09:30:00Z', TRACKS[0])]);
    // The newest run has no context at all: context_type is a declared path without a value.
    const fresh = await writeRaw(lake, 'recently_played', runId(10), [play('2026-11-24T09:30:00Z', TRACKS[1], null), play('2026-11-24T09:40:00Z', TRACKS[2], null)]);
    const { streamed } = await both([old, fresh]);
    expect(Object.keys(streamed.phases ?? {})).toContain('streamed copy');
    expect(streamed.drift.some((d) => d.includes('context.type'))).toBe(true);
  });
});

describe('renderDuckdbStreamed', () => {
  const files = { recently_played: [{ path: '/lake/raw/recently_played/dt=2026-11-24/20261124T101502Z-ab12cd-00000.jsonl.gz', records: 3 }] };
  const spec = (over: Partial<TableSpec>): TableSpec => ({ ...PLAYS, ...over });
  it('covers a table of plain paths, and leaves every other shape to the judged build', () => {
    expect(renderDuckdbStreamed(planTable('plays', PLAYS), files)).toBeDefined();
    const judgedOnly: Array<[string, TableSpec]> = [
      ['a filter', spec({ filter: "context_type = 'playlist'" })],
      ['a collected list', spec({ columns: { ...PLAYS.columns, names: { path: 'track.artists[].name', type: 'array<string>' } } })],
      ['a key read as a value and as an object', spec({ columns: { ...PLAYS.columns, whole_track: { path: 'track', type: 'string' } } })],
      ['a root list', spec({ from: [{ stream: 'recently_played', root: 'items[]' }] })],
      ['a scan column name at the top', spec({ columns: { ...PLAYS.columns, file_index: { path: 'file_index', type: 'bigint' } } })],
    ];
    for (const [what, s] of judgedOnly) expect(renderDuckdbStreamed(planTable('plays', s), files), what).toBeUndefined();
    expect(renderDuckdbStreamed(planTable('plays', PLAYS), { recently_played: [] })).toBeUndefined();
  });
});
