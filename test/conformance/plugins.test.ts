/**
 * Loading plugins (by name from connectors/, by path, as an npm package resolved from the
 * pipeline's folder) and the three ways a plugin can be wrong: another plugin API version, a
 * config its schema rejects, a read that throws. Each gives a clear error naming the plugin (or
 * the stream and the file:line:col), and nothing already stored in the lake is lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPlugin, resolvePackage } from '../../core/plugins.ts';
import { ConfigError, formatProblem } from '../../core/config/index.ts';
import { preparePipeline, runLocal } from '../../core/pipeline.ts';
import { memoryLogger } from '../../core/log.ts';
import { openLake } from '../../core/query/index.ts';
import { PLUGIN_API_VERSION, UserError } from '../../core/plugin-api.ts';
import { scaffoldConnector } from '../../core/conformance/index.ts';

/** A plugin as an npm package would ship it: plain ESM JavaScript, no import of the engine. */
function pluginSource(opts: { name?: string; apiVersion?: number } = {}): string {
  return `const record = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } };
export default {
  apiVersion: ${opts.apiVersion ?? PLUGIN_API_VERSION},
  name: '${opts.name ?? 'acme'}',
  version: '1.0.0',
  description: 'A test plugin published to npm',
  configSchema: { type: 'object', additionalProperties: false, properties: { page_size: { type: 'integer', minimum: 1 } } },
  secretKeys: [],
  endpoints: {
    widgets: { description: 'widgets', path: '/widgets', auth: 'none', scopes: [], paginator: { type: 'none' }, recordPath: '', recordSchema: record },
    boom: { description: 'fails half-way', path: '/boom', auth: 'none', scopes: [], paginator: { type: 'none' }, recordPath: '', recordSchema: record },
  },
  async check() {},
  async *read(stream, ctx) {
    if (stream.endpoint === 'boom') {
      yield { id: 'b1' };
      throw new Error('the acme API fell over');
    }
    for (let i = 0; i < 5; i++) yield { id: 'w' + i };
    ctx.setState({ read: 5 });
  },
};
`;
}

async function npmPackage(base: string, pkg: string, source: string, exportsField: unknown = { '.': { import: './dist/index.js' } }): Promise<void> {
  const dir = join(base, 'node_modules', ...pkg.split('/'));
  await mkdir(join(dir, 'dist'), { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: pkg, version: '1.0.0', type: 'module', exports: exportsField }));
  await writeFile(join(dir, 'dist', 'index.js'), source);
}

function pipeline(use: string, config: string, streams: string): string {
  return `version: 1
name: acme-lake
connector:
  use: ${use}
  config:
${config}
storage:
  local: lake
streams:
${streams}
tables:
  widgets:
    from: widgets
    columns:
      id: { path: id, type: string, required: true }
    dedupe: [id]
`;
}

/** Every file under the lake with a hash of its bytes: "nothing lost" means this is unchanged or grew. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath, e.name);
    out.set(p.slice(dir.length), createHash('sha256').update(await readFile(p)).digest('hex'));
  }
  return out;
}

function kept(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...before].filter(([k, v]) => after.get(k) !== v).map(([k]) => k);
}

let base: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'plugins-'));
  await npmPackage(base, 'spotify-pipeline-connector-acme', pluginSource());
  await npmPackage(base, '@acme/old-connector', pluginSource({ name: 'acme-old', apiVersion: PLUGIN_API_VERSION + 1 }), './dist/index.js');
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('loadPlugin', () => {
  it('loads a plugin by name from connectors/ (the project\'s, or the one beside the pipeline)', async () => {
    expect((await loadPlugin('spotify-history')).name).toBe('spotify-history');
    const project = join(base, 'project');
    await scaffoldConnector('widgets-api', join(project, 'connectors'));
    expect((await loadPlugin('widgets-api', project)).name).toBe('widgets-api');
  });

  it('loads a plugin by path, relative to the base folder or absolute', async () => {
    const dir = (await scaffoldConnector('by-path', join(base, 'plugins'))).dir;
    expect((await loadPlugin('./plugins/by-path', base)).name).toBe('by-path');
    expect((await loadPlugin(dir)).name).toBe('by-path');
    expect((await loadPlugin(join(dir, 'index.ts'))).name).toBe('by-path');
  });

  it('loads an npm package installed beside the pipeline (resolved from that folder, not the engine\'s)', async () => {
    expect(resolvePackage('spotify-pipeline-connector-acme', join(base, 'sub', 'dir'))).toBe(join(base, 'node_modules', 'spotify-pipeline-connector-acme', 'dist', 'index.js'));
    const plugin = await loadPlugin('spotify-pipeline-connector-acme', base);
    expect(plugin.name).toBe('acme');
    await writeFile(join(base, 'npm.yaml'), pipeline('spotify-pipeline-connector-acme', '    page_size: 10', '  widgets: { endpoint: widgets }'));
    const prep = await preparePipeline(join(base, 'npm.yaml'));
    expect(prep.plugin.name).toBe('acme');
  });

  it('says what to do when nothing by that name exists', async () => {
    await expect(loadPlugin('no-such-connector', base)).rejects.toThrow(/connector "no-such-connector" could not be loaded/);
  });

  it('names a multi-line value on one line, escaped and cut (the fuzzer pasted a query into connector.use)', async () => {
    const use = 'SELECT dt AS day, count(*) AS plays\nFROM plays\nGROUP BY dt\nORDER BY dt DESC, plays DESC, day ASC\n';
    const e = await loadPlugin(use, base).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(UserError);
    const message = (e as UserError).message;
    expect(message).not.toContain('\n');
    expect(message).toMatch(/^connector "SELECT dt AS day, count\(\*\) AS plays\\nFROM plays\\nGROUP BY d\.\.\." could not be loaded: not a shipped connector/);
  });

  it('imports only a regular file by path and only a package name as it is: a device or a URL is refused at once (the fuzzer hung on /dev/zero)', async () => {
    const refused = async (use: string) => {
      const t0 = Date.now();
      const e = await Promise.race([loadPlugin(use, base).then(() => 'loaded', (x: unknown) => x), new Promise((done) => setTimeout(() => done('hung'), 5000).unref())]);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(e).toBeInstanceOf(UserError);
      return (e as UserError).message;
    };
    expect(await refused('/dev/zero')).toMatch(/^connector "\/dev\/zero" could not be loaded: no such plugin file/);
    expect(await refused('./no-such-dir/')).toMatch(/could not be loaded: no such plugin file/);
    expect(await refused('data:text/javascript,export default 1')).toMatch(/could not be loaded: not a shipped connector, a connectors\/ folder, a path starting with \.\/ or an npm package name$/);
    expect(await refused('node:fs')).toMatch(/not a shipped connector/);
  });
});

describe('a wrong plugin gives a clear error and loses nothing already stored', () => {
  let lake: string;
  let before: Map<string, string>;

  beforeAll(async () => {
    // A first, good run: raw, manifest, state and the table are in the lake.
    await writeFile(join(base, 'good.yaml'), pipeline('spotify-pipeline-connector-acme', '    page_size: 10', '  widgets: { endpoint: widgets }'));
    const prep = await preparePipeline(join(base, 'good.yaml'));
    lake = join(base, 'lake');
    const first = await runLocal(prep, { logger: memoryLogger(), connectorConfig: { page_size: 10 } });
    expect(first.ok, first.error).toBe(true);
    before = await snapshot(lake);
    // The table's files live in its build folder, which curated/widgets links to (core/transform/write.ts).
    expect([...before.keys()].some((k) => /curated\/_builds\/widgets\/.+\.parquet$/.test(k))).toBe(true);
  });

  it('another plugin API version: refused with both versions, naming the plugin', async () => {
    const err = await loadPlugin('@acme/old-connector', base).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toBe(`connector "acme-old" was built for plugin API version ${PLUGIN_API_VERSION + 1}, but this engine speaks version ${PLUGIN_API_VERSION}`);
    expect((err as UserError).hint).toMatch(/upgrade the plugin or the engine/);
    await writeFile(join(base, 'old.yaml'), pipeline('"@acme/old-connector"', '    page_size: 10', '  widgets: { endpoint: widgets }'));
    await expect(preparePipeline(join(base, 'old.yaml'))).rejects.toThrow(/connector "acme-old" was built for plugin API version/);
    expect(kept(before, await snapshot(lake))).toEqual([]);
  });

  it('a config the plugin\'s schema rejects: file:line:col and the key, before anything runs', async () => {
    const file = join(base, 'badconfig.yaml');
    await writeFile(file, pipeline('spotify-pipeline-connector-acme', '    page_size: ten\n    colour: blue', '  widgets: { endpoint: widgets }'));
    const err = await preparePipeline(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const lines = (err as ConfigError).problems.map(formatProblem);
    expect(lines).toContain(`${file}:6:16 connector.config.page_size: expected integer, got string "ten" (connector "acme" config)`);
    expect(lines.some((l) => l.startsWith(`${file}:7:5 connector.config.colour: unknown key "colour"`))).toBe(true);
    expect(kept(before, await snapshot(lake))).toEqual([]);
  });

  it('a read that throws: the run fails naming the stream and the plugin\'s message; committed data stays', async () => {
    await writeFile(join(base, 'boom.yaml'), pipeline('spotify-pipeline-connector-acme', '    page_size: 10', '  widgets: { endpoint: widgets }\n  boom: { endpoint: boom }'));
    const prep = await preparePipeline(join(base, 'boom.yaml'));
    const run = await runLocal(prep, { logger: memoryLogger(), connectorConfig: { page_size: 10 } });
    expect(run.ok).toBe(false);
    expect(run.error).toBe('connector acme, stream boom: the acme API fell over');
    expect(run.streams.find((s) => s.stream === 'boom')!.status).toBe('failed');
    const after = await snapshot(lake);
    // Raw data and run manifests are append-only: every earlier file is still there, unchanged.
    const committed = new Map([...before].filter(([k]) => k.startsWith('/raw/') || k.startsWith('/_runs/')));
    expect(committed.size).toBeGreaterThan(1);
    expect(kept(committed, after)).toEqual([]);
    // The failed stream left no raw file behind; the table still has its rows.
    expect([...after.keys()].filter((k) => k.includes('raw/boom'))).toEqual([]);
    const db = await openLake(lake, prep.loaded.config.tables);
    try {
      expect((await db.query('SELECT count(*) AS n FROM widgets')).rows[0].n).toBe(5);
    } finally {
      db.close();
    }
  });
});
