/**
 * Issue 12, "never stuck": a corrupt run manifest or state file is moved aside to _quarantine/
 * with a warning naming it and what was lost, instead of a bare SyntaxError on every later run;
 * a manifest key leading out of the raw zone is never read. The real CLI against the sandbox.
 */
import { cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pipelineYaml, workdir, cli, tableRows, type Workdir } from './support.ts';
import type { RunManifest } from '../../core/engine/manifest.ts';

let w: Workdir;
/** A lake after one run, copied fresh into `w.lake` before each test. */
let pristine: string;
let before: Record<string, string[]>;

const run = (...extra: string[]) => cli(['run', '-c', w.file, '--sandbox', ...extra], { cwd: w.dir });
const transform = () => cli(['transform', '-c', w.file], { cwd: w.dir });

async function manifest(): Promise<{ key: string; m: RunManifest }> {
  const [name] = (await readdir(join(w.lake, '_runs'))).filter((f) => f.endsWith('.json'));
  return { key: join(w.lake, '_runs', name), m: JSON.parse(await readFile(join(w.lake, '_runs', name), 'utf8')) as RunManifest };
}

beforeAll(async () => {
  w = await workdir(pipelineYaml({ playlists: true }));
  const first = await run();
  expect(first.code, first.stderr).toBe(0);
  pristine = `${w.lake}.pristine`;
  await cp(w.lake, pristine, { recursive: true, verbatimSymlinks: true });
  before = await tableRows(w);
  expect(before.playlist_tracks.length).toBeGreaterThan(1000);
});
afterAll(async () => w?.cleanup());
beforeEach(async () => {
  await rm(w.lake, { recursive: true, force: true });
  await cp(pristine, w.lake, { recursive: true, verbatimSymlinks: true });
});

describe('corrupt manifests and state files are moved aside, never a stuck lake', () => {
  it('an empty run manifest: run warns naming it and what was lost, moves it aside, re-reads its streams, and the next run works too', async () => {
    const { key, m } = await manifest();
    await writeFile(key, '');
    const r = await run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: run manifest ${key} is corrupt (empty file); moved to _quarantine/_runs/${m.run_id}-`);
    expect(r.stderr).toContain(`Lost: run ${m.run_id} is no longer committed, so its 4 raw file(s) of artists, my_playlists, playlist_items, recently_played are out of the tables (moved to _quarantine/raw/); the state of artists, playlist_items, recently_played was reset, so the next run reads those streams again`);
    expect(r.stderr).not.toMatch(/SyntaxError|\n\s+at /);
    // Read again in the same run: the tables are whole.
    expect(await tableRows(w)).toEqual(before);
    expect((await run()).code).toBe(0);
    expect((await transform()).code).toBe(0);
  });

  it('a transform moves a corrupt manifest aside the same way (it holds the lock)', async () => {
    const { key } = await manifest();
    await writeFile(key, '{"run_id": ');
    const r = await transform();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`warning: run manifest ${key.replaceAll('.', '\\.')} is corrupt \\(not JSON \\(`));
    expect(await readdir(join(w.lake, '_runs'))).toEqual([]);
  });

  it('an empty state file: the run warns naming it and what was lost, and reads the stream from the start', async () => {
    await writeFile(join(w.lake, '_state', 'recently_played.json'), '');
    const r = await run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: state file ${join(w.lake, '_state', 'recently_played.json')} of stream recently_played is corrupt (empty file); moved to _quarantine/_state/recently_played-`);
    expect(r.stderr).toContain('its cursor, the versions of skipped parents and any ids it still owed are lost');
    // Read from the start (50 plays again), deduplicated by the table.
    expect(r.stdout).toMatch(/recently_played\s+me\/player\/recently-played\s+ok\s+50\s/);
    expect(await tableRows(w)).toEqual(before);
    expect(JSON.parse(await readFile(join(w.lake, '_state', 'recently_played.json'), 'utf8'))).toHaveProperty('cursor');
  });
});

describe('manifest keys', () => {
  it('a key leading out of the lake (raw/../../../x) is never read: the manifest is moved aside', async () => {
    // A valid raw file outside the lake, with a play the table would otherwise hold.
    const outside = join(w.dir, 'outside.jsonl.gz');
    await writeFile(outside, gzipSync(`${JSON.stringify({ played_at: '2020-01-01T00:00:00Z', track: { id: 'smuggled', artists: [] } })}\n`));
    const { m } = await manifest();
    const evil: RunManifest = { ...m, run_id: '20300101T000000000Z-evil00', streams: { recently_played: { ...m.streams.recently_played, files: [{ key: 'raw/../../outside.jsonl.gz', records: 1, bytes: 1 }] } } };
    await mkdir(join(w.lake, '_runs'), { recursive: true });
    await writeFile(join(w.lake, '_runs', `${evil.run_id}.json`), JSON.stringify(evil));
    const r = await transform();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`is corrupt (streams.recently_played: file key "raw/../../outside.jsonl.gz" is not a relative lake key (no absolute paths, no . or .. segments))`);
    expect((await tableRows(w)).plays.some((row) => row.includes('smuggled'))).toBe(false);
  });
});

