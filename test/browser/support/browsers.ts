/**
 * The browsers the browser tests run in: Debian's Chromium and Debian's firefox-esr, both the system binaries
 * (never a downloaded browser), both driven by puppeteer-core (Chromium over CDP, Firefox over WebDriver BiDi),
 * so one driver and one Page API serve both. Each launch gets a fresh profile and no background traffic.
 * A browser that is absent is skipped, saying why (browserMissingReason).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser as PuppeteerBrowser, type KeyInput, type Page } from 'puppeteer-core';
import { expect } from 'vitest';

export type { Page } from 'puppeteer-core';
export type BrowserName = 'chromium' | 'firefox';
export const BROWSERS: BrowserName[] = ['chromium', 'firefox'];

export const CHROMIUM_PATH = process.env.IRISFLAME_CHROMIUM ?? '/usr/bin/chromium';
export const FIREFOX_PATH = process.env.IRISFLAME_FIREFOX ?? '/usr/bin/firefox-esr';
const PATHS: Record<BrowserName, string> = { chromium: CHROMIUM_PATH, firefox: FIREFOX_PATH };
const PACKAGES: Record<BrowserName, string> = { chromium: 'chromium', firefox: 'firefox-esr' };

const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  // Even so it looked up accounts.google.com and clients2.google.com (strace): no name resolves but loopback.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
];

/** Firefox must not reach the network: telemetry, updates, captive portal, safebrowsing, Normandy, remote settings. */
const FIREFOX_PREFS: Record<string, unknown> = {
  'app.update.enabled': false, 'app.update.auto': false, 'app.update.disabledForTesting': true,
  'app.normandy.enabled': false, 'app.normandy.api_url': '', 'app.shield.optoutstudies.enabled': false,
  'toolkit.telemetry.enabled': false, 'toolkit.telemetry.unified': false, 'toolkit.telemetry.archive.enabled': false,
  'toolkit.telemetry.server': '', 'datareporting.healthreport.uploadEnabled': false,
  'datareporting.policy.dataSubmissionEnabled': false, 'browser.ping-centre.telemetry': false,
  'network.captive-portal-service.enabled': false, 'network.connectivity-service.enabled': false,
  'browser.safebrowsing.malware.enabled': false, 'browser.safebrowsing.phishing.enabled': false,
  'browser.safebrowsing.downloads.enabled': false, 'browser.safebrowsing.downloads.remote.enabled': false,
  'browser.safebrowsing.blockedURIs.enabled': false, 'browser.safebrowsing.update.enabled': false,
  'services.settings.server': 'http://127.0.0.1:9/', 'services.sync.enabled': false,
  'extensions.update.enabled': false, 'extensions.getAddons.cache.enabled': false, 'extensions.blocklist.enabled': false,
  'browser.search.update': false, 'browser.region.network.url': '', 'browser.region.update.enabled': false,
  'geo.provider.network.url': '', 'media.gmp-manager.url': '', 'media.gmp-gmpopenh264.enabled': false,
  'network.dns.disablePrefetch': true, 'network.prefetch-next': false, 'network.predictor.enabled': false,
  'browser.newtabpage.enabled': false, 'browser.startup.page': 0, 'browser.aboutHomeSnippets.updateUrl': '',
  'security.OCSP.enabled': 0, 'security.remote_settings.crlite_filters.enabled': false,
  'browser.contentblocking.report.lockwise.enabled': false, 'identity.fxaccounts.enabled': false,
  // With all of the above it still looked up firefox.settings.services.mozilla.com (strace of a test run):
  // every HTTP(S) request goes to a closed local port instead (loopback itself is never proxied), no DoH.
  'network.proxy.type': 1, 'network.proxy.http': '127.0.0.1', 'network.proxy.http_port': 9,
  'network.proxy.ssl': '127.0.0.1', 'network.proxy.ssl_port': 9, 'network.proxy.share_proxy_settings': true,
  'network.trr.mode': 5,
  // ... and the name was still resolved (DNS, port 53): every name resolves to loopback without asking DNS.
  'network.dns.forceResolve': '127.0.0.1', 'network.dns.localDomains': 'firefox.settings.services.mozilla.com',
};

/** undefined when the browser is installed; otherwise the reason to print when skipping. */
export function browserMissingReason(name: BrowserName): string | undefined {
  return existsSync(PATHS[name]) ? undefined : `${name} not found at ${PATHS[name]} (apt-get install ${PACKAGES[name]})`;
}

export interface TestBrowser {
  name: BrowserName;
  /** A scratch directory for SVGs written by the test; removed by close(). */
  dir: string;
  /** Write `svg` to a file and open it via file:// (with an optional query string) in a new page. */
  open(svg: string, name?: string, query?: string): Promise<Page>;
  /** Open a URL in a new page. */
  goto(url: string): Promise<Page>;
  /** A new blank page, for tests that set it up before loading (e.g. without JavaScript). */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** @param viewportHeight make it taller than the graph: tests check what is visible at each frame's centre. */
export async function launchBrowser(name: BrowserName, viewportHeight = 900): Promise<TestBrowser> {
  const dir = mkdtempSync(join(tmpdir(), `irisflame-${name}-`));
  const common = {
    executablePath: PATHS[name], headless: true, userDataDir: join(dir, 'profile'),
    defaultViewport: { width: 1280, height: viewportHeight }, protocolTimeout: 180_000,
  };
  const browser: PuppeteerBrowser = name === 'chromium'
    ? await puppeteer.launch({ ...common, browser: 'chrome', args: CHROMIUM_ARGS })
    : await puppeteer.launch({ ...common, browser: 'firefox', protocol: 'webDriverBiDi', extraPrefsFirefox: FIREFOX_PREFS });
  const goto = async (url: string): Promise<Page> => {
    const page = await browser.newPage();
    await page.goto(url, { waitUntil: 'load', timeout: 120_000 });
    return page;
  };
  return {
    name,
    dir,
    async open(svg, file = 'graph.svg', query = '') {
      const path = join(dir, file);
      writeFileSync(path, svg);
      return goto(pathToFileURL(path).href + query);
    },
    goto,
    newPage: () => browser.newPage(),
    async close() {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Press a key with modifiers, written as Playwright does: 'Control+f'. */
export async function pressChord(page: Page, chord: string): Promise<void> {
  const keys = chord.split('+') as KeyInput[];
  for (const key of keys.slice(0, -1)) await page.keyboard.down(key);
  await page.keyboard.press(keys[keys.length - 1]!);
  for (const key of keys.slice(0, -1).reverse()) await page.keyboard.up(key);
}

/** Whether the element is rendered with a non-empty box (Playwright's isVisible). */
export async function isVisible(page: Page, selector: string): Promise<boolean> {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    if (!el) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
  }, selector);
}

/** Wait until the page's URL satisfies `test` (the script writes it once clicks pause). */
export async function waitForUrl(page: Page, test: (url: URL) => boolean): Promise<void> {
  await expect.poll(() => test(new URL(page.url())), { timeout: 10_000 }).toBe(true);
}

/** The element's box in viewport coordinates, scrolled into view first if it is outside. */
export async function boxOf(page: Page, selector: string): Promise<{ x: number; y: number; width: number; height: number }> {
  const box = await page.evaluate((sel) => {
    const el = document.querySelector(sel);
    if (!el) return null;
    let r = el.getBoundingClientRect();
    if (r.top < 0 || r.bottom > window.innerHeight || r.left < 0 || r.right > window.innerWidth) {
      el.scrollIntoView({ block: 'center', inline: 'center' });
      r = el.getBoundingClientRect();
    }
    return { x: r.x, y: r.y, width: r.width, height: r.height };
  }, selector);
  if (!box) throw new Error(`no element ${selector}`);
  return box;
}

/** Click the middle of an element with the mouse, optionally holding modifier keys. */
export async function clickOn(page: Page, selector: string, modifiers: KeyInput[] = []): Promise<void> {
  const box = await boxOf(page, selector);
  for (const key of modifiers) await page.keyboard.down(key);
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  for (const key of modifiers.reverse()) await page.keyboard.up(key);
}

export async function hoverOn(page: Page, selector: string): Promise<void> {
  const box = await boxOf(page, selector);
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
}

/** textContent of the first element matching `selector` (null when there is none). */
export async function textAt(page: Page, selector: string): Promise<string | null> {
  return page.evaluate((sel) => document.querySelector(sel)?.textContent ?? null, selector);
}

export async function attributeAt(page: Page, selector: string, name: string): Promise<string | null> {
  return page.evaluate((sel, n) => document.querySelector(sel)?.getAttribute(n) ?? null, selector, name);
}

export async function countOf(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => document.querySelectorAll(sel).length, selector);
}

export async function textsAt(page: Page, selector: string): Promise<string[]> {
  return page.evaluate((sel) => Array.from(document.querySelectorAll(sel)).map((e) => e.textContent ?? ''), selector);
}

/** Focus an element, SVG or HTML (puppeteer's page.focus accepts HTML elements only). */
export async function focusOn(page: Page, selector: string): Promise<void> {
  const found = await page.evaluate((sel) => {
    const el = document.querySelector(sel) as (Element & { focus(): void }) | null;
    el?.focus();
    return el !== null && document.activeElement === el;
  }, selector);
  if (!found) throw new Error(`could not focus ${selector}`);
}
