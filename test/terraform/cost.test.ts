/**
 * The monthly cost estimate (`plan --cost`, terraform/cost/): the shipped pipeline's estimate
 * with every assumption, how the schedule drives the Lambda and Glue lines, the usage file and
 * its errors, the cost diff against a plan's prior state, and the cost section of the full plan.
 * Plans are hand-written in the shape of `terraform show -json` (resource_changes with before /
 * after), holding only the attributes the estimate reads.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as main } from '../../bin/main.ts';
import { costInputs, estimateCost, parseUsage, pipelineCost, runsPerMonth, usd, USAGE_KEYS, type CostEstimate } from '../../terraform/cost/index.ts';
import { loadIncludes } from '../../terraform/stack.ts';
import { ENV, PLUGINS, SHIPPED, loadText, withAws } from './helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cost-'));
let files = 0;
const write = (name: string, text: string) => {
  const f = join(tmp, `${++files}-${name}`);
  writeFileSync(f, text);
  return f;
};

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

// The estimate's region falls back to AWS_REGION: keep the machine's out of the assertions.
beforeEach(() => {
  vi.stubEnv('AWS_REGION', '');
  vi.stubEnv('AWS_DEFAULT_REGION', '');
});
afterEach(() => vi.unstubAllEnvs());

function estimate(text: string, usage?: string): CostEstimate {
  const { file, config } = loadText(text);
  const includes = loadIncludes(config, file).map((i) => i.config);
  const inputs = costInputs(config, includes, { plugins: PLUGINS, env: {} });
  return estimateCost(inputs, usage === undefined ? undefined : parseUsage(usage, 'usage.yml', inputs.queries.value));
}
const line = (e: CostEstimate, service: string, item: RegExp) => {
  const found = e.lines.filter((l) => l.service === service && item.test(l.item));
  expect(found, `${service} ${item}`).toHaveLength(1);
  return found[0];
};
const assumption = (e: CostEstimate, name: string) => e.assumptions.find((a) => a.name === name);

const DAILY = SHIPPED.replace(/^schedule: rate\(1 hour\)/m, 'schedule: rate(1 day)');

describe('cost estimate', () => {
  it('prints the shipped pipeline\'s estimate with every assumption, where it came from, and the price table\'s date and source', async () => {
    const { file } = loadText(SHIPPED);
    const r = await cli(['plan', '-c', file, '--cost']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const e = estimate(SHIPPED);
    expect(r.stdout).toMatch(new RegExp(`^Cost estimate of pipeline my-spotify-lake: est\\. \\$${e.monthlyUsd.toFixed(2)}/month, us-east-1 prices of \\d{4}-\\d{2}-\\d{2}`));
    // Every line and every assumption is printed, with its source.
    for (const l of e.lines) expect(r.stdout).toContain(l.item);
    for (const a of e.assumptions) expect(r.stdout).toMatch(new RegExp(`\\n  ${a.name.replace(/[.()]/g, '\\$&')} +${a.value.replace(/[.()$]/g, '\\$&')} +${a.source}: `));
    for (const s of ['Lambda', 'Glue', 'Athena', 'S3', 'Secrets Manager', 'KMS', 'CloudWatch', 'Step Functions', 'EventBridge Scheduler', 'SQS']) expect(e.lines.some((l) => l.service === s)).toBe(true);
    // No synth: --cost prints only the estimate.
    expect(r.stdout).not.toContain('Policy checks');
    expect(r.stdout).toContain('Prices: terraform/cost/prices/us-east-1.json');
    expect(r.stdout).toContain('https://aws.amazon.com/lambda/pricing/');
    // The figures come from pipeline.yaml and the stack's defaults.
    expect(assumption(e, 'schedule of my-spotify-lake (recently_played, my_playlists, playlist_items, artists)')).toMatchObject({ value: 'rate(1 hour) = 730 runs/month', source: 'pipeline.yaml' });
    expect(assumption(e, 'lambda memory')).toMatchObject({ value: '512 MB', source: 'default' });
    expect(assumption(e, 'secrets')).toMatchObject({ value: '2', source: 'pipeline.yaml' });
    expect(assumption(e, 'athena named queries')).toMatchObject({ value: '7' });
    expect(e.monthlyUsd).toBeCloseTo(e.lines.reduce((s, l) => s + l.monthlyUsd, 0), 10);
    // Athena bills at least 10 MB per query; Glue at least a minute per run.
    const q = line(e, 'Athena', /^query playlist_sizes /);
    expect(q.quantity).toBeGreaterThanOrEqual((30 * 10) / 1024 / 1024);
    const tiny = estimate(SHIPPED, 'athena: { gb_scanned_per_query: 0.000001 }\nglue: { duration_minutes: 0.1 }');
    expect(line(tiny, 'Athena', /^query playlist_sizes /).quantity).toBeCloseTo((30 * 10) / 1024 / 1024, 12);
    expect(line(tiny, 'Glue', /^transform/).quantity).toBeCloseTo(731 * 2 * (1 / 60), 9);
  });

  it('an hourly schedule made daily: the Lambda and Glue lines drop 24x, what does not depend on runs stays', () => {
    const noUploads = 'lambda: { upload_runs_per_month: 0 }';
    const hourly = estimate(SHIPPED, noUploads);
    const daily = estimate(DAILY, noUploads);
    for (const [service, item] of [['Lambda', /^requests/], ['Lambda', /^duration/], ['Glue', /^transform/], ['Step Functions', /starter/]] as const) {
      const h = line(hourly, service, item).monthlyUsd;
      const d = line(daily, service, item).monthlyUsd;
      expect(h / d, `${service} ${item}`).toBeCloseTo(runsPerMonth('rate(1 hour)') / runsPerMonth('rate(1 day)'), 9);
      expect(h / d).toBeCloseTo(24, 9);
    }
    expect(line(daily, 'Secrets Manager', /^secrets/).monthlyUsd).toBe(line(hourly, 'Secrets Manager', /^secrets/).monthlyUsd);
    expect(line(daily, 'KMS', /^customer-managed keys/).monthlyUsd).toBe(line(hourly, 'KMS', /^customer-managed keys/).monthlyUsd);
    expect(daily.monthlyUsd).toBeLessThan(hourly.monthlyUsd);
    // With the default monthly export upload, runs are 730 + 1 against 30.4 + 1.
    const h = line(estimate(SHIPPED), 'Glue', /^transform/).monthlyUsd;
    const d = line(estimate(DAILY), 'Glue', /^transform/).monthlyUsd;
    expect(h / d).toBeCloseTo((730 + 1) / (730 / 24 + 1), 9);
  });

  it('counts runs of rate() and cron() schedules, per-stream schedules included', () => {
    expect(runsPerMonth('rate(30 minutes)')).toBe(1460);
    expect(runsPerMonth('cron(0 6 * * ? *)')).toBeCloseTo(730 / 24, 9);
    expect(runsPerMonth('cron(0/15 * ? * MON-FRI *)')).toBeCloseTo(4 * 24 * (5 / 7) * (730 / 24), 9);
    expect(runsPerMonth('cron(0 8 1 * ? *)')).toBe(1);
    const text = SHIPPED.replace(/( {2}artists:\n {4}endpoint: artists\n)/, '$1    schedule: cron(0 3 ? * SUN *)\n');
    const e = estimate(text);
    expect(assumption(e, 'schedule of my-spotify-lake (artists)')).toMatchObject({ value: `cron(0 3 ? * SUN *) = ${(730 / 24 / 7).toFixed(2)} runs/month` });
    expect(line(e, 'Lambda', /^requests/).quantity).toBeCloseTo(730 + 730 / 24 / 7 + 1, 9);
  });

  it('a usage file overrides an assumption (and says so); the aws: settings change the figures', async () => {
    const base = estimate(SHIPPED);
    const usage = write('usage.yml', 'lambda:\n  duration_seconds: 30\nathena:\n  queries_per_month:\n    playlist_sizes: 300\n');
    const { file } = loadText(SHIPPED);
    const r = await cli(['plan', '-c', file, '--cost', '--usage', usage]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`lambda\\.duration_seconds +30 s +usage file: ${usage.replace(/[.]/g, '\\.')}`));
    expect(r.stdout).toMatch(/athena\.queries_per_month\.playlist_sizes +300 runs +usage file/);
    const e = estimate(SHIPPED, 'lambda:\n  duration_seconds: 30\nathena:\n  queries_per_month:\n    playlist_sizes: 300\n');
    expect(line(e, 'Lambda', /^duration/).monthlyUsd).toBeCloseTo(3 * line(base, 'Lambda', /^duration/).monthlyUsd, 12);
    expect(line(e, 'Athena', /^query playlist_sizes/).monthlyUsd).toBeCloseTo(10 * line(base, 'Athena', /^query playlist_sizes/).monthlyUsd, 12);
    expect(line(e, 'Athena', /^query listening_minutes_per_day/).monthlyUsd).toBe(line(base, 'Athena', /^query listening_minutes_per_day/).monthlyUsd);
    // A scan past the workgroup's cutoff (1 GiB by default) is billed up to the cutoff.
    expect(line(estimate(SHIPPED, 'athena: { gb_scanned_per_query: 5 }'), 'Athena', /^query playlist_sizes/).quantity).toBeCloseTo(30 / 1024, 12);
    // A duration past the timeout is billed up to the timeout.
    const capped = estimate(withAws('lambda: { timeout_seconds: 60 }'), 'lambda: { duration_seconds: 600 }');
    expect(assumption(capped, 'lambda billed duration')).toMatchObject({ value: '60 s' });
    // aws: settings: x86 costs more per GB-s than arm64; G.2X workers are 2 DPU; a KMS key of your own.
    const x86 = estimate(withAws('lambda: { architecture: x86_64, memory_mb: 1024 }\nglue: { worker_type: G.2X }\nregion: eu-west-1'));
    expect(line(x86, 'Lambda', /^duration/).monthlyUsd / line(base, 'Lambda', /^duration/).monthlyUsd).toBeCloseTo((2 * 0.0000166667) / 0.0000133334, 6);
    expect(line(x86, 'Glue', /^transform/).quantity).toBeCloseTo(2 * line(base, 'Glue', /^transform/).quantity, 9);
    expect(assumption(x86, 'region')).toMatchObject({ value: 'eu-west-1', source: 'pipeline.yaml' });
    expect(x86.prices.file).toBe('terraform/cost/prices/eu-west-1.json');
  });

  it('a bad usage file, or a region without prices, exits 2 naming the key, file and line', async () => {
    const { file } = loadText(SHIPPED);
    const bad = write('usage.yml', 'lambda:\n  duration_seconds: 5\n  duraton_seconds: 5\n');
    let r = await cli(['plan', '-c', file, '--cost', '--usage', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}:3:3 lambda.duraton_seconds: unknown key (known: ${Object.keys(USAGE_KEYS).join(', ')})`);
    expect(r.stdout).toBe('');
    const notNumber = write('usage.yml', 's3:\n  raw_gb_per_month: lots\n');
    r = await cli(['plan', '-c', file, '--cost', '--usage', notNumber]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${notNumber}:2:21 s3.raw_gb_per_month: must be a number >= 0, got "lots"`);
    const noQuery = write('usage.yml', 'athena:\n  queries_per_month: { top_tracks: 3 }\n');
    r = await cli(['plan', '-c', file, '--cost', '--usage', noQuery]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${noQuery}:2:24 athena.queries_per_month.top_tracks: the pipeline has no named query top_tracks`);
    const { file: mumbai } = loadText(withAws('region: ap-south-1'));
    r = await cli(['plan', '-c', mumbai, '--cost']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no prices for region ap-south-1: the cost estimate has price tables for eu-central-1, eu-west-1, us-east-1, us-west-2');
  });

  it('with --plan-json: the cost of what is deployed (the plan\'s before values), the planned cost and the delta', async () => {
    const schedule = (before: string | null, after: string | null) => ({
      address: 'aws_scheduler_schedule.extractor_schedule_1A2B3C4D',
      mode: 'managed',
      type: 'aws_scheduler_schedule',
      change: {
        actions: before && after ? ['update'] : before ? ['delete'] : ['create'],
        before: before && { schedule_expression: before, state: 'ENABLED', target: [{ input: JSON.stringify({ pipeline: 'my-spotify-lake', streams: ['recently_played', 'my_playlists', 'playlist_items', 'artists'] }) }] },
        after: after && { schedule_expression: after, state: 'ENABLED' },
      },
    });
    const plan = {
      format_version: '1.2',
      resource_changes: [
        schedule('rate(1 day)', 'rate(1 hour)'),
        { address: 'aws_lambda_function.extractor_function_5E6F7A8B', mode: 'managed', type: 'aws_lambda_function', change: { actions: ['update'], before: { memory_size: 256, timeout: 900, architectures: ['x86_64'] }, after: { memory_size: 512, timeout: 900, architectures: ['arm64'] } } },
        // A named query the plan deletes: deployed now, not planned.
        { address: 'aws_athena_named_query.athena_query-old_query_query_0F1E2D3C', mode: 'managed', type: 'aws_athena_named_query', change: { actions: ['delete'], before: { name: 'old_query' }, after: null } },
        { address: 'aws_glue_job.transform_job_9A8B7C6D', mode: 'managed', type: 'aws_glue_job', change: { actions: ['no-op'], before: { number_of_workers: 2, worker_type: 'G.1X' }, after: { number_of_workers: 2, worker_type: 'G.1X' } } },
      ],
    };
    const { file, config } = loadText(SHIPPED);
    const includes = loadIncludes(config, file).map((i) => i.config);
    const report = pipelineCost(config, { includes, plugins: PLUGINS, env: {}, planJson: plan });
    const planned = estimate(SHIPPED);
    const dailyAsPlanned = estimate(DAILY);
    expect(report.monthlyUsd).toBeCloseTo(planned.monthlyUsd, 9);
    // The current side: daily runs of a 256 MB x86 function; everything else as planned.
    const x86Daily = estimate(withAws('lambda: { memory_mb: 256, architecture: x86_64 }', DAILY));
    const oldQuery = line(x86Daily, 'Athena', /^query playlist_sizes /).monthlyUsd;
    expect(report.previousMonthlyUsd).toBeCloseTo(x86Daily.monthlyUsd + oldQuery, 9);
    const esc = (t: string) => t.replace(/[.$]/g, '\\$&');
    expect(report.text).toMatch(new RegExp(`\\n {2}Athena +query old_query \\(removed\\) +0 TB scanned .+ ${esc(usd(oldQuery))} +\\$0\\.00 +-${esc(usd(oldQuery))}\\n`));
    // ... not the planned function's memory and architecture.
    expect(report.previousMonthlyUsd).not.toBeCloseTo(dailyAsPlanned.monthlyUsd, 6);
    const d = planned.monthlyUsd - report.previousMonthlyUsd!;
    expect(report.text).toContain(`est. $${planned.monthlyUsd.toFixed(2)}/month (now $${report.previousMonthlyUsd!.toFixed(2)}/month, +$${d.toFixed(2)})`);
    expect(report.text).toMatch(/schedule of my-spotify-lake \(recently_played, my_playlists, playlist_items, artists\): rate\(1 day\) = 30\.42 runs\/month \(before of aws_scheduler_schedule/);
    expect(report.text).toMatch(/lambda memory: 256 MB \(before of aws_lambda_function\.memory_size\)/);
    expect(report.text).toMatch(/\n {2}Glue .+ \$\d+\.\d\d +\$\d+\.\d\d +\+\$\d+\.\d\d\n/);
    expect(report.markdown).toContain(`#### Cost estimate: est. $${planned.monthlyUsd.toFixed(2)}/month (now $${report.previousMonthlyUsd!.toFixed(2)}/month, +$${d.toFixed(2)})`);
    expect(report.markdown).toMatch(/\| service \| item \| quantity \| unit price \| current \| monthly \| change \|/);

    // Through the CLI; and a first deploy (every change creates) costs nothing now.
    const planFile = write('plan.json', JSON.stringify(plan));
    const r = await cli(['plan', '-c', file, '--cost', '--plan-json', planFile]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${report.text}\n`);
    const first = pipelineCost(config, { includes, plugins: PLUGINS, env: {}, planJson: { resource_changes: [schedule(null, 'rate(1 hour)')] } });
    expect(first.previousMonthlyUsd).toBe(0);
    expect(first.text).toContain('current: nothing deployed yet');
    const notPlan = write('plan.json', '{"format_version":"1.2"}');
    expect((await cli(['plan', '-c', file, '--cost', '--plan-json', notPlan])).code).toBe(2);
  });

  it('the full plan carries the estimate as a section (markdown for the PR comment)', async () => {
    vi.stubEnv('SPOTIFY_CLIENT_ID', ENV.SPOTIFY_CLIENT_ID);
    const { file } = loadText(SHIPPED);
    const r = await cli(['plan', '-c', file, '--format', 'markdown', '--no-checkov']);
    // The PR comment's headline carries the total, and the estimate is a section of its own.
    expect(r.stdout).toMatch(/^### `my-spotify-lake`: [78]\d resources \(no plan given\), est\. \$\d+\.\d\d\/mo, 0 policy failures/);
    expect(r.stdout).toMatch(/\n#### Cost estimate: est\. \$\d+\.\d\d\/month\n/);
    expect(r.stdout).toContain('<details><summary>Assumptions (override with <code>--usage FILE</code>)</summary>');
  }, 120_000);

  it('adds the report after each transform, and QuickSight only when aws.quicksight is set, as a monthly subscription per user', async () => {
    const shipped = estimate(SHIPPED);
    // The report: one invocation and one Athena query per panel after every transform run.
    const runs = line(shipped, 'Glue', /^transform/).quantity / (2 * (2 / 60));
    const panels = Number(assumption(shipped, 'report panels')!.value);
    expect(panels).toBeGreaterThan(10);
    expect(line(shipped, 'Lambda', /^report requests/).quantity).toBeCloseTo(runs, 6);
    expect(line(shipped, 'Athena', /^report panels/).item).toBe(`report panels (${panels} queries per transform, >= 10 MB each)`);
    expect(shipped.lines.some((l) => l.service === 'QuickSight')).toBe(false);

    const qs = estimate(withAws('quicksight:\n  principal_arn: arn:aws:quicksight:us-east-1:123456789012:user/default/alice\n  readers: 3'));
    expect(line(qs, 'QuickSight', /^authors/)).toMatchObject({ item: 'authors (monthly subscription)', quantity: 1, unitPrice: 24, priceUnit: 'user-month', monthlyUsd: 24 });
    expect(line(qs, 'QuickSight', /^readers/)).toMatchObject({ quantity: 3, unitPrice: 3, monthlyUsd: 9 });
    expect(qs.monthlyUsd - shipped.monthlyUsd).toBeCloseTo(33, 9);
    expect(assumption(qs, 'quicksight prices')!.from).toMatch(/^https:\/\/aws\.amazon\.com\/quicksight\/pricing\/ as of \d{4}-\d\d-\d\d: Monthly subscriptions per user/);
    expect(assumption(qs, 'quicksight users')).toMatchObject({ value: '1 author(s), 3 reader(s)', source: 'pipeline.yaml' });
    const { file } = loadText(withAws('quicksight:\n  principal_arn: arn:aws:quicksight:us-east-1:123456789012:user/default/alice'));
    const r = await cli(['plan', '-c', file, '--cost']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\n {2}QuickSight +authors \(monthly subscription\) +1(\.00)? users +\$24\/user-month +\$24\.00\n/);
  });
});
