/**
 * The extractor's entrypoint for an unbundled deployment (or trying the handler locally):
 * pipeline.yaml from PIPELINE_FILE (default `pipeline.yaml` in the working directory) and the
 * pipelines it includes, their plugins found the way the CLI finds them. The deployed bundle's
 * entry is generated instead (core/lambda/bundle.ts), with the plugins imported statically.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parsePipeline } from '../config/load.ts';
import { UserError } from '../errors.ts';
import type { ConnectorPlugin } from '../plugin-api.ts';
import { discoveredPlugins } from '../plugins.ts';
import { createHandler, type ExtractorHandler } from './handler.ts';

let fromFiles: ExtractorHandler | undefined;

export const handler: ExtractorHandler = async (event, context) => {
  if (!fromFiles) {
    const file = process.env.PIPELINE_FILE || 'pipeline.yaml';
    const dir = dirname(resolve(file));
    const main = { file, yaml: await readFile(file, 'utf8') };
    const include = parsePipeline(main.yaml, file).loaded.config.include ?? [];
    const pipelines = [main, ...(await Promise.all(include.map(async (rel) => ({ file: rel, yaml: await readFile(join(dir, rel), 'utf8') }))))];
    const plugins: Record<string, ConnectorPlugin> = {};
    for (const p of pipelines) {
      const use = parsePipeline(p.yaml, p.file).loaded.config.connector?.use;
      if (typeof use !== 'string' || !use) throw new UserError(`${p.file}: connector.use is missing`);
      plugins[use] ??= await discoveredPlugins.loadPlugin(use, dir);
    }
    fromFiles = createHandler({ pipelines, plugins });
  }
  return fromFiles(event, context);
};
