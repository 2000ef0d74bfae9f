/**
 * The estimate as terminal text or Markdown (inside a pull-request comment), alone or as the
 * diff between what is deployed (a plan's prior state) and what pipeline.yaml plans.
 */
import type { CostEstimate, CostLine } from './estimate.ts';

/** What `plan` shows and the review's optional `cost` field carries. */
export interface CostReport {
  monthlyUsd: number;
  previousMonthlyUsd?: number;
  text: string;
  markdown: string;
}

export function usd(n: number): string {
  if (n === 0) return '$0.00';
  const sign = n < 0 ? '-' : '';
  const a = Math.abs(n);
  return `${sign}$${a >= 0.01 ? a.toFixed(2) : a.toPrecision(2)}`;
}

/** A unit price as the table states it ($0.0000133334, $0.025), not rounded to cents. */
const price = (n: number) => `$${Number(n.toPrecision(6))}`;
const delta = (n: number) => (n >= 0 ? `+${usd(n)}` : usd(n));
const qty = (n: number) => (n === 0 ? '0' : n >= 100 ? Math.round(n).toLocaleString('en-US') : n >= 1 ? n.toFixed(2) : n.toPrecision(3));
const key = (l: CostLine) => `${l.service}\u0000${l.item.replace(/ \(.*$/, '')}`;

/** `previous`: the estimate of what is deployed now; `previousNote`: why there is none (nothing deployed yet). */
export function costReport(planned: CostEstimate, previous?: CostEstimate, previousNote?: string): CostReport {
  const prevTotal = previous ? previous.monthlyUsd : previousNote ? 0 : undefined;
  return { monthlyUsd: planned.monthlyUsd, previousMonthlyUsd: prevTotal, text: text(planned, previous, prevTotal, previousNote), markdown: markdown(planned, previous, prevTotal, previousNote) };
}

/** Planned lines with the current cost of the same line; lines only deployed now (a query removed) follow at $0 planned. */
function pairs(planned: CostEstimate, previous?: CostEstimate): { line: CostLine; before?: number }[] {
  const prev = new Map((previous?.lines ?? []).map((l) => [key(l), l.monthlyUsd]));
  const rows: { line: CostLine; before?: number }[] = planned.lines.map((line) => ({ line, before: previous ? (prev.get(key(line)) ?? 0) : undefined }));
  const plannedKeys = new Set(planned.lines.map(key));
  for (const l of previous?.lines ?? []) if (!plannedKeys.has(key(l))) rows.push({ line: { ...l, item: `${l.item.replace(/ \(.*$/, '')} (removed)`, quantity: 0, monthlyUsd: 0 }, before: l.monthlyUsd });
  return rows;
}

function headline(e: CostEstimate, prevTotal?: number): string {
  const diff = prevTotal === undefined ? '' : ` (now ${usd(prevTotal)}/month, ${delta(e.monthlyUsd - prevTotal)})`;
  return `est. ${usd(e.monthlyUsd)}/month${diff}`;
}

function text(e: CostEstimate, previous: CostEstimate | undefined, prevTotal: number | undefined, previousNote?: string): string {
  const out: string[] = [];
  out.push(`Cost estimate of pipeline ${e.pipeline}: ${headline(e, prevTotal)}, ${e.region} prices of ${e.prices.as_of}`);
  if (previousNote) out.push(`  current: ${previousNote}`);
  const rows = pairs(e, previous).map(({ line: l, before }) => [
    l.service,
    l.item,
    `${qty(l.quantity)} ${l.unit}`,
    `${price(l.unitPrice)}/${l.priceUnit}`,
    ...(before !== undefined ? [usd(before)] : []),
    usd(l.monthlyUsd),
    ...(before !== undefined ? [delta(l.monthlyUsd - before)] : []),
  ]);
  const head = ['service', 'item', 'quantity', 'unit price', ...(previous ? ['current'] : []), 'monthly', ...(previous ? ['change'] : [])];
  const total = ['total', '', '', '', ...(previous ? [usd(previous.monthlyUsd)] : []), usd(e.monthlyUsd), ...(previous ? [delta(e.monthlyUsd - previous.monthlyUsd)] : [])];
  const all = [head, ...rows, total];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const right = new Set(head.map((h, i) => (['monthly', 'current', 'change'].includes(h) ? i : -1)));
  for (const r of all) out.push(`  ${r.map((c, i) => (right.has(i) ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ').trimEnd()}`);
  out.push('');
  out.push('Assumptions (override with --usage FILE)');
  const aw = Math.max(...e.assumptions.map((a) => a.name.length));
  // Long values (a list of queries) are not padded to: the column stays readable.
  const vw = Math.min(32, Math.max(...e.assumptions.map((a) => a.value.length)));
  for (const a of e.assumptions) out.push(`  ${a.name.padEnd(aw)}  ${a.value.padEnd(vw)}  ${a.source}: ${a.from}`);
  if (previous) {
    const changed = previous.assumptions.filter((a) => a.source === 'plan JSON');
    if (changed.length) {
      out.push('  current side (from the plan):');
      for (const a of changed) out.push(`    ${a.name}: ${a.value} (${a.from})`);
    }
  }
  out.push('');
  out.push(`Prices: ${e.prices.file} (${e.prices.region_name}, as of ${e.prices.as_of}; AWS pricing pages: ${Object.values(e.prices.sources).join(' ')})`);
  out.push(`Free tiers are not subtracted, except EventBridge Scheduler's. Not estimated: ${e.notEstimated.join('; ')}.`);
  return out.join('\n');
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function markdown(e: CostEstimate, previous: CostEstimate | undefined, prevTotal: number | undefined, previousNote?: string): string {
  const out: string[] = [];
  out.push(`#### Cost estimate: ${headline(e, prevTotal)}`);
  out.push('');
  if (previousNote) out.push(`Current: ${cell(previousNote)}.`, '');
  out.push(`| service | item | quantity | unit price |${previous ? ' current |' : ''} monthly |${previous ? ' change |' : ''}`);
  out.push(`|---|---|---:|---:|${previous ? '---:|' : ''}---:|${previous ? '---:|' : ''}`);
  for (const { line: l, before } of pairs(e, previous)) {
    out.push(`| ${cell(l.service)} | ${cell(l.item)} | ${qty(l.quantity)} ${l.unit} | ${price(l.unitPrice)}/${l.priceUnit} |${before !== undefined ? ` ${usd(before)} |` : ''} ${usd(l.monthlyUsd)} |${before !== undefined ? ` ${delta(l.monthlyUsd - before)} |` : ''}`);
  }
  out.push(`| **total** | | | |${previous ? ` ${usd(previous.monthlyUsd)} |` : ''} **${usd(e.monthlyUsd)}** |${previous ? ` ${delta(e.monthlyUsd - previous.monthlyUsd)} |` : ''}`);
  out.push('');
  out.push('<details><summary>Assumptions (override with <code>--usage FILE</code>)</summary>');
  out.push('');
  out.push('| assumption | value | source |');
  out.push('|---|---|---|');
  for (const a of e.assumptions) out.push(`| \`${a.name}\` | ${cell(a.value)} | ${a.source}: ${cell(a.from)} |`);
  out.push('');
  out.push('</details>');
  out.push('');
  out.push(`Prices: \`${e.prices.file}\` (${e.prices.region_name}, as of ${e.prices.as_of}, from the [AWS pricing pages](${e.prices.sources.lambda})). Free tiers are not subtracted, except EventBridge Scheduler's. Not estimated: ${cell(e.notEstimated.join('; '))}.`);
  return out.join('\n');
}
