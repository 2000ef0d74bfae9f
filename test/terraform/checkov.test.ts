/**
 * checkov (the real one, pinned in terraform/checkov/requirements.txt, from its venv that the test
 * setup creates) on the default and the hardened synths of the shipped pipeline: one checkov run
 * per synth. The default fails exactly its documented exceptions, the hardened profile only its
 * own (what cannot apply), and the three places that list them agree: BY_DESIGN, the README's
 * table and terraform/checkov/.checkov.yaml. Plus what the hardened profile and aws.kms_key_arn
 * synthesize (the key on every log group, the schedules, the topic and the queue).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, SHIPPED, extractorFn, only, policyOf, synth, withAws, type Synth } from './helpers.ts';
import { BY_DESIGN, classify, findCheckov, renderReview, runCheckov, type CheckovReport, type Profile, type Review } from '../../terraform/review/index.ts';

const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
const exceptions = (p: Profile) => [...new Set(BY_DESIGN.filter((e) => e.profiles.includes(p)).map((e) => e.id))].sort();
const ids = (fs: { id: string }[]) => [...new Set(fs.map((f) => f.id))].sort();

// One synth per configuration for the whole file.
const def = synth(SHIPPED);
const hard = synth(withAws('profile: hardened\nalarm_email: ops@example.com'));
const kms = synth(withAws(`kms_key_arn: ${KEY}\nalarm_email: ops@example.com`));

function ran(r: CheckovReport) {
  if (r.status !== 'ran') throw new Error(`checkov did not run: ${r.message}`);
  return r;
}

describe('checkov on the synthesized stack', () => {
  let defReport: ReturnType<typeof ran>;
  let hardReport: ReturnType<typeof ran>;

  beforeAll(async () => {
    const bin = await findCheckov();
    expect(bin, 'checkov venv (created by test/setup/build.ts)').toBeTruthy();
    defReport = ran(runCheckov(def.json, { checkov: bin, profile: 'default' }));
    hardReport = ran(runCheckov(hard.json, { checkov: bin, profile: 'hardened' }));
  }, 240_000);

  it('default profile: 0 failures, and the skipped checks are exactly the documented exceptions', () => {
    expect(defReport.version).toBe(readFileSync(join(ROOT, 'terraform/checkov/requirements.txt'), 'utf8').match(/checkov==(\S+)/)![1]);
    expect(defReport.failed).toEqual([]);
    expect(ids(defReport.skipped)).toEqual(exceptions('default'));
    expect(defReport.stale).toEqual([]);
    expect(defReport.passed).toBeGreaterThan(50);
  });

  it('hardened profile: 0 failures beyond its documented exceptions (the access-log bucket\'s only on that bucket)', () => {
    expect(hardReport.failed).toEqual([]);
    expect(ids(hardReport.skipped)).toEqual(exceptions('hardened'));
    expect(hardReport.stale).toEqual([]);
    for (const s of hardReport.skipped.filter((f) => f.id === 'CKV_AWS_145' || f.id === 'CKV_AWS_18')) expect(s.resource).toMatch(/^aws_s3_bucket\.lake_access-logs_bucket_/);
    // Every check the default skips for want of a key, logs, tracing or a DLQ passes here.
    expect(exceptions('hardened').length).toBeLessThan(exceptions('default').length);
  });

  it('a finding that is no documented exception fails; a bucket-scoped exception covers only its bucket', () => {
    const record = (check_id: string, resource: string) => ({ check_id, check_name: check_id, resource });
    const lake = Object.keys(hard.json.resource.aws_s3_bucket as object).find((n) => n.startsWith('lake_bucket_'))!;
    const out = { check_type: 'terraform_json', summary: { passed: 1, failed: 2, checkov_version: 'x' }, results: { failed_checks: [record('CKV_AWS_145', `aws_s3_bucket.${lake}`), record('CKV_AWS_999', 'resource.extractor_function_44B6A519')] } };
    const r = ran(classify(out, hard.json, 'hardened'));
    expect(r.failed.map((f) => `${f.id} ${f.resource}`)).toEqual([`CKV_AWS_145 aws_s3_bucket.${lake}`, 'CKV_AWS_999 aws_lambda_function.extractor_function_44B6A519']);
    expect(r.skipped).toEqual([]);
    // Output that scanned nothing, or failed to parse the stack, is an error, never a pass.
    expect(classify({ check_type: 'terraform_json', summary: { passed: 0, failed: 0 }, results: { failed_checks: [] } }, hard.json, 'hardened').status).toBe('error');
    expect(classify({ ...out, summary: { ...out.summary, parsing_errors: 1 } }, hard.json, 'hardened').status).toBe('error');
  });

  it('says in one line when checkov is absent or broken, and never passes then', () => {
    expect(runCheckov(def.json, { checkov: undefined, profile: 'default' })).toEqual({ status: 'absent', message: expect.stringMatching(/^checkov: not installed, skipped \(create its venv with `node scripts\/python\.mjs checkov`\)$/) });
    const broken = runCheckov(def.json, { checkov: '/bin/false', profile: 'default' });
    expect(broken.status).toBe('error');
    expect(broken.status !== 'ran' && broken.message).toMatch(/^checkov printed no JSON/);
  });

  it('README "Review a plan" and terraform/checkov/.checkov.yaml list the same exceptions', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\| (CKV2?_AWS_\d+) [^|]+\| ([^|]+) \|/gm)].map((m) => ({ id: m[1], profiles: m[2] }));
    for (const p of ['default', 'hardened'] as const) expect([...new Set(rows.filter((r) => r.profiles.includes(p)).map((r) => r.id))].sort()).toEqual(exceptions(p));
    const config = parseYaml(readFileSync(join(ROOT, 'terraform/checkov/.checkov.yaml'), 'utf8')) as { framework: string[]; 'skip-check': string[] };
    expect(config.framework).toEqual(['terraform_json']);
    expect([...config['skip-check']].sort()).toEqual(exceptions('default'));
  });

  it('plan renders the result next to the SP checks', () => {
    // Rendering only (no second checkov run): the default report on a review of the same synth.
    const review: Review = { pipeline: 'p', file: 'f', state: 's', bundle: def.bundle, groups: [], resourceCount: 0, principals: [], checks: def.checks, warnings: [], notes: [], checkov: defReport, ok: true };
    const text = renderReview(review, 'text');
    expect(text).toMatch(/^ {2}checkov 3\.\d+\.\d+ \(profile default\): \d+ passed, 0 failed, \d+ skipped by design$/m);
    expect(text).toMatch(/^ {2}skip CKV_AWS_117 \(2\): Lambda outside a VPC/m);
    expect(renderReview(review, 'markdown')).toContain('<details><summary>checkov checks skipped by design</summary>');
  });
});

describe('profile hardened and aws.kms_key_arn', () => {

  const roleStatements = (s: Synth, roleName: RegExp) => {
    const role = s.model.ofType('aws_iam_role').find((r) => roleName.test(String(r.config.name)))!;
    const policy = s.model.ofType('aws_iam_role_policy').find((p) => s.model.resolve(String(p.config.role))?.address === role.address)!;
    return policyOf(policy.config).Statement;
  };

  it('with kms_key_arn, the log groups, schedules, alarm topic and failure queue use the key', () => {
    for (const g of kms.model.ofType('aws_cloudwatch_log_group')) expect(g.config.kms_key_id, String(g.config.name)).toBe(KEY);
    for (const sc of kms.model.ofType('aws_scheduler_schedule')) expect(sc.config.kms_key_arn, String(sc.config.name)).toBe(KEY);
    expect(only(kms, 'aws_sns_topic').kms_master_key_id).toBe(KEY);
    expect(only(kms, 'aws_sqs_queue')).toMatchObject({ kms_master_key_id: KEY });
    expect(only(kms, 'aws_sqs_queue').sqs_managed_sse_enabled).toBeUndefined();
    expect(kms.model.ofType('aws_kms_key')).toEqual([]);
    // The scheduler's role may use the key (encrypted schedules, dead letters into the encrypted queue), on that key only.
    expect(roleStatements(kms, /-scheduler$/).find((x) => x.Sid === 'KmsForSchedulesAndQueue')).toMatchObject({ Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: [KEY] });
    expect(kms.checks.filter((c) => !c.ok)).toEqual([]);
  });

  it('hardened creates one rotated key with a scoped policy and uses it everywhere a key is taken', () => {
    const keys = hard.model.ofType('aws_kms_key');
    expect(keys).toHaveLength(1);
    expect(keys[0].config).toMatchObject({ enable_key_rotation: true, deletion_window_in_days: 30 });
    const policy = policyOf(keys[0].config);
    expect(policy.Statement.every((s) => s.Principal !== '*' && !String(s.Action).includes('kms:*'))).toBe(true);
    expect(policy.Statement.find((s) => s.Sid === 'CloudWatchLogsEncryptsPipelineLogs')!.Condition.ArnLike['kms:EncryptionContext:aws:logs:arn']).toEqual([
      expect.stringMatching(/:log-group:\/aws\/lambda\/my-spotify-lake-extractor\*$/),
      expect.stringMatching(/:log-group:\/aws-glue\/jobs\/my-spotify-lake-transform\*$/),
      expect.stringMatching(/:log-group:\/aws\/lambda\/my-spotify-lake-report\*$/),
    ]);
    const keyRef = (v: unknown) => expect(hard.model.resolve(String(v))?.address).toBe(keys[0].address);
    for (const g of hard.model.ofType('aws_cloudwatch_log_group')) keyRef(g.config.kms_key_id);
    for (const sc of hard.model.ofType('aws_scheduler_schedule')) keyRef(sc.config.kms_key_arn);
    for (const s of hard.model.ofType('aws_secretsmanager_secret')) keyRef(s.config.kms_key_id);
    keyRef(only(hard, 'aws_sns_topic').kms_master_key_id);
    keyRef(only(hard, 'aws_sqs_queue').kms_master_key_id);
    keyRef(extractorFn(hard).kms_key_arn);
    keyRef(only(hard, 'aws_athena_workgroup').configuration.result_configuration.encryption_configuration.kms_key_arn);
    const sec = only(hard, 'aws_glue_security_configuration').encryption_configuration;
    for (const k of [sec.s3_encryption.kms_key_arn, sec.cloudwatch_encryption.kms_key_arn, sec.job_bookmarks_encryption.kms_key_arn]) keyRef(k);
  });

  it('hardened logs access, versions every bucket, traces, has a DLQ and keeps logs a year; every SP check passes', () => {
    const buckets = hard.model.ofType('aws_s3_bucket');
    expect(buckets.map((b) => b.config.bucket).sort()).toEqual(['my-spotify-lake', 'my-spotify-lake-access-logs', 'my-spotify-lake-artifacts', 'my-spotify-lake-athena-results']);
    expect(hard.model.ofType('aws_s3_bucket_versioning').map((v) => v.config.versioning_configuration.status)).toEqual(['Enabled', 'Enabled', 'Enabled', 'Enabled']);
    expect(hard.model.ofType('aws_s3_bucket_logging')).toHaveLength(3);
    const fn = extractorFn(hard);
    expect(fn.tracing_config).toEqual({ mode: 'Active' });
    expect(hard.model.resolve(String(fn.dead_letter_config.target_arn))?.type).toBe('aws_sqs_queue');
    for (const c of hard.model.ofType('aws_lambda_function_event_invoke_config')) expect(c.config.destination_config).toBeUndefined();
    const report = hard.model.ofType('aws_lambda_function').find((f) => f.config.function_name === 'my-spotify-lake-report')!.config;
    expect(report.tracing_config).toEqual({ mode: 'Active' });
    expect(hard.model.resolve(String(report.kms_key_arn))?.type).toBe('aws_kms_key');
    expect(hard.model.resolve(String(report.dead_letter_config.target_arn))?.type).toBe('aws_sqs_queue');
    expect(only(hard, 'aws_sfn_state_machine').tracing_configuration).toEqual({ enabled: true });
    for (const g of hard.model.ofType('aws_cloudwatch_log_group')) expect(g.config.retention_in_days).toBe(365);
    // `*` only for X-Ray's actions that take no other resource.
    const star = roleStatements(hard, /-extractor$/).filter((x) => (x.Resource as string[]).includes('*'));
    expect(star).toEqual([{ Sid: 'WriteTraces', Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: ['*'] }]);
    expect(hard.checks.filter((c) => !c.ok)).toEqual([]);
  });
});
