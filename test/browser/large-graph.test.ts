/**
 * Large graphs (over 2,000 frames): frames under 1 px are drawn merged into one path per colour and listed in a
 * table (src/flamegraph/frames-large.ts). On a real capture (fixtures/browser/perf-mixed.folded, 4,660 frames,
 * perf record -a -g on this machine), Chromium and Firefox check that such a frame can still be reached: pointed at, zoomed
 * into (then drawn as a frame with flamegraph.pl's title), counted by search; and that without script the
 * picture is flamegraph.pl's.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createContext, runInContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REPO_ROOT, runCli } from '../support/cli.js';
import { missingReason, perlScript, reportSkip } from '../support/references.js';
import { parseSvgFrames, type SvgFrame } from '../flamegraph/support/svg-frames.js';
import { BROWSERS, browserMissingReason, focusOn, launchBrowser, type Page, type TestBrowser } from './support/browsers.js';
import { foldedToFrames } from './support/contract-svg.mjs';
import { answerPrompt, expectedMatchedPercent, referenceViews, subtreeViews, textOf } from './support/page-state.js';

const FIXTURE = join(REPO_ROOT, 'fixtures', 'browser', 'perf-mixed.folded');
const XPAD = 10;
const FULL_WIDTH = 1180;
const FRAME_HEIGHT = 16;
const BOTTOM_PAD = 34; // flamegraph.pl's ypad2 at fontsize 12

const perlMissing = missingReason(perlScript('flamegraph.pl'), 'flamegraph.pl', 'FLAMEGRAPH_PL_DIR');

interface Folded { name: string; depth: number; start: number; samples: number }

const bare = (name: string): string => name.replace(/_\[[kwij]\]$/, '');
const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.each(BROWSERS)('large graphs in %s', (browserName) => {
  const skip = reportSkip(`browser: large graphs in ${browserName}`, browserMissingReason(browserName) ?? perlMissing);
  let browser: TestBrowser;
  let svg: string;
  let perlFrames: SvgFrame[];
  let frames: Folded[];
  let total: number;
  let imageHeight: number;
  /** A frame drawn merged (0.3-1 px wide), with a name no other frame has. */
  let narrow: Folded;

  const px = (samples: number): number => (samples * FULL_WIDTH) / total;
  const rowY = (depth: number): number => imageHeight - BOTTOM_PAD - (depth + 1) * FRAME_HEIGHT + 1;
  /** flamegraph.pl's own frame for `f`: same row, same x (printed to 0.1 px). */
  const perlFrame = (f: Folded): SvgFrame => {
    const x = XPAD + px(f.start);
    const row = perlFrames.filter((p) => p.y === rowY(f.depth));
    const found = row.reduce((best, p) => (Math.abs(p.x - x) < Math.abs(best.x - x) ? p : best), row[0]!);
    expect(Math.abs(found.x - x), `${f.name} at ${x}`).toBeLessThan(0.06);
    return found;
  };

  beforeAll(async () => {
    if (skip) return;
    const result = await runCli(['flamegraph', FIXTURE]);
    expect(result.exitCode, result.stderr).toBe(0);
    svg = result.stdout;
    perlFrames = parseSvgFrames(execFileSync('perl', [perlScript('flamegraph.pl'), FIXTURE],
      { maxBuffer: 1 << 28, encoding: 'utf8' }));
    frames = foldedToFrames(readFileSync(FIXTURE, 'utf8'));
    total = frames[0]!.samples;
    imageHeight = Number(/<svg[^>]* height="(\d+)"/.exec(svg)![1]);
    const counts = new Map<string, number>();
    for (const f of frames) counts.set(bare(f.name), (counts.get(bare(f.name)) ?? 0) + 1);
    // Pointer events carry whole pixels (clientX is an integer in Chromium), so the frame must cover one.
    const coversPixel = (f: Folded): boolean => Math.ceil(XPAD + px(f.start)) < XPAD + px(f.start + f.samples) - 0.05;
    narrow = frames.find((f) => f.depth >= 3 && px(f.samples) >= 0.3 && px(f.samples) < 1 && coversPixel(f) &&
      counts.get(bare(f.name)) === 1 && /^[\w.]+$/.test(bare(f.name)))!;
    expect(narrow).toBeDefined();
    browser = await launchBrowser(browserName, 2400); // the whole graph (2134 px) in view
  }, 180_000);
  afterAll(async () => { await browser?.close(); });

  test.skipIf(skip)('the graph takes the large path: few frame elements, the rest merged and listed', () => {
    const elements = parseSvgFrames(svg).length;
    expect(elements).toBeGreaterThan(100);
    expect(elements).toBeLessThan(perlFrames.length / 4);
    expect(svg).toContain('<g id="narrowframes">');
    expect(svg).toContain('<script type="application/json" id="fgframes">');
    // The narrow frame has no element of its own.
    expect(parseSvgFrames(svg).some((f) => f.title.startsWith(`${bare(narrow.name)} (`))).toBe(false);
  });

  /** A point inside frame f: for a frame under a pixel wide, the whole pixel it covers. */
  test.skipIf(skip)('the frame table, read by the page\'s own decoder, holds every frame flamegraph.pl draws, title and place', () => {
    const { fgLarge, fgFrames } = pageTable(svg);
    const m = fgLarge.buildModel(fgFrames);
    expect(m.n).toBe(perlFrames.length);
    const ours = new Map<string, string>();
    for (let k = 1; k < m.n; k++) {
      const x = Number(fgLarge.cfixed(XPAD + (m.sx[k] * FULL_WIDTH) / m.sw[0], 1));
      ours.set(`${rowY(m.depth[k])}@${x}`, fgLarge.frameTitle(fgFrames.names[m.entry[k]], m.sw[k], m.sw[0], 1, 'samples'));
    }
    const wrong = perlFrames.filter((p) => !p.title.startsWith('all (') && ours.get(`${p.y}@${p.x}`) !== p.title);
    expect(wrong.map((p) => `${p.title} at ${p.x},${p.y}`)).toEqual([]);
  });

  async function pointAt(page: Page, f: Folded): Promise<[number, number]> {
    const box = await page.evaluate(() => document.documentElement.getBoundingClientRect().toJSON() as DOMRect);
    const x = px(f.samples) < 1 ? Math.ceil(XPAD + px(f.start)) : XPAD + px(f.start + f.samples / 2);
    return [box.x + x, box.y + rowY(f.depth) + 7];
  }

  test.skipIf(skip)('a merged frame is named under the pointer, and clicking it zooms to it, drawn with name and count', async () => {
    const page = await browser.open(svg, 'large.svg');
    const expectedTitle = perlFrame(narrow).title;
    const [x, y] = await pointAt(page, narrow);
    await page.mouse.move(x, y);
    expect(await textOf(page, 'details')).toBe(`Function: ${expectedTitle}`);
    await page.mouse.click(x, y);
    const shown = await page.evaluate((title) => {
      for (const g of Array.from(document.querySelectorAll('#zoomframes > g'))) {
        if (g.querySelector('title')?.textContent !== title) continue;
        const r = g.querySelector('rect')!.getBoundingClientRect();
        return { x: r.x - document.documentElement.getBoundingClientRect().x, width: r.width, label: g.querySelector('text')?.textContent };
      }
      return null;
    }, expectedTitle);
    expect(shown).not.toBeNull();
    expect(shown!.x).toBeCloseTo(XPAD, 0);
    expect(shown!.width).toBeCloseTo(FULL_WIDTH, 0);
    expect(shown!.label).toBe(bare(narrow.name));
    // Hovering the zoomed frame names it, with flamegraph.pl's title.
    await page.mouse.move(600, y);
    expect(await textOf(page, 'details')).toBe(`Function: ${expectedTitle}`);
    // The URL holds flamegraph.pl's rect x and y of the frame, and a reload restores the zoom.
    const perl = perlFrame(narrow);
    await expect.poll(() => new URL(page.url()).searchParams.get('y'), { timeout: 10_000 }).toBe(String(perl.y));
    expect(Number(new URL(page.url()).searchParams.get('x'))).toBeCloseTo(perl.x, 5);
    await page.reload({ waitUntil: 'load' });
    await expect.poll(() => page.evaluate((title) => Array.from(document.querySelectorAll('#zoomframes title'))
      .some((t) => t.textContent === title), expectedTitle), { timeout: 10_000 }).toBe(true);
  });

  /** The nearest ancestor of the narrow frame drawn as an element in the file (1 px or wider). */
  const elementAncestor = (): Folded => {
    const ancestors = frames.filter((f) => f.depth < narrow.depth && f.start <= narrow.start &&
      f.start + f.samples >= narrow.start + narrow.samples && px(f.samples) >= 1);
    return ancestors[ancestors.length - 1]!;
  };

  /**
   * Frames of `top`'s subtree that a zoom into it widens to half a pixel or more, with their zoomed geometry and
   * title. From the frame table (checked against flamegraph.pl's frames above): its exact sample positions in
   * flamegraph.pl's order (the folded lines' sort, which the test's own merge does not reproduce).
   */
  const zoomedSubtree = (top: Folded): { f: Folded; x: number; width: number; title: string }[] => {
    const { fgLarge, fgFrames } = pageTable(svg);
    const m = fgLarge.buildModel(fgFrames);
    const topAt = Array.from({ length: m.n }, (_, k) => k)
      .find((k) => m.depth[k] === top.depth && fgFrames.names[m.entry[k]] === bare(top.name) && m.sw[k] === top.samples)!;
    expect(topAt).toBeDefined();
    const scale = FULL_WIDTH / m.sw[topAt];
    const out = [];
    for (let k = topAt + 1; k < m.end[topAt]; k++) {
      if (m.sw[k] * scale < 0.5) continue;
      const name = fgFrames.names[m.entry[k]];
      out.push({
        f: { name, depth: m.depth[k], start: m.sx[k], samples: m.sw[k] }, x: XPAD + (m.sx[k] - m.sx[topAt]) * scale,
        width: m.sw[k] * scale, title: fgLarge.frameTitle(name, m.sw[k], m.sw[0], 1, 'samples'),
      });
    }
    return out;
  };

  test.skipIf(skip)('zooming into an ancestor draws every frame under it: with labels where wide enough, the rest merged and named under the pointer', async () => {
    const page = await browser.open(svg, 'large.svg');
    const ancestor = elementAncestor();
    const [x, y] = await pointAt(page, ancestor);
    await page.mouse.click(x, y);
    const subtree = zoomedSubtree(ancestor);
    expect(subtree.length).toBeGreaterThan(1);
    // Each frame is a frame element (title as flamegraph.pl's) or covered, at its centre, by a merged path of the
    // zoomed view; frames with room for a label (3 characters and the padding, 25 px at fontsize 12) are elements
    // with a label.
    const shown = await page.evaluate((points) => {
      const titles = new Map<string, string>();
      for (const g of Array.from(document.querySelectorAll('#zoomframes > g'))) {
        titles.set(g.querySelector('title')!.textContent!, g.querySelector('text')?.textContent ?? '');
      }
      const paths = Array.from(document.querySelectorAll('#zoomframes > path.merged')) as SVGPathElement[];
      return points.map(([prefix, cx, cy]) => {
        const title = titles.has(prefix as string) ? prefix as string : undefined;
        if (title !== undefined) return { element: true, label: titles.get(title)! };
        return { element: false, merged: paths.some((p) => p.isPointInFill(new DOMPoint(cx as number, cy as number))) };
      });
    }, subtree.map((s) => [s.title, s.x + s.width / 2, rowY(s.f.depth) + 7]));
    const missing = subtree.filter((s, k) => !shown[k]!.element && !shown[k]!.merged);
    expect(missing.map((s) => s.f.name)).toEqual([]);
    const unlabelled = subtree.filter((s, k) => s.width >= 25 && !shown[k]!.label);
    expect(unlabelled.map((s) => s.f.name)).toEqual([]);
    // The merged ones are named under the pointer, zoomed geometry: the narrow frame if it is among them.
    const mergedOnes = subtree.filter((s, k) => !shown[k]!.element && Math.ceil(s.x) < s.x + s.width - 0.05);
    expect(mergedOnes.length).toBeGreaterThan(0);
    const box = await page.evaluate(() => document.documentElement.getBoundingClientRect().toJSON() as DOMRect);
    for (const s of [mergedOnes[0]!, mergedOnes[mergedOnes.length - 1]!]) {
      const at = s.width < 1 ? Math.ceil(s.x) : s.x + s.width / 2;
      await page.mouse.move(box.x + at, box.y + rowY(s.f.depth) + 7);
      expect(await textOf(page, 'details')).toBe(`Function: ${s.title}`);
      // ... and outlined where it is drawn now.
      const outline = await page.evaluate(() => ['x', 'width'].map((a) => Number(document.getElementById('hoverbox')!.getAttribute(a))));
      expect(outline[0]).toBeCloseTo(s.x, 1);
      expect(outline[1]).toBeCloseTo(s.width, 1);
    }
    // Clicking a merged frame zooms to it: then it is an element, full width, labelled.
    const target = mergedOnes[0]!;
    await page.mouse.click(box.x + (target.width < 1 ? Math.ceil(target.x) : target.x + target.width / 2), box.y + rowY(target.f.depth) + 7);
    const title = target.title;
    const label = await page.evaluate((t) => Array.from(document.querySelectorAll('#zoomframes > g'))
      .find((g) => g.querySelector('title')!.textContent === t)?.querySelector('text')?.textContent, title);
    expect(label).toBe(bare(target.f.name));
  });

  test.skipIf(skip)('the keyboard cursor walks onto merged frames of the zoomed view, naming and outlining them', async () => {
    const page = await browser.open(svg, 'large.svg');
    const ancestor = elementAncestor();
    const [x, y] = await pointAt(page, ancestor);
    await page.mouse.click(x, y);
    // The pointer leaves the graph: resting on it, it names the frame under it whenever the view redraws (seen in
    // Firefox), and the details line is what this test reads.
    await page.mouse.move(0, 0);
    // Toward the leaves from the zoomed frame: each step is the next frame in pre-order while it is one deeper.
    const subtree = zoomedSubtree(ancestor);
    const chain = [subtree[0]!];
    for (let k = 1; k < subtree.length && subtree[k]!.f.depth === chain[chain.length - 1]!.f.depth + 1; k++) chain.push(subtree[k]!);
    const elementTitles = await page.evaluate(() => Array.from(document.querySelectorAll('#zoomframes > g > title'))
      .map((t) => t.textContent));
    expect(chain.some((s) => !elementTitles.includes(s.title)), 'a merged frame on the way').toBe(true);
    // The click focused #frames without a cursor (pointer focus); focus it again as Tab would.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await focusOn(page, '#frames');
    expect(await textOf(page, 'details')).toBe(`Function: ${perlFrame(ancestor).title}`);
    for (const s of chain) {
      await page.keyboard.press('ArrowUp');
      expect(await textOf(page, 'details')).toBe(`Function: ${s.title}`);
      const box = await page.evaluate(() => ['x', 'y', 'width'].map((a) => Number(document.getElementById('cursorbox')!.getAttribute(a))));
      expect(box[0]).toBeCloseTo(s.x, 1);
      expect(box[1]).toBe(rowY(s.f.depth));
      expect(box[2]).toBeCloseTo(s.width, 1);
    }
  });

  test.skipIf(skip)('search highlights merged frames of the zoomed view', async () => {
    const page = await browser.open(svg, 'large.svg');
    const ancestor = elementAncestor();
    const [x, y] = await pointAt(page, ancestor);
    await page.mouse.click(x, y);
    const subtree = zoomedSubtree(ancestor);
    // A frame merged in the file that, widened, still lacks room for a label (so it is drawn merged), with a name
    // no other frame has; search for it.
    const counts = new Map<string, number>();
    for (const f of frames) counts.set(bare(f.name), (counts.get(bare(f.name)) ?? 0) + 1);
    const s = subtree.find((z) => px(z.f.samples) < 1 && z.width < 15 && z.width >= 1 && counts.get(z.f.name) === 1 &&
      /^[\w.]+$/.test(z.f.name));
    expect(s, 'a merged frame with a unique name in the zoomed view').toBeDefined();
    const asked = answerPrompt(page, `^${escapeRegex(s!.f.name)}$`);
    await page.keyboard.press('F3');
    await asked;
    const centre = [s!.x + s!.width / 2, rowY(s!.f.depth) + 7];
    const highlighted = async () => page.evaluate(([cx, cy]) => {
      const p = document.getElementById('zoommatches') as SVGPathElement | null;
      return p !== null && p.isPointInFill(new DOMPoint(cx, cy)) && getComputedStyle(p).fill === 'rgb(230, 0, 230)';
    }, centre);
    expect(await highlighted()).toBe(true);
    // Only it: no other merged frame of the view is highlighted.
    const others = subtree.filter((z) => z.f.depth !== s!.f.depth);
    const stray = await page.evaluate((points) => {
      const p = document.getElementById('zoommatches') as SVGPathElement;
      return points.filter(([cx, cy]) => p.isPointInFill(new DOMPoint(cx, cy))).length;
    }, others.map((z) => [z.x + z.width / 2, rowY(z.f.depth) + 7]));
    expect(stray).toBe(0);
    await page.keyboard.press('Escape');
    expect(await highlighted()).toBe(false);
  });

  test.skipIf(skip)('search finds merged frames and counts them in Matched, zoomed or not', async () => {
    const page = await browser.open(svg, 'large.svg');
    const re = `^${escapeRegex(bare(narrow.name))}$|alloc`;
    const asked = answerPrompt(page, re);
    await page.keyboard.press('F3');
    await asked;
    const expected = expectedMatchedPercent(referenceViews(perlFrames), new RegExp(re), total);
    expect(expected).not.toBe('Matched: 0.0%');
    expect(await textOf(page, 'matched')).toBe(expected);
    // Zoomed to the narrow frame alone, it is all that matches.
    const [x, y] = await pointAt(page, narrow);
    await page.mouse.click(x, y);
    expect(await textOf(page, 'matched')).toBe('Matched: 100%');
    // The highlight covers the merged frame where it is drawn (unzoomed).
    await page.click('#unzoom');
    const covered = await page.evaluate(([cx, cy]) => {
      const path = document.querySelector('#highlights > path') as SVGPathElement | null;
      return path !== null && path.isPointInFill(new DOMPoint(cx, cy));
    }, [XPAD + px(narrow.start + narrow.samples / 2), rowY(narrow.depth) + 7]);
    expect(covered).toBe(true);
  });

  test.skipIf(skip)('without script, the picture is flamegraph.pl\'s, frame for frame', async () => {
    // --hash colours by name in both (flamegraph.pl's default palette is random), so pixels can be compared.
    const ours = await runCli(['flamegraph', '--colors', 'hot', '--hash', FIXTURE]);
    expect(ours.exitCode, ours.stderr).toBe(0);
    const theirs = execFileSync('perl', [perlScript('flamegraph.pl'), '--colors', 'hot', '--hash', FIXTURE],
      { maxBuffer: 1 << 28, encoding: 'utf8' });
    const shot = async (text: string, name: string): Promise<Buffer> => {
      const file = join(browser.dir, name);
      writeFileSync(file, text);
      const page = await browser.newPage();
      try {
        await page.setViewport({ width: 1200, height: 2200 });
        if (browserName === 'chromium') {
          await page.setJavaScriptEnabled(false);
          await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 120_000 });
        } else {
          // Firefox 153 over WebDriver BiDi cannot turn scripts off (no emulation.setScriptingEnabled): show the
          // SVG as an image instead, where browsers never run its script (as when embedded in a web page).
          const html = join(browser.dir, `${name}.html`);
          writeFileSync(html, `<!doctype html><body style="margin:0"><img src="${name}" style="display:block"></body>`);
          await page.goto(pathToFileURL(html).href, { waitUntil: 'load', timeout: 120_000 });
          // Drawn, at its own size (a missing image would compare equal to another missing image).
          expect(await page.evaluate(() => [document.images[0]!.naturalWidth, document.images[0]!.naturalHeight]))
            .toEqual([1200, imageHeight]);
        }
        // The frames only: from below the title line to above the details line.
        return Buffer.from(await page.screenshot({ clip: { x: 0, y: 40, width: 1200, height: imageHeight - 40 - BOTTOM_PAD } }));
      } finally {
        await page.close();
      }
    };
    const a = await shot(ours.stdout, 'ours-nojs.svg');
    const b = await shot(theirs, 'perl-nojs.svg');
    const diff = pixelDifference(a, b);
    // Merged paths anti-alias a touching run as one shape where flamegraph.pl composites each frame: a faint
    // difference at a few frame edges, and nowhere a missing or misplaced frame (that would differ by far more).
    // Measured: mean 0.034, strong 0.001% of pixels; with #narrowframes left empty: mean 0.38, strong 0.43%.
    expect(diff.meanAbsolute).toBeLessThan(0.1);
    expect(diff.strongPixels / diff.pixels).toBeLessThan(0.0005);
  });
});

/**
 * The page's own table reader (flamegraph-large.js, the script after the table) run on the SVG's frame table (the
 * JSON data block #fgframes), outside a browser: fgLarge, and the table as fgLarge.table() reads it.
 */
function pageTable(svg: string): { fgLarge: any; fgFrames: any } {
  const cdata = (from: number): string => svg.slice(svg.indexOf('<![CDATA[', from) + 9, svg.indexOf(']]></script>', from));
  const at = svg.indexOf('<script type="application/json" id="fgframes">');
  expect(at).toBeGreaterThan(0);
  const json = cdata(at);
  const sandbox: Record<string, any> = { document: { getElementById: (id: string) => (id === 'fgframes' ? { textContent: json } : null) } };
  createContext(sandbox);
  runInContext(cdata(svg.indexOf('<script type="text/ecmascript">', at)), sandbox);
  return { fgLarge: sandbox.fgLarge, fgFrames: sandbox.fgLarge.table() };
}

/** Per-channel comparison of two same-size PNG screenshots, decoded by ImageMagick (raw RGB). */
function pixelDifference(a: Buffer, b: Buffer): { meanAbsolute: number; strongPixels: number; pixels: number } {
  const raw = (png: Buffer): Buffer => execFileSync('convert', ['png:-', '-depth', '8', 'rgb:-'], { input: png, maxBuffer: 1 << 28 });
  const x = raw(a);
  const y = raw(b);
  expect(x.length).toBe(y.length);
  let sum = 0;
  let strong = 0;
  for (let i = 0; i < x.length; i += 3) {
    const d = Math.abs(x[i]! - y[i]!) + Math.abs(x[i + 1]! - y[i + 1]!) + Math.abs(x[i + 2]! - y[i + 2]!);
    sum += d;
    if (d > 96) strong++;
  }
  return { meanAbsolute: sum / x.length, strongPixels: strong, pixels: x.length / 3 };
}
