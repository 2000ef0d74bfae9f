/**
 * The monthly cost estimate of a pipeline's AWS deployment (`plan --cost`, and a section of the
 * full `plan`), computed from pipeline.yaml without synthesizing the stack.
 *
 * For the integrator: `estimateCost(inputs, usage)` gives the lines and assumptions;
 * `pipelineCost(...)` gives the `{ monthlyUsd, previousMonthlyUsd?, text, markdown }` that a
 * review's `cost` field carries.
 */
import type { PipelineConfig } from '../../core/config/types.ts';
import type { ConnectorPlugin } from '../../core/plugin-api.ts';
import { UserError } from '../../core/errors.ts';
import { costInputs, currentInputs } from './inputs.ts';
import { estimateCost } from './estimate.ts';
import { costReport, type CostReport } from './render.ts';
import { loadUsage, type Usage } from './usage.ts';

export { costInputs, currentInputs, starterTransitions, type CostInputs, type Fact, type Source } from './inputs.ts';
export { estimateCost, type Assumption, type CostEstimate, type CostLine } from './estimate.ts';
export { costReport, usd, type CostReport } from './render.ts';
export { loadUsage, parseUsage, USAGE_KEYS, type Usage, type UsageKey } from './usage.ts';
export { NoPricesError, PRICED_REGIONS, pricesFor, type PriceTable } from './prices.ts';
export { runsPerMonth, HOURS_PER_MONTH, DAYS_PER_MONTH } from './schedule.ts';

export interface PipelineCostOptions {
  includes?: PipelineConfig[];
  plugins?: Record<string, Pick<ConnectorPlugin, 'uploads'> | undefined>;
  env?: Record<string, string | undefined>;
  /** A usage file (YAML) overriding assumptions, or one already parsed. */
  usage?: string | Usage;
  /** Parsed `terraform show -json` output: adds the current side and the delta. */
  planJson?: unknown;
}

/** The estimate of pipeline.yaml (and, with a plan, of what is deployed now) as text and Markdown. */
export function pipelineCost(pipeline: PipelineConfig, opts: PipelineCostOptions = {}): CostReport {
  const inputs = costInputs(pipeline, opts.includes ?? [], { plugins: opts.plugins, env: opts.env });
  const usage = typeof opts.usage === 'string' ? loadUsage(opts.usage, inputs.queries.value) : opts.usage;
  const planned = estimateCost(inputs, usage);
  if (opts.planJson === undefined) return costReport(planned);
  const plan = opts.planJson;
  if (!plan || typeof plan !== 'object' || !Array.isArray((plan as { resource_changes?: unknown }).resource_changes)) {
    throw new UserError('--plan-json is not a Terraform plan in JSON (expected the output of `terraform show -json plan.out`, with resource_changes)');
  }
  const current = currentInputs(opts.planJson, inputs);
  if (!current) return costReport(planned, undefined, 'nothing deployed yet (every resource of the plan is created), $0.00/month');
  return costReport(planned, estimateCost(current, usage));
}
