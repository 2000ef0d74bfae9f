/**
 * The synthesized Terraform JSON as a list of resources, each with its address, its config and
 * the stream/table/query it belongs to. Checks and summaries read this, not the construct tree,
 * so what they judge is exactly what Terraform would apply (escape-hatch overrides included).
 */
import { TerraformResource, type TerraformStack } from 'cdktf';
import { ownerOf, ownerTag, type Owner, type OwnerKind } from '../constructs/ownership.ts';

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A JSON object read from untyped input: its values are unknown until checked. */
export type JsonObject = Record<string, unknown>;

/** An IAM policy document as the checks read it: one statement or a list, each field checked where it is read. */
interface PolicyDocument {
  Statement?: JsonObject | JsonObject[];
}

/** A JSON value in a message: a string as is, another scalar as `String` writes it, an object or list as its JSON. */
export function jsonText(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'object':
      return v === null ? 'null' : JSON.stringify(v);
    default: // number, boolean, undefined
      return String(v);
  }
}

/** The value at `path` in untyped JSON (as `a?.b?.c` reads it); undefined where a step is not an object. */
export function dig(v: unknown, ...path: string[]): unknown {
  let cur = v;
  for (const k of path) cur = cur !== null && typeof cur === 'object' ? (cur as JsonObject)[k] : undefined;
  return cur;
}

export interface SynthResource {
  type: string;
  /** Logical id (the Terraform resource name). */
  name: string;
  /** `type.name`, as in `terraform plan`. */
  address: string;
  config: Json;
  owner?: Owner;
}

export interface SynthModel {
  json: Json;
  resources: SynthResource[];
  dataSources: SynthResource[];
  byAddress: Map<string, SynthResource>;
  ofType(type: string): SynthResource[];
  /** The resource a `${type.name.attr}` expression (or a bare address) points at. */
  resolve(ref: string): SynthResource | undefined;
}

/** Address -> owner, from the construct tree (covers resources that cannot carry tags). */
export function ownersOf(stack: TerraformStack): Map<string, Owner> {
  const out = new Map<string, Owner>();
  for (const c of stack.node.findAll()) {
    if (!(c instanceof TerraformResource)) continue;
    const owner = ownerOf(c);
    if (owner) out.set(`${c.terraformResourceType}.${c.friendlyUniqueId}`, owner);
  }
  return out;
}

const OWNER_KINDS: OwnerKind[] = ['stream', 'table', 'query'];

/** The owner a resource's tags name (for resources no longer in the stack, e.g. in a destroy). */
export function ownerFromTags(tags: unknown): Owner | undefined {
  if (!tags || typeof tags !== 'object') return undefined;
  for (const kind of OWNER_KINDS) {
    const v = (tags as Record<string, unknown>)[ownerTag(kind)];
    if (typeof v === 'string') return { kind, name: v };
  }
  return undefined;
}

export function modelOf(json: Json, owners: Map<string, Owner> = new Map()): SynthModel {
  const resources: SynthResource[] = [];
  for (const [type, byName] of Object.entries((json.resource ?? {}) as Record<string, Record<string, Json>>)) {
    for (const [name, config] of Object.entries(byName)) {
      const address = `${type}.${name}`;
      resources.push({ type, name, address, config, owner: owners.get(address) ?? ownerFromTags(config.tags) });
    }
  }
  const dataSources: SynthResource[] = [];
  for (const [type, byName] of Object.entries((json.data ?? {}) as Record<string, Record<string, Json>>)) {
    for (const [name, config] of Object.entries(byName)) dataSources.push({ type, name, address: `data.${type}.${name}`, config });
  }
  const byAddress = new Map([...resources, ...dataSources].map((r) => [r.address, r]));
  return {
    json,
    resources,
    dataSources,
    byAddress,
    ofType: (type) => resources.filter((r) => r.type === type),
    resolve: (ref) => {
      const m = /^\$\{((?:data\.)?[a-z0-9_]+\.[A-Za-z0-9_-]+)(?:\.[a-z0-9_]+)?\}$/.exec(ref.trim()) ?? /^((?:data\.)?[a-z0-9_]+\.[A-Za-z0-9_-]+)$/.exec(ref.trim());
      return m ? byAddress.get(m[1]) : undefined;
    },
  };
}

/**
 * The name a resource is known by: its own name (bucket, function, role, key...), or for a
 * companion resource (a bucket's policy, a role's policy, a rule's target) the name of what it
 * belongs to.
 */
export function physicalName(r: SynthResource, model?: SynthModel): string {
  const c = r.config;
  const literal = (v: unknown) => (typeof v === 'string' && !v.includes('${') ? v : undefined);
  const via = (v: unknown) => {
    if (typeof v !== 'string') return undefined;
    if (literal(v)) return v;
    const t = model?.resolve(v);
    return t && t !== r ? physicalName(t, model) : undefined;
  };
  if (r.type === 'aws_s3_object') {
    const b = via(c.bucket);
    return b ? `s3://${b}/${c.key}` : String(c.key);
  }
  const own = literal(c.function_name) ?? literal(c.alarm_name) ?? literal(c.name) ?? (r.type === 'aws_s3_bucket' ? literal(c.bucket) : undefined);
  if (own && !(r.type === 'aws_iam_role_policy')) return own;
  const parent = via(c.bucket) ?? via(c.role) ?? via(c.rule) ?? via(c.function_name) ?? via(c.arn);
  if (parent) return r.type === 'aws_iam_role_policy' ? `${own ?? 'policy'} of ${parent}` : `of ${parent}`;
  if (r.type === 'aws_kms_key') {
    const alias = model?.ofType('aws_kms_alias').find((a) => model.resolve(String(a.config.target_key_id ?? ''))?.address === r.address);
    if (alias && literal(alias.config.name)) return String(alias.config.name);
  }
  return own ?? r.name;
}

/** A policy document from a resource attribute (a JSON string), or undefined when it is not one. */
export function parsePolicy(text: unknown): { Statement: JsonObject[] } | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const doc = JSON.parse(text) as PolicyDocument; // JSON `null` throws here: not a policy either
    const st = doc.Statement;
    return { Statement: Array.isArray(st) ? st : st ? [st] : [] };
  } catch {
    return undefined;
  }
}

export const asList = (v: unknown): string[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v.map(jsonText) : [jsonText(v)]);

/**
 * A reference rewritten for humans: `${aws_s3_bucket.lake_bucket_X.arn}/raw/*` becomes
 * `arn:aws:s3:::my-lake/raw/*`, a secret's ARN `secret:my-lake/spotify/refresh_token`.
 */
export function prettyRef(model: SynthModel, text: string): string {
  return text
    .replace(/\$\$\{/g, '${')
    .replace(/\$\{((?:data\.)?[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}/g, (whole, type: string, name: string, attr: string) => {
      if (type === 'data.aws_caller_identity') return '<account>';
      if (type === 'data.aws_region') return '<region>';
      if (type === 'data.aws_partition') return 'aws';
      const r = model.byAddress.get(`${type}.${name}`);
      if (!r) return whole;
      const pn = physicalName(r, model);
      if (type === 'aws_s3_bucket' && attr === 'arn') return `arn:aws:s3:::${pn}`;
      const short: Record<string, string> = {
        aws_secretsmanager_secret: 'secret',
        aws_sqs_queue: 'sqs',
        aws_lambda_function: 'lambda',
        aws_cloudwatch_log_group: 'log-group',
        aws_glue_job: 'glue-job',
        aws_sfn_state_machine: 'states',
        aws_kms_key: 'kms-key',
        aws_sns_topic: 'sns',
        aws_cloudwatch_event_rule: 'events-rule',
        aws_iam_role: 'role',
        aws_glue_catalog_database: 'glue-database',
      };
      return `${short[type] ?? type}:${pn}`;
    });
}
