/**
 * How the extractor Lambda is bundled: one ESM file for the nodejs22.x runtime, holding the
 * engine's handler, every pipeline of the deployed lake (the one synthesized and those it
 * `include:`s) embedded as text, and statically imported the connector plugins they use (found
 * through the composition root's registry, or by path / folder / package). Everything else is
 * bundled too (the AWS SDK included: the runtime's own SDK copy changes under us, a bundled one is
 * the version the tests ran). Shared by the deployment (terraform/bundle.ts) and the bundle
 * tests, so both build the same thing.
 *
 * This module is for build time only (it is not part of the handler's import graph).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { BuildOptions } from 'esbuild';
import { parsePipeline } from '../config/load.ts';
import type { PipelineConfig, TableSpec } from '../config/types.ts';
import type { ConnectorRegistry } from '../plugin-api.ts';
import { pluginModule } from '../plugins.ts';
import { tablesNamed } from '../query/dialect.ts';
import { withRecommendations } from '../recs/table.ts';
import { panelSql } from '../report/index.ts';
import { projectRoot } from '../root.ts';
import type { ReportSpec } from './report.ts';

const ROOT = projectRoot();

/** Lambda `handler` setting for a bundle written as `<dir>/index.mjs`. */
export const EXTRACTOR_HANDLER = 'index.handler';

/** Packages the extractor must never contain (the transform's DuckDB, dev and build tools). */
export const EXTRACTOR_FORBIDDEN_PACKAGES = [
  '@duckdb/',
  'vitest',
  '@vitest/',
  'typescript',
  'cdktf',
  'cdktf-cli',
  '@cdktf/',
  'esbuild',
  'tsx',
  'constructs',
];

export interface ExtractorBundleSpec {
  /** The pipeline.yaml to embed (the one the stack is synthesized from), with the pipelines it includes. */
  pipelineFile: string;
  /** Output file, e.g. `<dir>/index.mjs`. */
  outfile: string;
  /** The shipped connectors (connectors/index.ts), where a `connector.use` name's module is. */
  connectors: ConnectorRegistry;
  /** A hand-written entry instead of the generated one (tests' stand-in); it gets PIPELINE_YAML defined. */
  entry?: string;
}

/** One pipeline the bundle carries. */
export interface EmbeddedPipeline {
  /** As messages name it: the main file's name, or the `include:` path as written. */
  file: string;
  yaml: string;
  /** `connector.use`. */
  use: string;
}

/** The pipelines of the lake the extractor serves: the synthesized one first, then its includes. */
export function lakePipelines(pipelineFile: string): EmbeddedPipeline[] {
  const read = (file: string, label: string): { p: EmbeddedPipeline; include: string[] } => {
    const yaml = readFileSync(file, 'utf8');
    const { config } = parsePipeline(yaml, label).loaded;
    const use = config.connector?.use;
    if (typeof use !== 'string' || !use) throw new Error(`${label}: connector.use is missing`);
    return { p: { file: label, yaml, use }, include: Array.isArray(config.include) ? config.include : [] };
  };
  const main = read(pipelineFile, basename(pipelineFile));
  const dir = dirname(resolve(pipelineFile));
  return [main.p, ...main.include.map((rel) => read(join(dir, rel), rel).p)];
}

/** The generated entry: the handler over every pipeline, with each plugin imported statically. */
export function extractorEntry(pipelineFile: string, connectors: ConnectorRegistry): { source: string; pipelines: EmbeddedPipeline[]; plugins: Record<string, string> } {
  const pipelines = lakePipelines(pipelineFile);
  const baseDir = dirname(resolve(pipelineFile));
  const plugins: Record<string, string> = {};
  for (const p of pipelines) plugins[p.use] ??= pluginModule(p.use, baseDir, connectors);
  const spec = (m: string) => (m.startsWith('/') ? `./${relative(ROOT, m).split('\\').join('/')}` : m);
  const names = Object.keys(plugins);
  const source = [
    `import { createHandler } from './core/lambda/handler.ts';`,
    ...names.map((n, i) => `import plugin${i} from ${JSON.stringify(spec(plugins[n]))};`),
    `export const handler = createHandler({`,
    `  pipelines: ${JSON.stringify(pipelines.map(({ file, yaml }) => ({ file, yaml })))},`,
    `  plugins: { ${names.map((n, i) => `${JSON.stringify(n)}: plugin${i}`).join(', ')} },`,
    `});`,
    '',
  ].join('\n');
  const rel = Object.fromEntries(names.map((n) => [n, plugins[n].startsWith('/') ? relative(ROOT, plugins[n]) : plugins[n]]));
  return { source, pipelines, plugins: rel };
}

export function extractorBuildOptions(spec: ExtractorBundleSpec): BuildOptions & { metafile: true } {
  const entry = spec.entry
    ? { entryPoints: [spec.entry], define: { PIPELINE_YAML: JSON.stringify(readFileSync(spec.pipelineFile, 'utf8')) } }
    : { stdin: { contents: extractorEntry(spec.pipelineFile, spec.connectors).source, resolveDir: ROOT, sourcefile: 'extractor-entry.ts', loader: 'ts' as const } };
  return {
    ...entry,
    outfile: spec.outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    // `debug` (axios -> follow-redirects) tries require('supports-color') inside a try/catch;
    // it is only installed as a dev dependency's dependency, so bundling it would make the
    // bundle depend on whether dev dependencies are installed. Left out, debug falls back.
    external: ['supports-color'],
    format: 'esm',
    // ESM builds of the AWS SDK tree-shake better than their CommonJS ones.
    mainFields: ['module', 'main'],
    // Bundled CommonJS packages call require() for Node built-ins; ESM output has no require.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    minifyWhitespace: true,
    minifySyntax: true,
    // Error names (ConfigError, StopRun, ExtractorRunError) are what Lambda reports as errorType.
    keepNames: true,
    legalComments: 'none',
    sourcemap: false,
    metafile: true,
    logLevel: 'silent',
  };
}

// ---- the report function --------------------------------------------------------------------------

/** Packages the report function must never contain (its queries run on Athena, not DuckDB). */
export const REPORT_FORBIDDEN_PACKAGES = EXTRACTOR_FORBIDDEN_PACKAGES;

/** Vega's browser build (the `vega` package exports only its module entry; the build sits beside it). */
export function vegaBrowserBuild(): string {
  return join(dirname(createRequire(import.meta.url).resolve('vega')), 'vega.min.js');
}

/**
 * The report function's generated entry: the handler with the report's spec embedded as JSON and
 * Vega's browser runtime imported as text (esbuild's `with { type: 'text' }`), so the deployed
 * code is one file that reads nothing at start.
 */
export function reportEntry(spec: ReportSpec): string {
  const vega = `./${relative(ROOT, vegaBrowserBuild()).split('\\').join('/')}`;
  return [
    `import { createReportHandler } from './core/lambda/report.ts';`,
    `import vega from ${JSON.stringify(vega)} with { type: 'text' };`,
    `export const handler = createReportHandler({ spec: ${JSON.stringify(spec)}, vega });`,
    '',
  ].join('\n');
}

/**
 * The report of a deployed lake: the main pipeline's dashboards, the named queries their panels
 * use (of any pipeline of the lake) and the lake tables they read (whose emptiness the function
 * checks), nothing else, so a stream, table or query no panel reads leaves the report function's
 * code unchanged.
 */
export function reportSpec(main: PipelineConfig, includes: PipelineConfig[]): ReportSpec {
  const all = Object.assign({}, ...[...includes, main].map((p) => p.queries ?? {})) as ReportSpec['queries'];
  const dashboards = main.dashboards ?? {};
  const used = new Set(Object.values(dashboards).flatMap((d) => d.panels.map((panel) => panel.query).filter((q): q is string => !!q)));
  const queries = Object.fromEntries(Object.entries(all).filter(([name]) => used.has(name)));
  const tables = Object.assign({}, ...[...includes, main].map((p) => p.tables ?? {})) as Record<string, TableSpec>;
  const lake = Object.keys(withRecommendations(tables, main.recommendations !== undefined));
  const sql = Object.values(dashboards).flatMap((d) => d.panels.map((p) => panelSql(p, queries)));
  return {
    title: `${main.name}: your listening`,
    dashboards,
    queries,
    // Only the tables the panels read, so a table no panel reads leaves the function's code unchanged.
    tables: lake.filter((t) => sql.some((q) => tablesNamed(q, [t]).length > 0)).sort(),
  };
}

export function reportBuildOptions(spec: ReportSpec, outfile: string): BuildOptions & { metafile: true } {
  return {
    stdin: { contents: reportEntry(spec), resolveDir: ROOT, sourcefile: 'report-entry.ts', loader: 'ts' },
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    mainFields: ['module', 'main'],
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    legalComments: 'none',
    sourcemap: false,
    metafile: true,
    logLevel: 'silent',
  };
}
