/**
 * `spotify-pipeline plan`: synthesizes the AWS deployment in-process (no Terraform binary, no
 * AWS credentials) and prints a review: resources by stream/table/query, each principal's IAM
 * permissions, the extractor bundle's size and the policy checks of the secure defaults. With
 * `--plan-json` (from `terraform show -json plan.out`) it also summarizes the plan's changes.
 *
 * Exit codes: 0 nothing to fail on; 1 the review fails: a policy check failed (the default), or a
 * condition of `--fail-on` holds (destroy, replace, policy, drift, data-loss, stale, errored), or
 * the plan errored (always); 2 bad input (pipeline.yaml, the plan file, an unknown action in it,
 * an unknown `--fail-on` value).
 *
 * Part of terraform/, registered on the CLI by the composition root (bin/main.ts): core's CLI
 * does not know infrastructure exists. The stack (cdktf, the provider bindings) is loaded only
 * when the command runs.
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { UserError } from '../core/errors.ts';
import type { CliContext } from '../core/cli/context.ts';
// Type-only: the review (cdktf, the provider bindings) is loaded when the command runs.
import type { FailOn } from './review/index.ts';

/** Kept in step with review/index.ts FAIL_ON (a test checks it); here so `--help` needs no cdktf. */
export const FAIL_ON_VALUES: readonly FailOn[] = ['destroy', 'replace', 'policy', 'drift', 'data-loss', 'errored', 'stale'];

const FAIL_ON_HELP = `comma list of conditions that make the command exit 1, for CI: ${FAIL_ON_VALUES.join(', ')} (data-loss: a data-bearing resource destroyed or replaced; stale: the plan was made from another synth, or has no configuration to tell), or none. Default: policy. An errored plan always exits 1`;

/** `--fail-on a,b`: each value checked; `none` alone means report only. */
export function parseFailOn(text: string): FailOn[] {
  const values = text.split(',').map((v) => v.trim()).filter(Boolean);
  if (values.length === 1 && values[0] === 'none') return [];
  for (const v of values) {
    if (!(FAIL_ON_VALUES as readonly string[]).includes(v)) throw new UserError(`--fail-on: unknown condition "${v}" in "${text}"`, `use a comma list of ${FAIL_ON_VALUES.join(', ')}, or none`);
  }
  if (!values.length) throw new UserError(`--fail-on: empty list "${text}"`, `use a comma list of ${FAIL_ON_VALUES.join(', ')}, or none`);
  return [...new Set(values as FailOn[])];
}

/** 1-based line of `"address": "<address>"` in the plan's text, for an error naming it. */
function lineOf(text: string, address: string): number | undefined {
  const i = text.search(new RegExp(`"address"\\s*:\\s*${JSON.stringify(address).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  return i < 0 ? undefined : text.slice(0, i).split('\n').length;
}

/** A failed policy check: exit 1 with one line per violation, no stack trace. */
class PolicyCheckFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyCheckFailed';
    this.stack = message;
  }
}

export function registerPlan(program: Command, ctx: CliContext): void {
  program
    .command('plan')
    .description('Synthesize the AWS deployment in-process and review it: resources, IAM permissions, bundle size, policy checks, and with --plan-json the changes of a plan. Exit codes: 0 ok, 1 a policy check failed or a --fail-on condition holds or the plan errored, 2 bad input')
    .option('-c, --config <file>', 'pipeline file', 'pipeline.yaml')
    .addOption(new Option('--format <format>', 'output format (markdown for a pull-request comment)').choices(['text', 'markdown']).default('text'))
    .option('--plan-json <file>', 'also summarize the changes of a plan: the output of `terraform show -json plan.out`')
    .option('--cost', 'print only the monthly cost estimate (no synth); with --plan-json, the current and planned cost and the delta')
    .option('--usage <file>', 'usage file (YAML) overriding the cost estimate\'s assumptions, e.g. lambda.duration_seconds')
    .option('--no-checkov', 'do not run checkov on the synthesized stack (it runs when its venv exists: node scripts/python.mjs checkov)')
    .option('--fail-on <conditions>', FAIL_ON_HELP)
    .action(async (o: { config: string; format: 'text' | 'markdown'; planJson?: string; cost?: boolean; usage?: string; checkov: boolean; failOn?: string }) => {
      const failOn = o.failOn === undefined ? (['policy'] as FailOn[]) : parseFailOn(o.failOn);
      const prep = await ctx.prepare(o.config);
      let planJson: unknown;
      let text = '';
      if (o.planJson) {
        try {
          text = readFileSync(o.planJson, 'utf8');
        } catch (e) {
          throw new UserError(`cannot read --plan-json ${o.planJson}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
        }
        try {
          planJson = JSON.parse(text);
        } catch {
          throw new UserError(`--plan-json ${o.planJson} is not JSON`, 'give it the output of `terraform show -json plan.out`');
        }
      }
      // The monthly cost estimate (terraform/cost): from pipeline.yaml alone, no synth.
      const { pipelineCost, NoPricesError } = await import('./cost/index.ts');
      let cost: Awaited<ReturnType<typeof pipelineCost>> | undefined;
      let noPrices: string | undefined;
      try {
        cost = pipelineCost(prep.loaded.config, { includes: (prep.includes ?? []).map((i) => i.loaded.config), plugins: Object.fromEntries([prep, ...(prep.includes ?? [])].map((p) => [p.loaded.config.connector.use, p.plugin])), env: process.env, usage: o.usage, planJson });
      } catch (e) {
        if (!(e instanceof NoPricesError) || o.cost) throw e instanceof NoPricesError ? new UserError(e.message) : e;
        noPrices = e.message;
      }
      if (o.cost) {
        process.stdout.write(cost![o.format] + '\n');
        return;
      }
      const [{ reviewPipeline, renderReview, failures, UnknownPlanAction, findCheckov }, { stackInputs }] = await Promise.all([import('./review/index.ts'), import('./stack.ts')]);
      const checkov = o.checkov ? { bin: await findCheckov() } : undefined;
      let review;
      try {
        const { pipeline, ...inputs } = stackInputs(prep);
        review = reviewPipeline(pipeline, { ...inputs, pipelineFile: o.config, env: process.env, planJson, checkov, connectors: ctx.plugins.registry });
      } catch (e) {
        if (e instanceof UnknownPlanAction) {
          const line = lineOf(text, e.address);
          throw new UserError(`${o.planJson}${line ? `:${line}` : ''}: resource_changes: ${e.message} (this review knows Terraform 1.11's: create, update, delete, replace, read, no-op, forget)`);
        }
        if (e instanceof Error && /not a Terraform plan|invalid lifecycle settings/.test(e.message)) throw new UserError(e.message);
        throw e;
      }
      if (cost) review.cost = cost;
      process.stdout.write(renderReview(review, o.format) + '\n');
      if (noPrices) process.stdout.write(`\nCost estimate: ${noPrices}\n`);
      const found = failures(review, failOn);
      if (found.length) {
        const failed = review.checks.filter((c) => !c.ok);
        const checkovFailed = review.checkov?.status === 'ran' ? review.checkov.failed : [];
        const lines = found.some((f) => f.on === 'policy')
          ? [...failed.flatMap((c) => c.violations.map((v) => `  ${c.id} ${c.title}: ${v.resource}: ${v.message}`)), ...checkovFailed.map((f) => `  checkov ${f.id} ${f.title}: ${f.resource}`)]
          : [];
        const head = found.length === 1 && found[0].on === 'policy' ? `plan: ${found[0].reason}` : `plan: failing on ${found.map((f) => f.on).join(', ')}: ${found.map((f) => f.reason).join('; ')}`;
        throw new PolicyCheckFailed([head, ...lines].join('\n'));
      }
    });
}
