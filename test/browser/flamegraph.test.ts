/**
 * The flame graph's interactive script, driven in headless Chromium and Firefox the way a person uses it, on SVGs built to
 * docs/dev/svg-contract.md by a small stand-in writer (test/browser/support/contract-svg.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { reportSkip } from '../support/references.js';
import {
  BROWSERS, browserMissingReason, focusOn, isVisible, launchBrowser, pressChord, waitForUrl, type TestBrowser,
} from './support/browsers.js';
import { contractSvg } from './support/contract-svg.mjs';
import {
  answerPrompt, byName, clickFrame, expectedMatchedPercent, frameViews, hoverFrame, textOf, type FrameView,
} from './support/page-state.js';

// 100 samples; "tiny_one" (1%) is too narrow for a label until its parent "beta" is zoomed.
const FOLDED = [
  'main;alpha_long_function_name_here;leaf_one 60',
  'main;alpha_long_function_name_here;leaf_two 30',
  'main;beta;gamma;Delta_mixedCase 5',
  'main;beta;tiny_one 1',
  'other;deep;deeper;deepest 4',
].join('\n');

const FULL_WIDTH = 1180;
const XPAD = 10;

function expectSpansFullWidth(view: FrameView): void {
  expect(view.visible).toBe(true);
  expect(view.x).toBeCloseTo(XPAD, 1);
  expect(view.width).toBeCloseTo(FULL_WIDTH, 1);
}

describe.each(BROWSERS)('flame graph script in %s', (browserName) => {
  const skip = reportSkip(`browser: flame graph script in ${browserName}`, browserMissingReason(browserName));
  let browser: TestBrowser;
  beforeAll(async () => { if (!skip) browser = await launchBrowser(browserName); }, 180_000);
  afterAll(async () => { await browser?.close(); });

  test.skipIf(skip)('hovering a frame shows its name, samples and percentage in the details line', async () => {
    const page = await browser.open(contractSvg(FOLDED));
    await hoverFrame(page, 'leaf_two');
    expect(await textOf(page, 'details')).toBe('Function: leaf_two (30 samples, 30.00%)');
    await page.mouse.move(600, 5);
    expect((await textOf(page, 'details')).trim()).toBe('');
  });

  test.skipIf(skip)('clicking a frame zooms to it: full width, ancestors kept, unrelated frames hidden, labels refit', async () => {
    const page = await browser.open(contractSvg(FOLDED));
    const before = await frameViews(page);
    expect(byName(before, 'tiny_one').label).toBe('');
    await clickFrame(page, 'beta');
    const after = await frameViews(page);
    const beta = byName(after, 'beta');
    expectSpansFullWidth(beta);
    for (const name of ['main', 'all']) {
      const ancestor = byName(after, name);
      expectSpansFullWidth(ancestor);
      expect(ancestor.classes).toContain('parent');
    }
    for (const name of ['alpha_long_function_name_here', 'leaf_one', 'other', 'deepest']) {
      expect(byName(after, name).visible).toBe(false);
    }
    // beta has 6 samples: tiny_one (1) gets a sixth of the width, right after gamma (5).
    const tiny = byName(after, 'tiny_one');
    expect(tiny.x).toBeCloseTo(XPAD + (FULL_WIDTH * 5) / 6, 1);
    expect(tiny.width).toBeCloseTo(FULL_WIDTH / 6, 1);
    expect(tiny.label).toBe('tiny_one');
    expect(byName(after, 'Delta_mixedCase').label).toBe('Delta_mixedCase');
    expect(await isVisible(page, '#unzoom')).toBe(true);
  });

  test.skipIf(skip)('zooming into a narrow frame shortens its ancestors labels to the full width, not beyond', async () => {
    const long = 'x'.repeat(400);
    const page = await browser.open(contractSvg(`${long};leaf 1\nother 99`));
    await clickFrame(page, 'leaf');
    const label = byName(await frameViews(page), long).label;
    expect(label.endsWith('..')).toBe(true);
    expect(label.length).toBeGreaterThan(50);
    expect(label.length).toBeLessThan(200);
  });

  test.skipIf(skip)('zooming skips frames that stay narrower than half a pixel, with their subtrees', async () => {
    // 10000 samples: speck (1) is drawn at 0.118 px, and zooming into busy (5000) only doubles that.
    const page = await browser.open(contractSvg('main;busy;wide 4998\nmain;busy;speck;speck_child 1\n' +
      'main;busy;speck2 1\nmain;rest 5000'));
    const drawnNames = (selector: string) => page.evaluate((sel) => Array.from(document.querySelectorAll(sel))
      .map((t) => t.textContent!.slice(0, t.textContent!.lastIndexOf(' ('))), selector);
    expect(await drawnNames('#frames > g > title')).toEqual(
      expect.arrayContaining(['speck', 'speck_child', 'speck2', 'wide']));
    await clickFrame(page, 'busy');
    expect(await drawnNames('#zoomframes > g > title')).toEqual(['all', 'main', 'busy', 'wide']);
    expectSpansFullWidth(byName(await frameViews(page), 'busy'));
  });

  test.skipIf(skip)('frames have flamegraph.pl\'s rounded corners, from the stylesheet, in the zoomed view too', async () => {
    const page = await browser.open(contractSvg(FOLDED));
    const radii = (selector: string) => page.evaluate((sel) => Array.from(document.querySelectorAll(sel))
      .map((r) => { const s = getComputedStyle(r); return `${s.rx} ${s.ry}`; }), selector);
    expect(new Set(await radii('#frames rect'))).toEqual(new Set(['2px 2px']));
    await clickFrame(page, 'beta');
    expect(new Set(await radii('#zoomframes > g > rect'))).toEqual(new Set(['2px 2px']));
  });

  test.skipIf(skip)('Reset Zoom restores every frame to its original geometry and label', async () => {
    const page = await browser.open(contractSvg(FOLDED));
    const original = await frameViews(page);
    await clickFrame(page, 'beta');
    await clickFrame(page, 'gamma');
    await page.click('#unzoom');
    const reset = await frameViews(page);
    expect(reset.map((v) => [v.name, v.x, v.width, v.visible, v.label]))
      .toEqual(original.map((v) => [v.name, v.x, v.width, true, v.label]));
    expect(await isVisible(page, '#unzoom')).toBe(false);
  });

  test.skipIf(skip)('clicking an ancestor while zoomed zooms out to it; clicking the root resets', async () => {
    const page = await browser.open(contractSvg(FOLDED));
    await clickFrame(page, 'gamma');
    await clickFrame(page, 'main');
    let views = await frameViews(page);
    expect(byName(views, 'alpha_long_function_name_here').visible).toBe(true);
    expect(byName(views, 'other').visible).toBe(false);
    await clickFrame(page, 'all');
    views = await frameViews(page);
    expect(views.every((v) => v.visible)).toBe(true);
  });

  test.skipIf(skip)('searching a regular expression recolours matches and reports the matched share', async () => {
    const page = await browser.open(contractSvg(FOLDED));
    const asked = answerPrompt(page, '^leaf_');
    await page.click('#search');
    expect(await asked).toContain('regexp');
    const views = await frameViews(page);
    for (const v of views) expect(v.fill === 'rgb(230, 0, 230)').toBe(v.name.startsWith('leaf_'));
    expect(await textOf(page, 'matched')).toBe('Matched: 90.0%');
    expect(await textOf(page, 'matched')).toBe(expectedMatchedPercent(views, /^leaf_/, 100));
    expect(await textOf(page, 'search')).toBe('Reset Search');
  });

  test.skipIf(skip)('nested matches are counted once', async () => {
    const page = await browser.open(contractSvg(FOLDED));
    const asked = answerPrompt(page, 'alpha|leaf|^de');
    await pressChord(page, 'Control+f');
    await asked;
    const views = await frameViews(page);
    expect(await textOf(page, 'matched')).toBe('Matched: 94.0%');
    expect(await textOf(page, 'matched')).toBe(expectedMatchedPercent(views, /alpha|leaf|^de/, 100));
  });

  test.skipIf(skip)('the matched share is of the zoomed frame while zoomed', async () => {
    const page = await browser.open(contractSvg(FOLDED));
    await clickFrame(page, 'beta');
    const asked = answerPrompt(page, 'tiny');
    await page.keyboard.press('F3');
    await asked;
    expect(await textOf(page, 'matched')).toBe('Matched: 16.7%');
  });

  test.skipIf(skip)('the ic toggle makes the search ignore case', async () => {
    const page = await browser.open(contractSvg(FOLDED));
    const asked = answerPrompt(page, 'delta');
    await page.click('#search');
    await asked;
    expect(await textOf(page, 'matched')).toBe('Matched: 0.0%');
    await page.click('#ignorecase');
    expect(await textOf(page, 'matched')).toBe('Matched: 5.0%');
    expect(byName(await frameViews(page), 'Delta_mixedCase').fill).toBe('rgb(230, 0, 230)');
  });

  test.skipIf(skip)('Escape clears the search and restores the original colours', async () => {
    const page = await browser.open(contractSvg(FOLDED));
    const original = await frameViews(page);
    const asked = answerPrompt(page, 'main');
    await page.keyboard.press('F3');
    await asked;
    await page.keyboard.press('Escape');
    expect((await frameViews(page)).map((v) => v.fill)).toEqual(original.map((v) => v.fill));
    expect((await textOf(page, 'matched')).trim()).toBe('');
    expect(await textOf(page, 'search')).toBe('Search');
  });

  test.skipIf(skip)('zoom and search are kept in the URL and restored on reload', async () => {
    const page = await browser.open(contractSvg(FOLDED));
    await clickFrame(page, 'beta');
    const asked = answerPrompt(page, 'gamma|tiny');
    await page.keyboard.press('F3');
    await asked;
    // Written once clicks pause (replaceState is slow on huge documents), so wait for it.
    await waitForUrl(page, (u) => u.searchParams.get('s') === 'gamma|tiny');
    const url = new URL(page.url());
    expect(url.searchParams.get('s')).toBe('gamma|tiny');
    expect(url.searchParams.get('x')).not.toBeNull();
    const zoomedViews = await frameViews(page);
    const matched = await textOf(page, 'matched');
    await page.reload({ waitUntil: 'load' });
    const restored = await frameViews(page);
    expect(restored.map((v) => [v.x, v.width, v.visible, v.label, v.fill]))
      .toEqual(zoomedViews.map((v) => [v.x, v.width, v.visible, v.label, v.fill]));
    expect(await textOf(page, 'matched')).toBe(matched);
  });

  test.skipIf(skip)('an icicle graph zooms the same way, keeping frames at their depth', async () => {
    const page = await browser.open(contractSvg(FOLDED, { inverted: true }));
    const before = await frameViews(page);
    await clickFrame(page, 'beta');
    const after = await frameViews(page);
    expectSpansFullWidth(byName(after, 'beta'));
    expect(byName(after, 'beta').y).toBe(byName(before, 'beta').y);
    expect(byName(after, 'all').y).toBeLessThan(byName(after, 'beta').y);
    expect(byName(after, 'other').visible).toBe(false);
  });

  test.skipIf(skip)('an icicle graph highlights search matches where they are drawn', async () => {
    const page = await browser.open(contractSvg(FOLDED, { inverted: true }));
    const asked = answerPrompt(page, '^(beta|deeper)$');
    await page.keyboard.press('F3');
    await asked;
    const views = await frameViews(page);
    for (const v of views) expect(v.fill === 'rgb(230, 0, 230)', v.name).toBe(v.name === 'beta' || v.name === 'deeper');
    expect(await textOf(page, 'matched')).toBe('Matched: 10.0%');
  });

  test.skipIf(skip)('the keyboard alone can search, zoom and reset', async () => {
    const page = await browser.open(contractSvg(FOLDED));
    await focusOn(page, '#frames');
    expect(await textOf(page, 'details')).toContain('all (100 samples, 100%)');
    await page.keyboard.press('ArrowUp'); // toward the leaves: main
    await page.keyboard.press('ArrowUp'); // alpha_long_function_name_here
    await page.keyboard.press('ArrowRight'); // beta
    expect(await textOf(page, 'details')).toContain('beta (6 samples, 6.00%)');
    await page.keyboard.press('Enter');
    expectSpansFullWidth(byName(await frameViews(page), 'beta'));
    await focusOn(page, '#unzoom');
    await page.keyboard.press('Enter');
    expect((await frameViews(page)).every((v) => v.visible)).toBe(true);
    await focusOn(page, '#search');
    const asked = answerPrompt(page, 'deep');
    await page.keyboard.press('Enter');
    await asked;
    expect(await textOf(page, 'matched')).toBe('Matched: 4.0%');
  });
});
