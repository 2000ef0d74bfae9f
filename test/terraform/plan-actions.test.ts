/**
 * `spotify-pipeline plan --plan-json`: one hand-written fixture per action a Terraform 1.11 plan
 * can hold (fixtures/plans/README.md says how each was made), each through the real CLI command
 * path; `--fail-on` exit codes; masking; the plan made from an older synth; the PR comment's
 * headline, cost section and truncation below GitHub's comment limit.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as main } from '../../bin/main.ts';
import { FAIL_ON, GITHUB_COMMENT_LIMIT, renderReview, reviewPipeline, type Review } from '../../terraform/review/index.ts';
import { FAIL_ON_VALUES, parseFailOn } from '../../terraform/plan-command.ts';
import { buildExtractorBundle } from '../../terraform/bundle.ts';
import { ENV, PLUGINS, SHIPPED, STUB_ENTRY, connectors, loadText, synth } from './helpers.ts';

const PLANS = join(import.meta.dirname, 'fixtures', 'plans');
const fixture = (name: string) => join(PLANS, `${name}.json`);
const tmp = mkdtempSync(join(tmpdir(), 'plan-actions-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// The deploy-time values the synth needs, and no state bucket from the machine's environment.
beforeAll(() => {
  vi.stubEnv('SPOTIFY_CLIENT_ID', ENV.SPOTIFY_CLIENT_ID);
  vi.stubEnv('TF_STATE_BUCKET', '');
  vi.stubEnv('CHECKPOINT_DISABLE', '1');
});
afterAll(() => vi.unstubAllEnvs());

const { file: PIPELINE } = loadText(SHIPPED);

/** Runs the CLI in-process, capturing its output. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  try {
    const code = await main(['node', 'spotify-pipeline', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

// checkov reviews the synth, not the plan: its run (seconds each) is test/terraform/checkov.test.ts's and plan.test.ts's.
const plan = (name: string, ...more: string[]) => cli(['plan', '-c', PIPELINE, '--plan-json', fixture(name), '--no-checkov', ...more]);
/** The text output's "Changes" section (to the policy checks). */
/** The changes section: up to the cost estimate (or the policy checks when there is none). */
const changesOf = (stdout: string) => {
  const start = stdout.indexOf('Changes (terraform plan)');
  const ends = ['\nCost estimate', '\nPolicy checks'].map((h) => stdout.indexOf(h, start)).filter((i) => i > 0);
  return stdout.slice(start, Math.min(...ends));
};
/** The cost part of the Markdown headline, when the estimate is in the review (terraform/cost). */
const EST = String.raw`(?:, est\. \$\d+\.\d\d/mo \([+-]\$\d+\.\d\d\))?`;
const headlineIs = (line: string, before: string, after: string) =>
  expect(line).toMatch(new RegExp(`^${before.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${EST}${after.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));

describe('plan --plan-json: one fixture per action', () => {
  it('create: listed under its query, values set and those known after apply', async () => {
    const r = await plan('create');
    expect(r.code).toBe(0);
    const ch = changesOf(r.stdout);
    expect(ch).toContain('1 to create, 0 to update, 0 to replace, 0 to destroy (0 unchanged)');
    expect(ch).toMatch(/ {2}query playlist_sizes\n {4}\+ {3}create {2}aws_athena_named_query\.athena_query-playlist_sizes_query_2E992D02 \(playlist_sizes\)\n/);
    expect(ch).toContain('      database = "my_spotify_lake"');
    expect(ch).toContain('      id = (known after apply)');
  });

  it('update: changed paths with before -> after, nested paths, sensitive and secret-named values masked', async () => {
    const r = await plan('update');
    expect(r.code).toBe(0);
    const ch = changesOf(r.stdout);
    for (const line of [
      'memory_size: 512 -> 1024',
      'tags.env: "dev" -> "prod"',
      'last_modified: "2026-11-20T08:00:00.000+0000" -> (known after apply)',
      // after_sensitive/before_sensitive mark it ...
      'environment[0].variables.SPOTIFY_CLIENT_ID: (sensitive) -> (sensitive)',
      // ... and a credential-named variable is masked though the provider did not mark it.
      'environment[0].variables.LEGACY_REFRESH_TOKEN: (sensitive) -> null',
      'rule[0].expiration[0].days: 30 -> 7',
      'recovery_window_in_days: 7 -> 0',
      // A JSON document in a string (an IAM policy) is diffed inside.
      'policy.Statement[0].Action[2]: "secretsmanager:DescribeSecret" -> null',
    ]) expect(ch).toContain(`      ${line}\n`);
    expect(ch).not.toContain('policy.Version');
    expect(ch).not.toContain('timeout'); // unchanged attributes are not listed
    expect(ch).not.toContain('tags_all'); // nor the provider's copy of the tags
    // A name the provider marks sensitive is not printed (it was, before).
    expect(ch).toMatch(/~ {3}update {2}aws_secretsmanager_secret\.secrets_spotify_refresh_token_2C619C74 \(name sensitive\)\n/);
    expect(ch).not.toContain('my-spotify-lake/spotify/refresh_token');
    const md = await plan('update', '--format', 'markdown');
    expect(md.stdout).toContain('- memory_size = 512\n+ memory_size = 1024\n');
    expect(md.stdout).toContain('+ environment[0].variables.SPOTIFY_CLIENT_ID = (sensitive)\n');
    for (const out of [r.stdout, r.stderr, md.stdout, md.stderr]) {
      for (const secret of ['old-client-id-1111', 'new-client-id-2222', 'tok-plain-9999']) expect(out).not.toContain(secret);
    }
  });

  it('delete of the lake bucket: the first line of the output; --fail-on destroy (and data-loss) exits 1', async () => {
    const first = /^DATA AT RISK: DESTROY the lake bucket my-spotify-lake \(aws_s3_bucket\.lake_bucket_666EA5BD\): the lake of pipeline my-spotify-lake: raw\/, _runs\/, _state\/, curated\//;
    const failing = await plan('delete', '--fail-on', 'destroy');
    expect(failing.stdout.split('\n')[0]).toMatch(first);
    expect(failing.code).toBe(1);
    expect(failing.stderr).toBe('error: plan: failing on destroy: 2 resource(s) destroyed: aws_s3_bucket.lake_bucket_666EA5BD, aws_scheduler_schedule.extractor_stream-old_stream_schedule_1A2B3C4D\n');
    expect((await plan('delete', '--fail-on', 'data-loss')).code).toBe(1);
    // Without --fail-on the default stays: policy checks only (they pass), but the warning still leads.
    const plain = await plan('delete');
    expect(plain.code).toBe(0);
    expect(plain.stdout.split('\n')[0]).toMatch(first);
    // The removed stream's schedule is placed by its logical id, and is no data.
    expect(changesOf(plain.stdout)).toMatch(/ {2}stream old_stream\n {4}- {3}destroy aws_scheduler_schedule\.\S+ \(my-spotify-lake-extractor-old_stream\) {2}delete because no resource config/);
    expect(plain.stdout).not.toMatch(/also .*aws_scheduler_schedule/);
    const md = await plan('delete', '--format', 'markdown', '--fail-on', 'destroy');
    expect(md.code).toBe(1);
    headlineIs(md.stdout.split('\n')[0], '### `my-spotify-lake`: ⚠️ destroys the lake bucket · +0 ~0 -2 ±0', ', 0 policy failures');
    expect(md.stdout).toContain('> - DESTROY the lake bucket my-spotify-lake (aws_s3_bucket.lake_bucket_666EA5BD): the lake of pipeline');
  });

  it('replace, delete before create: says so, names what forces it, lists the Glue table as data at risk', async () => {
    const r = await plan('replace-delete-first', '--fail-on', 'replace');
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe(
      "DATA AT RISK: REPLACE (delete-before-create) plays (aws_glue_catalog_table.catalog_table-plays_table_AA2E536F): table plays's schema and partition definition (the curated Parquet stays in S3; Athena cannot query it until the table is back)",
    );
    expect(changesOf(r.stdout)).toMatch(/-\/\+ replace aws_glue_catalog_table\.catalog_table-plays_table_AA2E536F \(plays\) {2}forced by partition_keys; delete before create: .*; replace because cannot update\n {10}arn: null -> \(known after apply\)/);
    expect(changesOf(r.stdout)).toContain('      partition_keys[0].name: null -> "dt"\n');
    expect((await plan('replace-delete-first', '--fail-on', 'destroy')).code).toBe(0);
  });

  it('replace, create before destroy: says so; the secret it replaces is data at risk, and a deposed object', async () => {
    const r = await plan('replace-create-first', '--fail-on', 'data-loss');
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toMatch(/^DATA AT RISK: REPLACE \(create-before-destroy\) .*: the Spotify client secret \(my-spotify-lake\/spotify\/client_secret\)$/);
    expect(changesOf(r.stdout)).toMatch(/\+\/- replace aws_secretsmanager_secret\.secrets_spotify_client_secret_450E0B8D \(my-spotify-lake\/spotify\/client_secret_v2\) {2}forced by name; create before destroy/);
    // A deposed object (a failed earlier create-before-destroy left it) goes too: said so, and at risk.
    expect(changesOf(r.stdout)).toMatch(/\n {4}- {3}destroy aws_secretsmanager_secret\.secrets_spotify_client_secret_450E0B8D \(my-spotify-lake\/spotify\/client_secret_v1\) {2}deposed object 3f8a9c1e \(left by a failed create-before-destroy\)\n/);
    expect(r.stdout).toContain('\n  also DESTROY (deposed object 3f8a9c1e) my-spotify-lake/spotify/client_secret_v1 (aws_secretsmanager_secret.secrets_spotify_client_secret_450E0B8D): the Spotify client secret (my-spotify-lake/spotify/client_secret_v1)\n');
  });

  it('read: a data source read during apply is listed and counted', async () => {
    const r = await plan('read');
    expect(r.code).toBe(0);
    expect(changesOf(r.stdout)).toMatch(/0 to destroy, 1 to read \(0 unchanged\)\n {2}shared\n {4}<= {2}read {4}data\.aws_iam_policy_document\.extractor_assume_9F1E2D3C {2}read because config unknown\n/);
  });

  it('no-op: nothing to fail on, a no-change plan is not "errored"', async () => {
    const r = await plan('noop', '--fail-on', 'destroy,replace,drift,data-loss');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Changes (terraform plan): 0 to create, 0 to update, 0 to replace, 0 to destroy (1 unchanged)\n');
    expect(r.stdout).not.toContain('PLAN ERRORED');
    const md = await plan('noop', '--format', 'markdown');
    headlineIs(md.stdout.split('\n')[0], '### `my-spotify-lake`: +0 ~0 -0 ±0', ', 0 policy failures ✅');
  });

  it('forget: removed from state only, no crash, no data at risk, not a destroy', async () => {
    const r = await plan('forget', '--fail-on', 'destroy,data-loss');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('DATA AT RISK');
    expect(changesOf(r.stdout)).toMatch(/0 to destroy, 1 to forget \(0 unchanged\)\n {2}shared\n {4}\. {3}forget {2}aws_cloudwatch_log_group\.extractor_logs_A0A42B77 \(\/aws\/lambda\/my-spotify-lake-extractor\) {2}removed from state only: the object is kept in AWS, unmanaged/);
  });

  it('import: listed as imports (with the id), not as unchanged', async () => {
    const r = await plan('import');
    expect(r.code).toBe(0);
    const ch = changesOf(r.stdout);
    expect(ch).toContain('0 to create, 1 to update, 0 to replace, 0 to destroy, 2 to import (0 unchanged)');
    expect(ch).toMatch(/<- {2}import {2}aws_s3_bucket\.lake_athena-results_bucket_20FEF4CF \(my-spotify-lake-athena-results\) {2}imported from id my-spotify-lake-athena-results\n/);
    expect(ch).toMatch(/~ {3}update {2}aws_athena_workgroup\.athena_workgroup_43BFB787 \(my-spotify-lake\) {2}imported from id my-spotify-lake\n {10}configuration\[0\]\.bytes_scanned_cutoff_per_query: null -> 10737418240\n/);
    expect(ch).toContain('      tags["spotify-pipeline:pipeline"]: null -> "my-spotify-lake"\n');
  });

  it('moved: the old address is named, and it is not counted as unchanged', async () => {
    const r = await plan('moved');
    expect(r.code).toBe(0);
    expect(changesOf(r.stdout)).toMatch(/0 to destroy, 1 moved \(0 unchanged\)\n {2}table plays\n {4}-> {2}move {4}aws_glue_catalog_table\.catalog_table-plays_table_AA2E536F \(plays\) {2}moved from aws_glue_catalog_table\.catalog_plays_table_0F1E2D3C\n/);
  });

  it('drift: its own section, masked; --fail-on drift exits 1', async () => {
    const r = await plan('drift', '--fail-on', 'drift');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('failing on drift: 1 resource(s) changed outside Terraform: aws_lambda_function.extractor_function_44B6A519');
    expect(r.stdout).toMatch(/\nDrift: 1 resource\(s\) changed outside Terraform since the last apply.*\n {2}~ {3}update {2}aws_lambda_function\.extractor_function_44B6A519 \(my-spotify-lake-extractor\)\n {8}environment\[0\]\.variables\.DEBUG_API_TOKEN: null -> \(sensitive\)\n {8}memory_size: 512 -> 2048\n/);
    expect(r.stdout).not.toContain('console-pasted-token-7777');
    expect((await plan('drift')).code).toBe(0);
    const md = await plan('drift', '--format', 'markdown');
    expect(md.stdout.split('\n')[0]).toContain('+0 ~1 -0 ±0 (1 drifted)');
    expect(md.stdout).not.toContain('console-pasted-token-7777');
  });

  it('deferred: listed with the reason, the plan said incomplete', async () => {
    const r = await plan('deferred');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\nDeferred: 1 change\(s\) Terraform will plan in a later run \(the plan is incomplete: apply, then plan again\)\n {2}\+ {3}create {2}aws_athena_named_query\.athena_query-history_top_tracks_query_851C215A \(history_top_tracks\) {2}deferred: resource config unknown\n/);
  });

  it('errored: exits 1 always, even with --fail-on none, and says so first', async () => {
    for (const args of [[], ['--fail-on', 'none'], ['--fail-on', 'destroy']]) {
      const r = await plan('errored', ...args);
      expect(r.code).toBe(1);
      expect(r.stdout.split('\n')[0]).toMatch(/^PLAN ERRORED: /);
      expect(r.stderr).toContain('failing on errored');
    }
    const md = await plan('errored', '--format', 'markdown');
    headlineIs(md.stdout.split('\n')[0], '### `my-spotify-lake`: ⛔ plan errored · +0 ~1 -0 ±0', ', 0 policy failures ❌');
  });

  it('an unknown action: one line, exit 2, naming the file, line and address', async () => {
    const r = await plan('unknown-action');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`error: ${fixture('unknown-action')}:9: resource_changes: unknown change actions [teleport] for aws_sqs_queue.extractor_failures_7AA0C9BA (this review knows Terraform 1.11's: create, update, delete, replace, read, no-op, forget)\n`);
  });
});

describe('plan made from another synth', () => {
  const { model } = synth(SHIPPED);
  const current = model.resources.map((r) => r.address);
  const LAMBDA = 'aws_lambda_function.extractor_function_44B6A519';
  /** The update fixture with a `configuration` of the current synth; the extractor's literal memory size as given. */
  function planOfCurrent(memorySize: unknown): string {
    const p = JSON.parse(readFileSync(fixture('update'), 'utf8'));
    p.configuration = {
      root_module: {
        resources: current.map((address) => ({
          address,
          mode: 'managed',
          expressions: address === LAMBDA ? { function_name: { constant_value: 'my-spotify-lake-extractor' }, memory_size: { constant_value: memorySize }, role: { references: ['aws_iam_role.extractor_role_F9CB21F1.arn'] } } : {},
        })),
      },
    };
    const f = join(tmp, `current-${String(memorySize)}.json`);
    writeFileSync(f, JSON.stringify(p));
    return f;
  }

  it('is named stale, with what differs; --fail-on stale exits 1', async () => {
    const r = await plan('stale', '--fail-on', 'stale');
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toMatch(new RegExp(`^STALE PLAN: .*; not in the plan: .*, … \\(${current.length - 1}\\); in the plan, not in the synth: aws_scheduler_schedule\\.extractor_stream-old_stream_schedule_1A2B3C4D\\. Synthesize and plan again\\.$`));
    expect(r.stderr).toContain(`failing on stale: the plan was made from another synth (${current.length - 1} resource(s) of the current synth missing, 1 not in it, 0 attribute(s) changed since)`);
  });

  it('--fail-on stale fails on a plan that cannot be checked (no configuration)', async () => {
    const r = await plan('noop', '--fail-on', 'stale');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('(the plan has no `configuration`: whether it was made from the current synth is not checked)');
    expect(r.stderr).toBe('error: plan: failing on stale: the plan has no `configuration`, so whether it was made from the current synth cannot be checked\n');
  });

  it('a plan of the current synth is not', async () => {
    const memory = model.byAddress.get(LAMBDA)!.config.memory_size as number;
    const r = await cli(['plan', '-c', PIPELINE, '--plan-json', planOfCurrent(memory), '--fail-on', 'stale', '--no-checkov']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('STALE');
  });

  it('one with the same addresses but another literal value is (pipeline.yaml changed since)', async () => {
    const memory = model.byAddress.get(LAMBDA)!.config.memory_size as number;
    const r = await cli(['plan', '-c', PIPELINE, '--plan-json', planOfCurrent(memory + 64), '--fail-on', 'stale', '--no-checkov']);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe(`STALE PLAN: it was made from another synth than the current one; changed since: ${LAMBDA}.memory_size. Synthesize and plan again.`);
    expect(r.stderr).toContain('failing on stale: the plan was made from another synth (0 resource(s) of the current synth missing, 0 not in it, 1 attribute(s) changed since)');
  });
});

describe('known secret values', () => {
  it('are masked in any attribute, whatever it is called (a credential-named environment variable\'s value)', async () => {
    const leaked = 'leaky-value-5150-abcdef';
    vi.stubEnv('SPOTIFY_EXTRA_TOKEN', leaked);
    const p = JSON.parse(readFileSync(fixture('create'), 'utf8'));
    p.resource_changes[0].change.after.description = `debug ${leaked}`;
    const f = join(tmp, 'leak.json');
    writeFileSync(f, JSON.stringify(p));
    try {
      for (const format of ['text', 'markdown']) {
        const r = await cli(['plan', '-c', PIPELINE, '--plan-json', f, '--format', format, '--no-checkov']);
        expect(r.stdout).not.toContain(leaked);
        expect(r.stdout).toContain(format === 'text' ? '      description = (sensitive)\n' : '+ description = (sensitive)\n');
      }
    } finally {
      vi.stubEnv('SPOTIFY_EXTRA_TOKEN', undefined);
    }
  });
});

describe('--fail-on', () => {
  it('knows the same conditions as the review', () => {
    expect([...FAIL_ON_VALUES]).toEqual([...FAIL_ON]);
    expect(parseFailOn('destroy, drift,destroy')).toEqual(['destroy', 'drift']);
    expect(parseFailOn('none')).toEqual([]);
  });

  it('refuses an unknown condition (exit 2, before any synth)', async () => {
    const r = await plan('noop', '--fail-on', 'destroy,explode');
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('error: --fail-on: unknown condition "explode" in "destroy,explode"');
    expect(r.stdout).toBe('');
  });
});

describe('PR comment (markdown)', () => {
  const { file, config } = loadText(SHIPPED);
  const bundle = buildExtractorBundle({ pipelineFile: file, entry: STUB_ENTRY, secretValues: [], connectors });
  // A huge plan, generated: the lake bucket destroyed, 3,000 updates with long values, drift.
  const N = 3000;
  const lambda = (i: number, mem: number) => ({ function_name: `fn-${i}`, memory_size: mem, description: `${'x'.repeat(200)} ${i}`, environment: [{ variables: { API_TOKEN: `secret-${i}` } }] });
  const huge = {
    format_version: '1.2',
    applyable: true,
    complete: true,
    errored: false,
    resource_changes: [
      { address: 'aws_s3_bucket.lake_bucket_666EA5BD', mode: 'managed', type: 'aws_s3_bucket', name: 'lake_bucket_666EA5BD', change: { actions: ['delete'], before: { bucket: 'my-spotify-lake', tags: { 'spotify-pipeline:bucket': 'lake', 'spotify-pipeline:pipeline': 'my-spotify-lake' } }, after: null } },
      ...Array.from({ length: N }, (_, i) => ({ address: `aws_lambda_function.fn_${i}`, mode: 'managed', type: 'aws_lambda_function', name: `fn_${i}`, change: { actions: ['update'], before: lambda(i, 128), after: { ...lambda(i, 256), description: `\`\`\` ${i} ${'y'.repeat(200)}` }, after_unknown: {}, before_sensitive: {}, after_sensitive: {} } })),
    ],
    resource_drift: [{ address: 'aws_lambda_function.fn_0', mode: 'managed', type: 'aws_lambda_function', name: 'fn_0', change: { actions: ['update'], before: lambda(0, 64), after: lambda(0, 128) } }],
  };
  const review = reviewPipeline(config, { pipelineFile: file, env: ENV, bundle, planJson: huge, connectors, plugins: PLUGINS });

  it('stays below GitHub\'s limit, cuts whole entries, closes every <details> and fence, and says what it cut', () => {
    const md = renderReview(review, 'markdown');
    expect(md.length).toBeLessThan(GITHUB_COMMENT_LIMIT);
    expect(md.length).toBeGreaterThan(GITHUB_COMMENT_LIMIT - 10_000); // cut to fit, not to nothing
    const lines = md.split('\n');
    expect(lines[0]).toBe(`### \`my-spotify-lake\`: ⚠️ destroys the lake bucket · +0 ~${N} -1 ±0 (1 drifted), 0 policy failures`);
    expect(md).toContain('> - DESTROY the lake bucket my-spotify-lake (aws_s3_bucket.lake_bucket_666EA5BD)');
    expect(md.match(/<details/g)!.length).toBe(md.match(/<\/details>/g)!.length);
    // Fences open and close in pairs; a value with ``` inside gets a longer fence.
    const fences = lines.filter((l) => /^`{3,}/.test(l));
    expect(fences.length % 2).toBe(0);
    for (let i = 0; i < fences.length; i += 2) expect(fences[i + 1]).toBe(fences[i].replace(/[a-z]+$/, ''));
    expect(fences).toContain('```diff'); // the drift's diff
    expect(fences).toContain('````diff'); // an update whose value holds ```
    // Every table row kept is whole.
    expect(lines.filter((l) => l.startsWith('| ~ update |')).every((l) => /^\| ~ update \| `aws_lambda_function\.fn_\d+` \| fn-\d+ \|$/.test(l))).toBe(true);
    const note = lines.at(-1)!;
    expect(note).toMatch(/^> ✂️ Truncated to stay under GitHub's 65,536-character comment limit: cut [\d,]+ of 3,001 entries of "Changes: shared"/);
    expect(note).toContain('"Attribute changes"');
    expect(md).not.toMatch(/secret-\d/);
  });

  it('with a cost estimate: the headline and its own section', () => {
    const withCost: Review = { ...review, cost: { monthlyUsd: 1.84, previousMonthlyUsd: 1.72, text: 'Lambda: $0.40/mo\nS3: $1.44/mo', markdown: '| item | $/mo |\n|---|---|\n| Lambda | 0.40 |' } };
    const md = renderReview(withCost, 'markdown');
    expect(md.split('\n')[0]).toContain(`+0 ~${N} -1 ±0 (1 drifted), est. $1.84/mo (+$0.12), 0 policy failures`);
    expect(md).toContain('<details><summary>Cost estimate: est. $1.84/mo (+$0.12)</summary>\n\n| item | $/mo |');
    const text = renderReview({ ...withCost, changes: undefined, changeGroups: undefined }, 'text');
    expect(text).toContain('\nCost estimate: est. $1.84/mo (+$0.12)\n  Lambda: $0.40/mo\n  S3: $1.44/mo\n');
    const cheaper = renderReview({ ...withCost, changes: undefined, cost: { ...withCost.cost!, previousMonthlyUsd: 2 } }, 'markdown');
    expect(cheaper.split('\n')[0]).toBe(`### \`my-spotify-lake\`: ${review.resourceCount} resources (no plan given), est. $1.84/mo (-$0.16), 0 policy failures ✅`);
  });
});
