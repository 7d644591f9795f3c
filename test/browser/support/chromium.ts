/**
 * Headless Debian Chromium for the browser tests: the system binary (never a downloaded browser), a fresh
 * profile per launch, and no background traffic. Tests skip, saying why, when /usr/bin/chromium is absent.
 * The browser tests now run in Chromium and Firefox through ./browsers.ts (puppeteer-core, one Page API for
 * both): write new tests with `describe.each(BROWSERS)` and `launchBrowser(name)` from there. This Playwright
 * launcher stays for tests not yet moved.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.IRISFLAME_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** undefined when Chromium is installed; otherwise the reason to print when skipping. */
export function chromiumMissingReason(): string | undefined {
  return existsSync(CHROMIUM_PATH) ? undefined : `Chromium not found at ${CHROMIUM_PATH} (apt-get install chromium)`;
}

export interface Browser {
  context: BrowserContext;
  /** A scratch directory for SVGs written by the test; removed by close(). */
  dir: string;
  /** Write `svg` to a file and open it via file:// (with an optional query string) in a new page. */
  open(svg: string, name?: string, query?: string): Promise<Page>;
  close(): Promise<void>;
}

/** @param viewportHeight make it taller than the graph: tests check what is visible at each frame's centre. */
export async function launchChromium(viewportHeight = 900): Promise<Browser> {
  const dir = mkdtempSync(join(tmpdir(), 'irisflame-browser-'));
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1280, height: viewportHeight },
  });
  return {
    context,
    dir,
    async open(svg, name = 'graph.svg', query = '') {
      const file = join(dir, name);
      writeFileSync(file, svg);
      const page = await context.newPage();
      await page.goto(pathToFileURL(file).href + query, { waitUntil: 'load' });
      return page;
    },
    async close() {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
