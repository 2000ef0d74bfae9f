/**
 * `spotify-pipeline plan`: synthesizes the AWS deployment in-process (no Terraform binary, no
 * AWS credentials) and prints a review: resources by stream/table/query, each principal's IAM
 * permissions, the extractor bundle's size and the policy checks of the secure defaults. With
 * `--plan-json` (from `terraform show -json plan.out`) it also summarizes the plan's changes.
 *
 * Exit codes: 0 all checks pass, 1 a policy check failed (the message names the check and the
 * resource), 2 bad input (pipeline.yaml, the plan file).
 *
 * Part of terraform/, registered on the CLI by the composition root (bin/main.ts): core's CLI
 * does not know infrastructure exists. The stack (cdktf, the provider bindings) is loaded only
 * when the command runs.
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { UserError } from '../core/errors.ts';
import type { CliContext } from '../core/cli/context.ts';

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
    .description('Synthesize the AWS deployment in-process and review it: resources, IAM permissions, bundle size, policy checks (exit 1 on a violation)')
    .option('-c, --config <file>', 'pipeline file', 'pipeline.yaml')
    .addOption(new Option('--format <format>', 'output format (markdown for a pull-request comment)').choices(['text', 'markdown']).default('text'))
    .option('--plan-json <file>', 'also summarize the changes of a plan: the output of `terraform show -json plan.out`')
    .option('--cost', 'print only the monthly cost estimate (no synth); with --plan-json, the current and planned cost and the delta')
    .option('--usage <file>', 'usage file (YAML) overriding the cost estimate\'s assumptions, e.g. lambda.duration_seconds')
    .option('--no-checkov', 'do not run checkov on the synthesized stack (it runs when its venv exists: node scripts/python.mjs checkov)')
    .action(async (o: { config: string; format: 'text' | 'markdown'; planJson?: string; cost?: boolean; usage?: string; checkov: boolean }) => {
      const prep = await ctx.prepare(o.config);
      let planJson: unknown;
      if (o.planJson) {
        let text: string;
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
      let cost: { text: string; markdown: string } | undefined;
      try {
        cost = pipelineCost(prep.loaded.config, { includes: (prep.includes ?? []).map((i) => i.loaded.config), plugins: Object.fromEntries([prep, ...(prep.includes ?? [])].map((p) => [p.loaded.config.connector.use, p.plugin])), env: process.env, usage: o.usage, planJson });
      } catch (e) {
        if (!(e instanceof NoPricesError) || o.cost) throw e instanceof NoPricesError ? new UserError(e.message) : e;
        cost = { text: `Cost estimate: ${e.message}`, markdown: `#### Cost estimate\n\n${e.message}` };
      }
      if (o.cost) {
        process.stdout.write(cost[o.format] + '\n');
        return;
      }
      const [{ reviewPipeline, renderReview, findCheckov }, { stackInputs }] = await Promise.all([import('./review/index.ts'), import('./stack.ts')]);
      const checkov = o.checkov ? { bin: await findCheckov() } : undefined;
      let review;
      try {
        const { pipeline, ...inputs } = stackInputs(prep);
        review = reviewPipeline(pipeline, { ...inputs, pipelineFile: o.config, env: process.env, planJson, checkov, connectors: ctx.plugins.registry });
      } catch (e) {
        if (e instanceof Error && /not a Terraform plan|unknown change actions|invalid lifecycle settings/.test(e.message)) throw new UserError(e.message);
        throw e;
      }
      process.stdout.write(renderReview(review, o.format) + '\n');
      process.stdout.write(`\n${cost[o.format]}\n`);
      const failed = review.checks.filter((c) => !c.ok);
      const checkovFailed = review.checkov?.status === 'ran' ? review.checkov.failed : [];
      if (failed.length || checkovFailed.length) {
        const lines = failed.flatMap((c) => c.violations.map((v) => `  ${c.id} ${c.title}: ${v.resource}: ${v.message}`));
        lines.push(...checkovFailed.map((f) => `  checkov ${f.id} ${f.title}: ${f.resource}`));
        const ids = [...failed.map((c) => c.id), ...new Set(checkovFailed.map((f) => f.id))];
        throw new PolicyCheckFailed(`plan: ${ids.length} policy check(s) failed (${ids.join(', ')})\n${lines.join('\n')}`);
      }
    });
}
