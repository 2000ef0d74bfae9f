/**
 * The report: every dashboard of pipeline.yaml as one self-contained HTML file (page.ts). Panels
 * run their query where the data is (the local lake's DuckDB, or Athena in AWS: the caller passes
 * the runner), only the aggregated rows reach the page, and each chart is compiled from its
 * Vega-Lite declaration here (chart.ts).
 */
import type { DashboardSpec, PanelSpec, QuerySpec } from '../config/types.ts';
import { compileChart } from './chart.ts';
import { escapeHtml, pageHtml, vegaScript, type PageSection } from './page.ts';

export { chartFields, markType } from './chart.ts';

/** Where panels' queries run: Athena (Trino) SQL in, columns and JSON-safe rows out. */
export interface ReportSource {
  query(sql: string): Promise<{ columns: string[]; rows: Record<string, unknown>[] }>;
  /** Tables with no data yet: a panel reading one and returning nothing says which. */
  emptyTables?: readonly string[];
  /** The tables a query reads (for the empty state's message). */
  tablesOf?(sql: string): string[];
}

/** What the latest committed run added, per stream (from its manifest). */
export interface LatestRun {
  runId: string;
  committedAt?: string;
  streams: Array<{ stream: string; records: number; files: number }>;
}

export interface ReportOptions {
  title: string;
  dashboards: Record<string, DashboardSpec>;
  queries: Record<string, QuerySpec>;
  source: ReportSource;
  /** Where the data came from, in the subtitle (a lake folder, an Athena workgroup). */
  from: string;
  latestRuns?: LatestRun[];
  /** Vega's browser runtime (default: the installed `vega` package's). */
  vega?: string;
  /** The time the report is stamped with (default: now). */
  now?: Date;
}

export interface PanelOutcome {
  dashboard: string;
  /** The panel's element id in the page. */
  id: string;
  title: string;
  kind: 'chart' | 'table' | 'number';
  status: 'ok' | 'empty' | 'failed';
  /** Rows the query returned, and how many reached the page. */
  rows: number;
  shown: number;
  /** For a chart: the CSS selector of its one-mark-per-row marks. */
  rowMarks?: string;
  message?: string;
}

export interface Report {
  html: string;
  bytes: number;
  panels: PanelOutcome[];
  /** Seconds spent in the panels' queries. */
  querySeconds: number;
}

const DEFAULT_MAX_ROWS = 1000;

export function panelSql(panel: PanelSpec, queries: Record<string, QuerySpec>): string {
  if (panel.sql) return panel.sql;
  const q = panel.query ? queries[panel.query] : undefined;
  if (!q) throw new Error(`panel "${panel.title}": no named query "${panel.query}"`);
  return q.sql;
}

function panelKind(p: PanelSpec): PanelOutcome['kind'] {
  return p.chart ? 'chart' : p.number ? 'number' : 'table';
}

const isNumber = (v: unknown) => typeof v === 'number' || (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) && v.length > 15);

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  // Years and small counts read better without a thousands separator (2026, not 2,026).
  if (typeof v === 'number') return Number.isInteger(v) ? (Math.abs(v) < 10_000 ? String(v) : v.toLocaleString('en')) : v.toLocaleString('en', { maximumFractionDigits: 2 });
  if (Array.isArray(v)) return v.map(cellText).join(', ');
  // Timestamps as people read them: a day (2024-05-01) when at midnight, else to the minute.
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(v)) return /T00:00:00(\.0+)?Z$/.test(v) ? v.slice(0, 10) : `${v.slice(0, 10)} ${v.slice(11, 16)}`;
  if (typeof v === 'object') return JSON.stringify(v);
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** A data table: every chart has one behind it (screen readers, copying numbers). */
function tableHtml(columns: string[], rows: Record<string, unknown>[], caption: string): string {
  const numeric = new Set(columns.filter((c) => rows.some((r) => typeof r[c] === 'number') && rows.every((r) => r[c] === null || isNumber(r[c]) || typeof r[c] === 'number')));
  const cls = (c: string) => (numeric.has(c) ? ' class="num"' : '');
  return [
    '<div class="table-wrap"><table>',
    `<caption>${escapeHtml(caption)}</caption>`,
    `<thead><tr>${columns.map((c) => `<th scope="col"${cls(c)}>${escapeHtml(c)}</th>`).join('')}</tr></thead>`,
    `<tbody>${rows.map((r) => `<tr>${columns.map((c) => `<td${cls(c)}>${escapeHtml(cellText(r[c]))}</td>`).join('')}</tr>`).join('')}</tbody>`,
    '</table></div>',
  ].join('');
}

function formatNumber(v: unknown, format: string | undefined): string {
  const n = typeof v === 'number' ? v : Number(v);
  if (v === null || v === undefined || !Number.isFinite(n)) return '–';
  if (format === 'percent') return `${(n * 100).toLocaleString('en', { maximumFractionDigits: 1 })}%`;
  if (format === 'decimal') return n.toLocaleString('en', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  return Math.round(n).toLocaleString('en');
}

/** The report of every dashboard, with what each panel showed. */
export async function buildReport(o: ReportOptions): Promise<Report> {
  const sections: PageSection[] = [];
  const charts: Array<{ id: string; label: string; spec: unknown }> = [];
  const outcomes: PanelOutcome[] = [];
  let querySeconds = 0;
  for (const [name, dash] of Object.entries(o.dashboards)) {
    const panels: string[] = [];
    for (const [i, panel] of dash.panels.entries()) {
      const id = `${name}-${i + 1}`;
      const kind = panelKind(panel);
      const label = panel.description ? `${panel.title}: ${panel.description}` : panel.title;
      const head = `<h3 id="${id}-title">${escapeHtml(panel.title)}</h3>${panel.description ? `<p class="description">${escapeHtml(panel.description)}</p>` : ''}`;
      const wide = kind === 'chart' && panel.chart && /^(line|area)$/.test(typeof panel.chart.mark === 'string' ? panel.chart.mark : panel.chart.mark.type);
      const open = `<article class="panel${wide ? ' wide' : ''}" id="${id}" data-kind="${kind}" aria-labelledby="${id}-title">`;
      const outcome: PanelOutcome = { dashboard: name, id, title: panel.title, kind, status: 'ok', rows: 0, shown: 0 };
      outcomes.push(outcome);
      let result;
      const sql = panelSql(panel, o.queries);
      const t0 = performance.now();
      try {
        result = await o.source.query(sql);
      } catch (e) {
        const message = (e as Error).message.split('\n')[0];
        Object.assign(outcome, { status: 'failed', message });
        panels.push(`${open}${head}<p class="failed" data-state="failed">This panel's query failed: ${escapeHtml(message)}</p></article>`);
        continue;
      } finally {
        querySeconds += (performance.now() - t0) / 1000;
      }
      const max = panel.max_rows ?? DEFAULT_MAX_ROWS;
      const rows = result.rows.slice(0, max);
      Object.assign(outcome, { rows: result.rows.length, shown: rows.length });
      // A number of nothing (an aggregate over no rows is one NULL row) is empty too.
      if (rows.length === 0 || (panel.number && (rows[0][panel.number.field] ?? null) === null)) {
        const empty = (o.source.tablesOf?.(sql) ?? []).filter((t) => o.source.emptyTables?.includes(t));
        const message = panel.empty ?? (empty.length ? `No data yet: ${empty.join(', ')} ${empty.length === 1 ? 'has' : 'have'} no rows.` : 'Nothing to show yet: the query returned no rows.');
        Object.assign(outcome, { status: 'empty', message });
        panels.push(`${open}${head}<p class="empty" data-state="empty">${escapeHtml(message)}</p></article>`);
        continue;
      }
      const cut = result.rows.length > rows.length ? `<p class="note">Showing the first ${rows.length.toLocaleString('en')} of ${result.rows.length.toLocaleString('en')} rows (max_rows): aggregate further in SQL.</p>` : '';
      const columns = panel.table?.columns ?? result.columns;
      if (panel.number) {
        const v = rows[0][panel.number.field];
        panels.push(`${open}${head}<p class="number" data-value="${escapeHtml(cellText(v))}">${escapeHtml(formatNumber(v, panel.number.format))}${panel.number.unit ? `<span class="unit">${escapeHtml(panel.number.unit)}</span>` : ''}</p></article>`);
      } else if (panel.chart) {
        const compiled = compileChart(panel.chart, rows, label);
        outcome.rowMarks = compiled.rowMarks;
        charts.push({ id, label, spec: compiled.spec });
        panels.push(`${open}${head}<div class="chart"></div><details><summary>Data table (${rows.length.toLocaleString('en')} rows)</summary>${tableHtml(result.columns, rows, panel.title)}</details>${cut}</article>`);
      } else {
        panels.push(`${open}${head}${tableHtml(columns, rows, panel.title)}${cut}</article>`);
      }
    }
    sections.push({ id: name, title: dash.title ?? name, ...(dash.description ? { description: dash.description } : {}), panels });
  }
  if (o.latestRuns) sections.push(latestRunSection(o.latestRuns, outcomes));
  const now = o.now ?? new Date();
  const html = pageHtml({
    title: o.title,
    subtitle: `From ${o.from}, ${now.toISOString().replace(/\.\d+Z$/, 'Z')}. Times are UTC.`,
    sections,
    charts,
    footer: `Generated by spotify-pipeline. ${outcomes.length} panels; self-contained: this file needs no network.`,
    vega: o.vega ?? vegaScript(),
  });
  return { html, bytes: Buffer.byteLength(html), panels: outcomes, querySeconds };
}

/** What the latest run (of each pipeline) added: from the run manifests, not a query. */
function latestRunSection(runs: LatestRun[], outcomes: PanelOutcome[]): PageSection {
  const panels = runs.map((run, i) => {
    const id = `latest-run-${i + 1}`;
    const rows = run.streams.map((s) => ({ stream: s.stream, records: s.records, files: s.files }));
    outcomes.push({ dashboard: 'latest_run', id, title: `Run ${run.runId}`, kind: 'table', status: rows.length ? 'ok' : 'empty', rows: rows.length, shown: rows.length });
    const head = `<h3 id="${id}-title">Run ${escapeHtml(run.runId)}</h3><p class="description">${run.committedAt ? `Committed ${escapeHtml(run.committedAt)}. ` : ''}Records landed raw per stream (the tables deduplicate them).</p>`;
    const body = rows.length ? tableHtml(['stream', 'records', 'files'], rows, `What run ${run.runId} added`) : '<p class="empty" data-state="empty">This run added no records.</p>';
    return `<article class="panel" id="${id}" data-kind="table" aria-labelledby="${id}-title">${head}${body}</article>`;
  });
  if (!panels.length) panels.push('<article class="panel" id="latest-run-0" data-kind="table"><h3>No run yet</h3><p class="empty" data-state="empty">No committed run in this lake yet: run the pipeline first.</p></article>');
  return { id: 'latest_run', title: 'What the latest run added', panels };
}

/** The newest committed run of each pipeline writing to the lake, newest first. */
export function latestRuns(manifests: ReadonlyArray<{ run_id: string; pipeline: string; committed_at?: string; streams: Record<string, { records: number; files: unknown[] }> }>): LatestRun[] {
  const newest = new Map<string, (typeof manifests)[number]>();
  for (const m of manifests) {
    const seen = newest.get(m.pipeline);
    if (!seen || m.run_id > seen.run_id) newest.set(m.pipeline, m);
  }
  return [...newest.values()]
    .sort((a, b) => (a.run_id < b.run_id ? 1 : -1))
    .map((m) => ({
      runId: m.run_id,
      ...(m.committed_at ? { committedAt: m.committed_at } : {}),
      streams: Object.entries(m.streams).map(([stream, s]) => ({ stream, records: s.records, files: s.files.length })),
    }));
}
