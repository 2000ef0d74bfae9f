/**
 * How the extractor Lambda is bundled: one ESM file for the nodejs22.x runtime, with
 * pipeline.yaml embedded and everything else bundled too (the AWS SDK included: the runtime's
 * own SDK copy changes under us, a bundled one is the version the tests ran). Shared by the
 * deployment (terraform/bundle.ts) and the bundle tests, so both build the same thing.
 *
 * This module is for build time only (it is not part of the handler's import graph).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BuildOptions } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** The bundle's entry: the engine's handler plus the statically imported connector plugins. */
export const EXTRACTOR_ENTRY = join(ROOT, 'terraform', 'lambda-entry.ts');

/** Lambda `handler` setting for a bundle written as `<dir>/index.mjs`. */
export const EXTRACTOR_HANDLER = 'index.handler';

/** Packages the extractor must never contain (the transform's DuckDB, dev tools). */
export const EXTRACTOR_FORBIDDEN_PACKAGES = [
  '@duckdb/',
  'vitest',
  '@vitest/',
  'typescript',
  's3rver',
  'cdktf',
  'cdktf-cli',
  '@cdktf/',
  'esbuild',
  'tsx',
  'constructs',
];

export interface ExtractorBundleSpec {
  /** The pipeline.yaml to embed (the one the stack is synthesized from). */
  pipelineFile: string;
  /** Output file, e.g. `<dir>/index.mjs`. */
  outfile: string;
  /** Default EXTRACTOR_ENTRY. */
  entry?: string;
}

export function extractorBuildOptions(spec: ExtractorBundleSpec): BuildOptions & { metafile: true } {
  return {
    entryPoints: [spec.entry ?? EXTRACTOR_ENTRY],
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
    define: { PIPELINE_YAML: JSON.stringify(readFileSync(spec.pipelineFile, 'utf8')) },
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
