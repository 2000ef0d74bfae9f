/**
 * Loads a connector plugin by name (a folder in connectors/), by path, or as an npm package.
 * The engine knows no connector by name: this is the only place a plugin module is imported.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError } from './errors.ts';
import { PLUGIN_API_VERSION, type ConnectorPlugin } from './plugin-api.ts';

/** The project root (where connectors/ lives), independent of the working directory. */
export const PROJECT_ROOT = resolve(import.meta.dirname, '..');

const isFile = (p: string) => existsSync(p) && statSync(p).isFile();

function candidates(use: string, baseDir: string): string[] {
  if (use.startsWith('.') || isAbsolute(use)) {
    const p = resolve(baseDir, use);
    return [p, join(p, 'index.ts'), join(p, 'index.js'), join(p, 'index.mjs')];
  }
  if (/^[a-z0-9][a-z0-9-]*$/.test(use)) {
    return [join(PROJECT_ROOT, 'connectors', use, 'index.ts'), join(baseDir, 'connectors', use, 'index.ts')];
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

/** Imports the module a `connector.use` value names and returns its default export, unchecked. */
export async function importPlugin(use: string, baseDir = process.cwd()): Promise<unknown> {
  const pathLike = use.startsWith('.') || isAbsolute(use);
  const file = candidates(use, baseDir).find(isFile) ?? (pathLike ? undefined : resolvePackage(use, baseDir));
  let mod: { default?: unknown };
  try {
    mod = file ? await import(pathToFileURL(file).href) : await import(use);
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new UserError(
      `connector "${use}" could not be loaded: ${why}`,
      'use a folder name under connectors/, a path starting with ./, or an installed npm package',
    );
  }
  return mod.default;
}

/** What is wrong with a module's default export as a plugin (empty when it is usable). */
export function pluginProblems(candidate: unknown, use: string): Array<{ rule: 'loads' | 'api-version'; message: string }> {
  const plugin = candidate as Partial<ConnectorPlugin> | undefined;
  if (!plugin || typeof plugin !== 'object' || typeof plugin.read !== 'function' || typeof plugin.check !== 'function') {
    return [{ rule: 'loads', message: `connector "${use}" has no default export implementing the plugin API (name, endpoints, check, read)` }];
  }
  if (plugin.apiVersion !== PLUGIN_API_VERSION) {
    return [
      {
        rule: 'api-version',
        message: `connector "${plugin.name ?? use}" was built for plugin API version ${String(plugin.apiVersion)}, but this engine speaks version ${PLUGIN_API_VERSION}`,
      },
    ];
  }
  return [];
}

export async function loadPlugin(use: string, baseDir = process.cwd()): Promise<ConnectorPlugin> {
  const candidate = await importPlugin(use, baseDir);
  const [problem] = pluginProblems(candidate, use);
  if (problem) {
    throw new UserError(problem.message, problem.rule === 'api-version' ? 'upgrade the plugin or the engine so their API versions match' : undefined);
  }
  return candidate as ConnectorPlugin;
}
