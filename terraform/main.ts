/** CDKTF app entry (cdktf.json): synthesizes terraform from pipeline.yaml. */
import { App } from 'cdktf';
import { loadPipeline } from '../core/config/index.ts';
import { PipelineStack } from './stack.ts';

const file = process.env.PIPELINE_FILE ?? 'pipeline.yaml';
const { config } = loadPipeline(file);
const app = new App();
new PipelineStack(app, config.name, config);
app.synth();
