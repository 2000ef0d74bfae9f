/**
 * A panel's chart: its Vega-Lite declaration (pipeline.yaml) plus the query's rows, compiled here
 * in Node to a Vega spec that the page draws with Vega's runtime. The page never sees Vega-Lite,
 * only Vega (one script, inlined: see page.ts).
 *
 * The report adds what a declaration should not have to say: the data, the width (the page's:
 * `width: "container"`), a height, the theme (colours from the page's text colour, so one spec
 * reads in light and dark mode), tooltips, and a point on each line so every row is a mark.
 */
import { compile, type TopLevelSpec } from 'vega-lite';
import type { VegaLiteChart } from '../config/types.ts';

/** Every `field` an encoding names (tooltips may be a list), with its dot path under the chart. */
export function chartFields(chart: VegaLiteChart): Array<{ field: string; path: string }> {
  const out: Array<{ field: string; path: string }> = [];
  for (const [channel, def] of Object.entries(chart.encoding ?? {})) {
    const defs = Array.isArray(def) ? def : [def];
    defs.forEach((d, i) => {
      if (d && typeof d === 'object' && typeof (d as { field?: unknown }).field === 'string') {
        out.push({ field: (d as { field: string }).field, path: `encoding.${channel}${Array.isArray(def) ? `[${i}]` : ''}.field` });
      }
    });
  }
  return out;
}

/** The mark's type, whether written `mark: bar` or `mark: {type: bar}`. */
export function markType(chart: VegaLiteChart): string {
  return typeof chart.mark === 'string' ? chart.mark : chart.mark.type;
}

/**
 * Colours that follow the page (CSS `color`): SVG takes `currentColor`, so axes, labels and
 * legends are dark on light and light on dark without a second spec.
 */
const THEME = {
  background: null,
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  axis: {
    labelColor: 'currentColor',
    titleColor: 'currentColor',
    domainColor: 'currentColor',
    tickColor: 'currentColor',
    gridColor: 'rgba(128, 128, 128, 0.25)',
    labelFontSize: 11,
    titleFontSize: 12,
    labelLimit: 140,
  },
  legend: { labelColor: 'currentColor', titleColor: 'currentColor', orient: 'bottom', labelLimit: 160 },
  view: { stroke: null },
  range: { category: ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'] },
} as const;

export interface CompiledChart {
  /** The Vega spec (data inlined). */
  spec: unknown;
  /** CSS selector of the marks that stand one per row (the test counts them). */
  rowMarks: string;
}

/** The Vega spec of a panel's chart over these rows. */
export function compileChart(chart: VegaLiteChart, rows: Record<string, unknown>[], label: string): CompiledChart {
  const type = markType(chart);
  const base: { type: string; point?: unknown } = typeof chart.mark === 'string' ? { type: chart.mark } : { ...chart.mark };
  // A line or area has one mark per series: a point per row makes every row visible (and hoverable).
  const withPoint = type === 'line' || type === 'area';
  const mark = { tooltip: true, ...base, ...(withPoint ? { point: base.point ?? true } : {}) };
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: chart.description ?? label,
    data: { values: rows },
    width: 'container',
    height: chart.height ?? (type === 'rect' ? 220 : 260),
    autosize: { type: 'fit-x', contains: 'padding' },
    mark,
    encoding: chart.encoding,
    ...(chart.transform ? { transform: chart.transform } : {}),
    config: THEME,
  } as unknown as TopLevelSpec;
  const { spec: vega } = compile(spec);
  const rowMarks = withPoint && mark.point !== false ? 'g.mark-symbol.role-mark path' : `g.mark-${VEGA_MARK[type] ?? type}.role-mark path`;
  return { spec: vega, rowMarks };
}

/** Vega's mark (the SVG group's class) for a Vega-Lite mark. */
const VEGA_MARK: Record<string, string> = { bar: 'rect', rect: 'rect', point: 'symbol', circle: 'symbol', square: 'symbol', tick: 'rect', arc: 'arc', text: 'text', rule: 'rule' };
