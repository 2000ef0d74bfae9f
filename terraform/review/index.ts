/**
 * `spotify-pipeline plan`'s engine: synthesize the stack in-process (no Terraform binary, no AWS
 * credentials), then review it: resources grouped by stream/table/query, the IAM permissions of
 * each principal, the extractor bundle's size, the policy checks, and (with a `terraform show
 * -json` plan) the changes it would make, grouped the same way.
 */
import { Testing } from 'cdktf';
import type { PipelineConfig } from '../../core/config/types.ts';
import type { ExtractorBundle } from '../bundle.ts';
import { PipelineStack, type PipelineStackProps } from '../stack.ts';
import { knownSecretValues } from '../secrets.ts';
import type { Owner, OwnerKind } from '../constructs/ownership.ts';
import { runChecks, type CheckResult } from './checks.ts';
import { modelOf, ownersOf, physicalName, type Json, type SynthModel } from './model.ts';
import { principals, type Principal } from './permissions.ts';
import { staleness, summarizePlan, type PlanChanges } from './plan-json.ts';
import { runCheckov, type CheckovReport } from './checkov.ts';
import { RECS_TABLE } from '../../core/recs/table.ts';

export { CHECKS, runChecks, type Check, type CheckResult, type Violation } from './checks.ts';
export { modelOf, ownersOf, type SynthModel, type SynthResource } from './model.ts';
export { principals, type Principal } from './permissions.ts';
export { summarizePlan, actionOf, attributeDiff, dataHeld, secretPath, staleness, UnknownPlanAction, type AttributeChange, type ChangeAction, type PlanChanges, type ResourceChange } from './plan-json.ts';
export { renderReview, GITHUB_COMMENT_LIMIT } from './render.ts';
export { BY_DESIGN, classify, findCheckov, runCheckov, type ByDesign, type CheckovFinding, type CheckovReport, type Profile } from './checkov.ts';

export interface Synthesized {
  stack: PipelineStack;
  json: Json;
  model: SynthModel;
  owners: Map<string, Owner>;
}

/** Synthesizes the pipeline's stack in memory (Testing.synth: aspects applied, nothing written). */
export function synthesize(props: PipelineStackProps): Synthesized {
  const app = Testing.app();
  const stack = new PipelineStack(app, props.pipeline.name, props);
  const json = JSON.parse(Testing.synth(stack)) as Json;
  const owners = ownersOf(stack);
  return { stack, json, model: modelOf(json, owners), owners };
}

export interface ResourceLine {
  address: string;
  type: string;
  name: string;
}

export interface ResourceGroup {
  /** `shared`, or `stream recently_played`, `table plays`, `query top_artists`. */
  key: string;
  owner?: Owner;
  resources: ResourceLine[];
}

export interface Review {
  pipeline: string;
  file: string;
  region?: string;
  /** Where the Terraform state goes, for the header. */
  state: string;
  bundle: ExtractorBundle;
  groups: ResourceGroup[];
  resourceCount: number;
  principals: Principal[];
  checks: CheckResult[];
  warnings: string[];
  /** How the deployment behaves where a reviewer might expect otherwise (the stack's notes: one run at a time by lease). */
  notes: string[];
  changes?: PlanChanges;
  changeGroups?: { key: string; changes: PlanChanges['changes'] }[];
  /** checkov's findings on the synthesized stack (when the review ran it; terraform/review/checkov.ts). */
  checkov?: CheckovReport;
  /**
   * With a plan: whether it was made from the current synth (the plan's configured resource
   * addresses against the stack's). `checked` is false when the plan has no `configuration`.
   */
  stale?: { checked: boolean; missing: string[]; extra: string[]; changed: string[] };
  /**
   * The monthly cost estimate (terraform/cost/ builds it; the review only prints it): its own
   * section, and `est. $1.84/mo (+$0.12)` in the Markdown headline.
   */
  cost?: { monthlyUsd: number; previousMonthlyUsd?: number; text: string; markdown: string };
  ok: boolean;
}

/** Conditions `plan --fail-on` can turn into a non-zero exit. */
export const FAIL_ON = ['destroy', 'replace', 'policy', 'drift', 'data-loss', 'errored', 'stale'] as const;
export type FailOn = (typeof FAIL_ON)[number];

/**
 * The conditions of `failOn` the review meets, each with the reason in words. An errored plan
 * always fails, whatever `failOn` says.
 */
export function failures(r: Review, failOn: readonly FailOn[]): { on: FailOn; reason: string }[] {
  const out: { on: FailOn; reason: string }[] = [];
  const on = new Set<FailOn>([...failOn, 'errored']);
  const c = r.changes;
  const list = (xs: { address: string }[]) => `${xs.slice(0, 3).map((x) => x.address).join(', ')}${xs.length > 3 ? `, … (${xs.length})` : ''}`;
  if (c && on.has('errored') && c.errored) out.push({ on: 'errored', reason: 'the plan errored (or Terraform marks it not applyable): it is not what an apply would do' });
  const destroyed = c?.changes.filter((x) => x.action === 'destroy') ?? [];
  if (on.has('destroy') && destroyed.length) out.push({ on: 'destroy', reason: `${destroyed.length} resource(s) destroyed: ${list(destroyed)}` });
  const replaced = c?.changes.filter((x) => x.action === 'replace') ?? [];
  if (on.has('replace') && replaced.length) out.push({ on: 'replace', reason: `${replaced.length} resource(s) replaced: ${list(replaced)}` });
  if (on.has('data-loss') && c?.dataAtRisk.length) out.push({ on: 'data-loss', reason: `${c.dataAtRisk.length} data-bearing resource(s) destroyed or replaced: ${list(c.dataAtRisk)}` });
  if (on.has('drift') && c?.drift.length) out.push({ on: 'drift', reason: `${c.drift.length} resource(s) changed outside Terraform: ${list(c.drift)}` });
  const s = r.stale;
  if (on.has('stale') && s && !s.checked) out.push({ on: 'stale', reason: 'the plan has no `configuration`, so whether it was made from the current synth cannot be checked' });
  if (on.has('stale') && s && (s.missing.length || s.extra.length || s.changed.length)) {
    out.push({ on: 'stale', reason: `the plan was made from another synth (${s.missing.length} resource(s) of the current synth missing, ${s.extra.length} not in it, ${s.changed.length} attribute(s) changed since)` });
  }
  // SP checks and checkov's findings beyond its documented exceptions are both policy.
  const ids = [...r.checks.filter((x) => !x.ok).map((x) => x.id), ...new Set(r.checkov?.status === 'ran' ? r.checkov.failed.map((f) => `checkov ${f.id}`) : [])];
  if (on.has('policy') && ids.length) out.push({ on: 'policy', reason: `${ids.length} policy check(s) failed (${ids.join(', ')})` });
  return out;
}

const KIND_ORDER: OwnerKind[] = ['stream', 'table', 'query'];
const groupKey = (o?: Owner) => (o ? `${o.kind} ${o.name}` : 'shared');

/** Groups in a stable order: shared, then streams, tables and queries in pipeline.yaml order (the included pipelines' after the main one's). */
function orderGroups<T extends { key: string }>(pipelines: PipelineConfig[], groups: Map<string, T>): T[] {
  const order = ['shared'];
  for (const kind of KIND_ORDER) {
    for (const pipeline of pipelines) {
      const names = Object.keys((kind === 'stream' ? pipeline.streams : kind === 'table' ? pipeline.tables : pipeline.queries) ?? {});
      for (const n of names) order.push(`${kind} ${n}`);
    }
    // The recommendations' table (derived by the job when declared) after the declared tables.
    if (kind === 'table' && pipelines.some((p) => p.recommendations !== undefined)) order.push(`table ${RECS_TABLE}`);
  }
  const rank = (k: string) => (order.indexOf(k) === -1 ? order.length : order.indexOf(k));
  return [...groups.values()].sort((a, b) => rank(a.key) - rank(b.key) || a.key.localeCompare(b.key));
}

export interface ReviewOptions extends Omit<PipelineStackProps, 'pipeline'> {
  /** Parsed `terraform show -json` output. */
  planJson?: unknown;
  /** Run checkov on the synthesized stack with this executable (`findCheckov()`); undefined `bin`: reported as not installed. Absent: not run. */
  checkov?: { bin?: string; timeoutMs?: number };
}

export function reviewPipeline(pipeline: PipelineConfig, opts: ReviewOptions): Review {
  const { stack, json, model, owners } = synthesize({ ...opts, pipeline });
  const groups = new Map<string, ResourceGroup>();
  for (const r of model.resources) {
    const key = groupKey(r.owner);
    const g = groups.get(key) ?? { key, owner: r.owner, resources: [] };
    g.resources.push({ address: r.address, type: r.type, name: physicalName(r, model) });
    groups.set(key, g);
  }
  for (const g of groups.values()) g.resources.sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
  const secretValues = knownSecretValues(opts.pipelineFile, opts.env ?? {}, pipeline);
  const checks = runChecks(model, { bundle: stack.bundle, reportBundle: stack.report?.bundle, secretValues });

  let changes: PlanChanges | undefined;
  let changeGroups: Review['changeGroups'];
  if (opts.planJson !== undefined) {
    changes = summarizePlan(opts.planJson, owners, secretValues);
    const byKey = new Map<string, { key: string; changes: PlanChanges['changes'] }>();
    for (const c of changes.changes) {
      const key = groupKey(c.owner);
      const g = byKey.get(key) ?? { key, changes: [] };
      g.changes.push(c);
      byKey.set(key, g);
    }
    changeGroups = orderGroups([pipeline, ...stack.includes], byKey);
  }
  const stale = changes ? staleness(changes, model.resources) : undefined;

  const checkov = opts.checkov ? runCheckov(json, { checkov: opts.checkov.bin, profile: stack.settings.profile, timeoutMs: opts.checkov.timeoutMs }) : undefined;
  const b = stack.settings.backend;
  return {
    pipeline: pipeline.name,
    file: opts.pipelineFile,
    region: stack.settings.region,
    state: b ? `S3 s3://${b.bucket}/${b.key}${b.source === 'env' ? ' (from TF_STATE_BUCKET)' : ' (from aws.backend)'}` : `local (terraform.${pipeline.name}.tfstate in the project root)`,
    bundle: stack.bundle,
    groups: orderGroups([pipeline, ...stack.includes], groups),
    resourceCount: model.resources.length,
    principals: principals(model),
    checks,
    warnings: stack.warnings,
    notes: stack.notes,
    changes,
    changeGroups,
    checkov,
    ...(stale ? { stale } : {}),
    ok: checks.every((c) => c.ok) && !(checkov?.status === 'ran' && checkov.failed.length),
  };
}
