/** `include:` — several pipelines (one connector each) sharing one lake. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lakeTables, preparePipeline } from '../../core/pipeline.ts';
import { ConfigError, formatProblem } from '../../core/config/index.ts';

const MAIN = (include: string) => `version: 1
name: main-lake
connector:
  use: spotify
  config: { api_mode: development }
include:
  - ${include}
streams:
  my_playlists: { endpoint: me/playlists }
tables:
  playlists:
    from: my_playlists
    columns:
      playlist_id: { path: id, type: string }
queries: {}
`;

const HISTORY = (table: string) => `version: 1
name: history
connector:
  use: spotify-history
  config: { path: ./export }
streams:
  history: { endpoint: plays }
tables:
  ${table}:
    from: history
    columns:
      play_id: { path: play_id, type: string }
queries: {}
`;

describe('include', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'include-'));
    await mkdir(join(dir, 'sub'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('loads the included pipeline with its own connector, and the lake has both pipelines\' tables', async () => {
    await writeFile(join(dir, 'sub', 'history.yaml'), HISTORY('listening_history'));
    await writeFile(join(dir, 'pipeline.yaml'), MAIN('sub/history.yaml'));
    const prep = await preparePipeline(join(dir, 'pipeline.yaml'));
    expect(prep.includes?.map((i) => i.plugin.name)).toEqual(['spotify-history']);
    expect(Object.keys(lakeTables(prep)).sort()).toEqual(['listening_history', 'playlists']);
  });

  it('a table name used by both pipelines is an error at the include line', async () => {
    await writeFile(join(dir, 'sub', 'history.yaml'), HISTORY('playlists'));
    await writeFile(join(dir, 'pipeline.yaml'), MAIN('sub/history.yaml'));
    const err = await preparePipeline(join(dir, 'pipeline.yaml')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const [line] = (err as ConfigError).problems.map(formatProblem);
    expect(line).toMatch(/pipeline\.yaml:7:5 include\.0: table "playlists" of "sub\/history\.yaml" has the same name/);
  });

  it('a query name used by both pipelines is an error too (one Athena workgroup holds both)', async () => {
    await writeFile(join(dir, 'sub', 'history.yaml'), HISTORY('listening_history').replace('queries: {}', 'queries:\n  sizes: { sql: SELECT 1 }'));
    await writeFile(join(dir, 'pipeline.yaml'), MAIN('sub/history.yaml').replace('queries: {}', 'queries:\n  sizes: { sql: SELECT 2 }'));
    const err = await preparePipeline(join(dir, 'pipeline.yaml')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.map(formatProblem).join('\n')).toMatch(/include\.0: query "sizes" of "sub\/history\.yaml" has the same name/);
  });

  /** The one-line problems preparing `file` reports (fails if it resolves or throws anything else), within 10 s. */
  async function problems(file: string): Promise<string[]> {
    const err = await Promise.race([
      preparePipeline(file).then(
        () => new Error('accepted'),
        (e: unknown) => e,
      ),
      new Promise((done) => setTimeout(() => done(new Error('still preparing after 10 s')), 10_000).unref()),
    ]);
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map(formatProblem);
  }

  it('two pipelines including each other are an error at the include line, not an endless recursion (issue 12)', async () => {
    await writeFile(join(dir, 'sub', 'history.yaml'), HISTORY('listening_history').replace('streams:', 'include: [../pipeline.yaml]\nstreams:'));
    await writeFile(join(dir, 'pipeline.yaml'), MAIN('sub/history.yaml'));
    expect(await problems(join(dir, 'pipeline.yaml'))).toEqual([
      `${join(dir, 'pipeline.yaml')}:7:5 include.0: "sub/history.yaml" includes this pipeline back (a cycle); includes are one level deep: remove the include from one of them`,
    ]);
  });

  it('a pipeline including itself, a chain, a duplicate, a folder and a missing file: each an error at its include line', async () => {
    await writeFile(join(dir, 'sub', 'history.yaml'), HISTORY('listening_history'));
    await writeFile(join(dir, 'sub', 'chain.yaml'), HISTORY('chained').replace('name: history', 'name: chain').replace('streams:', 'include: [history.yaml]\nstreams:'));
    const main = MAIN('pipeline.yaml').replace('  - pipeline.yaml', ['  - pipeline.yaml', '  - sub/chain.yaml', '  - sub/history.yaml', '  - ./sub/history.yaml', '  - sub', '  - sub/nope.yaml'].join('\n'));
    await writeFile(join(dir, 'pipeline.yaml'), main);
    const file = join(dir, 'pipeline.yaml');
    expect(await problems(file)).toEqual([
      `${file}:7:5 include.0: "pipeline.yaml" is this pipeline itself; include other pipeline files`,
      `${file}:8:5 include.1: "sub/chain.yaml" includes other pipelines itself; includes are one level deep: include those from this pipeline instead`,
      `${file}:10:5 include.3: "./sub/history.yaml" is included already (include.2)`,
      `${file}:11:5 include.4: "sub": is a folder, not a pipeline file`,
      `${file}:12:5 include.5: "sub/nope.yaml": file not found`,
    ]);
  });
});
