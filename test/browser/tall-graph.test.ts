/**
 * Graphs taller than the window (a few very deep stacks in a whole-system capture) open with the part that
 * matters in view: the roots and widest frames, or the zoomed frame restored from the URL.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { reportSkip } from '../support/references.js';
import { BROWSERS, browserMissingReason, isVisible, launchBrowser, type Page, type TestBrowser } from './support/browsers.js';
import { contractSvg } from './support/contract-svg.mjs';

// A 120-frame recursion (about 2000 px tall at 16 px per frame) beside shallow, wide stacks.
const DEEP = Array.from({ length: 120 }, (_, k) => `recurse_${k}`).join(';');
const FOLDED = [`bash;${DEEP} 5`, 'worker;compute;inner 60', 'worker;io 35'].join('\n');
const WINDOW_HEIGHT = 400;

/** The frame's rectangle relative to the window, and the window's height. */
async function placeOf(page: Page, name: string): Promise<{ top: number; bottom: number; view: number }> {
  return page.evaluate((wanted) => {
    for (const title of Array.from(document.querySelectorAll('#frames title, #zoomframes title'))) {
      const t = title.textContent!;
      if (t.slice(0, t.lastIndexOf(' (')) !== wanted) continue;
      const r = title.parentElement!.querySelector('rect')!.getBoundingClientRect();
      if (r.width <= 0) continue;
      return { top: r.top, bottom: r.bottom, view: window.innerHeight };
    }
    throw new Error(`no frame named ${wanted}`);
  }, name);
}

function expectInView(place: { top: number; bottom: number; view: number }): void {
  expect(place.top).toBeGreaterThanOrEqual(0);
  expect(place.bottom).toBeLessThanOrEqual(place.view);
}

describe.each(BROWSERS)('a flame graph taller than the window, in %s', (browserName) => {
  const skip = reportSkip(`browser: tall graphs in ${browserName}`, browserMissingReason(browserName));
  let browser: TestBrowser;
  beforeAll(async () => { if (!skip) browser = await launchBrowser(browserName, WINDOW_HEIGHT); }, 180_000);
  afterAll(async () => { await browser?.close(); });

  test.skipIf(skip)('opens scrolled to the bottom, where the root and the widest frames are', async () => {
    const page = await browser.open(contractSvg(FOLDED));
    expect(await page.evaluate(() => document.documentElement.getBoundingClientRect().height))
      .toBeGreaterThan(WINDOW_HEIGHT * 3);
    expectInView(await placeOf(page, 'all'));
    expectInView(await placeOf(page, 'compute'));
    expect((await placeOf(page, 'recurse_119')).bottom).toBeLessThan(0);
  });

  test.skipIf(skip)('an icicle graph opens at the top, where its root is', async () => {
    const page = await browser.open(contractSvg(FOLDED, { inverted: true }));
    expect(await page.evaluate(() => window.scrollY)).toBe(0);
    expectInView(await placeOf(page, 'all'));
  });

  test.skipIf(skip)('a zoom restored from the URL brings the zoomed frame into view instead', async () => {
    const first = await browser.open(contractSvg(FOLDED), 'zoomed.svg');
    const query = await first.evaluate(() => {
      const titles = Array.from(document.querySelectorAll('#frames title'));
      const rect = titles.find((t) => t.textContent!.startsWith('recurse_30 '))!.parentElement!.querySelector('rect')!;
      return `?x=${rect.getAttribute('x')}&y=${rect.getAttribute('y')}`;
    });
    const page = await browser.goto(first.url().split('?')[0] + query);
    const place = await placeOf(page, 'recurse_30');
    expectInView(place);
    // Far from both ends of the document: in view neither at the top nor at the bottom by chance.
    const scrollY = await page.evaluate(() => window.scrollY);
    expect(place.top + scrollY).toBeGreaterThan(WINDOW_HEIGHT);
    expect(await page.evaluate(() => document.documentElement.getBoundingClientRect().bottom))
      .toBeGreaterThan(place.bottom + WINDOW_HEIGHT);
    expect(await isVisible(page, '#unzoom')).toBe(true);
  });
});
