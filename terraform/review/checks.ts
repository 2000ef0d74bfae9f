/**
 * Policy checks of the secure defaults, run on the synthesized Terraform JSON. A default that
 * pipeline.yaml loosens (or that an escape-hatch override breaks) fails its check, naming the
 * resource; `spotify-pipeline plan` then exits 1. The README's check table lists the same ids.
 */
import type { ExtractorBundle, ReportBundle } from '../bundle.ts';
import { looksLikeCredential } from '../../core/secrets/names.ts';
import { LEASE_KEY } from '../../core/lambda/lease.ts';
import { BUCKET_ROLE_TAG } from '../constructs/ownership.ts';
import { asList, dig, jsonText, parsePolicy, physicalName, type JsonObject, type SynthModel, type SynthResource } from './model.ts';
import { rolePolicies } from './permissions.ts';
import { ACTIONS_WITHOUT_RESOURCES } from '../constructs/iam.ts';

export interface Violation {
  /** Resource address (or `bundle`). */
  resource: string;
  message: string;
}

export interface Check {
  id: string;
  title: string;
  /** One line: what passes. */
  description: string;
  run(model: SynthModel, ctx: CheckContext): Violation[];
}

export interface CheckContext {
  bundle?: ExtractorBundle;
  /** The report function's bundle (a pipeline with dashboards): SP017 holds it to the same rules. */
  reportBundle?: ReportBundle;
  /** Values that must appear nowhere in the stack (terraform/secrets.ts `knownSecretValues`): SP018. */
  secretValues?: string[];
}

export interface CheckResult {
  id: string;
  title: string;
  description: string;
  ok: boolean;
  violations: Violation[];
}

const label = (r: SynthResource) => `${r.address} (${physicalName(r)})`;

/** Resources of `type` whose `bucket` attribute points at `bucket` (by reference or by name). */
function forBucket(model: SynthModel, type: string, bucket: SynthResource): SynthResource[] {
  return model.ofType(type).filter((r) => {
    const ref = String(r.config.bucket ?? '');
    return model.resolve(ref)?.address === bucket.address || ref === bucket.config.bucket;
  });
}

const isTrue = (v: unknown) => v === true || v === 'true';
/** A Terraform block: the object, or the first of a list of them (fields unknown until checked). */
const first = (v: unknown): JsonObject | undefined => (Array.isArray(v) ? (v as unknown[])[0] : v) as JsonObject | undefined;

/** Every policy document in the stack: identity policies, and resource policies by kind. */
function policyDocs(model: SynthModel): { source: SynthResource; kind: 'identity' | 'resource' | 'key'; statements: JsonObject[] }[] {
  const out: { source: SynthResource; kind: 'identity' | 'resource' | 'key'; statements: JsonObject[] }[] = [];
  for (const role of model.ofType('aws_iam_role')) for (const p of rolePolicies(model, role)) out.push({ source: p.source, kind: 'identity', statements: p.statements });
  for (const p of model.ofType('aws_iam_policy')) out.push({ source: p, kind: 'identity', statements: parsePolicy(p.config.policy)?.Statement ?? [] });
  for (const type of ['aws_s3_bucket_policy', 'aws_sns_topic_policy', 'aws_sqs_queue_policy', 'aws_secretsmanager_secret_policy']) {
    for (const p of model.ofType(type)) out.push({ source: p, kind: 'resource', statements: parsePolicy(p.config.policy)?.Statement ?? [] });
  }
  for (const k of model.ofType('aws_kms_key')) out.push({ source: k, kind: 'key', statements: parsePolicy(k.config.policy)?.Statement ?? [] });
  return out;
}

/** Whether an IAM pattern (`*` and `?` wildcards) matches a name. */
const matches = (pattern: string, name: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(name);

/**
 * Why function `f` would not hold the lake's lease while it runs (empty: it does). The handler
 * (core/lambda/handler.ts) takes `<LAKE_PREFIX>_lease/extractor.json` in LAKE_BUCKET with a
 * conditional PutObject, reads a held one (GetObject) and deletes its own at the end.
 */
/** Whether the function's role may do `action` on `key` of the lake bucket its environment names. */
function roleMay(m: SynthModel, f: SynthResource, action: string, key: string): boolean {
  const vars = (first(f.config.environment)?.variables ?? {}) as Record<string, unknown>;
  const bucket = typeof vars.LAKE_BUCKET === 'string' ? vars.LAKE_BUCKET : undefined;
  if (!bucket) return false;
  // The object as a policy names it: the bucket's ARN by reference or literally.
  const lake = m.ofType('aws_s3_bucket').find((b) => b.config.bucket === bucket);
  const arns = [`arn:aws:s3:::${bucket}`, ...(lake ? [`\${${lake.address}.arn}`] : [])];
  const role = m.resolve(String(f.config.role ?? ''));
  return (
    !!role &&
    rolePolicies(m, role).some((p) =>
      p.statements.some(
        (st) =>
          st.Effect === 'Allow' &&
          asList(st.Action).some((a) => matches(a.toLowerCase(), action.toLowerCase())) &&
          asList(st.Resource).some((r) => arns.some((arn) => r.startsWith(`${arn}/`) && matches(r.slice(arn.length + 1), key))),
      ),
    )
  );
}

const prefixOf = (f: SynthResource) => {
  const vars = (first(f.config.environment)?.variables ?? {}) as Record<string, unknown>;
  return typeof vars.LAKE_PREFIX === 'string' ? vars.LAKE_PREFIX : '';
};

/** A function that may write stream state (the extractor; not the report, which only reads the lake). */
function writesState(m: SynthModel, f: SynthResource): boolean {
  const vars = (first(f.config.environment)?.variables ?? {}) as Record<string, unknown>;
  // No lake in its environment: it cannot take the lease either, so it is held to the check.
  return typeof vars.LAKE_BUCKET !== 'string' || roleMay(m, f, 's3:PutObject', `${prefixOf(f)}_state/stream.json`) || roleMay(m, f, 's3:PutObject', `${prefixOf(f)}_runs/run.json`);
}

function leaseProblems(m: SynthModel, f: SynthResource, ctx: CheckContext): string[] {
  const problems: string[] = [];
  const handler = ctx.bundle?.handler ?? 'index.handler';
  if (f.config.handler !== handler || (ctx.bundle && f.config.source_code_hash !== ctx.bundle.hash)) {
    problems.push(`runs ${jsonText(f.config.handler ?? 'no handler')} of other code than the extractor bundle's leased ${handler}`);
  }
  const vars = (first(f.config.environment)?.variables ?? {}) as Record<string, unknown>;
  const bucket = typeof vars.LAKE_BUCKET === 'string' ? vars.LAKE_BUCKET : undefined;
  if (!bucket) return [...problems, 'has no LAKE_BUCKET in its environment (the lease is in the lake)'];
  const key = `${prefixOf(f)}${LEASE_KEY}`;
  const missing = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'].filter((a) => !roleMay(m, f, a, key));
  if (missing.length) problems.push(`its role may not ${missing.join(', ')} the lease ${bucket}/${key}`);
  return problems;
}

export const CHECKS: Check[] = [
  {
    id: 'SP001',
    title: 'buckets block public access',
    description: 'every bucket has a public access block with all four settings on',
    run: (m) =>
      m.ofType('aws_s3_bucket').flatMap((b) => {
        const pab = forBucket(m, 'aws_s3_bucket_public_access_block', b)[0];
        if (!pab) return [{ resource: label(b), message: 'no public access block' }];
        const off = ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets'].filter((k) => !isTrue(pab.config[k]));
        return off.length ? [{ resource: label(b), message: `public access not blocked: ${off.join(', ')} off` }] : [];
      }),
  },
  {
    id: 'SP002',
    title: 'buckets encrypted',
    description: 'every bucket has default encryption: SSE-S3, or SSE-KMS with a bucket key',
    run: (m) =>
      m.ofType('aws_s3_bucket').flatMap((b) => {
        const sse = forBucket(m, 'aws_s3_bucket_server_side_encryption_configuration', b)[0];
        const rule = first(sse?.config.rule);
        const alg = first(rule?.apply_server_side_encryption_by_default)?.sse_algorithm;
        if (!sse || !alg) return [{ resource: label(b), message: 'no default encryption configuration' }];
        if (alg === 'aws:kms' && !isTrue(rule?.bucket_key_enabled)) return [{ resource: label(b), message: 'SSE-KMS without an S3 bucket key' }];
        return typeof alg === 'string' && ['AES256', 'aws:kms', 'aws:kms:dsse'].includes(alg) ? [] : [{ resource: label(b), message: `unknown encryption ${jsonText(alg)}` }];
      }),
  },
  {
    id: 'SP003',
    title: 'TLS-only bucket policy',
    description: 'every bucket policy denies requests with aws:SecureTransport = false',
    run: (m) =>
      m.ofType('aws_s3_bucket').flatMap((b) => {
        const statements = forBucket(m, 'aws_s3_bucket_policy', b).flatMap((p) => parsePolicy(p.config.policy)?.Statement ?? []);
        const denies = statements.some(
          (s) => s.Effect === 'Deny' && String(dig(s.Condition, 'Bool', 'aws:SecureTransport')) === 'false' && asList(s.Action).some((a) => a === 's3:*' || a === '*'),
        );
        return denies ? [] : [{ resource: label(b), message: 'no bucket policy statement denies aws:SecureTransport = false' }];
      }),
  },
  {
    id: 'SP004',
    title: 'raw versioning',
    description: 'the lake bucket (raw data) is versioned',
    run: (m) => {
      const lakes = m.ofType('aws_s3_bucket').filter((b) => dig(b.config.tags, BUCKET_ROLE_TAG) === 'lake');
      if (!lakes.length) return [{ resource: 'aws_s3_bucket', message: `no bucket tagged ${BUCKET_ROLE_TAG}=lake` }];
      return lakes.flatMap((b) => {
        const v = forBucket(m, 'aws_s3_bucket_versioning', b)[0];
        const status = first(v?.config.versioning_configuration)?.status;
        return status === 'Enabled' ? [] : [{ resource: label(b), message: `versioning ${jsonText(status ?? 'not configured')}` }];
      });
    },
  },
  {
    id: 'SP005',
    title: 'no IAM wildcard actions',
    description: 'no Allow statement (identity, resource or key policy) uses * in an action, or NotAction; no managed policies',
    run: (m) => [
      ...policyDocs(m).flatMap(({ source, statements }) =>
        statements
          .filter((s) => s.Effect === 'Allow')
          .flatMap((s) => {
            if (s.NotAction) return [{ resource: source.address, message: `statement ${jsonText(s.Sid ?? '(no sid)')} allows NotAction` }];
            const wild = asList(s.Action).filter((a) => a.includes('*'));
            return wild.length ? [{ resource: source.address, message: `statement ${jsonText(s.Sid ?? '(no sid)')} allows ${wild.join(', ')}` }] : [];
          }),
      ),
      ...m.ofType('aws_iam_role_policy_attachment').map((a) => ({ resource: a.address, message: `managed policy ${a.config.policy_arn} attached: list the actions instead` })),
    ],
  },
  {
    id: 'SP006',
    title: 'secrets have no value in state',
    description: 'no aws_secretsmanager_secret_version resource or data source: secret values are set out of band',
    run: (m) => [
      ...m.ofType('aws_secretsmanager_secret_version').map((r) => ({ resource: r.address, message: 'a secret value would be stored in the Terraform state' })),
      ...m.dataSources.filter((d) => d.type === 'aws_secretsmanager_secret_version').map((d) => ({ resource: d.address, message: 'reads a secret value into the Terraform state' })),
    ],
  },
  {
    id: 'SP007',
    title: 'Athena workgroup enforces config + cutoff',
    description: 'every workgroup enforces its configuration, has a bytes-scanned cutoff and encrypts results',
    run: (m) =>
      m.ofType('aws_athena_workgroup').flatMap((w) => {
        const c = first(w.config.configuration);
        const problems: string[] = [];
        if (!isTrue(c?.enforce_workgroup_configuration)) problems.push('does not enforce its configuration');
        if (!(Number(c?.bytes_scanned_cutoff_per_query) > 0)) problems.push('has no bytes_scanned_cutoff_per_query');
        if (!first(first(c?.result_configuration)?.encryption_configuration)?.encryption_option) problems.push('does not encrypt query results');
        return problems.map((p) => ({ resource: label(w), message: p }));
      }),
  },
  {
    id: 'SP008',
    title: 'one extractor run at a time',
    description: "every function that may write stream state or run manifests runs the extractor bundle's handler, which takes the lake's lease, with a role that may read, write and delete the lease object; or has reserved concurrency 1",
    run: (m, ctx) =>
      m.ofType('aws_lambda_function').filter((f) => writesState(m, f)).flatMap((f) => {
        const reserved: unknown = f.config.reserved_concurrent_executions;
        if (Number(reserved) === 1) return [];
        const problems = leaseProblems(m, f, ctx);
        return problems.length
          ? [{ resource: label(f), message: `${problems.join('; ')}, and reserved concurrency is ${jsonText(reserved ?? 'unset')}: overlapping runs could write the same stream state` }]
          : [];
      }),
  },
  {
    id: 'SP009',
    title: 'log retention set',
    description: 'every log group expires its events, and every function logs to a managed log group',
    run: (m) => [
      ...m.ofType('aws_cloudwatch_log_group').flatMap((g) =>
        Number(g.config.retention_in_days) > 0 ? [] : [{ resource: label(g), message: 'no retention (logs kept forever)' }],
      ),
      ...m.ofType('aws_lambda_function').flatMap((f) => {
        const target = first(f.config.logging_config)?.log_group;
        const name = `/aws/lambda/${f.config.function_name}`;
        const managed = m.ofType('aws_cloudwatch_log_group').some((g) => g.config.name === name || (target && m.resolve(jsonText(target))?.address === g.address) || g.config.name === target);
        return managed ? [] : [{ resource: label(f), message: 'logs to a log group this stack does not manage (no retention)' }];
      }),
    ],
  },
  {
    id: 'SP010',
    title: 'IAM resources scoped',
    description: 'no identity-policy Allow statement applies to Resource "*", but those of actions that take no other (X-Ray\'s PutTraceSegments, ...)',
    run: (m) =>
      policyDocs(m)
        .filter((d) => d.kind === 'identity')
        .flatMap(({ source, statements }) =>
          statements
            .filter((s) => !(asList(s.Action).length > 0 && asList(s.Action).every((a) => ACTIONS_WITHOUT_RESOURCES.includes(a)) && asList(s.Resource).every((r) => r === '*')))
            .filter((s) => s.Effect === 'Allow' && (s.NotResource || asList(s.Resource).some((r) => r === '*' || /^arn:aws[a-z-]*:[a-z0-9-]+:[^:]*:[^:]*:\*$/.test(r) || r === 'arn:aws:s3:::*')))
            .map((s) => ({ resource: source.address, message: `statement ${jsonText(s.Sid ?? '(no sid)')} is not scoped to named resources` })),
        ),
  },
  {
    id: 'SP011',
    title: 'queues encrypted',
    description: 'every SQS queue is encrypted (SSE-SQS or KMS)',
    run: (m) =>
      m.ofType('aws_sqs_queue').flatMap((q) =>
        isTrue(q.config.sqs_managed_sse_enabled) || q.config.kms_master_key_id ? [] : [{ resource: label(q), message: 'not encrypted' }],
      ),
  },
  {
    id: 'SP012',
    title: 'Glue jobs encrypted',
    description: 'every Glue job has a security configuration encrypting S3 data, CloudWatch logs and job bookmarks',
    run: (m) =>
      m.ofType('aws_glue_job').flatMap((j) => {
        const ref: unknown = j.config.security_configuration;
        const sc = ref ? (m.resolve(jsonText(ref)) ?? m.ofType('aws_glue_security_configuration').find((s) => s.config.name === ref)) : undefined;
        if (!sc) return [{ resource: label(j), message: 'no security configuration' }];
        const e = first(sc.config.encryption_configuration);
        const problems: string[] = [];
        const s3 = first(e?.s3_encryption)?.s3_encryption_mode;
        if (!s3 || s3 === 'DISABLED') problems.push('S3 encryption off');
        if (first(e?.cloudwatch_encryption)?.cloudwatch_encryption_mode !== 'SSE-KMS') problems.push('CloudWatch logs encryption off');
        if (first(e?.job_bookmarks_encryption)?.job_bookmarks_encryption_mode !== 'CSE-KMS') problems.push('job bookmark encryption off');
        return problems.map((p) => ({ resource: label(j), message: p }));
      }),
  },
  {
    id: 'SP013',
    title: 'bucket ACLs disabled',
    description: 'every bucket enforces bucket-owner object ownership (ACLs disabled)',
    run: (m) =>
      m.ofType('aws_s3_bucket').flatMap((b) => {
        const own = forBucket(m, 'aws_s3_bucket_ownership_controls', b)[0];
        return first(own?.config.rule)?.object_ownership === 'BucketOwnerEnforced' ? [] : [{ resource: label(b), message: 'object ownership not BucketOwnerEnforced' }];
      }),
  },
  {
    id: 'SP014',
    title: 'Lambda failures captured',
    description: 'every function sends failed async invocations to an on-failure destination or a dead-letter queue',
    run: (m) =>
      m.ofType('aws_lambda_function').flatMap((f) => {
        if (first(f.config.dead_letter_config)?.target_arn) return [];
        const has = m.ofType('aws_lambda_function_event_invoke_config').some((c) => {
          const target = m.resolve(String(c.config.function_name ?? ''));
          const dest = first(first(c.config.destination_config)?.on_failure)?.destination;
          return (target?.address === f.address || c.config.function_name === f.config.function_name) && !!dest;
        });
        return has ? [] : [{ resource: label(f), message: 'failed invocations are dropped (no on-failure destination or DLQ)' }];
      }),
  },
  {
    id: 'SP015',
    title: 'secrets readable only by the extractor',
    description: 'only the extractor function\'s role is granted Secrets Manager actions',
    run: (m) => {
      const fnRoles = new Set(m.ofType('aws_lambda_function').map((f) => m.resolve(String(f.config.role ?? ''))?.address));
      return m.ofType('aws_iam_role').flatMap((role) => {
        const grants = rolePolicies(m, role).some((p) => p.statements.some((s) => s.Effect === 'Allow' && asList(s.Action).some((a) => a.toLowerCase().startsWith('secretsmanager:'))));
        return grants && !fnRoles.has(role.address) ? [{ resource: label(role), message: 'is granted Secrets Manager access but is not the extractor\'s role' }] : [];
      });
    },
  },
  {
    id: 'SP016',
    title: 'no credentials in Lambda environment',
    description: 'no function environment variable is named like a credential (secret, token, password, salt, ..._KEY) or holds an AWS access key id',
    run: (m) =>
      m.ofType('aws_lambda_function').flatMap((f) => {
        const vars = (first(f.config.environment)?.variables ?? {}) as Record<string, string>;
        // The same name rule as the synth's refusal (terraform/secrets.ts), for what overrides add;
        // a secret's value under any name is SP018's.
        return Object.entries(vars)
          .filter(([k, v]) => looksLikeCredential(k) || /\b(AKIA|ASIA)[0-9A-Z]{16}\b/.test(String(v)))
          .map(([k]) => ({ resource: label(f), message: `environment variable ${k} looks like a credential: keep it in Secrets Manager (\${secret:...})` }));
      }),
  },
  {
    id: 'SP017',
    title: 'extractor bundle clean',
    description: 'the extractor bundle (and the report function\'s) was built from the real entry and has no dev dependency and no credential',
    run: (_m, ctx) =>
      ([['extractor bundle', ctx.bundle], ['report bundle', ctx.reportBundle]] as const).flatMap(([resource, b]) =>
        b
          ? [
              ...(b.placeholder ? [{ resource, message: `not built: ${b.placeholder}` }] : []),
              ...(b.devPackages.length ? [{ resource, message: `contains dev dependencies: ${b.devPackages.join(', ')}` }] : []),
              ...b.credentialFindings.map((f) => ({ resource, message: `contains a credential: ${f}` })),
            ]
          : [],
      ),
  },
  {
    id: 'SP018',
    title: 'no secret values in the stack',
    description: 'no local secret value (the secrets file, credential-named environment variables) appears anywhere in the synthesized JSON, the Lambda environment included',
    run: (m, ctx) => {
      const values = (ctx.secretValues ?? []).filter((v) => v.length >= 8);
      if (!values.length) return [];
      // Where each value sits: the resource (or block) whose configuration holds it. Never the value.
      const count = (json: unknown) => {
        const text = JSON.stringify(json);
        return values.filter((v) => text.includes(JSON.stringify(v).slice(1, -1))).length;
      };
      const out: Violation[] = [];
      for (const r of [...m.resources, ...m.dataSources]) {
        const n = count(r.config);
        if (n) out.push({ resource: label(r), message: `holds ${n} secret value(s) in clear text (it would be in the Terraform state): use \${secret:NAME}` });
      }
      // Anywhere else (outputs, locals, variables, the backend): named by the top-level block.
      for (const [block, json] of Object.entries(m.json)) {
        if (block === 'resource' || block === 'data') continue;
        const n = count(json);
        if (n) out.push({ resource: block, message: `holds ${n} secret value(s) in clear text: use \${secret:NAME}` });
      }
      return out;
    },
  },
];

export function runChecks(model: SynthModel, ctx: CheckContext = {}): CheckResult[] {
  return CHECKS.map((c) => {
    const violations = c.run(model, ctx);
    return { id: c.id, title: c.title, description: c.description, ok: violations.length === 0, violations };
  });
}
