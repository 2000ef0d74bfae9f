/**
 * CDKTF app entry (cdktf.json): synthesizes the AWS deployment from pipeline.yaml
 * (PIPELINE_FILE to use another file). Needs no Terraform binary and no AWS credentials.
 * The CDKTF side's composition root (bin/main.ts is the CLI's): it hands the stack the shipped
 * connector registry, so terraform/ imports core only.
 */
import { App } from 'cdktf';
import { loadPipeline } from '../core/config/index.ts';
import { connectors } from '../connectors/index.ts';
import { PipelineStack } from '../terraform/stack.ts';

const file = process.env.PIPELINE_FILE ?? 'pipeline.yaml';
const { config } = loadPipeline(file);
const app = new App();
const stack = new PipelineStack(app, config.name, { pipeline: config, pipelineFile: file, env: process.env, connectors });
for (const w of stack.warnings) process.stderr.write(`warning: ${w}\n`);
app.synth();
