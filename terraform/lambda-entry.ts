/**
 * Entry of the extractor Lambda bundle: the engine's handler with pipeline.yaml embedded and the
 * connector plugins imported statically (core knows no connector by name; this file does).
 *
 * The bundler replaces PIPELINE_YAML with the text of the pipeline the stack was synthesized
 * from (esbuild `define`, see core/lambda/bundle.ts `extractorBuildOptions`).
 */
import { createHandler } from '../core/lambda/handler.ts';
import spotify from '../connectors/spotify/index.ts';

declare const PIPELINE_YAML: string | undefined;

if (typeof PIPELINE_YAML !== 'string') {
  throw new Error('terraform/lambda-entry.ts must be bundled with PIPELINE_YAML defined (the text of pipeline.yaml); see core/lambda/bundle.ts');
}

export const handler = createHandler({ pipelineYaml: PIPELINE_YAML, plugins: { spotify } });
