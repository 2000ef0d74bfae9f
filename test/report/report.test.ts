/**
 * The report of the shipped pipeline.yaml, from a lake the sandbox filled (the Web API, then the
 * generated export), opened from disk in a real Chromium (test/support/browser.ts): every panel
 * has its data, every chart draws one mark per row, the page needs no network and logs no error,
 * a phone-width viewport does not scroll sideways, and a lake without an export shows clear empty
 * states. Screenshots of each viewport go to test-output/screenshots/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type SpotifySandbox } from '../../connectors/spotify/sandbox/index.ts';
import { writeLocalReport } from '../../core/cli/report.ts';
import { memoryLogger } from '../../core/log.ts';
import { lakeTables, preparePipeline, runLocal, viewTables, type Prepared } from '../../core/pipeline.ts';
import { buildRecommendations, recsSettings } from '../../core/recs/index.ts';
import { runIncludes, sandboxConfig } from '../support/shipped.ts';
import { openLake } from '../../core/query/index.ts';
import { panelSql, type Report } from '../../core/report/index.ts';
import { closeBrowser, countElements, horizontalOverflow, openPage, screenshot, SCREENSHOTS } from '../support/browser.ts';

const PIPELINE = join(import.meta.dirname, '..', '..', 'pipeline.yaml');

describe('the report of the shipped pipeline', () => {
  let sb: SpotifySandbox;
  let lake: string;
  let prep: Prepared;
  let apiOnly: Report & { file: string };
  let full: Report & { file: string };

  beforeAll(async () => {
    sb = await startSandbox({ seed: 7 });
    lake = await mkdtemp(join(tmpdir(), 'report-'));
    prep = await preparePipeline(PIPELINE);
    const api = await runLocal(prep, { lake, logger: memoryLogger(), connectorConfig: sandboxConfig(sb) });
    expect(api.ok, api.error).toBe(true);
    apiOnly = await writeLocalReport(prep, lake, join(lake, 'reports', 'api-only.html'));
    await runIncludes(prep, lake, 7);
    // `spotify-pipeline recs`: the recommendations panel then has rows too.
    await buildRecommendations({ lakeDir: lake, tables: lakeTables(prep), settings: recsSettings(prep.loaded.config.recommendations) });
    full = await writeLocalReport(prep, lake, join(lake, 'reports', 'report.html'));
  });

  afterAll(async () => {
    await closeBrowser();
    await sb?.close();
    if (lake) await rm(lake, { recursive: true, force: true });
  });

  it('every shipped panel has data from the sandbox and the export, exactly its query rows', async () => {
    const dashboards = prep.loaded.config.dashboards ?? {};
    const declared = Object.values(dashboards).reduce((n, d) => n + d.panels.length, 0);
    expect(declared).toBeGreaterThanOrEqual(10);
    const panels = full.panels.filter((p) => p.dashboard !== 'latest_run');
    expect(panels.length).toBe(declared);
    expect(panels.filter((p) => p.status !== 'ok').map((p) => `${p.title}: ${p.status} ${p.message ?? ''}`)).toEqual([]);
    // Each panel shows what its query returns on the lake (aggregated: no panel ships raw rows).
    const db = await openLake(lake, viewTables(prep));
    try {
      let i = 0;
      for (const d of Object.values(dashboards)) {
        for (const p of d.panels) {
          const res = await db.query(panelSql(p, prep.loaded.config.queries));
          expect(panels[i].rows, p.title).toBe(res.rows.length);
          expect(panels[i].shown, p.title).toBe(Math.min(res.rows.length, p.max_rows ?? 1000));
          if (p.number) expect(full.html).toContain(`data-value="${String(res.rows[0][p.number.field])}"`);
          i++;
        }
      }
    } finally {
      db.close();
    }
    // What the latest runs added: both pipelines' runs, from their manifests.
    const runs = full.panels.filter((p) => p.dashboard === 'latest_run');
    expect(runs.map((r) => r.rows).sort()).toEqual([1, 4]);
    expect(full.html).toMatch(/<td>recently_played<\/td><td class="num">50<\/td>/);
    // Self-contained: Vega's runtime is inlined and nothing is loaded from anywhere.
    expect(full.html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|<img[^>]+src=/i);
    expect(full.html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none';`);
    expect(full.bytes).toBeLessThan(1.5 * 2 ** 20);
  });

  it('without an export: the panels that need one say so instead of drawing an empty chart', async () => {
    const skips = apiOnly.panels.find((p) => p.title === 'Skipped plays per month')!;
    expect(skips.status).toBe('empty');
    expect(skips.message).toMatch(/^No skip data yet/);
    // Before `recs` has run, the recommendations panel says how to build them.
    const recs = apiOnly.panels.find((p) => p.title === 'Current recommendations')!;
    expect([recs.status, recs.message]).toEqual(['empty', 'No recommendations yet. Run `spotify-pipeline recs` to build them from your listening history.']);
    // The Web API's plays alone still fill the history panels.
    expect(apiOnly.panels.find((p) => p.title === 'Listening hours per week')!.status).toBe('ok');
    const html = await readFile(apiOnly.file, 'utf8');
    expect(html).toContain(`<article class="panel wide" id="${skips.id}"`);
    expect(html.slice(html.indexOf(`id="${skips.id}"`)).split('</article>')[0]).toMatch(/<p class="empty" data-state="empty">No skip data yet/);
  });

  it('opens from disk in Chromium with no error or request, one mark per row in every chart, at desktop and phone widths', async () => {
    const figures: Record<string, unknown> = { bytes: full.bytes, panels: full.panels.length };
    for (const [name, viewport, colorScheme] of [
      ['report-desktop-light', { width: 1280, height: 900 }, 'light'],
      ['report-phone-dark', { width: 375, height: 812 }, 'dark'],
    ] as const) {
      const opened = await openPage(full.file, viewport, { colorScheme });
      try {
        const { page } = opened;
        expect(opened.pageErrors).toEqual([]);
        expect(opened.consoleErrors).toEqual([]);
        expect(opened.remoteRequests).toEqual([]);
        for (const p of full.panels) {
          const at = `#${p.id}`;
          if (p.kind === 'chart') {
            expect(await countElements(page, `${at} ${p.rowMarks}`), `${name}: marks of ${p.title}`).toBe(p.shown);
            expect(await countElements(page, `${at} svg[role="img"][aria-label]`), `${name}: ${p.title} is labelled`).toBe(1);
          }
          if (p.kind !== 'number') expect(await countElements(page, `${at} tbody tr`), `${name}: data table of ${p.title}`).toBe(p.shown);
          else expect(await countElements(page, `${at} .number`)).toBe(1);
        }
        expect(await horizontalOverflow(page), `${name} scrolls sideways`).toBe(0);
        figures[`${name} render ms`] = Number(await page.evaluate('document.documentElement.dataset.renderMs'));
        await screenshot(page, name);
      } finally {
        await opened.close();
      }
    }
    // The page weight and render time, for the closing note and anyone curious.
    mkdirSync(SCREENSHOTS, { recursive: true });
    writeFileSync(join(SCREENSHOTS, '..', 'report-figures.json'), JSON.stringify(figures, null, 2));
  });

  it('an export-less report opens cleanly too, its empty panels as text', async () => {
    const opened = await openPage(apiOnly.file, { width: 375, height: 812 });
    try {
      expect([...opened.pageErrors, ...opened.consoleErrors.map((c) => c.text)]).toEqual([]);
      const empty = apiOnly.panels.filter((p) => p.status === 'empty');
      expect(empty.length).toBeGreaterThan(0);
      expect(await countElements(opened.page, '[data-state="empty"]')).toBe(empty.length);
      expect(await horizontalOverflow(opened.page)).toBe(0);
      await screenshot(opened.page, 'report-phone-no-export');
    } finally {
      await opened.close();
    }
  });
});
