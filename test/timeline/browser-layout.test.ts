/**
 * Nothing in the lifecycle page's header overlaps at the default width: the title, subtitle, buttons, kind
 * legend, range summary, mode switch, state legend and critical-path line each get their own box, in every
 * flame mode (CPU, Off-CPU, Wall clock), before and after a drag selection and a one-process selection, with
 * short and very long titles and process names. (The wall-clock range summary ran over the kind legend.)
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readTimeline, renderTimeline } from '../../src/timeline/render.js';
import { chromiumMissingReason, launchChromium, type Browser } from '../browser/support/chromium.js';
import { reportSkip } from '../support/references.js';
import { addHandMadeOffCpu } from './offcpu-support.js';
import { RESTART } from './support.js';

interface Box { what: string; x: number; y: number; width: number; height: number }

/** The visible header texts (everything above the time axis), with their boxes in page pixels. */
async function headerBoxes(page: Page): Promise<{ boxes: Box[]; width: number }> {
  return page.evaluate(() => {
    const texts = [document.getElementById('title'), document.getElementById('subtitle'), ...document.querySelectorAll('#controls text')];
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
  const strip = (await page.locator('#strip .strip-back').boundingBox())!;
  const y = strip.y + strip.height / 2;
  await page.mouse.move(strip.x + strip.width * from, y);
  await page.mouse.down();
  await page.mouse.move(strip.x + strip.width * ((from + to) / 2), y);
  await page.mouse.move(strip.x + strip.width * to, y);
  await page.mouse.up();
}

const LONG = 'simulated IRIS: ' + 'a very long title that a user might give to a recording of a long restart '.repeat(4);
const skip = reportSkip('timeline: lifecycle page header layout in the browser', chromiumMissingReason());

describe.skipIf(skip)('lifecycle page header: no text overlaps another at the default width (simulated IRIS restart)', () => {
  let browser: Browser;
  beforeAll(async () => { browser = await launchChromium(); });
  afterAll(async () => { await browser?.close(); });

  async function open(options: { title: string; subtitle?: string; offCpu: boolean; longNames?: boolean }): Promise<Page> {
    const timeline = await readTimeline(RESTART, { iris: true, title: options.title });
    if (options.offCpu) addHandMadeOffCpu(timeline);
    if (options.longNames) for (const p of timeline.processes) p.label = `${p.label} ${'-argument '.repeat(12)}`;
    const page = await browser.open(renderTimeline(timeline, { iris: true, title: options.title, subtitle: options.subtitle }), 'layout.svg');
    await page.setViewportSize({ width: 1280, height: 2400 });
    return page;
  }

  for (const offCpu of [true, false]) {
    for (const labels of ['short', 'long'] as const) {
      test(`${offCpu ? 'off-CPU capture' : 'CPU samples only'}, ${labels} labels: every mode, whole recording, a dragged range, one process's samples`, async () => {
        const long = labels === 'long';
        const page = await open({ title: long ? LONG : 'simulated IRIS restart', subtitle: long ? `/tmp/${'deep/'.repeat(60)}iris restart IRIS` : undefined, offCpu, longNames: long });
        const modes = offCpu ? ['cpu', 'off', 'wall'] : ['cpu'];
        for (const mode of modes) {
          if (offCpu) await page.locator(`#mode-${mode}`).click();
          expect(await page.locator('#range').getAttribute('data-mode')).toBe(mode);
          expect(await overlaps(page), `${mode}, whole recording`).toEqual([]);
          await dragOnStrip(page, 0.1, 0.7);
          expect(Number(await page.locator('#range').getAttribute('data-from-us'))).toBeGreaterThan(0);
          expect(await overlaps(page), `${mode}, dragged range`).toEqual([]);
          await page.locator('#lanes .lane .bar').nth(3).click({ modifiers: ['Shift'] });
          expect(Number(await page.locator('#range').getAttribute('data-lane'))).toBeGreaterThanOrEqual(0);
          expect(await overlaps(page), `${mode}, one process's samples`).toEqual([]);
          await page.locator('#whole').click();
        }
        if (long) {
          // Cut texts say so, and keep the whole text in their tooltip.
          const range = page.locator('#range');
          await page.locator('#lanes .lane .bar').nth(3).click({ modifiers: ['Shift'] });
          expect(await range.evaluate((t) => t.firstChild!.textContent!.endsWith('…'))).toBe(true);
          expect(await range.locator('title').textContent()).toMatch(/\(pid \d+\) only$/);
          expect(await page.locator('#title title').textContent()).toBe(LONG);
        }
      });
    }
  }
});
