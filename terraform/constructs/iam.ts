/**
 * One IAM role per function or job, with one inline policy built from grants. Constructs hand out
 * permissions through `grant*` methods (`lake.grantReadWrite(role, ...)`, `secrets.grantRead(role)`)
 * rather than callers writing policy JSON, so every permission a role has is traceable to a grant
 * and scoped to named resources. Wildcard actions are refused at the source.
 */
import { Construct } from 'constructs';
import { Lazy } from 'cdktf';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';

export type Conditions = Record<string, Record<string, string | string[]>>;

/**
 * Actions that support no resource-level permissions (the service authorizes them only on `*`):
 * a statement of these alone may name `*` (the X-Ray tracing of profile hardened). Check SP010
 * accepts exactly these.
 */
export const ACTIONS_WITHOUT_RESOURCES: readonly string[] = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'];

export interface PolicyStatement {
  /** Statement id: letters and digits, unique per role (a repeated sid merges resources). */
  sid: string;
  actions: string[];
  resources: string[];
  conditions?: Conditions;
}

export interface ServiceRoleProps {
  /** Physical role name (see names.ts). */
  name: string;
  /** The AWS service that assumes the role, e.g. lambda.amazonaws.com. */
  service: string;
  description: string;
  /** Conditions on the trust policy (confused-deputy protection: aws:SourceAccount, aws:SourceArn). */
  trustConditions?: Conditions;
}

/** A principal that constructs grant permissions to. */
export class ServiceRole extends Construct {
  readonly role: IamRole;
  private readonly statements: PolicyStatement[] = [];

  constructor(scope: Construct, id: string, props: ServiceRoleProps) {
    super(scope, id);
    this.role = new IamRole(this, 'role', {
      name: props.name,
      description: props.description,
      assumeRolePolicy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: props.service },
            Action: 'sts:AssumeRole',
            ...(props.trustConditions ? { Condition: props.trustConditions } : {}),
          },
        ],
      }),
    });
    new IamRolePolicy(this, 'policy', {
      name: 'least-privilege',
      role: this.role.id,
      // Lazy: grants made after this line (by later constructs) still land in the document.
      policy: Lazy.stringValue({ produce: () => JSON.stringify(this.document()) }),
    });
  }

  get arn(): string {
    return this.role.arn;
  }

  get name(): string {
    return this.role.name;
  }

  /** Adds (or extends, for a repeated sid) a statement. Actions must be explicit and resources named: no `*`. */
  addToPolicy(statement: PolicyStatement): void {
    const wild = statement.actions.filter((a) => a.includes('*'));
    if (wild.length) throw new Error(`${this.node.path}: wildcard action(s) ${wild.join(', ')} in ${statement.sid}; name each action`);
    if (statement.resources.length === 0) throw new Error(`${this.node.path}: statement ${statement.sid} names no resource`);
    if (statement.resources.includes('*') && !statement.actions.every((a) => ACTIONS_WITHOUT_RESOURCES.includes(a))) throw new Error(`${this.node.path}: statement ${statement.sid} applies to every resource (*); scope it`);
    const same = this.statements.find((s) => s.sid === statement.sid);
    if (same) {
      union(same.actions, statement.actions);
      union(same.resources, statement.resources);
      // Conditions of one sid combine per operator and key (e.g. more s3:prefix values).
      for (const [op, keys] of Object.entries(statement.conditions ?? {})) {
        same.conditions ??= {};
        const into = (same.conditions[op] ??= {});
        for (const [k, v] of Object.entries(keys)) {
          const have = into[k] === undefined ? [] : ([] as string[]).concat(into[k]);
          into[k] = union(have, ([] as string[]).concat(v));
        }
      }
      return;
    }
    this.statements.push({
      ...statement,
      actions: [...statement.actions],
      resources: [...statement.resources],
      ...(statement.conditions ? { conditions: structuredClone(statement.conditions) } : {}),
    });
  }

  private document() {
    if (this.statements.length === 0) throw new Error(`${this.node.path}: role has no permissions; grant it something or remove it`);
    return {
      Version: '2012-10-17',
      Statement: this.statements.map((s) => ({
        Sid: s.sid,
        Effect: 'Allow',
        Action: s.actions,
        Resource: s.resources,
        ...(s.conditions ? { Condition: s.conditions } : {}),
      })),
    };
  }
}

function union<T>(into: T[], more: T[]): T[] {
  for (const x of more) if (!into.includes(x)) into.push(x);
  return into;
}
