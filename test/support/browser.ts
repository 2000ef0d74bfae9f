/**
 * A real browser for tests: Debian's Chromium (found or installed by scripts/browser.mjs in the
 * global setup, test/setup/build.ts) driven by playwright-core. One browser per test file,
 * launched by the first `openPage` and shut by `closeBrowser()` (call it in `afterAll`); each
 * page gets a context of its own (viewport, colour scheme), closed by its `close()`.
 *
 * A page is opened from disk and must work offline: every request that is not file:, data: or
 * blob: is recorded in `remoteRequests` and aborted, so a test can assert there were none and no
 * test ever uses the network. Console errors and warnings and uncaught page errors are recorded
 * too. `openPage` returns once the page says it has drawn: `document.documentElement.dataset.rendered
 * === 'true'` (the report sets it after its last chart drew).
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { inject } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where `screenshot` writes (ignored by git). */
export const SCREENSHOTS = join(ROOT, 'test-output', 'screenshots');
const LOCAL = new Set(['file:', 'data:', 'blob:']);

export interface Viewport {
  width: number;
  height: number;
}

export interface OpenPageOptions {
  colorScheme?: 'light' | 'dark';
  /** How long to wait for `dataset.rendered === 'true'`; 20 s by default. */
  timeoutMs?: number;
}

export interface ConsoleEntry {
  type: string;
  text: string;
  /** `url:line:column` of the message when Chromium knows it. */
  location: string;
}

export interface OpenedPage {
  page: Page;
  /** console.error() calls and Chromium's own errors (a failed resource load is one). */
  consoleErrors: ConsoleEntry[];
  consoleWarnings: ConsoleEntry[];
  /** Uncaught exceptions and unhandled rejections of the page's scripts. */
  pageErrors: string[];
  /** URLs the page asked for that are not file:, data: or blob: (each was aborted). */
  remoteRequests: string[];
  /** Closes this page's context (the browser stays open for the file's next page). */
  close(): Promise<void>;
}

let browser: Promise<Browser> | undefined;

/** The Chromium executable: handed in by the global setup, or CHROMIUM_PATH. */
export function chromiumPath(): string {
  const path = inject('chromiumPath') ?? process.env.CHROMIUM_PATH;
  if (!path) throw new Error('no Chromium: run the tests through vitest (its global setup, test/setup/build.ts, finds or installs it) or set CHROMIUM_PATH');
  return path;
}

function launch(): Promise<Browser> {
  browser ??= chromium.launch({
    executablePath: chromiumPath(),
    // Chromium refuses to run as root with its sandbox on.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
  return browser;
}

/** Shuts the file's browser (call it in `afterAll`); a later `openPage` launches a new one. */
export async function closeBrowser(): Promise<void> {
  const b = browser;
  browser = undefined;
  if (b) await (await b).close();
}

/**
 * Opens `file` (a path on disk) at `viewport` and waits until the page has set
 * `document.documentElement.dataset.rendered = 'true'` (bounded: `timeoutMs`, 20 s by default;
 * the error then says what was missing and what the page logged).
 */
export async function openPage(file: string, viewport: Viewport, opts: OpenPageOptions = {}): Promise<OpenedPage> {
  const context: BrowserContext = await (await launch()).newContext({ viewport, colorScheme: opts.colorScheme ?? 'light' });
  const consoleErrors: ConsoleEntry[] = [];
  const consoleWarnings: ConsoleEntry[] = [];
  const pageErrors: string[] = [];
  const remoteRequests: string[] = [];
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (LOCAL.has(new URL(url).protocol)) return route.continue();
    remoteRequests.push(url);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('console', (msg) => {
    const { url, lineNumber, columnNumber } = msg.location();
    const entry = { type: msg.type(), text: msg.text(), location: url ? `${url}:${lineNumber}:${columnNumber}` : '' };
    if (entry.type === 'error') consoleErrors.push(entry);
    else if (entry.type === 'warning') consoleWarnings.push(entry);
  });
  page.on('pageerror', (err) => pageErrors.push(err.stack ?? err.message));
  const timeout = opts.timeoutMs ?? 20_000;
  try {
    await page.goto(pathToFileURL(resolve(file)).href, { waitUntil: 'load', timeout });
    await page.waitForFunction("document.documentElement.dataset.rendered === 'true'", null, { timeout });
  } catch (e) {
    const said = [...pageErrors, ...consoleErrors.map((c) => c.text)];
    await context.close();
    throw new Error(
      `${file} did not set document.documentElement.dataset.rendered = 'true' within ${timeout / 1000} s ` +
        `(${e instanceof Error ? e.message.split('\n')[0] : String(e)})` +
        (said.length ? `; the page reported: ${said.join(' | ')}` : '; the page reported no error'),
      { cause: e },
    );
  }
  return { page, consoleErrors, consoleWarnings, pageErrors, remoteRequests, close: () => context.close() };
}

/** How far the document scrolls sideways: scrollWidth - clientWidth (0 = no horizontal scroll). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
}

/** Writes a full-page PNG to test-output/screenshots/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** How many elements match `selector` in the page. */
export async function countElements(page: Page, selector: string): Promise<number> {
  return page.locator(selector).count();
}

/**
 * For each element matching `sectionSelector`, how many elements inside it match `selector`,
 * keyed by the section's `keyAttribute` (`id` by default; `#<index>` when it has none). E.g. the
 * bars drawn in each panel: `countPerSection(page, 'section[data-panel]', 'svg .mark-rect path', 'data-panel')`.
 */
export async function countPerSection(page: Page, sectionSelector: string, selector: string, keyAttribute = 'id'): Promise<Record<string, number>> {
  const sections = await page.locator(sectionSelector).all();
  const out: Record<string, number> = {};
  for (const [i, section] of sections.entries()) {
    const key = (await section.getAttribute(keyAttribute)) ?? `#${i}`;
    out[key] = await section.locator(selector).count();
  }
  return out;
}
