/**
 * The script inside real graphs: `irisflame flamegraph` renders a capture recorded on this machine
 * (fixtures/browser/perf-mixed.folded: perf record -F 499 -a -g during tar|gzip, find|sort, perl and python),
 * and Chromium and Firefox check hover, zoom, reset and search on it. A screenshot of the zoomed, searched graph is left
 * in the OS temp dir for a person to look at.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REPO_ROOT, runCli } from '../support/cli.js';
import { reportSkip } from '../support/references.js';
import { BROWSERS, browserMissingReason, launchBrowser, type Page, type TestBrowser } from './support/browsers.js';
import { execFileSync } from 'node:child_process';
import { missingReason, perlScript } from '../support/references.js';
import { parseSvgFrames } from '../flamegraph/support/svg-frames.js';
import {
  answerPrompt, expectedMatchedPercent, frameViews, referenceViews, subtreeViews, textOf, type FrameView,
} from './support/page-state.js';

const FIXTURE = join(REPO_ROOT, 'fixtures', 'browser', 'perf-mixed.folded');
const XPAD = 10;
const FULL_WIDTH = 1180;
const SEARCH = 'alloc|lock';

const perlMissing = missingReason(perlScript('flamegraph.pl'), 'flamegraph.pl', 'FLAMEGRAPH_PL_DIR');

/** A typical click: the frame 4 to 10 levels up with the most descendants, narrower than half the graph. */
function midDepthFrame(views: FrameView[]): { view: FrameView; index: number } {
  const rootY = views[0].y;
  let best = -1, bestCount = -1;
  views.forEach((v, i) => {
    const depth = (rootY - v.y) / 16;
    if (depth < 4 || depth > 10 || v.width > views[0].width / 2) return;
    const count = views.filter((o) => o.y < v.y && o.start >= v.start && o.start + o.samples <= v.start + v.samples)
      .length;
    if (count > bestCount) { best = i; bestCount = count; }
  });
  return { view: views[best], index: best };
}

async function centre(page: Page, view: FrameView): Promise<[number, number]> {
  const svgBox = await page.evaluate((y) => {
    window.scrollTo(0, Math.max(0, y - 300)); // tall graphs: bring the frame into the viewport
    const r = document.documentElement.getBoundingClientRect();
    return { x: r.x, y: r.y };
  }, view.y);
  return [svgBox.x + view.x + view.width / 2, svgBox.y + view.y + 7];
}

async function hoverAt(page: Page, view: FrameView): Promise<void> {
  const [x, y] = await centre(page, view);
  await page.mouse.move(x, y);
}

async function clickAt(page: Page, view: FrameView): Promise<void> {
  const [x, y] = await centre(page, view);
  await page.mouse.click(x, y);
}

describe.each(BROWSERS)('irisflame flamegraph output in %s', (browserName) => {
  const skip = reportSkip(`browser: real graphs in ${browserName}`, browserMissingReason(browserName) ?? perlMissing);
  let browser: TestBrowser;
  let svg: string;
  beforeAll(async () => {
    if (skip) return;
    const result = await runCli(['flamegraph', FIXTURE]);
    expect(result.exitCode, result.stderr).toBe(0);
    svg = result.stdout;
    browser = await launchBrowser(browserName, 2400); // the whole graph (2134 px) in view
  }, 180_000);
  afterAll(async () => { await browser?.close(); });

  test.skipIf(skip)('the rendered graph carries the contract the script needs', () => {
    expect(svg).toContain('var fgConfig = {');
    expect(svg).toMatch(/<g id="frames">\s*<g><title>all \(/);
    expect(svg).toContain('fg:x="0"');
    // The script as the build minifies it (scripts/minify-browser.mjs), which the CLI embeds.
    expect(svg).toContain(readFileSync(join(REPO_ROOT, 'dist/flamegraph/browser/flamegraph.min.js'), 'utf8').slice(0, 200));
  });

  test.skipIf(skip)('hover, zoom into a mid-depth frame, reset and search behave on a recorded capture', async () => {
    const page = await browser.open(svg, 'real.svg');
    const original = await frameViews(page);
    const { view: target, index } = midDepthFrame(original);

    const title = await page.evaluate((i) =>
      document.getElementById('frames')!.children[i].querySelector('title')!.textContent!, index);
    await hoverAt(page, target);
    expect(await textOf(page, 'details')).toBe(`Function: ${title}`);
    await clickAt(page, target);
    const zoomed = await frameViews(page);
    const z = zoomed[index];
    expect(z.visible).toBe(true);
    expect(z.x).toBeCloseTo(XPAD, 0);
    expect(z.width).toBeCloseTo(FULL_WIDTH, 0);
    // Shown frames are exactly the ancestors (full width) and the descendants (inside the target's span).
    for (const [i, v] of zoomed.entries()) {
      const o = original[i];
      const end = o.start + o.samples, targetEnd = target.start + target.samples;
      const isAncestor = o.y > target.y && o.start <= target.start && end >= targetEnd;
      const isDescendant = o.y <= target.y && o.start >= target.start && end <= targetEnd;
      expect(v.visible, `${v.name} at y=${v.y}`).toBe(isAncestor || isDescendant || i === index);
      if (isAncestor) expect(v.width).toBeCloseTo(FULL_WIDTH, 0);
    }
    // Every label fits its frame: its rendered width is within the rectangle.
    const overflow = await page.evaluate(() => {
      const bad: string[] = [];
      for (const t of Array.from(document.querySelectorAll('#zoomframes text'))) {
        const r = t.parentElement!.querySelector('rect')!.getBoundingClientRect();
        const b = (t as SVGTextElement).getBoundingClientRect();
        if (b.width > 0 && b.right > r.right + 0.5) bad.push(`${t.textContent} ${r.left}+${r.width} text ${b.left}+${b.width}`);
      }
      return bad;
    });
    expect(overflow).toEqual([]);

    // Search for something inside the zoomed subtree (a child's name) as well as all over the graph.
    const child = zoomed.filter((v, i) => v.visible && i !== index && v.y < target.y)
      .sort((a, b) => b.width - a.width)[0];
    const search = `^${child.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$|${SEARCH}`;
    const asked = answerPrompt(page, search);
    await page.keyboard.press('F3');
    await asked;
    const searched = await frameViews(page);
    const shownMatches = searched.filter((v) => v.visible && new RegExp(search).test(v.name));
    expect(shownMatches.length).toBeGreaterThan(0);
    for (const v of shownMatches) expect(v.fill).toBe('rgb(230, 0, 230)');
    // Expected shares from flamegraph.pl's frames (all of them: the graph draws most of this capture's frames
    // merged, frames-large.ts, so the elements alone do not say).
    const all = referenceViews(parseSvgFrames(execFileSync('perl', [perlScript('flamegraph.pl'), FIXTURE],
      { maxBuffer: 1 << 28, encoding: 'utf8' })));
    const targetRef = all.find((v) => v.y === target.y && Math.abs(v.x - target.x) < 0.06)!;
    expect(await textOf(page, 'matched'))
      .toBe(expectedMatchedPercent(subtreeViews(all, targetRef), new RegExp(search), target.samples));
    await page.screenshot({
      path: join(tmpdir(), `irisflame-zoomed-searched-${browserName}.png`) as `${string}.png`, timeout: 120_000,
      clip: { x: 0, y: Math.max(0, target.y - 880), width: 1200, height: 900 }, // the subtree is above the target
    });

    await page.click('#unzoom');
    expect(await textOf(page, 'matched')).toBe(expectedMatchedPercent(all, new RegExp(search), original[0].samples));
    await page.keyboard.press('Escape');
    const reset = await frameViews(page);
    expect(reset.map((v) => [v.x, v.width, v.visible, v.label, v.fill]))
      .toEqual(original.map((v) => [v.x, v.width, true, v.label, v.fill]));
  });
});
