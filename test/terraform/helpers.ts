/** Synthesizing pipelines in-process for the terraform suites (no cdktf-cli, no Terraform binary). */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Testing } from 'cdktf';
import { parsePipeline, throwIfErrors } from '../../core/config/index.ts';
import type { PipelineConfig } from '../../core/config/types.ts';
import type { ConnectorPlugin } from '../../core/plugin-api.ts';
import { buildExtractorBundle, type ExtractorBundle } from '../../terraform/bundle.ts';
import { PipelineStack, type PipelineStackProps } from '../../terraform/stack.ts';
import { connectors } from '../../connectors/index.ts';
import { modelOf, ownersOf, runChecks, type CheckResult, type SynthModel } from '../../terraform/review/index.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
export { connectors };
/** The shipped plugins, loaded once: the stack reads their manifests (the export's `uploads`). */
export const PLUGINS = Object.fromEntries(await Promise.all(Object.entries(connectors).map(async ([name, c]) => [name, (await c.load()) as ConnectorPlugin])));
export const STUB_ENTRY = join(import.meta.dirname, 'fixtures', 'stub-entry.ts');
export const SHIPPED = readFileSync(join(ROOT, 'pipeline.yaml'), 'utf8');
// Deterministic env for synthesis: the synth machine's variables must not leak into assertions.
export const ENV = { SPOTIFY_CLIENT_ID: 'test-client-id' };
/** A local secret's value as `plan` knows it (terraform/secrets.ts knownSecretValues): checks look for it everywhere. */
export const KNOWN_SECRET = 'fixture-known-secret-4242';

const dir = mkdtempSync(join(tmpdir(), 'tf-synth-'));
// The shipped pipeline includes the export pipeline by a path relative to itself.
mkdirSync(join(dir, 'connectors', 'spotify-history'), { recursive: true });
copyFileSync(join(ROOT, 'connectors', 'spotify-history', 'pipeline.yaml'), join(dir, 'connectors', 'spotify-history', 'pipeline.yaml'));
// Removed when the worker process ends: test files share a worker's modules (vitest.config.ts,
// isolate: false), so a file's afterAll would remove it under the files after it.
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** Writes pipeline text to a temp file (the bundle embeds a file) and loads it. */
export function loadText(text: string): { file: string; config: PipelineConfig } {
  const file = join(dir, `pipeline-${++n}.yaml`);
  writeFileSync(file, text);
  const read = parsePipeline(text, file);
  throwIfErrors(read.problems);
  return { file, config: read.loaded.config };
}

/** The shipped pipeline with its `aws:` section replaced (YAML text appended at top level). */
export function withAws(aws: string, base = SHIPPED): string {
  return `${base.replace(/\naws:[\s\S]*$/, '')}\naws:\n${aws.replace(/^/gm, '  ')}\n`;
}

export interface Synth {
  stack: PipelineStack;
  json: Record<string, any>;  
  model: SynthModel;
  checks: CheckResult[];
  bundle: ExtractorBundle;
}

/** Synthesizes pipeline text; `mutate` may apply escape-hatch overrides before synthesis. */
export function synth(text: string, opts: { env?: Record<string, string>; entry?: string; mutate?: (s: PipelineStack) => void; props?: Partial<PipelineStackProps> } = {}): Synth {
  const { file, config } = loadText(text);
  const bundle = buildExtractorBundle({ pipelineFile: file, entry: opts.entry ?? STUB_ENTRY, secretValues: [], connectors });
  const stack = new PipelineStack(Testing.app(), config.name, { pipeline: config, pipelineFile: file, env: opts.env ?? ENV, bundle, connectors, plugins: PLUGINS, ...opts.props });
  opts.mutate?.(stack);
  const json = JSON.parse(Testing.synth(stack));
  const model = modelOf(json, ownersOf(stack));
  return { stack, json, model, checks: runChecks(model, { bundle, reportBundle: stack.report?.bundle, secretValues: [KNOWN_SECRET] }), bundle };
}

export const check = (s: Synth, id: string) => s.checks.find((c) => c.id === id)!;

/** The one resource of a type (fails when there are several). */
export function only(s: Synth, type: string) {
  const rs = s.model.ofType(type);
  if (rs.length !== 1) throw new Error(`expected one ${type}, found ${rs.length}`);
  return rs[0].config;
}

 
export const policyOf = (config: Record<string, any>) => JSON.parse(String(config.policy)) as { Statement: Array<Record<string, any>> };

/** The extractor function's config (the stack also has the report function). */
export function extractorFn(s: { model: SynthModel }) {
  const fns = s.model.ofType('aws_lambda_function').filter((f) => /-extractor$/.test(String(f.config.function_name)));
  if (fns.length !== 1) throw new Error(`expected one extractor function, found ${fns.length}`);
  return fns[0].config;
}
