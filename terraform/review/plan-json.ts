/**
 * A summary of `terraform show -json plan.out` (format_version 1.x, as of Terraform 1.11): each
 * resource change as create, update, replace (saying which order), destroy, read, forget, with
 * imports and moves; the attribute diff of each change with sensitive and secret-bearing values
 * masked; the data-bearing resources a change destroys; drift (`resource_drift`), deferred
 * changes and errored plans. Changes are grouped by the stream, table or query they belong to
 * (or "shared"), the same grouping as the synthesized resources.
 *
 * Format: https://developer.hashicorp.com/terraform/internals/json-format
 */
import type { Owner } from '../constructs/ownership.ts';
import { LAKE_AREAS } from '../constructs/lake-storage.ts';
import { ownerFromTags, type JsonObject } from './model.ts';

export type ChangeAction = 'create' | 'update' | 'replace' | 'destroy' | 'read' | 'no-op' | 'forget';

/** One changed (or, for a create/destroy, one set) attribute, its values already rendered and masked. */
export interface AttributeChange {
  /** `tags.env`, `rule[0].expiration[0].days`. */
  path: string;
  /** Rendered value, `(sensitive)`, `(known after apply)`, or undefined where the side has no value. */
  before?: string;
  after?: string;
}

export interface ResourceChange {
  address: string;
  type: string;
  /** Physical name when the plan knows it (bucket, function name, ...). */
  name?: string;
  action: ChangeAction;
  owner?: Owner;
  /** For replacements: the attributes that force it. */
  replacePaths?: string[];
  /** For replacements: `["delete","create"]` or `["create","delete"]`. */
  replaceOrder?: 'delete-before-create' | 'create-before-destroy';
  /** Terraform's `action_reason` (replace_because_tainted, delete_because_no_resource_config...). */
  reason?: string;
  /** Set when the change imports an existing object (`change.importing`). */
  importing?: { id?: string };
  /** Set when a `moved` block (or a renamed construct) moved the resource: its old address. */
  previousAddress?: string;
  /** The attribute diff (update/replace/drift), or the attributes set (create) or lost (destroy/forget). */
  attributes: AttributeChange[];
  /** For a data-bearing resource destroyed or replaced: what it holds. */
  dataAtRisk?: string;
  /** The lake bucket itself (tag `spotify-pipeline:bucket: lake`). */
  lakeBucket?: boolean;
  /** For deferred changes: Terraform's reason. */
  deferredReason?: string;
  /** A deposed object (left by a failed create-before-destroy): its key. */
  deposed?: string;
}

export type ChangeCount = ChangeAction | 'import' | 'move';

export interface PlanChanges {
  /** Managed resources that change (no-ops left out unless imported or moved). */
  changes: ResourceChange[];
  counts: Record<ChangeCount, number>;
  /** `resource_drift`: objects changed outside Terraform since the last apply. */
  drift: ResourceChange[];
  /** `deferred_changes`: changes Terraform will plan in a later run. */
  deferred: ResourceChange[];
  /** Data-bearing resources destroyed or replaced, the lake bucket first. */
  dataAtRisk: ResourceChange[];
  /** `errored: true`, or `applyable: false` with changes: the plan cannot be applied as reviewed. */
  errored: boolean;
  /** `complete: false`: another plan/apply round is needed (deferred changes). */
  incomplete: boolean;
  /** Addresses of the plan's own configuration (`configuration.root_module.resources`), managed only. */
  configuredAddresses?: string[];
  /** Per configured resource, its attributes set to a literal (`expressions.X.constant_value`, scalars only). */
  configuredConstants?: Map<string, Record<string, string | number | boolean>>;
}

/** An action list Terraform wrote that this review does not know: exit 2 naming the resource. */
export class UnknownPlanAction extends Error {
  constructor(
    readonly address: string,
    readonly actions: string[],
  ) {
    super(`unknown change actions [${actions.join(', ')}] for ${address}`);
    this.name = 'UnknownPlanAction';
  }
}

export function actionOf(actions: string[], address = '(unnamed resource)'): ChangeAction {
  switch (actions.join(',')) {
    case 'create':
      return 'create';
    case 'delete':
      return 'destroy';
    case 'delete,create':
    case 'create,delete':
      return 'replace';
    case 'update':
      return 'update';
    case 'read':
      return 'read';
    case 'no-op':
    case '':
      return 'no-op';
    case 'forget':
      return 'forget';
    // Terraform 1.10+: replaced, then the old object forgotten (lifecycle destroy = false).
    case 'create,forget':
      return 'replace';
    default:
      throw new UnknownPlanAction(address, actions);
  }
}

/** The parts of one of the plan's `resource_changes` this summary reads; their values are checked where read. */
interface PlanResourceChange {
  mode?: unknown;
  address?: unknown;
  previous_address?: unknown;
  deposed?: unknown;
  type?: unknown;
  action_reason?: unknown;
  change?: {
    actions?: unknown;
    before?: unknown;
    after?: unknown;
    after_unknown?: unknown;
    before_sensitive?: unknown;
    after_sensitive?: unknown;
    replace_paths?: unknown;
    importing?: unknown;
  } | null;
}

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);
const obj = (v: unknown): JsonObject | undefined => (isObject(v) ? v : undefined);

const NAME_KEYS = ['bucket', 'function_name', 'alarm_name', 'name'] as const;
/** The physical name in `v`, or `(sensitive)` where the plan marks it sensitive (`sensitive` mirrors `v`). */
const nameOf = (v: JsonObject | undefined, sensitive?: unknown): string | undefined => {
  for (const k of NAME_KEYS) {
    const n = v?.[k];
    if (typeof n === 'string') return marked(sensitive, [k]) || secretPath([k]) ? SENSITIVE : n;
  }
  return undefined;
};

// ---------------------------------------------------------------------------------------------
// Attribute diffs and masking

/**
 * Attribute names that carry secrets whatever the provider says: their values are never printed.
 * Matched against every step of a path, so `environment[0].variables.SPOTIFY_CLIENT_SECRET` and
 * `secret_string` are masked; the Lambda-environment rule of SP016 (`..._KEY`, salt) is included.
 */
const SECRET_NAME = /secret|password|passwd|token|credential|private_key|access_key|api_key/i;
/** SP016's rule for environment variable names: also `..._KEY` and salts. */
const SECRET_VARIABLE = /secret|password|passwd|token|credential|salt|_KEY$|^KEY$/i;
/** Keys whose values name secrets but hold none (the secret's own name, its KMS key, its ARN). */
const NOT_SECRET = /^(kms_key_id|kms_key_arn|secret_id|secret_arn|arn|id|name|name_prefix|key_id|target_key_id|deletion_window_in_days|recovery_window_in_days|enable_key_rotation|bucket_key_enabled|kms_master_key_id|key_usage|customer_master_key_spec|key_spec)$/i;
/** True when a path names a secret-bearing attribute (or environment variable). */
export function secretPath(steps: readonly (string | number)[]): boolean {
  return steps.some((s, i) => typeof s === 'string' && ((SECRET_NAME.test(s) && !NOT_SECRET.test(s)) || (i > 0 && steps[i - 1] === 'variables' && SECRET_VARIABLE.test(s))));
}

type Step = string | number;
/** `rule[0].expiration[0].days`; a key that is no identifier in brackets, as Terraform writes it: `tags["spotify-pipeline:table"]`. */
const pathText = (steps: Step[]) =>
  steps.map((s, i) => (typeof s === 'number' ? `[${s}]` : !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(s) ? `[${JSON.stringify(s)}]` : i === 0 ? s : `.${s}`)).join('');

/** True where `marks` (a `*_sensitive` / `after_unknown` structure) has `true` at `steps` or above it. */
function marked(marks: unknown, steps: Step[]): boolean {
  let cur = marks;
  for (const s of steps) {
    if (cur === true) return true;
    if (cur === null || typeof cur !== 'object') return false;
    cur = (cur as Record<string, unknown>)[s as string];
  }
  return cur === true;
}

const MAX_VALUE = 160;
/** A leaf as HCL-ish text: strings quoted, long values cut with their length said. */
function valueText(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : v === undefined ? 'null' : JSON.stringify(v);
  return s.length > MAX_VALUE ? `${s.slice(0, MAX_VALUE)}… (${s.length.toLocaleString('en-US')} chars)` : s;
}

/** A JSON document held in a string attribute (an IAM policy, a state machine definition), parsed; else undefined. */
function jsonDocument(v: unknown): unknown {
  if (typeof v !== 'string' || !/^\s*[[{]/.test(v)) return undefined;
  try {
    const doc = JSON.parse(v) as unknown;
    return doc !== null && typeof doc === 'object' ? doc : undefined;
  } catch {
    return undefined;
  }
}

type Leaves = Map<string, { steps: Step[]; value: unknown }>;
/** Leaves of a value: path -> value; empty objects/lists and nulls are leaves; a JSON document in a string is walked too (`policy.Statement[0].Action[1]`). */
function leaves(v: unknown, steps: Step[] = [], out: Leaves = new Map()): Leaves {
  const doc = jsonDocument(v);
  if (doc !== undefined) return leaves(doc, steps, out);
  if (Array.isArray(v) && v.length) v.forEach((x, i) => leaves(x, [...steps, i], out));
  else if (isObject(v) && Object.keys(v).length) for (const [k, x] of Object.entries(v)) leaves(x, [...steps, k], out);
  else if (steps.length) out.set(pathText(steps), { steps, value: v });
  return out;
}

/** Paths marked `true` in `after_unknown` (values Terraform learns at apply). */
function unknownPaths(marks: unknown, steps: Step[] = [], out = new Map<string, Step[]>()) {
  if (marks === true && steps.length) out.set(pathText(steps), steps);
  else if (Array.isArray(marks)) marks.forEach((x, i) => unknownPaths(x, [...steps, i], out));
  else if (isObject(marks)) for (const [k, x] of Object.entries(marks)) unknownPaths(x, [...steps, k], out);
  return out;
}

const isEmpty = (v: unknown) => v === null || v === undefined || (Array.isArray(v) && !v.length) || (isObject(v) && !Object.keys(v).length);
const hasBelow = (side: Leaves, path: string) => [...side.keys()].some((k) => k.startsWith(`${path}.`) || k.startsWith(`${path}[`));

const SENSITIVE = '(sensitive)';
const UNKNOWN = '(known after apply)';
/** Attributes that only repeat others (tags_all = provider default tags + tags). */
const NOISE = /^tags_all(\.|$)/;

/**
 * The attributes that differ between before and after, each masked where sensitive in either
 * side's structure or secret-bearing by name. `mode` says which side(s) to read: a create lists
 * what it sets, a destroy what goes away.
 */
export function attributeDiff(change: PlanResourceChange['change'], mode: 'diff' | 'after' | 'before' = 'diff'): AttributeChange[] {
  const before: Leaves = mode === 'after' ? (new Map() as Leaves) : leaves(change?.before);
  const after: Leaves = mode === 'before' ? (new Map() as Leaves) : leaves(change?.after);
  const unknown = mode === 'before' ? new Map<string, Step[]>() : unknownPaths(change?.after_unknown);
  const paths = new Set<string>([...before.keys(), ...after.keys(), ...unknown.keys()]);
  const out: AttributeChange[] = [];
  for (const path of paths) {
    if (NOISE.test(path)) continue;
    const b = before.get(path);
    const a = after.get(path);
    const steps = b?.steps ?? a?.steps ?? unknown.get(path)!;
    const isUnknown = unknown.has(path);
    const bText = b === undefined ? undefined : JSON.stringify(b.value);
    const aText = a === undefined ? undefined : JSON.stringify(a.value);
    if (!isUnknown && bText === aText) continue;
    // An empty block on one side whose other side has attributes below it: those say it all.
    if (mode === 'diff' && !isUnknown && isEmpty((b ?? a)!.value) && (b === undefined || a === undefined || isEmpty(b.value) !== isEmpty(a.value)) && hasBelow(b ? after : before, path)) continue;
    // A create's/destroy's nulls and empties say nothing.
    if (mode !== 'diff' && !isUnknown && (b?.value ?? a?.value) === null) continue;
    const secret = secretPath(steps);
    const mask = (side: 'before' | 'after', leaf?: { value: unknown }) => {
      if (side === 'after' && isUnknown) return UNKNOWN;
      if (leaf === undefined) return undefined;
      if (secret || marked(side === 'before' ? change?.before_sensitive : change?.after_sensitive, steps)) return SENSITIVE;
      return valueText(leaf.value);
    };
    // A diff names both sides: `null` where one has no value.
    const [bShown, aShown] = [mask('before', b), mode === 'before' ? undefined : mask('after', a)];
    out.push(mode === 'diff' ? { path, before: bShown ?? 'null', after: aShown ?? 'null' } : { path, before: bShown, after: aShown });
  }
  return out.sort((x, y) => x.path.localeCompare(y.path));
}

// ---------------------------------------------------------------------------------------------
// Data at risk

const lakeAreas = Object.values(LAKE_AREAS).join(', ');

/** What a data-bearing resource holds, or undefined when destroying it loses no data. */
export function dataHeld(type: string, values: JsonObject | undefined, sensitive?: unknown, pipeline?: string): string | undefined {
  const tags = obj(values?.tags) ?? obj(values?.tags_all);
  const ofPipeline = typeof tags?.['spotify-pipeline:pipeline'] === 'string' ? String(tags['spotify-pipeline:pipeline']) : pipeline;
  const of = ofPipeline ? ` of pipeline ${ofPipeline}` : '';
  const name = nameOf(values, sensitive);
  const plain = (k: string) => (marked(sensitive, [k]) ? SENSITIVE : typeof values?.[k] === 'string' ? values[k] : '?');
  switch (type) {
    case 'aws_s3_bucket': {
      const role = tags?.['spotify-pipeline:bucket'];
      if (role === 'lake') return `the lake${of}: ${lakeAreas} (raw data is the source of truth; curated tables, run manifests and extraction state go with it)`;
      if (role === 'artifacts') return `the Glue job's script, modules and per-table specs, and Glue's temp dir${of} (re-uploaded by a deploy)`;
      if (role === 'athena-results') return `saved Athena query results${of}`;
      if (role === 'access-logs') return `the S3 server access logs${of}`;
      return `every object in bucket ${name ?? '(unnamed)'}`;
    }
    case 'aws_s3_object':
      return `the object s3://${plain('bucket')}/${plain('key')}`;
    case 'aws_s3_bucket_versioning':
      return 'the bucket\'s versioning: overwritten and deleted objects stop being kept';
    case 'aws_glue_catalog_table':
      return `table ${name ?? '?'}'s schema and partition definition (the curated Parquet stays in S3; Athena cannot query it until the table is back)`;
    case 'aws_glue_catalog_database':
      return `the Glue database ${name ?? '?'} and every table definition in it`;
    case 'aws_secretsmanager_secret':
    case 'aws_secretsmanager_secret_version': {
      const n = name ?? plain('secret_id');
      if (/refresh_token/.test(n)) return `the Spotify refresh token (${n}): a user must log in again to recreate it`;
      if (/client_secret/.test(n)) return `the Spotify client secret (${n})`;
      return `the secret value of ${n || 'a secret'}`;
    }
    case 'aws_kms_key':
      return 'a KMS key: everything encrypted with it (bucket objects, secrets, logs, job bookmarks) becomes unreadable when its deletion window ends';
    case 'aws_cloudwatch_log_group':
      return `the logs in ${name ?? 'a log group'}`;
    case 'aws_athena_workgroup':
      return `the Athena workgroup ${name ?? '?'}'s query history`;
    case 'aws_sqs_queue':
      return `the messages waiting in queue ${name ?? '?'} (failed extractor invocations)`;
    case 'aws_dynamodb_table':
      return `every item of table ${name ?? '?'}`;
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------

function readChange(rc: PlanResourceChange, owners: Map<string, Owner>): ResourceChange | undefined {
  const rawAddress = typeof rc.address === 'string' ? rc.address : '(no address)';
  const actions = asStrings(rc.change?.actions);
  const action = actionOf(actions, rawAddress);
  // cdktf stacks are root modules; strip a module path if someone nests the stack.
  const address = rawAddress.replace(/^(module\.[^.]+\.)+/, '');
  const before = obj(rc.change?.before);
  const after = obj(rc.change?.after);
  const type = String(rc.type);
  const importing = isObject(rc.change?.importing) ? { ...(typeof rc.change.importing.id === 'string' ? { id: rc.change.importing.id } : {}) } : undefined;
  const previousAddress = typeof rc.previous_address === 'string' && rc.previous_address !== rc.address ? rc.previous_address.replace(/^(module\.[^.]+\.)+/, '') : undefined;
  const mode = action === 'create' ? 'after' : action === 'destroy' || action === 'forget' ? 'before' : 'diff';
  const c: ResourceChange = {
    address,
    type,
    name: nameOf(after, rc.change?.after_sensitive) ?? nameOf(before, rc.change?.before_sensitive),
    action,
    owner: owners.get(address) ?? ownerFromTags(after?.tags) ?? ownerFromTags(before?.tags) ?? ownerFromTags(before?.tags_all) ?? ownerFromAddress(address),
    attributes: action === 'read' ? [] : attributeDiff(rc.change, mode),
  };
  if (action === 'replace') {
    c.replaceOrder = actions[0] === 'delete' ? 'delete-before-create' : 'create-before-destroy';
    if (Array.isArray(rc.change?.replace_paths)) c.replacePaths = (rc.change.replace_paths as unknown[]).map((p) => (Array.isArray(p) ? pathText(p as Step[]) : String(p)));
  }
  if (typeof rc.action_reason === 'string') c.reason = rc.action_reason;
  if (typeof rc.deposed === 'string') c.deposed = rc.deposed;
  if (importing) c.importing = importing;
  if (previousAddress) c.previousAddress = previousAddress;
  if (action === 'destroy' || action === 'replace') {
    const held = dataHeld(type, before ?? after, before ? rc.change?.before_sensitive : rc.change?.after_sensitive);
    if (held) {
      c.dataAtRisk = held;
      const tags = obj(before?.tags) ?? obj(before?.tags_all);
      if (type === 'aws_s3_bucket' && tags?.['spotify-pipeline:bucket'] === 'lake') c.lakeBucket = true;
    }
  }
  return c;
}

/**
 * Summarizes a plan. `owners` maps resource addresses of the current stack to their owner;
 * resources it does not know (being destroyed) are placed by their tags. A value that holds one
 * of `secretValues` (the local secrets, credential-named environment variables) is masked
 * wherever it appears, whatever its attribute is called.
 */
export function summarizePlan(plan: unknown, owners: Map<string, Owner> = new Map(), secretValues: readonly string[] = []): PlanChanges {
  if (!isObject(plan) || !Array.isArray(plan.resource_changes)) {
    throw new Error('not a Terraform plan in JSON (expected the output of `terraform show -json plan.out`, with resource_changes)');
  }
  const counts: Record<ChangeCount, number> = { create: 0, update: 0, replace: 0, destroy: 0, read: 0, 'no-op': 0, forget: 0, import: 0, move: 0 };
  const changes: ResourceChange[] = [];
  for (const rc of plan.resource_changes as PlanResourceChange[]) {
    const c = readChange(rc, owners)!;
    // A data source appears only when it is read during apply (its config is unknown at plan
    // time): listed as a read; anything else of a data source is not a change to review.
    if (rc.mode === 'data' && c.action !== 'read') continue;
    if (c.importing) counts.import++;
    if (c.previousAddress) counts.move++;
    if (c.action === 'no-op' && !c.importing && !c.previousAddress) {
      counts['no-op']++;
      continue;
    }
    if (c.action !== 'no-op') counts[c.action]++;
    changes.push(c);
  }
  const drift: ResourceChange[] = [];
  for (const rc of (Array.isArray(plan.resource_drift) ? plan.resource_drift : []) as PlanResourceChange[]) {
    if (rc.mode === 'data') continue;
    const c = readChange(rc, owners)!;
    // Drift is what changed outside Terraform: always the before/after diff, nothing "at risk" yet.
    c.attributes = attributeDiff(rc.change, 'diff');
    delete c.dataAtRisk;
    delete c.lakeBucket;
    drift.push(c);
  }
  const deferred: ResourceChange[] = [];
  for (const d of (Array.isArray(plan.deferred_changes) ? plan.deferred_changes : []) as { reason?: unknown; resource_change?: PlanResourceChange }[]) {
    if (!d?.resource_change || d.resource_change.mode === 'data') continue;
    const c = readChange(d.resource_change, owners)!;
    c.deferredReason = typeof d.reason === 'string' ? d.reason : 'unknown';
    deferred.push(c);
  }
  const known = secretValues.filter((v) => v.length >= 6);
  if (known.length) for (const c of [...changes, ...drift, ...deferred]) scrub(c, known);
  const dataAtRisk = changes.filter((c) => c.dataAtRisk).sort((a, b) => Number(!!b.lakeBucket) - Number(!!a.lakeBucket));
  const hasChanges = changes.some((c) => c.action !== 'read');
  const rootResources = (plan.configuration as { root_module?: { resources?: unknown } } | undefined)?.root_module?.resources;
  return {
    changes,
    counts,
    drift,
    deferred,
    dataAtRisk,
    errored: plan.errored === true || (plan.applyable === false && hasChanges),
    incomplete: plan.complete === false,
    ...(Array.isArray(rootResources) ? configured(rootResources) : {}),
  };
}

/** Masks every rendered value of a change that holds a known secret value. */
function scrub(c: ResourceChange, known: readonly string[]): void {
  const leaks = (v: string | undefined) => v !== undefined && known.some((k) => v.includes(k));
  for (const a of c.attributes) {
    if (leaks(a.before)) a.before = SENSITIVE;
    if (leaks(a.after)) a.after = SENSITIVE;
  }
  if (leaks(c.name)) c.name = SENSITIVE;
  if (leaks(c.dataAtRisk)) c.dataAtRisk = `${c.type}: ${SENSITIVE}`;
  if (c.importing?.id && leaks(c.importing.id)) c.importing.id = SENSITIVE;
}

/**
 * The owner a logical id names, for untaggable resources that left the stack: the constructs of
 * a stream, table or query have ids `stream-<name>`, `table-<name>`, `query-<name>`, followed by
 * the resource's own id and cdktf's hash (e.g. `transform_table-old_table_spec_5E6F7A8B`).
 */
export function ownerFromAddress(address: string): Owner | undefined {
  const m = /\.(?:[a-z]+_)?(stream|table|query)-([a-z][a-z0-9_]*)_(schedule|table|spec|query)_[0-9A-F]{8}$/.exec(address);
  return m ? { kind: m[1] as Owner['kind'], name: m[2] } : undefined;
}

/**
 * Whether the plan was made from the current synth: the plan's configured resource addresses
 * against the stack's. cdktf's logical ids carry a hash of the construct path, so a renamed or
 * added stream, table or query shows up as an address difference.
 */
export function staleness(
  changes: PlanChanges,
  current: { address: string; config: Record<string, unknown> }[],
): { checked: boolean; missing: string[]; extra: string[]; changed: string[] } {
  if (!changes.configuredAddresses) return { checked: false, missing: [], extra: [], changed: [] };
  const planned = new Set(changes.configuredAddresses);
  const now = new Set(current.map((r) => r.address));
  // The literal attributes both know: a bundle rebuilt since the plan (source_code_hash), a
  // memory size or schedule changed in pipeline.yaml keep the addresses but not these.
  const changed: string[] = [];
  for (const r of current) {
    const constants = changes.configuredConstants?.get(r.address);
    if (!constants) continue;
    for (const [k, v] of Object.entries(constants)) {
      const mine = r.config[k];
      if ((typeof mine === 'string' && !mine.includes('${')) || typeof mine === 'number' || typeof mine === 'boolean') {
        if (mine !== v) changed.push(`${r.address}.${k}`);
      }
    }
  }
  return { checked: true, missing: [...now].filter((a) => !planned.has(a)).sort(), extra: [...planned].filter((a) => !now.has(a)).sort(), changed: changed.sort() };
}

/** The plan's configured managed resources: their addresses and literal attributes. */
function configured(resources: unknown[]): Pick<PlanChanges, 'configuredAddresses' | 'configuredConstants'> {
  const configuredAddresses: string[] = [];
  const configuredConstants = new Map<string, Record<string, string | number | boolean>>();
  for (const r of resources) {
    if (!isObject(r) || r.mode === 'data' || typeof r.address !== 'string') continue;
    configuredAddresses.push(r.address);
    const constants: Record<string, string | number | boolean> = {};
    for (const [k, e] of Object.entries(obj(r.expressions) ?? {})) {
      const v = obj(e)?.constant_value;
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') constants[k] = v;
    }
    configuredConstants.set(r.address, constants);
  }
  return { configuredAddresses, configuredConstants };
}

const asStrings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
