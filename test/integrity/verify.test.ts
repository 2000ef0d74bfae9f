/**
 * Issue 12, "nothing lost": committed raw data is verified against its run manifest (record
 * count, byte size, SHA-256) before a transform reads it (core/engine/integrity.ts), and `run
 * --repair` takes the runs of bad files out and re-reads their streams. The real CLI against the
 * Spotify sandbox.
 */
import { cp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pipelineYaml, workdir, cli, tableRows, type Workdir, type CliResult } from './support.ts';
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

/** The committed raw file of a stream (the one run writes one part per stream here). */
async function rawFile(stream: string): Promise<{ key: string; path: string }> {
  const { m } = await manifest();
  const key = m.streams[stream].files[0].key;
  return { key, path: join(w.lake, key) };
}

/** The error lines of a failed command: one `error:` line naming the problem, one `fix:` line. */
function errorOf(r: CliResult): string {
  expect(r.stderr, r.stderr).not.toMatch(/SyntaxError|\n\s+at /);
  return r.stderr;
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

describe('committed raw data is verified against its manifest before any table is built', () => {
  it('a truncated raw file fails the transform naming the file (not 999 rows silently fewer); the tables stay as they were', async () => {
    const { key, path } = await rawFile('playlist_items');
    const body = await readFile(path);
    await writeFile(path, body.subarray(0, Math.floor(body.length / 2)));
    const r = await transform();
    expect(r.code).toBe(2);
    expect(errorOf(r)).toContain(`${key} (run `);
    expect(r.stderr).toContain(`): ${Math.floor(body.length / 2)} bytes, the manifest says ${body.length}`);
    expect(r.stderr).toContain('fix: run `spotify-pipeline run --repair`');
    expect(await tableRows(w)).toEqual(before);
  });

  it('a file changed in place (same size) fails by its checksum; a missing one and a non-gzip one are named too', async () => {
    const { key, path } = await rawFile('recently_played');
    const body = await readFile(path);
    const changed = Buffer.from(body);
    changed[changed.length - 12] ^= 0xff;
    await writeFile(path, changed);
    expect(errorOf(await transform())).toContain(`${key} (run ${key.split('/')[3].slice(0, -'-00000.jsonl.gz'.length)}): its SHA-256 is not the one in the manifest`);
    await writeFile(path, '{"played_at": "2026-01-01T00:00:00Z"}\n');
    expect((await transform()).stderr).toMatch(new RegExp(`${key.replaceAll('.', '\\.')} \\(run \\S+\\): \\d+ bytes, the manifest says ${body.length}`));
    await rm(path);
    const r = await transform();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${key} (run `);
    expect(r.stderr).toContain('missing (listed by its run manifest, not in the lake)');
  });

  it('a manifest from before checksums is still read, and checked for gzip and its record lines', async () => {
    const { key: mkey, m } = await manifest();
    for (const s of Object.values(m.streams)) for (const f of s.files) delete f.sha256;
    delete m.format;
    await writeFile(mkey, JSON.stringify(m));
    expect((await transform()).code).toBe(0);
    expect(await tableRows(w)).toEqual(before);

    const f = m.streams.recently_played.files[0];
    f.records += 1;
    await writeFile(mkey, JSON.stringify(m));
    expect(errorOf(await transform())).toContain(`${f.key} (run ${m.run_id}): ${f.records - 1} record line(s), the manifest says ${f.records}`);
    f.records -= 1;
    delete (f as { bytes?: number }).bytes;
    await writeFile(mkey, JSON.stringify(m));
    await writeFile(join(w.lake, f.key), 'not gzip\n');
    expect(errorOf(await transform())).toContain(`${f.key} (run ${m.run_id}): not a gzip file`);
  });

  it('run --repair takes the bad file out (into _quarantine/), reads its streams again, and the tables are whole again', async () => {
    const { key, path } = await rawFile('playlist_items');
    const body = await readFile(path);
    await writeFile(path, body.subarray(0, body.length - 100));
    const { m } = await manifest();

    const r = await run('--repair');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Repair: 1 of 4 committed raw file(s) failed verification; stream(s) my_playlists, playlist_items are read again.');
    expect(r.stderr).toContain(`warning: repair: ${key} (run ${m.run_id}) failed verification: ${body.length - 100} bytes, the manifest says ${body.length}`);
    // The file is out of raw/, kept with the manifest as it was and the reasons.
    expect(await readFile(join(w.lake, '_quarantine', key))).toHaveLength(body.length - 100);
    const aside = (await readdir(join(w.lake, '_quarantine', '_runs'))).sort();
    expect(aside).toHaveLength(2);
    expect(await readFile(join(w.lake, '_quarantine', '_runs', aside.find((f) => f.endsWith('.reason.txt'))!), 'utf8')).toContain(`${key}: ${body.length - 100} bytes`);
    // The run's other streams stay committed; the re-read delivered every playlist item again.
    const { m: kept } = await manifest();
    expect(Object.keys(kept.streams).sort()).toEqual(['artists', 'my_playlists', 'recently_played']);
    expect(await tableRows(w)).toEqual(before);
    expect((await transform()).code).toBe(0);
    // Nothing left to repair.
    expect((await run('--repair')).stdout).toMatch(/Repair: all \d+ committed raw file\(s\) verified; nothing to repair\./);
  });
});

