/**
 * checkov (the policy scanner most plan reviewers run) as a step of `spotify-pipeline plan`: the
 * synthesized stack is written to a temp folder as `stack.tf.json` and scanned by checkov's
 * `terraform_json` framework, from the pinned version in its own venv (scripts/python.mjs
 * `findCheckov`; `node scripts/python.mjs checkov` creates it). Offline: no Prisma Cloud
 * mappings or guidelines are downloaded (BC_SKIP_MAPPING, --skip-download), and the run is
 * bounded in time.
 *
 * Every check the stack fails on purpose is listed in BY_DESIGN with the reason, per profile
 * (README "Review a plan" has the same table; terraform/checkov/.checkov.yaml skips the
 * default's for a manual `checkov --config-file` run). checkov 3.3's terraform_json framework
 * ignores `checkov:skip=` comments, so the skips are matched here: a failure listed for the
 * stack's profile (and, where given, for that bucket only) is reported as skipped by design with
 * its reason, any other is a failure, and a listed exception that no longer fails is reported
 * as stale.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../../core/root.ts';
import { BUCKET_ROLE_TAG } from '../constructs/ownership.ts';
import type { Json, JsonObject } from './model.ts';

export type Profile = 'default' | 'hardened';

/** A checkov check the stack fails on purpose, and why. */
export interface ByDesign {
  id: string;
  /** The profiles it is an exception of. */
  profiles: Profile[];
  /** Only for the bucket with this `spotify-pipeline:bucket` tag (e.g. access-logs); every resource when absent. */
  bucket?: string;
  reason: string;
}

const BOTH: Profile[] = ['default', 'hardened'];
const DEFAULT: Profile[] = ['default'];
const HARDENED_HAS_IT = 'profile hardened turns it on';

/** The exceptions, per profile. Default: cheap secure defaults. Hardened: only what cannot apply to this stack. */
export const BY_DESIGN: ByDesign[] = [
  { id: 'CKV_AWS_117', profiles: BOTH, reason: 'Lambda outside a VPC: the extractor calls the Spotify Web API on the internet and reaches only S3 and Secrets Manager; a VPC would need a NAT gateway (about $32/month) and protects no private resource' },
  { id: 'CKV_AWS_272', profiles: BOTH, reason: 'no Lambda code signing: Terraform uploads the bundle it synthesized (its SHA-256 is in the plan, SP017 reviews its content); AWS Signer signs only objects a signing job copies in S3, outside the plan' },
  { id: 'CKV2_AWS_57', profiles: BOTH, reason: 'no automatic secret rotation: the Spotify client secret can only be rotated in the Spotify dashboard, and the refresh token is rotated by Spotify and written back by the extractor' },
  { id: 'CKV_AWS_144', profiles: BOTH, reason: 'no cross-region replication: it needs a second bucket and provider in another region and doubles storage; raw is versioned, and curated is rebuilt from it' },
  { id: 'CKV_AWS_115', profiles: BOTH, reason: 'no function-level concurrency limit by default: reserving any fails on new accounts (a quota of 10 leaves none to reserve); the lake lease keeps runs one at a time (SP008), and aws.lambda.reserved_concurrency opts in' },
  { id: 'CKV_AWS_285', profiles: BOTH, reason: 'no Step Functions execution logging: Step Functions needs logs:CreateLogDelivery, logs:PutResourcePolicy, ... on Resource "*" to log (no resource-level permissions), an account-wide grant the starter does not justify; its failures raise an alarm and Glue logs every run' },
  { id: 'CKV_AWS_18', profiles: ['hardened'], bucket: 'access-logs', reason: 'the access-log bucket does not log its own access (logging into itself loops)' },
  { id: 'CKV_AWS_145', profiles: ['hardened'], bucket: 'access-logs', reason: 'the access-log bucket uses SSE-S3: S3 server access logs cannot be delivered to an SSE-KMS bucket' },
  { id: 'CKV_AWS_18', profiles: DEFAULT, reason: `no S3 access logs: opt-in (aws.access_logging); ${HARDENED_HAS_IT}` },
  { id: 'CKV_AWS_145', profiles: DEFAULT, reason: `SSE-S3, not SSE-KMS, unless aws.kms_key_arn is set: a customer-managed key costs $1/month; ${HARDENED_HAS_IT}` },
  { id: 'CKV_AWS_149', profiles: DEFAULT, reason: 'secrets use the AWS-managed aws/secretsmanager key unless aws.kms_key_arn is set' },
  { id: 'CKV_AWS_158', profiles: DEFAULT, reason: "the extractor's log group uses CloudWatch's own encryption unless aws.kms_key_arn is set (the Glue log groups always use a key: Glue requires one)" },
  { id: 'CKV_AWS_173', profiles: DEFAULT, reason: 'the Lambda environment (bucket names, no credentials: SP016) uses the AWS-managed key unless aws.kms_key_arn is set' },
  { id: 'CKV_AWS_297', profiles: DEFAULT, reason: 'schedules use an AWS-owned key unless aws.kms_key_arn is set (their payload is stream names)' },
  { id: 'CKV_AWS_338', profiles: DEFAULT, reason: `logs are kept aws.log_retention_days days (default 30), not a year: debugging logs, not an audit trail; ${HARDENED_HAS_IT} (365)` },
  { id: 'CKV_AWS_50', profiles: DEFAULT, reason: `no X-Ray tracing of the Lambda (a run is one function); ${HARDENED_HAS_IT}` },
  { id: 'CKV_AWS_284', profiles: DEFAULT, reason: `no X-Ray tracing of the starter state machine; ${HARDENED_HAS_IT}` },
  { id: 'CKV_AWS_116', profiles: DEFAULT, reason: `failed async invocations go to an on-failure destination (the SQS failure queue, SP014), which checkov does not recognise; ${HARDENED_HAS_IT} as a dead-letter queue` },
  { id: 'CKV_AWS_21', profiles: DEFAULT, reason: `only the lake bucket is versioned: Athena results and Glue artifacts are rebuilt or re-uploaded; ${HARDENED_HAS_IT}` },
  { id: 'CKV2_AWS_62', profiles: DEFAULT, reason: `only the lake bucket sends events (a committed run starts the transform); nothing consumes the others'; ${HARDENED_HAS_IT}` },
];

export interface CheckovFinding {
  id: string;
  /** checkov's check name. */
  title: string;
  /** Terraform address, `aws_s3_bucket.lake_bucket_666EA5BD`. */
  resource: string;
  /** Why it is skipped (exceptions only). */
  reason?: string;
}

export type CheckovReport =
  | {
      status: 'ran';
      version: string;
      profile: Profile;
      passed: number;
      /** Failures that are no documented exception: `plan` fails on them. */
      failed: CheckovFinding[];
      /** Failures documented as by design for this profile. */
      skipped: CheckovFinding[];
      /** Documented exceptions of this profile that no longer fail (the table should lose them). */
      stale: string[];
    }
  | { status: 'absent' | 'error'; message: string };

/** A checkov record, as `-o json` prints it (the fields used). */
interface CheckovRecord {
  check_id: string;
  check_name: string;
  resource: string;
}

/** The Terraform address of a record: checkov 3.3 names resources of python checks `resource.<name>`; the type is looked up. */
function address(resource: string, json: Json): string {
  const m = /^resource\.(.+)$/.exec(resource);
  if (!m) return resource;
  const types = (json.resource ?? {}) as Record<string, Record<string, unknown>>;
  const type = Object.keys(types).find((t) => m[1] in types[t]);
  return type ? `${type}.${m[1]}` : resource;
}

function bucketPurpose(addr: string, json: Json): string | undefined {
  const [type, name] = addr.split('.');
  if (type !== 'aws_s3_bucket') return undefined;
  const r = ((json.resource ?? {}) as Record<string, Record<string, JsonObject>>)[type]?.[name];
  return (r?.tags as Record<string, string> | undefined)?.[BUCKET_ROLE_TAG];
}

/** Sorts checkov's results into failures and documented exceptions (pure: the tests' and `plan`'s rule). */
export function classify(output: unknown, json: Json, profile: Profile): CheckovReport {
  const reports = (Array.isArray(output) ? output : [output]) as Array<{
    check_type?: string;
    summary?: { passed?: number; failed?: number; parsing_errors?: number; checkov_version?: string };
    results?: { failed_checks?: CheckovRecord[] };
  }>;
  const report = reports.find((r) => r.check_type === 'terraform_json') ?? reports.find((r) => r.results);
  // Nothing scanned, or a file it could not parse, is no pass.
  if (!report?.results || !((report.summary?.passed ?? 0) + (report.summary?.failed ?? 0))) return { status: 'error', message: 'checkov: scanned no Terraform JSON resource' };
  if (report.summary?.parsing_errors) return { status: 'error', message: `checkov: could not parse the synthesized stack (${report.summary.parsing_errors} parsing error(s))` };
  const exceptions = BY_DESIGN.filter((e) => e.profiles.includes(profile));
  const failed: CheckovFinding[] = [];
  const skipped: CheckovFinding[] = [];
  const used = new Set<ByDesign>();
  for (const r of report.results.failed_checks ?? []) {
    const resource = address(r.resource, json);
    const finding: CheckovFinding = { id: r.check_id, title: r.check_name, resource };
    const e = exceptions.find((x) => x.id === r.check_id && (!x.bucket || x.bucket === bucketPurpose(resource, json)));
    if (e) {
      used.add(e);
      skipped.push({ ...finding, reason: e.reason });
    } else failed.push(finding);
  }
  const order = (a: CheckovFinding, b: CheckovFinding) => a.id.localeCompare(b.id) || a.resource.localeCompare(b.resource);
  return {
    status: 'ran',
    version: report.summary?.checkov_version ?? 'unknown',
    profile,
    passed: report.summary?.passed ?? 0,
    failed: failed.sort(order),
    skipped: skipped.sort(order),
    stale: [...new Set(exceptions.filter((e) => !used.has(e)).map((e) => e.id))].sort(),
  };
}

/** checkov's executable in the project's venv (never created here), or undefined. */
export async function findCheckov(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const mod = (await import(pathToFileURL(join(projectRoot(), 'scripts', 'python.mjs')).href)) as { findCheckov(o: { env: NodeJS.ProcessEnv }): string | undefined };
  return mod.findCheckov({ env });
}

export const CHECKOV_ABSENT = 'checkov: not installed, skipped (create its venv with `node scripts/python.mjs checkov`)';

/**
 * Runs checkov on the synthesized JSON: one process, at most `timeoutMs`. A crash, a timeout or
 * output that is not checkov's JSON is an `error` report (said in one line), never a pass.
 */
export function runCheckov(json: Json, opts: { checkov?: string; profile: Profile; timeoutMs?: number; env?: NodeJS.ProcessEnv }): CheckovReport {
  if (!opts.checkov) return { status: 'absent', message: CHECKOV_ABSENT };
  const dir = mkdtempSync(join(tmpdir(), 'checkov-'));
  try {
    writeFileSync(join(dir, 'stack.tf.json'), JSON.stringify(json, null, 2));
    const timeoutMs = opts.timeoutMs ?? 120_000;
    const r = spawnSync(opts.checkov, ['-f', 'stack.tf.json', '--framework', 'terraform_json', '-o', 'json', '--quiet', '--compact', '--skip-download'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
      // Offline: no Prisma Cloud mappings; no API key is ever passed on.
      env: { PATH: process.env.PATH, HOME: dir, LANG: 'C.UTF-8', ...opts.env, BC_SKIP_MAPPING: 'TRUE', BC_API_KEY: '', PYTHONWARNINGS: 'ignore' },
    });
    if (r.error) {
      const timedOut = (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
      return { status: 'error', message: timedOut ? `checkov: no result within ${timeoutMs / 1000} s, stopped` : `checkov: cannot start ${opts.checkov}: ${r.error.message}` };
    }
    // Exit 1 = failed checks (a result); anything else but 0 is checkov failing.
    if (r.status !== 0 && r.status !== 1) return { status: 'error', message: `checkov exited ${r.status ?? r.signal}: ${lastLine(r.stderr)}` };
    let output: unknown;
    try {
      output = JSON.parse(r.stdout);
    } catch {
      return { status: 'error', message: `checkov printed no JSON: ${lastLine(r.stderr || r.stdout)}` };
    }
    return classify(output, json, opts.profile);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const lastLine = (s: string) => s.trim().split('\n').pop()?.slice(0, 300) ?? '';
