/**
 * CDKTF app entry (cdktf.json): synthesizes the AWS deployment from pipeline.yaml
 * (PIPELINE_FILE to use another file) and the pipelines it includes. Needs no Terraform binary and
 * no AWS credentials. The CDKTF side's composition root (bin/main.ts is the CLI's): it hands the
 * stack the shipped connector registry and the loaded plugins, so terraform/ imports core only.
 */
import { App } from 'cdktf';
import { ConfigError, formatProblem } from '../core/config/index.ts';
import { UserError } from '../core/errors.ts';
import { preparePipeline } from '../core/pipeline.ts';
import { pluginSource } from '../core/plugins.ts';
import { redact } from '../core/redact.ts';
import { connectors } from '../connectors/index.ts';
import { PipelineStack, stackInputs } from '../terraform/stack.ts';

const file = process.env.PIPELINE_FILE ?? 'pipeline.yaml';
try {
  const prep = await preparePipeline(file, { plugins: pluginSource(connectors) });
  for (const w of prep.warnings) process.stderr.write(`warning: ${formatProblem(w)}\n`);
  const app = new App();
  // Refuses (ConfigError) a config that would put a credential in clear text into the deployment.
  const stack = new PipelineStack(app, prep.loaded.config.name, { ...stackInputs(prep), pipelineFile: file, env: process.env, connectors });
  for (const w of stack.warnings) process.stderr.write(`warning: ${w}\n`);
  app.synth();
} catch (e) {
  // A mistake in pipeline.yaml: one line per problem (key and fix), exit 2 as the CLI does.
  if (!(e instanceof UserError)) throw e;
  const lines = e instanceof ConfigError ? e.problems.map(formatProblem) : [`error: ${e.message}`, ...(e.hint ? [`  fix: ${e.hint}`] : [])];
  for (const l of lines) process.stderr.write(`${redact(l)}\n`);
  process.exitCode = 2;
}
