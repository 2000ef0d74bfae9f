/**
 * The browser harness (test/support/browser.ts) the report's browser test stands on, proved on
 * small pages written here: it sees what a page draws, catches console and page errors, measures
 * horizontal overflow at a phone's width, writes full-page screenshots, keeps the page offline
 * (a remote request is recorded and aborted) and fails in a bounded time, saying why, when a page
 * never says it has rendered. One Chromium for the whole file.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { closeBrowser, countElements, countPerSection, horizontalOverflow, openPage, screenshot, SCREENSHOTS } from '../support/browser.ts';

const PHONE = { width: 375, height: 667 };
const DESKTOP = { width: 1280, height: 800 };

let dir: string;
const page = (name: string, body: string): string => {
  const file = join(dir, `${name}.html`);
  writeFileSync(file, `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${name}</title></head><body>${body}</body></html>`);
  return file;
};
/** Sets the flag the harness waits for, after a frame (as a chart library would, asynchronously). */
const RENDERED = `requestAnimationFrame(() => { document.documentElement.dataset.rendered = 'true'; });`;

/** Two sections drawing 3 and 5 rects from inline JS; records the colour scheme the page sees. */
const CHARTS = `
<section id="a"><svg width="300" height="50"></svg></section>
<section id="b"><svg width="300" height="50"></svg></section>
<div style="height: 1500px"></div>
<script>
  const draw = (id, n) => {
    const svg = document.querySelector('#' + id + ' svg');
    for (let i = 0; i < n; i++) {
      const r = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
      r.setAttribute('x', String(i * 20)); r.setAttribute('width', '15'); r.setAttribute('height', '40');
      svg.appendChild(r);
    }
  };
  setTimeout(() => {
    draw('a', 3); draw('b', 5);
    document.documentElement.dataset.scheme = matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
    ${RENDERED}
  }, 50);
</script>`;

/** PNG width and height from its IHDR chunk. */
function pngSize(file: string): { width: number; height: number } {
  const png = readFileSync(file);
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'browser-harness-'));
});
afterAll(async () => {
  await closeBrowser();
  rmSync(dir, { recursive: true, force: true });
});

describe('browser harness', () => {
  test('waits for the drawing, counts marks per section, sees no error, no remote request and no overflow at phone width', async () => {
    const p = await openPage(page('charts', CHARTS), PHONE);
    try {
      expect(await countPerSection(p.page, 'section', 'svg rect')).toEqual({ a: 3, b: 5 });
      expect(await countElements(p.page, 'svg rect')).toBe(8);
      expect(p.consoleErrors).toEqual([]);
      expect(p.consoleWarnings).toEqual([]);
      expect(p.pageErrors).toEqual([]);
      expect(p.remoteRequests).toEqual([]);
      expect(await horizontalOverflow(p.page)).toBe(0);
      expect(await p.page.evaluate('document.documentElement.dataset.scheme')).toBe('light');
    } finally {
      await p.close();
    }
  });

  test('writes a full-page screenshot in the dark colour scheme', async () => {
    const out = join(SCREENSHOTS, 'browser-harness-dark.png');
    rmSync(out, { force: true });
    const p = await openPage(page('charts-dark', CHARTS), DESKTOP, { colorScheme: 'dark' });
    try {
      expect(await p.page.evaluate('document.documentElement.dataset.scheme')).toBe('dark');
      expect(await screenshot(p.page, 'browser-harness-dark')).toBe(out);
    } finally {
      await p.close();
    }
    expect(existsSync(out)).toBe(true);
    const size = pngSize(out);
    expect(size.width).toBe(DESKTOP.width);
    // Full page: the 1500 px spacer is below the fold of an 800 px viewport.
    expect(size.height).toBeGreaterThan(1500);
  });

  test('catches console errors and warnings and uncaught page errors', async () => {
    const p = await openPage(
      page('errors', `<script>
        console.error('chart failed: no data');
        console.warn('WARN scale domain is empty');
        setTimeout(() => { ${RENDERED} throw new Error('boom in a chart'); }, 0);
      </script>`),
      DESKTOP,
    );
    try {
      await expect.poll(() => p.pageErrors.length).toBe(1);
      expect(p.consoleErrors.map((e) => e.text)).toEqual(['chart failed: no data']);
      expect(p.consoleErrors[0].location).toMatch(/^file:.*errors\.html:\d+:\d+$/);
      expect(p.consoleWarnings.map((e) => e.text)).toEqual(['WARN scale domain is empty']);
      expect(p.pageErrors[0]).toContain('boom in a chart');
    } finally {
      await p.close();
    }
  });

  test('measures horizontal overflow: an element wider than a phone makes the page scroll sideways', async () => {
    const p = await openPage(page('wide', `<div style="width: 600px; height: 10px; background: red"></div><script>${RENDERED}</script>`), PHONE);
    try {
      expect(await horizontalOverflow(p.page)).toBe(600 - PHONE.width + 8); // body's default 8 px margin
    } finally {
      await p.close();
    }
  });

  test('keeps the page offline: a remote image and fetch are recorded as non-local and never load', async () => {
    const p = await openPage(
      page('remote', `<img id="remote" src="http://example.invalid/x.png" alt="remote">
        <img id="local" alt="inline" src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7">
        <script>
          window.addEventListener('load', () => {
            fetch('https://example.invalid/data.json').then(() => 'loaded', () => 'blocked').then((r) => {
              document.documentElement.dataset.fetch = r;
              ${RENDERED}
            });
          });
        </script>`),
      DESKTOP,
    );
    try {
      expect(p.remoteRequests.sort()).toEqual(['http://example.invalid/x.png', 'https://example.invalid/data.json']);
      // Aborted by the harness (not a failed DNS look-up): Chromium reports each as blocked, where it was asked for.
      expect(p.consoleErrors.map((e) => [e.location.replace(/:0:0$/, ''), /ERR_BLOCKED_BY_CLIENT/.test(e.text)]).sort()).toEqual([
        ['http://example.invalid/x.png', true],
        ['https://example.invalid/data.json', true],
      ]);
      expect(await p.page.evaluate('document.documentElement.dataset.fetch')).toBe('blocked');
      expect(await p.page.evaluate("document.getElementById('remote').naturalWidth")).toBe(0);
      expect(await p.page.evaluate("document.getElementById('local').naturalWidth")).toBe(1);
    } finally {
      await p.close();
    }
  });

  test('fails, saying what was missing and what the page reported, when the page never sets dataset.rendered', async () => {
    const file = page('never', `<script>console.error('vega: spec invalid');</script>`);
    await expect(openPage(file, DESKTOP, { timeoutMs: 1000 })).rejects.toThrow(
      /never\.html did not set document\.documentElement\.dataset\.rendered = 'true' within 1 s .*the page reported: vega: spec invalid/,
    );
  });
});
