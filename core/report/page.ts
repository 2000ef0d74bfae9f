/**
 * The report's one HTML file: styles, Vega's runtime, the compiled charts and their data all
 * inline, so it opens from disk (or a presigned S3 URL) with no network at all. Light and dark
 * follow the reader's system setting; the layout is one column on a phone, two on a wide screen;
 * every chart has a title, a description for screen readers and its data as a table.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Vega's minified runtime (the `vega` package's browser build), read once. */
let vegaCache: string | undefined;
export function vegaScript(): string {
  if (vegaCache === undefined) {
    // The package exports only its module entry; the browser build sits beside it.
    const entry = createRequire(import.meta.url).resolve('vega');
    vegaCache = readFileSync(join(dirname(entry), 'vega.min.js'), 'utf8');
  }
  return vegaCache;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** JSON inside a <script> element: nothing in it can close the element or open a comment. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const STYLE = `
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1d1d1f; --muted: #5f6368; --card: #f6f7f9; --line: #d9dce1; --accent: #1db954; }
@media (prefers-color-scheme: dark) { :root { --bg: #121212; --fg: #ececec; --muted: #a7a7a7; --card: #1e1e1e; --line: #333; --accent: #1ed760; } }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header, main, footer { max-width: 1200px; margin: 0 auto; padding: 0 16px; }
header { padding-top: 20px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.25rem; margin: 28px 0 4px; border-bottom: 2px solid var(--accent); padding-bottom: 4px; }
h3 { font-size: 1rem; margin: 0 0 2px; }
p { margin: 4px 0; }
.muted, .description { color: var(--muted); font-size: 0.9rem; }
nav ul { list-style: none; padding: 0; margin: 8px 0 0; display: flex; flex-wrap: wrap; gap: 6px 14px; }
a { color: inherit; }
.panels { display: grid; grid-template-columns: minmax(0, 1fr); gap: 16px; margin-top: 12px; }
@media (min-width: 900px) { .panels { grid-template-columns: repeat(2, minmax(0, 1fr)); } .panel.wide { grid-column: 1 / -1; } }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; min-width: 0; }
.chart { width: 100%; min-height: 40px; margin-top: 8px; }
.chart svg { max-width: 100%; height: auto; }
.number { font-size: 2.4rem; font-weight: 650; margin: 10px 0 2px; }
.number .unit { font-size: 1rem; font-weight: 400; color: var(--muted); margin-left: 6px; }
.empty, .failed { margin: 14px 0; padding: 10px 12px; border: 1px dashed var(--line); border-radius: 8px; color: var(--muted); }
.failed { border-color: #d93025; }
details { margin-top: 8px; }
summary { cursor: pointer; color: var(--muted); font-size: 0.9rem; }
.table-wrap { overflow-x: auto; max-width: 100%; margin-top: 6px; }
table { border-collapse: collapse; font-size: 0.85rem; width: 100%; }
caption { text-align: left; color: var(--muted); padding-bottom: 4px; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: var(--muted); font-size: 0.8rem; margin-top: 4px; }
footer { margin: 32px auto 24px; color: var(--muted); font-size: 0.8rem; }
`;

/**
 * Draws every chart, then marks the document: data-rendered="true" and data-render-ms (how long
 * the drawing took), or data-rendered="error". A chart that fails says so in its panel.
 */
const SCRIPT = `
(function () {
  var root = document.documentElement;
  var charts = JSON.parse(document.getElementById('report-charts').textContent);
  var t0 = performance.now();
  Promise.all(charts.map(function (c) {
    var el = document.getElementById(c.id).querySelector('.chart');
    var view = new vega.View(vega.parse(c.spec), { renderer: 'svg', container: el, hover: true });
    return view.runAsync().then(function () {
      var svg = el.querySelector('svg');
      if (svg) { svg.setAttribute('role', 'img'); svg.setAttribute('aria-label', c.label); }
    }).catch(function (e) {
      el.innerHTML = '';
      var p = document.createElement('p'); p.className = 'failed'; p.textContent = 'This chart could not be drawn: ' + e.message; el.appendChild(p);
      throw e;
    });
  })).then(function () {
    root.dataset.renderMs = String(Math.round(performance.now() - t0));
    root.dataset.rendered = 'true';
  }, function (e) {
    console.error('report: ' + (e && e.message));
    root.dataset.rendered = 'error';
  });
})();
`;

export interface PageSection {
  id: string;
  title: string;
  description?: string;
  /** Panels' HTML. */
  panels: string[];
}

export function pageHtml(opts: { title: string; subtitle: string; sections: PageSection[]; charts: Array<{ id: string; label: string; spec: unknown }>; footer: string; vega: string }): string {
  const nav = opts.sections.map((s) => `<li><a href="#${s.id}">${escapeHtml(s.title)}</a></li>`).join('');
  const body = opts.sections
    .map((s) => [`<section id="${s.id}" aria-labelledby="${s.id}-title">`, `<h2 id="${s.id}-title">${escapeHtml(s.title)}</h2>`, s.description ? `<p class="description">${escapeHtml(s.description)}</p>` : '', `<div class="panels">`, ...s.panels, `</div>`, `</section>`].join('\n'))
    .join('\n');
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // Offline by construction: nothing may load from anywhere but this file.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:">`,
    `<title>${escapeHtml(opts.title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<header><h1>${escapeHtml(opts.title)}</h1><p class="muted">${escapeHtml(opts.subtitle)}</p><nav aria-label="Dashboards"><ul>${nav}</ul></nav></header>`,
    `<main>`,
    body,
    `</main>`,
    `<footer>${escapeHtml(opts.footer)}</footer>`,
    `<script type="application/json" id="report-charts">${scriptJson(opts.charts)}</script>`,
    `<script>${opts.vega.replace(/<\/script/gi, '<\\/script')}</script>`,
    `<script>${SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
