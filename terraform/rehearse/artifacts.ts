/**
 * The rehearsal works from what `cdktf synth` writes, not from the source tree: the stack is
 * synthesized into a folder (cdk.tf.json and the assets, the extractor's zip among them) and
 * every step reads its inputs from there: bucket and secret names, the objects to upload, the
 * function's bundle and environment, the schedules' payloads, the Glue job's script location and
 * arguments, the state machine's definition, the catalog tables and the named queries.
 *
 * Terraform references in the JSON (`${aws_s3_bucket.lake_bucket_ABC.bucket}`) are resolved the way
 * Terraform would after apply, for the attributes the stack uses; data sources get the emulated
 * account's values. Anything else is an error naming the expression, so a stack the rehearsal
 * cannot read fails it instead of being guessed at.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'cdktf';
import { PipelineStack, type PipelineStackProps } from '../stack.ts';
import { modelOf, ownersOf, type Json, type SynthModel, type SynthResource } from '../review/model.ts';

/** moto's account and region: what the data sources of the stack read in the emulated AWS. */
export const REHEARSAL_ACCOUNT = { accountId: '123456789012', region: 'us-east-1', partition: 'aws' };

export interface Synthesized {
  /** The synth output folder (cdktf.out equivalent). */
  outdir: string;
  /** stacks/<name>: where cdk.tf.json and its assets are. */
  stackDir: string;
  json: Json;
  model: SynthModel;
  stack: PipelineStack;
  /** Resolves Terraform references in a value from the JSON (strings, objects, arrays). */
  value<T = unknown>(v: T): T;
  /** One resource of a type (an error when there are none or several). */
  one(type: string): SynthResource;
}

export function synthesizeTo(outdir: string, props: PipelineStackProps): Synthesized {
  const app = new App({ outdir });
  const name = props.pipeline.name;
  const stack = new PipelineStack(app, name, props);
  app.synth();
  const stackDir = join(outdir, 'stacks', name);
  const json = JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8')) as Json;
  const model = modelOf(json, ownersOf(stack));
  const value = <T>(v: T): T => resolveValue(model, v) as T;
  return {
    outdir,
    stackDir,
    json,
    model,
    stack,
    value,
    one(type) {
      const rs = model.ofType(type);
      if (rs.length !== 1) throw new Error(`the synthesized stack has ${rs.length} ${type} resources, expected one`);
      return rs[0];
    },
  };
}

const REF = /\$\{([^}]+)\}/g;

function resolveValue(model: SynthModel, v: unknown): unknown {
  if (typeof v === 'string') return resolveString(model, v);
  if (Array.isArray(v)) return v.map((x) => resolveValue(model, x));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveValue(model, x)]));
  return v;
}

/** `${...}` references replaced by their values; `$${` (an escaped literal `${`) unescaped. */
function resolveString(model: SynthModel, s: string): string {
  const ESC = '\u0000ESC\u0000';
  const out = s.replaceAll('$${', ESC).replace(REF, (_m, expr: string) => attribute(model, expr.trim()));
  return out.replaceAll(ESC, '${');
}

function attribute(model: SynthModel, expr: string): string {
  const m = /^((?:data\.)?[a-z0-9_]+\.[A-Za-z0-9_-]+)\.([a-z_]+)$/.exec(expr);
  const r = m ? model.byAddress.get(m[1]) : undefined;
  if (!m || !r) throw new Error(`the rehearsal cannot resolve \${${expr}} in the synthesized stack`);
  const attr = m[2];
  const c = r.config;
  const { accountId, region, partition } = REHEARSAL_ACCOUNT;
  if (r.address.startsWith('data.')) {
    if (r.type === 'aws_caller_identity' && attr === 'account_id') return accountId;
    if (r.type === 'aws_region' && (attr === 'region' || attr === 'name')) return region;
    if (r.type === 'aws_partition' && attr === 'partition') return partition;
    throw new Error(`the rehearsal cannot resolve \${${expr}}`);
  }
  const own = (k: string) => {
    const v: unknown = c[k];
    if (typeof v !== 'string') throw new Error(`the rehearsal cannot resolve \${${expr}}: ${r.address} has no literal ${k}`);
    return resolveString(model, v);
  };
  switch (r.type) {
    case 'aws_s3_bucket':
      if (attr === 'bucket' || attr === 'id') return own('bucket');
      if (attr === 'arn') return `arn:${partition}:s3:::${own('bucket')}`;
      break;
    case 'aws_glue_job':
    case 'aws_glue_catalog_database':
    case 'aws_sfn_state_machine':
    case 'aws_secretsmanager_secret':
    case 'aws_cloudwatch_event_rule':
    case 'aws_sqs_queue':
    case 'aws_sns_topic':
    case 'aws_iam_role':
    case 'aws_cloudwatch_log_group':
    case 'aws_athena_workgroup':
    case 'aws_glue_security_configuration':
      if (attr === 'name' || attr === 'id') return own('name');
      if (attr === 'arn') return `arn:${partition}:${service(r.type)}:${region}:${accountId}:${own('name')}`;
      break;
    case 'aws_lambda_function':
      if (attr === 'function_name' || attr === 'id') return own('function_name');
      if (attr === 'arn') return `arn:${partition}:lambda:${region}:${accountId}:function:${own('function_name')}`;
      break;
    case 'aws_kms_key':
      if (attr === 'arn' || attr === 'key_id' || attr === 'id') return `arn:${partition}:kms:${region}:${accountId}:key/${r.name}`;
      break;
  }
  throw new Error(`the rehearsal cannot resolve \${${expr}} (${r.type}.${attr})`);
}

function service(type: string): string {
  if (type.startsWith('aws_glue')) return 'glue';
  if (type === 'aws_sfn_state_machine') return 'states';
  if (type === 'aws_secretsmanager_secret') return 'secretsmanager';
  if (type === 'aws_cloudwatch_event_rule') return 'events';
  if (type === 'aws_cloudwatch_log_group') return 'logs';
  return type.replace(/^aws_/, '').split('_')[0];
}
