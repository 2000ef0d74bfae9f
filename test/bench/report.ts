/**
 * Report benchmark: the shipped dashboards over a big history, against the same report over a
 * small one, both measured in the same run. Generated plays (the transform bench's generator,
 * 1,000,000 by default) are built into the `plays` table; the report runs every panel's query on
 * DuckDB, and Debian's Chromium (scripts/browser.mjs finds or installs it) opens the page from
 * disk and draws it. Panels aggregate in SQL, so the page must not grow with the history: the
 * lines `report page weight at N / at 10,000 plays: 1.02x` and `report render ... : 1.1x` say
 * whether it does. Prints; asserts nothing.
 *
 *   npm run bench -- report                      (1,000,000 plays against 10,000)
 *   npm run bench -- report --records 3000000
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { writeLocalReport } from '../../core/cli/report.ts';
import { preparePipeline } from '../../core/pipeline.ts';
import { buildTables } from '../../core/transform/index.ts';
// @ts-expect-error: scripts/browser.mjs is plain JavaScript without type declarations
import { ensureChromium } from '../../scripts/browser.mjs';
import { generate } from './transform.ts';

const ROOT = join(import.meta.dirname, '..', '..');

interface Measured {
  plays: number;
  bytes: number;
  querySeconds: number;
  renderMs: number;
  panels: number;
}

async function measure(plays: number, executablePath: string): Promise<Measured> {
  const lake = await mkdtemp(join(tmpdir(), 'bench-report-'));
  try {
    const prep = await preparePipeline(join(ROOT, 'pipeline.yaml'));
    const files = await generate(lake, plays);
    const [built] = await buildTables({ lakeDir: lake, tables: { plays: prep.loaded.config.tables.plays }, files, runId: `bench-${process.pid}` });
    const report = await writeLocalReport(prep, lake, join(lake, 'reports', 'report.html'));
    const browser = await chromium.launch({ executablePath, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
    try {
      // The median of three loads: the first pays for the browser's caches.
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        await page.goto(pathToFileURL(report.file).href);
        await page.waitForFunction('document.documentElement.dataset.rendered', null, { timeout: 60_000 });
        times.push(Number(await page.evaluate('document.documentElement.dataset.renderMs')));
        await page.close();
      }
      times.sort((a, b) => a - b);
      return { plays: built.rows, bytes: report.bytes, querySeconds: report.querySeconds, renderMs: times[1], panels: report.panels.length };
    } finally {
      await browser.close();
    }
  } finally {
    await rm(lake, { recursive: true, force: true });
  }
}

export async function runReportBench(opts: { records?: number; log?: (line: string) => void } = {}): Promise<void> {
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const big = opts.records ?? 1_000_000;
  const small = 10_000;
  const executablePath = (ensureChromium as () => string)();
  log(`report bench: the shipped dashboards over ${big.toLocaleString('en')} generated plays, against ${small.toLocaleString('en')}; load average ${loadavg().map((l) => l.toFixed(2)).join(', ')}`);
  const base = await measure(small, executablePath);
  const at = await measure(big, executablePath);
  for (const m of [base, at]) {
    log(`  ${m.plays.toLocaleString('en').padStart(10)} plays: page ${(m.bytes / 1024).toFixed(1)} KiB, ${m.panels} panels, queries ${m.querySeconds.toFixed(2)} s, render ${m.renderMs} ms (Chromium, median of 3)`);
  }
  const label = `at ${big.toLocaleString('en')} / at ${small.toLocaleString('en')} plays`;
  log(`report page weight ${label}: ${(at.bytes / base.bytes).toFixed(2)}x`);
  log(`report render ${label}: ${(at.renderMs / base.renderMs).toFixed(2)}x`);
  log(`report queries ${label}: ${(at.querySeconds / base.querySeconds).toFixed(2)}x`);
}
