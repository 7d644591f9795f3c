/**
 * The lifecycle page in headless Chromium and Firefox, driven with the mouse as a person would: drag on the density
 * strip, click a process bar, hover, search, zoom, switch to the flame chart. Every count the page shows is
 * checked against the capture's raw samples, counted here with a plain regex (support.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { renderTimeline, readTimeline } from '../../src/timeline/render.js';
import {
  BROWSERS, attributeAt, boxOf, browserMissingReason, clickOn, hoverOn, launchBrowser, textAt, type Page, type TestBrowser,
} from '../browser/support/browsers.js';
import { laneSelector } from './page-support.js';
import { reportSkip } from '../support/references.js';
import { RESTART, fixtureText, rawSampleMicros } from './support.js';

const RAW = rawSampleMicros(fixtureText(RESTART));
const TEXT = fixtureText(RESTART);

interface Range { from: number; to: number; t0: number; samples: number }

async function range(page: Page): Promise<Range> {
  return page.evaluate(() => {
    const r = document.getElementById('range')!;
    const n = (name: string) => Number(r.getAttribute(name));
    return { from: n('data-from-us'), to: n('data-to-us'), t0: n('data-t0-us'), samples: n('data-samples') };
  });
}

/** Raw samples with t0 + from <= time <= t0 + to. */
function rawCount(r: Range): number {
  return RAW.filter((t) => t >= r.t0 + r.from && t <= r.t0 + r.to).length;
}

interface DrawnFrame { node: number; name: string; x: number; y: number; width: number; height: number; samples: number; parent: boolean; match: boolean }

/** What the flame graph drew (the page keeps it for hit testing; frames are paths, not one element each). */
async function drawnFrames(page: Page): Promise<DrawnFrame[]> {
  return page.evaluate(() => (window as unknown as { irisflameLifecycle: { frames(): DrawnFrame[] } }).irisflameLifecycle.frames());
}

async function rootCount(page: Page): Promise<number> {
  return (await drawnFrames(page)).find((frame) => frame.node === 0)?.samples ?? -1;
}

async function frameNames(page: Page): Promise<string[]> {
  return (await drawnFrames(page)).map((frame) => frame.name);
}

/** Times (µs) of the raw samples of one pid, read from the `comm PID/TID [CPU] TIME:` headers. */
function rawSamplesOf(pid: number): number[] {
  const times: number[] = [];
  const header = new RegExp(`^\\S.*?\\s${pid}/\\d+\\s+\\[\\d+\\]\\s+(\\d+)\\.(\\d{6}):\\s+\\d+\\s+cpu-clock`);
  for (const line of TEXT.split('\n')) {
    const match = header.exec(line);
    if (match) times.push(Number(match[1]) * 1e6 + Number(match[2]));
  }
  return times;
}

/** The widest drawn frame of that name, in page pixels (the SVG is shown 1:1 at the page's origin). */
async function frameBox(page: Page, name: string): Promise<DrawnFrame> {
  const frames = (await drawnFrames(page)).filter((frame) => frame.name === name);
  expect(frames.length).toBeGreaterThan(0);
  return frames.reduce((best, frame) => (frame.width > best.width ? frame : best));
}

async function clickFrame(page: Page, name: string): Promise<void> {
  const box = await frameBox(page, name);
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
}

/** perf's FORK and EXIT times of a pid, µs, read from the raw text. */
function lifetimeMicros(pid: number): { start: number; end: number } {
  const at = (pattern: RegExp) => {
    const match = pattern.exec(TEXT)!;
    return Number(match[1]) * 1e6 + Number(match[2]);
  };
  return {
    start: at(new RegExp(`(\\d+)\\.(\\d{6}): PERF_RECORD_FORK\\(${pid}:${pid}\\)`)),
    end: at(new RegExp(`(\\d+)\\.(\\d{6}): PERF_RECORD_EXIT\\(${pid}:${pid}\\)`)),
  };
}

describe.each(BROWSERS)('lifecycle page in %s', (browserName) => {
  const skip = reportSkip(`timeline: lifecycle page in ${browserName}`, browserMissingReason(browserName));
  let browser: TestBrowser;
  let svg: string;
  beforeAll(async () => {
    if (skip) return;
    browser = await launchBrowser(browserName);
    svg = renderTimeline(await readTimeline(RESTART), { title: 'simulated IRIS restart' });
  }, 180_000);
  afterAll(async () => { await browser?.close(); });

  async function open(): Promise<Page> {
    const page = await browser.open(svg, 'lifecycle.svg');
    await page.setViewport({ width: 1280, height: 4000 });
    return page;
  }

  test.skipIf(skip)('opens on the whole recording, with every raw sample in the flame graph', async () => {
    const page = await open();
    const r = await range(page);
    expect(r.from).toBe(0);
    expect(r.samples).toBe(RAW.length);
    expect(await rootCount(page)).toBe(RAW.length);
  });

  test.skipIf(skip)('dragging on the density strip selects that time range and the flame graph counts only its samples', async () => {
    const page = await open();
    const box = await boxOf(page, '#strip .strip-back');
    const x1 = box.x + box.width * 0.3, x2 = box.x + box.width * 0.55, y = box.y + box.height / 2;
    await page.mouse.move(x1, y);
    await page.mouse.down();
    await page.mouse.move((x1 + x2) / 2, y);
    await page.mouse.move(x2, y);
    await page.mouse.up();
    const r = await range(page);
    const span = RAW[RAW.length - 1]! - r.t0;
    expect(r.from / span).toBeCloseTo(0.3, 2);
    expect(r.to / span).toBeCloseTo(0.55, 2);
    const expected = rawCount(r);
    expect(expected).toBeGreaterThan(0);
    expect(expected).toBeLessThan(RAW.length);
    expect(r.samples).toBe(expected);
    expect(await rootCount(page)).toBe(expected);
  });

  test.skipIf(skip)("clicking a process bar selects its lifetime, and other phases' functions leave the flame graph", async () => {
    const page = await open();
    expect(await frameNames(page)).toContain('WijRecoveryScan'); // iriswdimj, during recovery
    const lane = await laneSelector(page, 'irisdb QUIET^STU');
    const pid = Number(await attributeAt(page, lane, 'data-pid'));
    await clickOn(page, `${lane} .bar`);
    const r = await range(page);
    const life = lifetimeMicros(pid);
    expect(r.t0 + r.from).toBe(life.start);
    expect(r.t0 + r.to).toBe(life.end);
    const expected = rawCount(r);
    expect(r.samples).toBe(expected);
    expect(await rootCount(page)).toBe(expected);
    const names = await frameNames(page);
    expect(names).toContain('irisdb START^MONITOR');
    expect(names).not.toContain('WijRecoveryScan');
    expect(await attributeAt(page, lane, 'class')).toContain('sel');
  });

  test.skipIf(skip)("shift-clicking a process bar keeps only that process's samples of its lifetime", async () => {
    const page = await open();
    const lane = await laneSelector(page, 'irisdb OPT^SHUTDOWN(1)', true);
    const pid = Number(await attributeAt(page, lane, 'data-pid'));
    await clickOn(page, `${lane} .bar`, ['Shift']);
    const r = await range(page);
    const own = rawSamplesOf(pid).filter((t) => t >= r.t0 + r.from && t <= r.t0 + r.to).length;
    expect(own).toBeGreaterThan(0);
    expect(own).toBeLessThan(rawCount(r));
    expect(r.samples).toBe(own);
    expect(await rootCount(page)).toBe(own);
    expect(await textAt(page, '#range')).toContain(`(pid ${pid}) only`);
  });

  test.skipIf(skip)('hovering a process bar shows pid, ppid, argv, duration, exit status and CPU samples', async () => {
    const page = await open();
    const lane = await laneSelector(page, 'irisdb START^MONITOR');
    await hoverOn(page, `${lane} .bar`);
    const tip = await textAt(page, '#tip');
    expect(tip).toMatch(/pid \d+, ppid \d+/);
    expect(tip).toContain('argv: ./irisdb -s');
    expect(tip).toContain('-cj -p13 START^MONITOR');
    expect(tip).toMatch(/\(\d+(\.\d)? ms\)/);
    expect(tip).toContain('exit 0');
    expect(tip).toMatch(/\d+ CPU samples/);
  });

  test.skipIf(skip)('the flame chart shows the same samples in time order, and a click on a frame selects its time span', async () => {
    const page = await open();
    await clickOn(page, '#mode-chart');
    expect(await rootCount(page)).toBe(RAW.length);
    await clickFrame(page, 'irisdb QUIET^STU');
    const r = await range(page);
    expect(r.samples).toBe(rawCount(r));
    expect(r.samples).toBeLessThan(RAW.length);
    expect(await rootCount(page)).toBe(r.samples);
  });

  test.skipIf(skip)('search highlights matching frames and reports the matched share; hover and zoom work as in the flame graph', async () => {
    const page = await open();
    page.once('dialog', (dialog) => void dialog.accept('^Wij'));
    await clickOn(page, '#search');
    await expect.poll(async () => (await drawnFrames(page)).filter((frame) => frame.match).length).toBeGreaterThan(0);
    expect(await textAt(page, '#matched')).toMatch(/^Matched: \d+\.\d%$/);
    const box = await frameBox(page, 'irisrecov');
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    expect(await textAt(page, '#details')).toMatch(/^Function: irisrecov \(\d+ samples, \d+\.\d\d%\)$/);
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    const zoomed = (await drawnFrames(page)).find((frame) => !frame.parent)!;
    expect(zoomed.name).toBe('irisrecov');
    expect(zoomed.width).toBeGreaterThan(1100);
    await expect.poll(() => attributeAt(page, '#unzoom', 'class')).not.toContain('hide');
  });
});
