/**
 * Each policy check passes on the shipped pipeline and fails on a fixture that breaks exactly
 * its default: an explicit loosening in pipeline.yaml where one exists, otherwise a cdktf escape
 * hatch (the way a user customizing the stack would break it). Failures name the resource.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { type TerraformResource } from 'cdktf';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment/index.js';
import { SecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/secretsmanager-secret-version/index.js';
import { CHECKS } from '../../terraform/review/index.ts';
import type { PipelineStack } from '../../terraform/stack.ts';
import { KNOWN_SECRET, SHIPPED, check, synth, withAws } from './helpers.ts';

const child = (scope: { node: { findChild(id: string): unknown } }, id: string) => scope.node.findChild(id) as TerraformResource;
const extractorPolicy = (s: PipelineStack) => child(s.extractor.role, 'policy');

interface Fixture {
  why: string;
  yaml?: string;
  mutate?: (s: PipelineStack) => void;
  entry?: string;
  /** A resource address (or part of one) the violation must name. */
  names: RegExp;
}

const FIXTURES: Record<string, Fixture[]> = {
  SP001: [{ why: 'aws.buckets.public_access: allow', yaml: 'buckets: { public_access: allow }', names: /aws_s3_bucket\.lake_bucket_\w+ \(my-spotify-lake\): public access not blocked/ }],
  SP002: [
    { why: 'aws.buckets.encryption: none', yaml: 'buckets: { encryption: none }', names: /aws_s3_bucket\.lake_bucket_\w+ \(my-spotify-lake\): no default encryption/ },
    {
      why: 'SSE-KMS without a bucket key (override)',
      yaml: 'kms_key_arn: arn:aws:kms:eu-west-1:123456789012:key/abc',
      mutate: (s) => child(s.lake.results, 'encryption').addOverride('rule.0.bucket_key_enabled', false),
      names: /my-spotify-lake-athena-results\): SSE-KMS without an S3 bucket key/,
    },
  ],
  SP003: [{ why: 'aws.buckets.tls_only: false', yaml: 'buckets: { tls_only: false }', names: /\(my-spotify-lake-artifacts\): no bucket policy statement denies/ }],
  SP004: [{ why: 'aws.buckets.raw_versioning: false', yaml: 'buckets: { raw_versioning: false }', names: /\(my-spotify-lake\): versioning Suspended/ }],
  SP005: [
    {
      why: 'a wildcard action slipped into a role policy (override)',
      mutate: (s) =>
        extractorPolicy(s).addOverride('policy', JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Oops', Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::my-spotify-lake/*' }] })),
      names: /aws_iam_role_policy\.extractor_role_policy_\w+: statement Oops allows s3:\*/,
    },
    {
      why: 'a managed policy attached',
      mutate: (s) => new IamRolePolicyAttachment(s, 'managed', { role: s.transform.role.name, policyArn: 'arn:aws:iam::aws:policy/service-role/AWSGlueServiceRole' }),
      names: /aws_iam_role_policy_attachment\.managed: managed policy/,
    },
  ],
  SP006: [
    {
      why: 'a secret version with the value in state',
      mutate: (s) => new SecretsmanagerSecretVersion(s, 'value', { secretId: s.secrets.secrets.get('spotify/client_secret')!.id, secretString: 'do-not' }),
      names: /aws_secretsmanager_secret_version\.value/,
    },
  ],
  SP007: [
    { why: 'workgroup not enforced (override)', mutate: (s) => s.athena.workgroup.addOverride('configuration.enforce_workgroup_configuration', false), names: /does not enforce/ },
    { why: 'no scan cutoff (override)', mutate: (s) => s.athena.workgroup.addOverride('configuration.bytes_scanned_cutoff_per_query', null), names: /no bytes_scanned_cutoff/ },
  ],
  SP008: [
    {
      why: 'the function runs another handler than the bundle\'s leased one, reserved concurrency 10 (override)',
      mutate: (s) => {
        s.extractor.fn.addOverride('handler', 'other.handler');
        s.extractor.fn.addOverride('reserved_concurrent_executions', 10);
      },
      names: /my-spotify-lake-extractor\): runs other\.handler of other code than the extractor bundle's leased index\.handler, and reserved concurrency is 10/,
    },
    {
      why: 'the extractor may not write or delete the lease (its grants taken out)',
      mutate: (s) => {
        // The role's statements as its policy is rendered at synth: drop the _lease/ resources.
        for (const st of (s.extractor.role as unknown as { statements: Array<{ resources: string[] }> }).statements) {
          st.resources = st.resources.filter((r) => !r.endsWith('/_lease/*'));
        }
      },
      names: /my-spotify-lake-extractor\): its role may not s3:GetObject, s3:PutObject, s3:DeleteObject the lease my-spotify-lake\/_lease\/extractor\.json, and reserved concurrency is unset/,
    },
  ],
  SP009: [{ why: 'aws.log_retention_days: never', yaml: 'log_retention_days: never', names: /\/aws\/lambda\/my-spotify-lake-extractor\): no retention/ }],
  SP010: [
    {
      why: 'Resource "*" (override)',
      // The Glue role's policy: overriding the extractor's would also drop its lease grants (SP008).
      mutate: (s) =>
        child(s.transform.role, 'policy').addOverride('policy', JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Broad', Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] })),
      names: /statement Broad is not scoped/,
    },
  ],
  SP011: [{ why: 'queue encryption off (override)', mutate: (s) => s.extractor.failures.addOverride('sqs_managed_sse_enabled', false), names: /extractor-failures\): not encrypted/ }],
  SP012: [
    {
      why: 'CloudWatch encryption off (override)',
      mutate: (s) => s.transform.securityConfiguration.addOverride('encryption_configuration.cloudwatch_encryption.cloudwatch_encryption_mode', 'DISABLED'),
      names: /my-spotify-lake-transform\): CloudWatch logs encryption off/,
    },
  ],
  SP013: [{ why: 'ACLs re-enabled (override)', mutate: (s) => child(s.lake.lake, 'ownership').addOverride('rule.object_ownership', 'ObjectWriter'), names: /\(my-spotify-lake\): object ownership not BucketOwnerEnforced/ }],
  SP014: [{ why: 'no on-failure destination (override)', mutate: (s) => child(s.extractor, 'async').addOverride('destination_config', null), names: /failed invocations are dropped/ }],
  SP015: [{ why: 'the Glue role granted the secrets', mutate: (s) => s.secrets.grantToExtractor(s.transform.role), names: /aws_iam_role\.transform_role_\w+ \(my-spotify-lake-transform\): is granted Secrets Manager access/ }],
  SP016: [
    { why: 'a client secret in the environment (override)', mutate: (s) => s.extractor.fn.addOverride('environment.variables.SPOTIFY_CLIENT_SECRET', 'x'), names: /environment variable SPOTIFY_CLIENT_SECRET/ },
    { why: 'a variable named like a credential (the synth refusal\'s name rule)', mutate: (s) => s.extractor.fn.addOverride('environment.variables.HISTORY_HASH_SALT', 'x'), names: /environment variable HISTORY_HASH_SALT looks like a credential/ },
  ],
  SP017: [
    { why: 'the entry does not exist', entry: join(import.meta.dirname, 'fixtures', 'missing-entry.ts'), names: /not built: .*missing-entry\.ts does not exist/ },
    { why: 'a dev dependency in the bundle', entry: join(import.meta.dirname, 'fixtures', 'dev-dep-entry.ts'), names: /contains dev dependencies: .*vitest/ },
    { why: 'a credential in the bundle', entry: join(import.meta.dirname, 'fixtures', 'credential-entry.ts'), names: /contains a credential: AWS access key id/ },
    {
      why: 'the report bundle has a dev dependency (its record, not the cached bundle, changed)',
      mutate: (s) => Object.assign(s, { report: { ...s.report!, bundle: { ...s.report!.bundle, devPackages: ['vitest'] } } }),
      names: /^report bundle: contains dev dependencies: vitest$/,
    },
  ],
  SP018: [
    { why: 'a local secret\'s value in a resource (override)', mutate: (s) => s.athena.workgroup.addOverride('description', `key ${KNOWN_SECRET}`), names: /aws_athena_workgroup\.\S+ \(my-spotify-lake\): holds 1 secret value\(s\) in clear text/ },
  ],
};

describe('policy checks', () => {
  const shipped = synth(SHIPPED);

  it('every check has an id, a title, a one-line description and failing fixtures', () => {
    expect(CHECKS.map((c) => c.id)).toEqual(Object.keys(FIXTURES));
    for (const c of CHECKS) {
      expect(c.id).toMatch(/^SP\d{3}$/);
      expect(c.description).not.toMatch(/\n/);
    }
  });

  for (const c of CHECKS) {
    describe(`${c.id} ${c.title}`, () => {
      it('passes on the shipped pipeline', () => {
        expect(check(shipped, c.id)).toMatchObject({ ok: true, violations: [] });
      });
      for (const f of FIXTURES[c.id] ?? []) {
        it(`fails when ${f.why}`, () => {
          const s = synth(f.yaml ? withAws(f.yaml) : SHIPPED, { mutate: f.mutate, entry: f.entry });
          const r = check(s, c.id);
          expect(r.ok).toBe(false);
          expect(r.violations.map((v) => `${v.resource}: ${v.message}`).join('\n')).toMatch(f.names);
          // The fixture breaks its own default and no other one (SP017's bundle fixtures aside).
          const others = s.checks.filter((x) => !x.ok && x.id !== c.id).map((x) => x.id);
          expect(others).toEqual([]);
        });
      }
    });
  }

  it('grants refuse wildcards at the source', () => {
    const s = synth(SHIPPED);
    expect(() => s.stack.extractor.role.addToPolicy({ sid: 'X', actions: ['s3:*'], resources: ['arn:aws:s3:::b/*'] })).toThrow(/wildcard action/);
    expect(() => s.stack.extractor.role.addToPolicy({ sid: 'Y', actions: ['s3:GetObject'], resources: ['*'] })).toThrow(/every resource/);
  });
});
