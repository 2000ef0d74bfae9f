/**
 * Loads a connector plugin by name (a folder in connectors/), by path, or as an npm package.
 * The engine knows no connector by name: this is the only place a plugin module is imported.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PLUGIN_API_VERSION, UserError, type ConnectorPlugin } from './plugin-api.ts';

/** The project root (where connectors/ lives), independent of the working directory. */
export const PROJECT_ROOT = resolve(import.meta.dirname, '..');

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

export async function loadPlugin(use: string, baseDir = process.cwd()): Promise<ConnectorPlugin> {
  let mod: { default?: unknown };
  const file = candidates(use, baseDir).find((c) => existsSync(c) && !c.endsWith('/'));
  try {
    mod = file ? await import(pathToFileURL(file).href) : await import(use);
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new UserError(
      `connector "${use}" could not be loaded: ${why}`,
      'use a folder name under connectors/, a path starting with ./, or an installed npm package',
    );
  }
  const plugin = mod.default as ConnectorPlugin | undefined;
  if (!plugin || typeof plugin !== 'object' || typeof plugin.read !== 'function') {
    throw new UserError(`connector "${use}" has no default export implementing the plugin API (name, endpoints, check, read)`);
  }
  if (plugin.apiVersion !== PLUGIN_API_VERSION) {
    throw new UserError(
      `connector "${plugin.name ?? use}" was built for plugin API version ${String(plugin.apiVersion)}, but this engine speaks version ${PLUGIN_API_VERSION}`,
      'upgrade the plugin or the engine so their API versions match',
    );
  }
  return plugin;
}
