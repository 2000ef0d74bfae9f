/**
 * Issue 12, "one bad id breaks a stream forever": an id the API rejects as invalid (HTTP 400) is
 * dropped from what its stream owes, with a warning naming it, instead of failing every later run.
 * The real CLI against the Spotify sandbox.
 */
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pipelineYaml, workdir, cli, tableRows, type Workdir } from './support.ts';

let w: Workdir;
/** A lake after one run, copied fresh into `w.lake` before each test. */
let pristine: string;

const run = (...extra: string[]) => cli(['run', '-c', w.file, '--sandbox', ...extra], { cwd: w.dir });

beforeAll(async () => {
  w = await workdir(pipelineYaml());
  const first = await run();
  expect(first.code, first.stderr).toBe(0);
  pristine = `${w.lake}.pristine`;
  await cp(w.lake, pristine, { recursive: true, verbatimSymlinks: true });
});
afterAll(async () => w?.cleanup());
beforeEach(async () => {
  await rm(w.lake, { recursive: true, force: true });
  await cp(pristine, w.lake, { recursive: true, verbatimSymlinks: true });
});

describe('an id the API rejects (HTTP 400) never breaks its stream', () => {
  const URI = 'spotify:artist:4Z8W4fKeB5YxbusRsdQVPb';

  it('an id left owed by an earlier run is dropped with a warning naming it, after the pipeline file was fixed', async () => {
    // As an earlier run with `ids: [<a URI>]` left the state: the id owed forever (HTTP 400 every run).
    const state = join(w.lake, '_state', 'artists.json');
    await writeFile(state, JSON.stringify({ ...JSON.parse(await readFile(state, 'utf8')), _pending_ids: [URI] }));
    const r = await run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: artists: dropped id "${URI}": the API rejects it as invalid (HTTP 400 invalid id); it came from the ids an earlier run left owed. It is no longer owed`);
    expect(r.stdout).toMatch(/artists\s+artists\s+ok\s.*rejected=1/);
    expect(JSON.parse(await readFile(state, 'utf8'))).not.toHaveProperty('_pending_ids');
    const again = await run();
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain(URI);
  });

  it('an invalid id in pipeline.yaml is dropped with a warning each run, the other ids are fetched', async () => {
    const bad = await workdir(pipelineYaml({ artistIds: [URI] }));
    try {
      for (let i = 0; i < 2; i++) {
        const r = await cli(['run', '-c', bad.file, '--sandbox'], { cwd: bad.dir });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toContain(`dropped id "${URI}": the API rejects it as invalid (HTTP 400 invalid id); it came from ids: of stream artists in ${bad.file}. It is no longer owed; fix it in the pipeline file`);
        expect(r.stdout).toMatch(/artists\s+artists\s+ok\s/);
      }
      expect((await tableRows(bad)).artists.length).toBeGreaterThan(10);
    } finally {
      await bad.cleanup();
    }
  });
});
