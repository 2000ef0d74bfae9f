/**
 * A summary of `terraform show -json plan.out`: each resource change as create, update, replace
 * or destroy, grouped by the stream, table or query it belongs to (or "shared"), the same
 * grouping as the synthesized resources.
 */
import type { Owner } from '../constructs/ownership.ts';
import { ownerFromTags, type JsonObject } from './model.ts';

export type ChangeAction = 'create' | 'update' | 'replace' | 'destroy' | 'read' | 'no-op';

export interface ResourceChange {
  address: string;
  type: string;
  /** Physical name when the plan knows it (bucket, function name, ...). */
  name?: string;
  action: ChangeAction;
  owner?: Owner;
  /** For replacements: the attributes that force it. */
  replacePaths?: string[];
}

export interface PlanChanges {
  changes: ResourceChange[];
  counts: Record<ChangeAction, number>;
}

export function actionOf(actions: string[]): ChangeAction {
  const a = [...actions].sort().join(',');
  if (a === 'create') return 'create';
  if (a === 'delete') return 'destroy';
  if (a === 'create,delete') return 'replace';
  if (a === 'update') return 'update';
  if (a === 'read') return 'read';
  if (a === 'no-op' || a === '') return 'no-op';
  throw new Error(`unknown change actions [${actions.join(', ')}]`);
}

/** The parts of one of the plan's `resource_changes` this summary reads; their values are checked where read. */
interface PlanResourceChange {
  mode?: unknown;
  address?: unknown;
  type?: unknown;
  change?: { actions?: unknown; before?: JsonObject | null; after?: JsonObject | null; replace_paths?: unknown } | null;
}

const nameOf = (v: JsonObject | null | undefined): string | undefined => {
  const n = v?.bucket ?? v?.function_name ?? v?.alarm_name ?? v?.name;
  return typeof n === 'string' ? n : undefined;
};

/**
 * Summarizes a plan. `owners` maps resource addresses of the current stack to their owner;
 * resources it does not know (being destroyed) are placed by their tags.
 */
export function summarizePlan(plan: unknown, owners: Map<string, Owner> = new Map()): PlanChanges {
  if (!plan || typeof plan !== 'object' || !Array.isArray((plan as { resource_changes?: unknown }).resource_changes)) {
    throw new Error('not a Terraform plan in JSON (expected the output of `terraform show -json plan.out`, with resource_changes)');
  }
  const counts: Record<ChangeAction, number> = { create: 0, update: 0, replace: 0, destroy: 0, read: 0, 'no-op': 0 };
  const changes: ResourceChange[] = [];
  for (const rc of (plan as { resource_changes: PlanResourceChange[] }).resource_changes) {
    if (rc.mode === 'data') continue;
    const action = actionOf(asStrings(rc.change?.actions));
    counts[action]++;
    if (action === 'no-op') continue;
    // cdktf stacks are root modules; strip a module path if someone nests the stack.
    const address = String(rc.address).replace(/^(module\.[^.]+\.)+/, '');
    const before = rc.change?.before;
    const after = rc.change?.after;
    changes.push({
      address,
      type: String(rc.type),
      name: nameOf(after) ?? nameOf(before),
      action,
      owner: owners.get(address) ?? ownerFromTags(after?.tags) ?? ownerFromTags(before?.tags) ?? ownerFromTags(before?.tags_all) ?? ownerFromAddress(address),
      ...(action === 'replace' && Array.isArray(rc.change?.replace_paths) ? { replacePaths: (rc.change.replace_paths as unknown[][]).map((p) => p.join('.')) } : {}),
    });
  }
  return { changes, counts };
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

const asStrings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
