/**
 * Who may do what: every IAM role of the stack, the service that assumes it, and each allowed
 * action with the resources it applies to (references rewritten for humans).
 */
import { asList, parsePolicy, physicalName, prettyRef, type SynthModel, type SynthResource } from './model.ts';

export interface Permission {
  actions: string[];
  resources: string[];
  condition?: string;
}

export interface Principal {
  /** Role name. */
  name: string;
  address: string;
  /** Who assumes it, e.g. lambda.amazonaws.com. */
  trusts: string[];
  permissions: Permission[];
  /** Managed policies attached (not reviewable statement by statement). */
  managedPolicies: string[];
}

/** The identity policies attached to a role: inline ones and aws_iam_role_policy resources. */
export function rolePolicies(model: SynthModel, role: SynthResource): { source: SynthResource; statements: Record<string, unknown>[] }[] {
  const out: { source: SynthResource; statements: Record<string, unknown>[] }[] = [];
  for (const p of model.ofType('aws_iam_role_policy')) {
    const target = model.resolve(String(p.config.role ?? ''));
    if (target?.address !== role.address && p.config.role !== role.config.name) continue;
    out.push({ source: p, statements: parsePolicy(p.config.policy)?.Statement ?? [] });
  }
  for (const inline of asList(role.config.inline_policy).length ? (role.config.inline_policy as { policy?: string }[]) : []) {
    out.push({ source: role, statements: parsePolicy(inline.policy)?.Statement ?? [] });
  }
  return out;
}

export function principals(model: SynthModel): Principal[] {
  return model.ofType('aws_iam_role').map((role) => {
    const trust = parsePolicy(role.config.assume_role_policy)?.Statement ?? [];
    const trusts = trust.flatMap((s) => {
      const p = s.Principal as Record<string, unknown> | string | undefined;
      return typeof p === 'string' ? [p] : Object.values(p ?? {}).flatMap(asList);
    });
    const permissions: Permission[] = rolePolicies(model, role).flatMap(({ statements }) =>
      statements
        .filter((s) => s.Effect === 'Allow')
        .map((s) => ({
          actions: asList(s.Action ?? s.NotAction),
          resources: asList(s.Resource ?? s.NotResource).map((r) => prettyRef(model, r)),
          ...(s.Condition ? { condition: prettyRef(model, JSON.stringify(s.Condition)) } : {}),
        })),
    );
    const managedPolicies = model
      .ofType('aws_iam_role_policy_attachment')
      .filter((a) => model.resolve(String(a.config.role ?? ''))?.address === role.address || a.config.role === role.config.name)
      .map((a) => String(a.config.policy_arn));
    return { name: physicalName(role, model), address: role.address, trusts, permissions, managedPolicies };
  });
}
