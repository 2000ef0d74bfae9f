/**
 * `spotify-pipeline plan`: the review summary, its exit codes, Markdown output, and the summary
 * of a `terraform show -json` plan (a hand-written fixture in the real shape).
 */
import { describe, expect, it, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as main } from '../../bin/main.ts';
import { actionOf, renderReview, reviewPipeline, summarizePlan } from '../../terraform/review/index.ts';
import { ENV, ROOT, SHIPPED, STUB_ENTRY, PLUGINS, connectors, loadText, synth, withAws } from './helpers.ts';
import { buildExtractorBundle } from '../../terraform/bundle.ts';

const PLAN = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'plan.json'), 'utf8'));

/** Runs the CLI in-process, capturing its output, with the deploy-time values of `env` (default ENV: the client id) set. */
async function cli(args: string[], env: Record<string, string> = ENV): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  vi.stubEnv('SPOTIFY_CLIENT_ID', env.SPOTIFY_CLIENT_ID ?? '');
  try {
    const code = await main(['node', 'spotify-pipeline', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    vi.unstubAllEnvs();
  }
}

describe('plan JSON summary', () => {
  const { owners } = (() => {
    const s = synth(SHIPPED);
    return { owners: new Map(s.model.resources.filter((r) => r.owner).map((r) => [r.address, r.owner!])) };
  })();

  it('maps Terraform action lists to create/update/replace/destroy', () => {
    expect(actionOf(['create'])).toBe('create');
    expect(actionOf(['update'])).toBe('update');
    expect(actionOf(['delete', 'create'])).toBe('replace');
    expect(actionOf(['create', 'delete'])).toBe('replace');
    expect(actionOf(['delete'])).toBe('destroy');
    expect(actionOf(['no-op'])).toBe('no-op');
    expect(() => actionOf(['explode'])).toThrow(/unknown change actions/);
  });

  it('counts and groups each change by stream, table, query or shared', () => {
    const p = summarizePlan(PLAN, owners);
    expect(p.counts).toEqual({ create: 1, update: 3, replace: 2, destroy: 2, read: 1, 'no-op': 1, forget: 0, import: 0, move: 0 });
    const rows = p.changes.map((c) => `${c.action} ${c.owner ? `${c.owner.kind}:${c.owner.name}` : 'shared'} ${c.type} ${c.name ?? ''}`.trim());
    expect(rows).toEqual([
      // A data source read during apply (its config unknown at plan time).
      'read shared aws_caller_identity',
      'update shared aws_lambda_function my-spotify-lake-extractor',
      'replace table:plays aws_glue_catalog_table plays',
      'update table:plays aws_s3_object my-spotify-lake-artifacts',
      'create query:playlist_sizes aws_athena_named_query playlist_sizes',
      // No longer in the stack: placed by its logical id (schedules cannot carry tags) ...
      'destroy stream:old_stream aws_scheduler_schedule my-spotify-lake-extractor-old_stream',
      // ... or by its spotify-pipeline:table tag.
      'destroy table:old_table aws_s3_object my-spotify-lake-artifacts',
      'update shared aws_iam_role_policy least-privilege',
      'replace shared aws_glue_job my-spotify-lake-transform',
    ]);
    expect(p.changes.find((c) => c.type === 'aws_glue_catalog_table')!.replacePaths).toEqual(['partition_keys']);
  });

  it('rejects what is not a plan', () => {
    expect(() => summarizePlan({ format_version: '1.2' })).toThrow(/resource_changes/);
  });

  it('renders the changes grouped in the review (text and markdown)', () => {
    const { file, config } = loadText(SHIPPED);
    const bundle = buildExtractorBundle({ pipelineFile: file, entry: STUB_ENTRY, secretValues: [], connectors });
    const r = reviewPipeline(config, { pipelineFile: file, env: ENV, bundle, planJson: PLAN, connectors, plugins: PLUGINS });
    expect(r.changeGroups!.map((g) => g.key)).toEqual(['shared', 'table plays', 'query playlist_sizes', 'stream old_stream', 'table old_table']);
    const text = renderReview(r, 'text');
    expect(text).toContain('Changes (terraform plan): 1 to create, 3 to update, 2 to replace, 2 to destroy, 1 to read (1 unchanged)');
    expect(text).toMatch(/table plays\n\s+-\/\+ replace aws_glue_catalog_table\.catalog_table-plays_table_\w+ \(plays\) {2}forced by partition_keys/);
    const md = renderReview(r, 'markdown');
    expect(md).toContain('#### Changes');
    expect(md).toMatch(/\*\*query playlist_sizes\*\*\n\n\| action \| resource \| name \|\n\|---\|---\|---\|\n\| \+ create \| `aws_athena_named_query\.athena_query-playlist_sizes_query_\w+` \| playlist_sizes \|/);
    // The headline comes first: +create ~update -destroy ±replace, then the policy failures.
    expect(md.split('\n')[0]).toBe('### `my-spotify-lake`: ⚠️ 2 data-bearing resource(s) at risk · +1 ~3 -2 ±2, 0 policy failures');
  });
});

describe('review summary', () => {
  const { file, config } = loadText(SHIPPED);
  const bundle = buildExtractorBundle({ pipelineFile: file, entry: STUB_ENTRY, secretValues: [], connectors });
  const r = reviewPipeline(config, { pipelineFile: file, env: ENV, bundle, connectors, plugins: PLUGINS });

  it('groups resources by stream, table and query, shared first', () => {
    expect(r.groups.map((g) => g.key)).toEqual([
      'shared',
      // The included export pipeline deploys with it: its upload trigger belongs to its one stream.
      'stream listening_history',
      'table plays', 'table playlist_tracks', 'table tracks', 'table playlists', 'table artists', 'table listening_history', 'table recommendations',
      'query top_artists_last_7_days', 'query listening_minutes_per_day', 'query artists_across_playlists', 'query playlist_sizes',
      'query hours_per_artist_per_year', 'query history_hours_per_year', 'query history_top_tracks',
    ]);
    expect(r.groups.find((g) => g.key === 'table plays')!.resources.map((x) => `${x.type} ${x.name}`)).toEqual([
      'aws_glue_catalog_table plays',
      'aws_s3_object s3://my-spotify-lake-artifacts/glue-jobs/specs/plays.json',
    ]);
    // The recommendations: a catalog table and the derived spec the job builds it from.
    expect(r.groups.find((g) => g.key === 'table recommendations')!.resources.map((x) => `${x.type} ${x.name}`)).toEqual([
      'aws_glue_catalog_table recommendations',
      'aws_s3_object s3://my-spotify-lake-artifacts/glue-jobs/specs/derived/recommendations.json',
    ]);
  });

  it('lists each principal\'s permissions as actions -> resources, in readable names', () => {
    const extractor = r.principals.find((p) => p.name === 'my-spotify-lake-extractor')!;
    expect(extractor.trusts).toEqual(['lambda.amazonaws.com']);
    expect(extractor.permissions).toContainEqual({ actions: ['secretsmanager:PutSecretValue'], resources: ['secret:my-spotify-lake/spotify/refresh_token'] });
    expect(extractor.permissions).toContainEqual({
      actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
      resources: [
        'arn:aws:s3:::my-spotify-lake/raw/*',
        'arn:aws:s3:::my-spotify-lake/_runs/*',
        'arn:aws:s3:::my-spotify-lake/_state/*',
        'arn:aws:s3:::my-spotify-lake/_lease/*',
        'arn:aws:s3:::my-spotify-lake/_quarantine/*',
      ],
    });
    expect(extractor.permissions.flatMap((p) => p.actions).filter((a) => a.startsWith('secretsmanager:')).sort()).toEqual(['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue']);
    // The Glue script reads and writes by path: no Glue catalog action at all.
    const glue = r.principals.find((p) => p.name === 'my-spotify-lake-transform')!;
    expect(glue.permissions.flatMap((p) => p.actions).filter((a) => a.startsWith('glue:'))).toEqual([]);
  });

  it('prints the bundle size, the checks and the warnings', () => {
    const text = renderReview(r, 'text');
    expect(text).toContain(`extractor bundle: ${bundle.bytes.toLocaleString('en-US')} bytes`);
    expect(text).toMatch(/^ {2}ok {3}SP001 buckets block public access$/m);
    expect(text).toContain('All 18 policy checks passed.');
    expect(renderReview(r, 'markdown').split('\n')[0]).toBe(`### \`my-spotify-lake\`: ${r.resourceCount} resources (no plan given), 0 policy failures ✅`);
  });
});

describe('spotify-pipeline plan (CLI)', () => {
  it('on the shipped pipeline: exits 0 and prints the summary with the real bundle\'s size', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'spotify-pipeline.mjs'), 'plan'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, ...ENV, TF_STATE_BUCKET: '' },
      timeout: 120_000,
    });
    expect(r.stdout).toMatch(/extractor bundle: [\d,]+ bytes \([\d.]+ [KM]iB\), \d+ npm packages, entry generated \(connectors spotify, spotify-history; pipelines pipeline\.yaml, connectors\/spotify-history\/pipeline\.yaml\)/);
    expect(r.stdout).toContain('IAM permissions (actions -> resources)');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('on a pipeline that turns encryption off and opens the buckets: exits 1 naming the checks and resources', async () => {
    const { file } = loadText(withAws('buckets: { public_access: allow, encryption: none }'));
    const r = await cli(['plan', '-c', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL SP001 buckets block public access\n\s+aws_s3_bucket\.\S+ \(my-spotify-lake-artifacts\): public access not blocked/);
    expect(r.stderr).toMatch(/SP001 buckets block public access: aws_s3_bucket\.lake_bucket_\w+ \(my-spotify-lake\)/);
    expect(r.stderr).toMatch(/SP002 buckets encrypted: aws_s3_bucket\.lake_bucket_\w+ \(my-spotify-lake\): no default encryption configuration/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // a finding, not a crash: no stack trace
  });

  it('--format markdown --plan-json prints a PR comment with the plan\'s changes', async () => {
    const { file } = loadText(SHIPPED);
    const r = await cli(['plan', '-c', file, '--format', 'markdown', '--plan-json', join(import.meta.dirname, 'fixtures', 'plan.json'), '--no-checkov']);
    expect(r.stdout).toMatch(/^### `my-spotify-lake`: /);
    expect(r.stdout).toContain('- **Changes:** 1 to create, 3 to update, 2 to replace, 2 to destroy, 1 to read (1 unchanged)');
    expect(r.stdout).toContain('| ✅ | SP005 | no IAM wildcard actions |  |');
  });

  it('exits 2 naming SPOTIFY_CLIENT_ID, with the fix, when the deploy-time client id is not set (the Lambda would fail every run)', async () => {
    const { file } = loadText(SHIPPED);
    const r = await cli(['plan', '-c', file], {});
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([expect.stringMatching(/^\S+\.yaml:\d+:\d+ connector\.config\.client_id: takes \$\{env:SPOTIFY_CLIENT_ID\}, which is not set in the synth environment: .*; export SPOTIFY_CLIENT_ID=\.\.\. and synthesize \(or plan\) again$/)]);
  });

  it('the CDKTF app (bin/synth.ts, what cdktf synth runs) refuses the same way, before bundling anything', () => {
    const { file } = loadText(SHIPPED);
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'SPOTIFY_CLIENT_ID'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bin', 'synth.ts')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...env, PIPELINE_FILE: file, CDKTF_OUTDIR: join(mkdtempSync(join(tmpdir(), 'synth-')), 'cdktf.out'), CHECKPOINT_DISABLE: '1' },
      timeout: 120_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/connector\.config\.client_id: takes \$\{env:SPOTIFY_CLIENT_ID\}, which is not set in the synth environment: .*export SPOTIFY_CLIENT_ID=\.\.\./)]);
  });

  it('says in a note line that runs are one at a time by the lease, without reserved concurrency', async () => {
    const { file } = loadText(SHIPPED);
    const r = await cli(['plan', '-c', file, '--no-checkov']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}ok {3}SP008 one extractor run at a time$/m);
    expect(r.stdout).toMatch(/^ {2}note: one extractor run at a time: each invocation takes the lease _lease\/extractor\.json in the lake bucket .*no reserved concurrency \(new accounts, quota 10, cannot reserve any; aws\.lambda\.reserved_concurrency: 1 adds it\)$/m);
  });

  it('exits 2 on a plan file that is not a plan', async () => {
    const { file } = loadText(SHIPPED);
    const bad = join(mkdtempSync(join(tmpdir(), 'plan-')), 'not-a-plan.json');
    writeFileSync(bad, '{"format_version":"1.2"}');
    const r = await cli(['plan', '-c', file, '--plan-json', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a Terraform plan/);
  });
});
