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
});
