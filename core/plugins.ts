/**
 * Finds connector plugins. Core knows no connector by name: the composition root hands it a
 * registry of the shipped ones (connectors/index.ts); anything else is found the way a user
 * names it: a path, a folder under connectors/ (next to the pipeline, or in this project), or an
 * npm package installed beside the pipeline. This is the only place a plugin module is imported.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { quote } from './config/words.ts';
import { UserError } from './errors.ts';
import { PLUGIN_API_VERSION, type ConnectorPlugin, type ConnectorRegistry } from './plugin-api.ts';
import { projectRoot } from './root.ts';

/** The project root (where connectors/ lives), independent of the working directory. */
export const PROJECT_ROOT = projectRoot();

const isFile = (p: string) => existsSync(p) && statSync(p).isFile();

/** An npm package name, optionally with a subpath (`@scope/pkg/sub`). */
const NPM_NAME = /^(?:@[a-z0-9~-][a-z0-9._~-]*\/)?[a-z0-9~-][a-z0-9._~-]*(?:\/[A-Za-z0-9._~-]+)*$/;

function candidates(use: string, baseDir: string): string[] {
  if (use.startsWith('.') || isAbsolute(use)) {
    const p = resolve(baseDir, use);
    return [p, join(p, 'index.ts'), join(p, 'index.js'), join(p, 'index.mjs')];
  }
  if (/^[a-z0-9][a-z0-9-]*$/.test(use)) {
    return [join(baseDir, 'connectors', use, 'index.ts'), join(baseDir, 'connectors', use, 'index.js'), join(PROJECT_ROOT, 'connectors', use, 'index.ts')];
  }
  return [];
}

/**
 * The entry file of an npm package installed in a node_modules folder at or above `baseDir`
 * (the pipeline's folder), so a plugin installed next to the user's pipeline is found even when
 * the engine itself is installed elsewhere. Undefined when there is none.
 */
export function resolvePackage(name: string, baseDir: string): string | undefined {
  const m = /^((?:@[^/]+\/)?[^/]+)(\/.*)?$/.exec(name);
  if (!m) return undefined;
  const [, pkgName, subpath] = m;
  for (let dir = resolve(baseDir); ; dir = dirname(dir)) {
    const root = join(dir, 'node_modules', pkgName);
    const manifest = join(root, 'package.json');
    if (existsSync(manifest)) {
      if (subpath) return [join(root, subpath), join(root, subpath + '.js'), join(root, subpath, 'index.js')].find(isFile);
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: unknown; module?: string; main?: string };
      const entry = exportsEntry(pkg.exports) ?? pkg.module ?? pkg.main;
      return [entry && join(root, entry), join(root, 'index.js'), join(root, 'index.mjs'), join(root, 'index.ts')].find((p): p is string => !!p && isFile(p));
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** The `import` (or default) target of a package's `exports` for ".". */
function exportsEntry(exp: unknown): string | undefined {
  if (typeof exp === 'string') return exp;
  if (!exp || typeof exp !== 'object') return undefined;
  const o = exp as Record<string, unknown>;
  if ('.' in o) return exportsEntry(o['.']);
  for (const k of ['import', 'node', 'default']) if (k in o) return exportsEntry(o[k]);
  return undefined;
}

let tsLoader: Promise<void> | undefined;

/**
 * Imports a module file. A TypeScript plugin (what `connector init` writes) imported by the built
 * CLI, which runs as plain JavaScript, needs a loader: tsx is registered then, once, and only then.
 */
async function importFile(file: string): Promise<{ default?: unknown }> {
  const url = pathToFileURL(file).href;
  try {
    return (await import(url)) as { default?: unknown };
  } catch (e) {
    if (!/\.[cm]?ts$/.test(file) || (e as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw e;
    tsLoader ??= import('tsx/esm/api').then((m) => {
      m.register();
    });
    await tsLoader;
    // The failed attempt is cached under its URL: a query makes it a new module record.
    return (await import(`${url}?ts`)) as { default?: unknown };
  }
}

/**
 * The module a `connector.use` value names, for a bundler: the registry entry's file, else the
 * file discovery finds, else the bare package name (an npm package the bundler resolves).
 */
export function pluginModule(use: string, baseDir: string, registry: ConnectorRegistry = {}): string {
  if (Object.hasOwn(registry, use)) return join(PROJECT_ROOT, registry[use].module);
  const pathLike = use.startsWith('.') || isAbsolute(use);
  const file = candidates(use, baseDir).find(isFile) ?? (pathLike ? undefined : resolvePackage(use, baseDir));
  if (file) return file;
  if (pathLike) throw new UserError(`connector ${quote(use)} could not be found from ${baseDir}`);
  return use;
}

/** What is wrong with a module's default export as a plugin (empty when it is usable). */
export function pluginProblems(candidate: unknown, use: string): Array<{ rule: 'loads' | 'api-version'; message: string }> {
  const plugin = candidate as Partial<ConnectorPlugin> | undefined;
  if (!plugin || typeof plugin !== 'object' || typeof plugin.read !== 'function' || typeof plugin.check !== 'function') {
    return [{ rule: 'loads', message: `connector ${quote(use)} has no default export implementing the plugin API (name, endpoints, check, read)` }];
  }
  if (plugin.apiVersion !== PLUGIN_API_VERSION) {
    return [
      {
        rule: 'api-version',
        message: `connector ${quote(String(plugin.name ?? use))} was built for plugin API version ${String(plugin.apiVersion)}, but this engine speaks version ${PLUGIN_API_VERSION}`,
      },
    ];
  }
  return [];
}

/** Where plugins come from: a registry of shipped connectors, then discovery by path, folder, package. */
export interface PluginSource {
  readonly registry: ConnectorRegistry;
  /** Imports the module a `connector.use` value names and returns its default export, unchecked. */
  importPlugin: (use: string, baseDir?: string) => Promise<unknown>;
  /** As `importPlugin`, checked: a usable plugin of this engine's API version, or a UserError. */
  loadPlugin: (use: string, baseDir?: string) => Promise<ConnectorPlugin>;
}

export function pluginSource(registry: ConnectorRegistry = {}): PluginSource {
  const importPlugin = async (use: string, baseDir = process.cwd()): Promise<unknown> => {
    const entry = Object.hasOwn(registry, use) ? registry[use] : undefined;
    const pathLike = use.startsWith('.') || isAbsolute(use);
    try {
      if (entry) return await entry.load();
      const file = candidates(use, baseDir).find(isFile) ?? (pathLike ? undefined : resolvePackage(use, baseDir));
      // Only a regular file is imported by path (a device such as /dev/zero would never end),
      // and only a package name is handed to import() as it is (never a data: or node: URL).
      if (!file && pathLike) throw new Error('no such plugin file (a path names a .ts, .js or .mjs file, or a folder with an index.ts)');
      if (!file && !NPM_NAME.test(use)) throw new Error('not a shipped connector, a connectors/ folder, a path starting with ./ or an npm package name');
      const mod = file ? await importFile(file) : ((await import(use)) as { default?: unknown });
      return mod.default;
    } catch (e) {
      const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
      throw new UserError(
        `connector ${quote(use)} could not be loaded: ${why}`,
        `use a shipped connector (${Object.keys(registry).join(', ') || 'see connectors/'}), a folder name under connectors/, a path starting with ./, or an installed npm package`,
      );
    }
  };
  return {
    registry,
    importPlugin,
    async loadPlugin(use, baseDir) {
      const candidate = await importPlugin(use, baseDir);
      const [problem] = pluginProblems(candidate, use);
      if (problem) {
        throw new UserError(problem.message, problem.rule === 'api-version' ? 'upgrade the plugin or the engine so their API versions match' : undefined);
      }
      return candidate as ConnectorPlugin;
    },
  };
}

/** Discovery without a registry (tests, tools): paths, connectors/ folders, npm packages. */
export const discoveredPlugins: PluginSource = pluginSource();
export const importPlugin = discoveredPlugins.importPlugin;
export const loadPlugin = discoveredPlugins.loadPlugin;
