/**
 * Nothing in the lifecycle page's header overlaps at the default width, in Chromium and Firefox: the title, subtitle, buttons, kind
 * legend, range summary, mode switch, state legend and critical-path line each get their own box, in every
 * flame mode (CPU, Off-CPU, Wall clock), before and after a drag selection and a one-process selection, with
 * short and very long titles and process names. (The wall-clock range summary ran over the kind legend.)
 */
import type { KeyInput } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readTimeline, renderTimeline } from '../../src/timeline/render.js';
import {
  BROWSERS, attributeAt, boxOf, browserMissingReason, clickOn, launchBrowser, textAt, type Page, type TestBrowser,
} from '../browser/support/browsers.js';
import { reportSkip } from '../support/references.js';
import { addHandMadeOffCpu } from './offcpu-support.js';
import { RESTART } from './support.js';

interface Box { what: string; x: number; y: number; width: number; height: number }

/** The visible header texts (everything above the time axis), with their boxes in page pixels. */
async function headerBoxes(page: Page): Promise<{ boxes: Box[]; width: number }> {
  return page.evaluate(() => {
    const texts = [document.getElementById('title'), document.getElementById('subtitle'), ...Array.from(document.querySelectorAll('#controls text'))];
    const boxes = texts.flatMap((t) => {
      if (!t || (t.textContent ?? '').trim() === '' || getComputedStyle(t).display === 'none') return [];
      const r = t.getBoundingClientRect();
      return [{ what: `${t.id || t.parentElement!.id || 'text'}: ${(t.firstChild?.textContent ?? '').slice(0, 40)}`, x: r.x, y: r.y, width: r.width, height: r.height }];
    });
    return { boxes, width: Number(document.documentElement.getAttribute('width')) };
  });
}

/** Pairs of header texts whose boxes intersect (more than half a pixel each way), and texts past the page's edges. */
async function overlaps(page: Page): Promise<string[]> {
  const { boxes, width } = await headerBoxes(page);
  expect(boxes.length).toBeGreaterThan(8);
  const found: string[] = [];
  const meet = (a: Box, b: Box) => Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x) > 0.5 && Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y) > 0.5;
  boxes.forEach((a, i) => {
    if (a.x < 0 || a.x + a.width > width) found.push(`${a.what} goes past the page (${Math.round(a.x)}..${Math.round(a.x + a.width)} of ${width})`);
    for (const b of boxes.slice(i + 1)) if (meet(a, b)) found.push(`${a.what} | ${b.what}`);
  });
  return found;
}

async function dragOnStrip(page: Page, from: number, to: number): Promise<void> {
  const strip = await boxOf(page, '#strip .strip-back');
  const y = strip.y + strip.height / 2;
  await page.mouse.move(strip.x + strip.width * from, y);
  await page.mouse.down();
  await page.mouse.move(strip.x + strip.width * ((from + to) / 2), y);
  await page.mouse.move(strip.x + strip.width * to, y);
  await page.mouse.up();
}

/** Click the middle of the nth (from 0) element matching `selector`, holding modifier keys. */
async function clickNth(page: Page, selector: string, n: number, modifiers: KeyInput[] = []): Promise<void> {
  const box = await page.evaluate((sel, i) => {
    const el = document.querySelectorAll(sel)[i];
    if (!el) return null;
    el.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    const r = el.getBoundingClientRect();
    return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
  }, selector, n);
  if (!box) throw new Error(`no element ${n} of ${selector}`);
  for (const key of modifiers) await page.keyboard.down(key);
  await page.mouse.click(box.x, box.y);
  for (const key of [...modifiers].reverse()) await page.keyboard.up(key);
}

const LONG = 'simulated IRIS: ' + 'a very long title that a user might give to a recording of a long restart '.repeat(4);
describe.each(BROWSERS)('lifecycle page header in %s: no text overlaps another at the default width (simulated IRIS restart)', (browserName) => {
  const skip = reportSkip(`timeline: lifecycle page header layout in ${browserName}`, browserMissingReason(browserName));
  let browser: TestBrowser;
  beforeAll(async () => {
    if (!skip) browser = await launchBrowser(browserName, 2400);
  }, 180_000);
  afterAll(async () => { await browser?.close(); });

  async function open(options: { title: string; subtitle?: string; offCpu: boolean; longNames?: boolean }): Promise<Page> {
    const timeline = await readTimeline(RESTART, { iris: true, title: options.title });
    if (options.offCpu) addHandMadeOffCpu(timeline);
    if (options.longNames) for (const p of timeline.processes) p.label = `${p.label} ${'-argument '.repeat(12)}`;
    return browser.open(renderTimeline(timeline, { iris: true, title: options.title, subtitle: options.subtitle }), 'layout.svg');
  }

  for (const offCpu of [true, false]) {
    for (const labels of ['short', 'long'] as const) {
      test.skipIf(skip)(`${offCpu ? 'off-CPU capture' : 'CPU samples only'}, ${labels} labels: every mode, whole recording, a dragged range, one process's samples`, async () => {
        const long = labels === 'long';
        const page = await open({ title: long ? LONG : 'simulated IRIS restart', subtitle: long ? `/tmp/${'deep/'.repeat(60)}iris restart IRIS` : undefined, offCpu, longNames: long });
        const modes = offCpu ? ['cpu', 'off', 'wall'] : ['cpu'];
        for (const mode of modes) {
          if (offCpu) await clickOn(page, `#mode-${mode}`);
          expect(await attributeAt(page, '#range', 'data-mode')).toBe(mode);
          expect(await overlaps(page), `${mode}, whole recording`).toEqual([]);
          await dragOnStrip(page, 0.1, 0.7);
          expect(Number(await attributeAt(page, '#range', 'data-from-us'))).toBeGreaterThan(0);
          expect(await overlaps(page), `${mode}, dragged range`).toEqual([]);
          await clickNth(page, '#lanes .lane .bar', 3, ['Shift']);
          expect(Number(await attributeAt(page, '#range', 'data-lane'))).toBeGreaterThanOrEqual(0);
          expect(await overlaps(page), `${mode}, one process's samples`).toEqual([]);
          await clickOn(page, '#whole');
        }
        if (long) {
          // Cut texts say so, and keep the whole text in their tooltip.
          await clickNth(page, '#lanes .lane .bar', 3, ['Shift']);
          expect(await page.evaluate(() => document.getElementById('range')!.firstChild!.textContent!.endsWith('…'))).toBe(true);
          expect(await textAt(page, '#range title')).toMatch(/\(pid \d+\) only$/);
          expect(await textAt(page, '#title title')).toBe(LONG);
        }
      });
    }
  }
});
