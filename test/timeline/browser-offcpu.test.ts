/**
 * The lifecycle page's off-CPU view in headless Chromium and Firefox, on the simulated restart fixture with a hand-made
 * off-CPU capture (offcpu-support.ts): the CPU / Off-CPU / Wall clock switch and its units, the lane totals,
 * the file list of a range, search over paths, and the critical path. Every figure the page shows is checked
 * against numbers computed here from the raw perf text and the hand-made lists, not from the page's data.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { OffCpuCapture } from '../../src/kernel/offcpu-events.js';
import type { Timeline } from '../../src/timeline/model.js';
import { readTimeline, renderTimeline } from '../../src/timeline/render.js';
import {
  BROWSERS, attributeAt, boxOf, browserMissingReason, clickOn, countOf, hoverOn, launchBrowser, textAt, textsAt,
  type Page, type TestBrowser,
} from '../browser/support/browsers.js';
import { laneSelector } from './page-support.js';
import { reportSkip } from '../support/references.js';
import { addHandMadeOffCpu } from './offcpu-support.js';
import { FIXTURES, RESTART, fixtureText } from './support.js';

const TEXT = fixtureText(RESTART);
const FREQUENCY = 99;
const OPTIONS = { iris: true, title: 'simulated IRIS restart' };

/** Times (µs) of the raw samples of one pid's main thread, from the `comm PID/TID [CPU] TIME:` headers. */
function rawSamplesOf(pid: number): number[] {
  const header = new RegExp(`^\\S.*?\\s${pid}/${pid}\\s+\\[\\d+\\]\\s+(\\d+)\\.(\\d{6}):\\s+\\d+\\s+cpu-clock`);
  return TEXT.split('\n').flatMap((line) => {
    const match = header.exec(line);
    return match ? [Number(match[1]) * 1e6 + Number(match[2])] : [];
  });
}

/**
 * perf's FORK and EXIT times of a pid, µs. The recorded command itself was forked by perf before it counted
 * (a FORK at time 0): it begins at its exec.
 */
function lifetimeMicros(pid: number): { start: number; end: number } {
  const at = (pattern: RegExp) => {
    const match = pattern.exec(TEXT)!;
    return Number(match[1]) * 1e6 + Number(match[2]);
  };
  const fork = at(new RegExp(`(\\d+)\\.(\\d{6}): PERF_RECORD_FORK\\(${pid}:${pid}\\)`));
  return {
    start: fork > 0 ? fork : at(new RegExp(`(\\d+)\\.(\\d{6}): PERF_RECORD_COMM exec: \\S+:${pid}/${pid}`)),
    end: at(new RegExp(`(\\d+)\\.(\\d{6}): PERF_RECORD_EXIT\\(${pid}:${pid}\\)`)),
  };
}

interface Frame { node: number; name: string; x: number; y: number; width: number; height: number; value: number; unit: string; reason: string | null }
interface Range { from: number; to: number; t0: number; samples: number; unit: string; total: number; mode: string }

async function frames(page: Page): Promise<Frame[]> {
  return page.evaluate(() => (window as unknown as { irisflameLifecycle: { frames(): Frame[] } }).irisflameLifecycle.frames());
}
async function root(page: Page): Promise<Frame> {
  return (await frames(page)).find((frame) => frame.node === 0)!;
}
async function range(page: Page): Promise<Range> {
  return page.evaluate(() => {
    const r = document.getElementById('range')!;
    const n = (name: string) => Number(r.getAttribute(name));
    return { from: n('data-from-us'), to: n('data-to-us'), t0: n('data-t0-us'), samples: n('data-samples'), total: n('data-total'), unit: r.getAttribute('data-unit')!, mode: r.getAttribute('data-mode')! };
  });
}

/** The labels (titles) of the critical path's rows, in order. */
function criticalLabels(page: Page): Promise<string[]> {
  return page.$$eval('#critical-list tbody tr td.name', (tds) => tds.map((td) => td.getAttribute('title')!));
}

/** The first critical-path row of a process: its kinds and its last cell's text. */
async function criticalRow(page: Page, label: string): Promise<{ kinds: string; lastCell: string }> {
  const row = await page.evaluate((wanted) => {
    const tr = Array.from(document.querySelectorAll('#critical-list tbody tr'))
      .find((r) => Array.from(r.querySelectorAll('td')).some((td) => td.getAttribute('title') === wanted));
    return tr ? { kinds: tr.getAttribute('data-kinds') ?? '', lastCell: Array.from(tr.querySelectorAll('td')).pop()?.textContent ?? '' } : null;
  }, label);
  if (!row) throw new Error(`no critical-path row of ${label}`);
  return row;
}

/** The tables are redrawn after the flame graph paints: wait until they show the current range. */
async function tablesShowRange(page: Page, r: Range): Promise<void> {
  const lane = await attributeAt(page, '#range', 'data-lane');
  await expect.poll(() => attributeAt(page, '#tables-body', 'data-range')).toBe(`${r.from},${r.to},${lane}`);
}

/** Blocked µs of the hand-made intervals within [from, to] (absolute µs), of one pid or all. */
function blockedMicros(capture: OffCpuCapture, from: number, to: number, pid?: number, reason?: string): number {
  let sum = 0;
  for (const b of capture.blocked) {
    if ((pid !== undefined && b.pid !== pid) || (reason !== undefined && b.reason !== reason)) continue;
    const lo = Math.max(from, Math.round(b.start * 1e6)), hi = Math.min(to, Math.round((b.start + b.duration) * 1e6));
    if (hi > lo) sum += hi - lo;
  }
  return sum;
}

/** The numbers in attribute `name` of the elements matching `selector`, in document order. */
function numbersAt(page: Page, selector: string, name: string): Promise<number[]> {
  return page.$$eval(selector, (elements, n) => elements.map((e) => Number(e.getAttribute(n))), name);
}

describe.each(BROWSERS)('off-CPU lifecycle page in %s (hand-made off-CPU capture of the simulated restart)', (browserName) => {
  const skip = reportSkip(`timeline: off-CPU lifecycle page in ${browserName}`, browserMissingReason(browserName));
  let browser: TestBrowser;
  let svg: string;
  let timeline: Timeline;
  let capture: OffCpuCapture;
  let expectedChain: string[];
  beforeAll(async () => {
    if (skip) return;
    browser = await launchBrowser(browserName);
    timeline = await readTimeline(RESTART, OPTIONS);
    ({ capture, expectedChain } = addHandMadeOffCpu(timeline));
    svg = renderTimeline(timeline, OPTIONS);
  }, 180_000);
  afterAll(async () => { await browser?.close(); });

  async function open(): Promise<Page> {
    const page = await browser.open(svg, 'offcpu.svg');
    await page.setViewport({ width: 1280, height: 2400 });
    return page;
  }
  const laneOf = (page: Page, label: string) => laneSelector(page, label, true);

  test.skipIf(skip)('the mode switch changes the flame graph from samples to blocked ms to wall-clock ms', async () => {
    const page = await open();
    const cpu = await range(page);
    expect(cpu.unit).toBe('samples');
    expect((await root(page)).unit).toBe('samples');
    expect((await root(page)).value).toBe(cpu.samples);
    const blockedAll = blockedMicros(capture, cpu.t0, cpu.t0 + cpu.to);

    await clickOn(page, '#mode-off');
    const off = await range(page);
    expect(off).toMatchObject({ unit: 'ms', mode: 'off' });
    expect((await root(page)).unit).toBe('ms');
    expect((await root(page)).value).toBeCloseTo(blockedAll / 1e3, 1);
    expect(off.total).toBeCloseTo(blockedAll / 1e3, 1);
    expect(await textAt(page, '#range')).toMatch(/ms blocked$/);
    // Frames are coloured by reason: iris's wait4 stack is a child wait, iriswdimj's pread a disk wait.
    const reasons = new Map((await frames(page)).map((f) => [f.name, f.reason]));
    expect(reasons.get('RunIrisstop')).toBe('child');
    expect(reasons.get('WijRecoveryScan')).toBe('disk');

    await clickOn(page, '#mode-wall');
    const wall = await range(page);
    expect(wall.unit).toBe('ms');
    const expectedWall = (cpu.samples * 1e6) / FREQUENCY / 1e3 + blockedAll / 1e3;
    expect((await root(page)).value).toBeCloseTo(expectedWall, 0);
    expect(await textAt(page, '#range')).toContain(`${cpu.samples} samples at 99 Hz`);

    await clickOn(page, '#mode-cpu');
    expect((await root(page)).value).toBe(cpu.samples);
    expect((await root(page)).unit).toBe('samples');
  });

  test.skipIf(skip)("each lane's totals match the raw capture: on-CPU from its samples at 99 Hz, blocked by reason, CPU wait, the rest unaccounted", async () => {
    const page = await open();
    for (const label of ['iris restart IRIS', 'irisrecov quietly', 'iriswdimj -t', 'irisdb QUIET^STU', 'httpd -f … -d …']) {
      const pid = Number(await attributeAt(page, await laneOf(page, label), 'data-pid'));
      const cells = await numbersAt(page, `#totals tr[data-pid="${pid}"] td[data-us]`, 'data-us');
      const [lived, onCpu, disk, lock, child, sleep, io, poll, other, wait, unaccounted] = cells as number[];
      const life = lifetimeMicros(pid);
      expect(lived).toBe(life.end - life.start);
      expect(onCpu).toBeCloseTo((rawSamplesOf(pid).length * 1e6) / FREQUENCY, -1);
      const reasons = { disk, lock, child, sleep, io, poll, other };
      for (const [reason, shown] of Object.entries(reasons)) {
        expect(Math.abs(shown! - blockedMicros(capture, life.start, life.end, pid, reason))).toBeLessThanOrEqual(2);
      }
      const cpuWait = capture.cpuWaits.find((w) => w.pid === pid);
      expect(wait).toBeCloseTo((cpuWait?.total ?? 0) * 1e6, -1);
      expect(Math.abs(lived! - onCpu! - disk! - lock! - child! - sleep! - io! - poll! - other! - wait! - unaccounted!)).toBeLessThanOrEqual(4);
    }
    // The same figures on hover, without opening the table.
    await hoverOn(page, `${await laneOf(page, 'irisrecov quietly')} .bar`);
    const tip = await textAt(page, '#tip');
    expect(tip).toMatch(/on-CPU ≈ [\d.,]+ ms \(\d+ samples at 99 Hz\)/);
    expect(tip).toContain('disk IO 80.0');
    expect(tip).toContain('child wait');
    expect(tip).toMatch(/on the critical path: [\d.,]+ ms/);
  });

  test.skipIf(skip)('a selected range lists the files looked up in it, failed lookups marked, grouped with a summary', async () => {
    const page = await open();
    await clickOn(page, `${await laneOf(page, 'irisrecov quietly')} .bar`);
    const r = await range(page);
    await tablesShowRange(page, r);
    const expected = capture.files
      .filter((f) => Math.round(f.time * 1e6) >= r.t0 + r.from && Math.round(f.time * 1e6) <= r.t0 + r.to)
      .sort((a, b) => a.time - b.time);
    expect(expected.length).toBeGreaterThan(2);
    expect(expected.length).toBeLessThan(capture.files.length);
    expect(await textsAt(page, '#files tbody tr td.path')).toEqual(expected.map((f) => f.path));
    const failed = await textsAt(page, '#files tr.failed td.path');
    expect(failed).toEqual(expected.filter((f) => f.result < 0).map((f) => f.path));
    expect(await textAt(page, '#files tr.failed')).toContain('✗ ENOENT');
    const journal = '#file-summary tr[data-group="journal"]';
    expect(await countOf(page, journal)).toBe(1);
    expect(await attributeAt(page, journal, 'data-count')).toBe(String(expected.filter((f) => /journal/.test(f.path)).length));
    expect(await attributeAt(page, journal, 'data-failed')).toBe('1');
    expect(await textAt(page, '#file-groups')).toMatch(/journal \d+ \(1 failed, [\d.]+ ms disk wait\)/);

    // Search covers paths: the matching rows and ticks light up, and the count says so.
    page.once('dialog', (dialog) => void dialog.accept('\\.WIJ$'));
    await clickOn(page, '#search');
    await expect.poll(() => countOf(page, '#files tr.match')).toBe(1);
    expect(await textAt(page, '#matched')).toMatch(/· 1 files$/);
    expect(await attributeAt(page, '#file-ticks-match', 'd')).not.toBe('M0 0');
  });

  test.skipIf(skip)('the critical path is outlined without a click and lists iris → irisstop → each child it waited for', async () => {
    const page = await open();
    const iris = lifetimeMicros(Number(await attributeAt(page, await laneOf(page, 'iris restart IRIS'), 'data-pid')));
    expect(Number(await attributeAt(page, '#critical', 'data-length-us'))).toBe(iris.end - iris.start);
    expect(await textAt(page, '#critical')).toMatch(/^Critical path of iris restart IRIS: [\d.]+ s = /);
    const box = await boxOf(page, '#critical-path .critical-box');
    expect(box.height).toBeGreaterThan(200); // spans lanes from iris down to the daemons
    const labels = await criticalLabels(page);
    expect(labels.filter((label, k) => k === 0 || labels[k - 1] !== label)).toEqual(expectedChain);
    // One row per stay on a process, with what it was made of: irisrecov's includes its disk waits.
    expect(labels).toEqual(expectedChain);
    const recov = await criticalRow(page, 'irisrecov quietly');
    expect(recov.kinds).toContain('disk IO');
    expect(recov.lastCell).toMatch(/disk IO 80\.0/);
    expect((await criticalRow(page, 'irisdb QUIET^STU')).kinds).toContain('lock/futex');
  });

  test.skipIf(skip)('range selection, process click and shift-click weigh blocked time in Off-CPU and Wall clock modes', async () => {
    const page = await open();
    await clickOn(page, '#mode-off');
    const recov = await laneOf(page, 'irisrecov quietly');
    const pid = Number(await attributeAt(page, recov, 'data-pid'));
    await clickOn(page, `${recov} .bar`, ['Shift']);
    let r = await range(page);
    expect((await root(page)).value).toBeCloseTo(blockedMicros(capture, r.t0 + r.from, r.t0 + r.to, pid) / 1e3, 1);
    await clickOn(page, `${recov} .bar`);
    r = await range(page);
    expect((await root(page)).value).toBeCloseTo(blockedMicros(capture, r.t0 + r.from, r.t0 + r.to) / 1e3, 1);
    await clickOn(page, '#mode-wall');
    expect((await root(page)).value).toBeCloseTo((r.samples * 1e6) / FREQUENCY / 1e3 + blockedMicros(capture, r.t0 + r.from, r.t0 + r.to) / 1e3, 0);
    const strip = await boxOf(page, '#strip .strip-back');
    await page.mouse.move(strip.x + strip.width * 0.1, strip.y + 10);
    await page.mouse.down();
    await page.mouse.move(strip.x + strip.width * 0.4, strip.y + 10);
    await page.mouse.up();
    r = await range(page);
    expect(r.mode).toBe('wall');
    expect((await root(page)).value).toBeCloseTo((r.samples * 1e6) / FREQUENCY / 1e3 + blockedMicros(capture, r.t0 + r.from, r.t0 + r.to) / 1e3, 0);
  });

  test.skipIf(skip)('with file events but no blocked time (--no-off-cpu), the files are shown and the rest says why not', async () => {
    const partial = await readTimeline(RESTART, OPTIONS);
    const { capture: handMade } = addHandMadeOffCpu(partial);
    partial.offCpu = { ...handMade, blocked: [], cpuWaits: [], offCpuUnavailable: 'turned off (--no-off-cpu)' };
    const page = await browser.open(renderTimeline(partial, OPTIONS), 'files-only.svg');
    await page.setViewport({ width: 1280, height: 2400 });
    expect(await textAt(page, '#critical')).toBe('no off-CPU data: turned off (--no-off-cpu)');
    expect(await textAt(page, '#offcpu-note')).toMatch(/^no off-CPU data: turned off/);
    expect(await countOf(page, '#mode-off')).toBe(0);
    expect(await countOf(page, '#files tbody tr')).toBe(handMade.files.length);
    expect(await textAt(page, '#file-groups')).toMatch(/^Files: \d+ lookups, 2 failed: /);
  });

  test.skipIf(skip)('a capture without off-CPU data renders as before and says why', async () => {
    const plain = await readTimeline(RESTART, OPTIONS);
    const page = await browser.open(renderTimeline(plain, OPTIONS), 'plain.svg');
    expect(await textAt(page, '#offcpu-note')).toMatch(/^no off-CPU data: /);
    expect(await countOf(page, '#mode-off')).toBe(0);
    expect(await countOf(page, '#tables')).toBe(0);
    expect(await countOf(page, '#critical-path')).toBe(0);
    expect((await root(page)).unit).toBe('samples');
  });
});

/**
 * The real off-CPU fixture (record --lifecycle with the tracer, simulated IRIS restart): lane totals checked
 * against its raw lines, read here with plain regexes: `# irisflame-offcpu B off_ns dur_ns pid tid state
 * syscall …`, `C pid tid ns count`, and perf's sample headers.
 */
const REAL = join(FIXTURES, 'offcpu', 'simulated-restart.lifecycle.txt.gz');

describe.each(BROWSERS)('off-CPU lifecycle page in %s (recorded off-CPU fixture)', (browserName) => {
  const skip = reportSkip(`timeline: off-CPU lifecycle page (recorded fixture) in ${browserName}`,
    browserMissingReason(browserName) ?? (existsSync(REAL) ? undefined : `${REAL} is missing`));
  let browser: TestBrowser;
  let page: Page;
  const text = existsSync(REAL) ? fixtureText(REAL) : '';
  beforeAll(async () => {
    if (skip) return;
    browser = await launchBrowser(browserName);
    page = await browser.open(renderTimeline(await readTimeline(REAL, OPTIONS), OPTIONS), 'real.svg');
    await page.setViewport({ width: 1280, height: 2400 });
  }, 180_000);
  afterAll(async () => { await browser?.close(); });

  function micros(seconds: string, fraction: string): number { return Number(seconds) * 1e6 + Number(fraction); }
  function life(pid: number): { start: number; end: number } {
    const fork = new RegExp(`(\\d+)\\.(\\d{6}): PERF_RECORD_FORK\\(${pid}:${pid}\\)`).exec(text)!;
    const exit = new RegExp(`(\\d+)\\.(\\d{6}): PERF_RECORD_EXIT\\(${pid}:${pid}\\)`).exec(text)!;
    return { start: micros(fork[1]!, fork[2]!), end: micros(exit[1]!, exit[2]!) };
  }
  /** Blocked µs of a pid's main thread in [from, to], all reasons or those of one syscall. */
  function blocked(pid: number, from: number, to: number, syscall?: number): number {
    let sum = 0;
    for (const m of text.matchAll(/^# irisflame-offcpu B\t(\d+)\t(\d+)\t(\d+)\t(\d+)\t(\d+)\t(-?\d+)\t/gm)) {
      if (Number(m[3]) !== pid || Number(m[4]) !== pid || (syscall !== undefined && Number(m[6]) !== syscall)) continue;
      const start = Math.round(Number(m[1]) / 1e3), end = Math.round((Number(m[1]) + Number(m[2])) / 1e3);
      sum += Math.max(0, Math.min(end, to) - Math.max(start, from));
    }
    return sum;
  }
  function samples(pid: number): number {
    return [...text.matchAll(new RegExp(`^\\S.*?\\s${pid}/${pid}\\s+\\[\\d+\\]\\s+\\d+\\.\\d{6}:\\s+\\d+\\s+cpu-clock`, 'gm'))].length;
  }

  test.skipIf(skip)('lane totals match the raw lines: on-CPU from samples at 99 Hz, child waits = wait4, blocked in all, CPU wait', async () => {
    for (const label of ['iris restart IRIS', 'irisstop quietly restart', 'irisrecov quietly', 'irisdb QUIET^STU']) {
      const pid = Number(await attributeAt(page, await laneSelector(page, label, true), 'data-pid'));
      const cells = await numbersAt(page, `#totals tr[data-pid="${pid}"] td[data-us]`, 'data-us');
      const [lived, onCpu, disk, lock, child, sleep, io, poll, other, wait] = cells as number[];
      const { start, end } = life(pid);
      if (label !== 'iris restart IRIS') expect(lived).toBe(end - start); // the command begins at its exec
      expect(onCpu).toBeCloseTo((samples(pid) * 1e6) / FREQUENCY, -1);
      expect(Math.abs(child! - blocked(pid, start, end, 61))).toBeLessThanOrEqual(2 * 20);
      const all = disk! + lock! + child! + sleep! + io! + poll! + other!;
      expect(Math.abs(all - blocked(pid, start - 1e6, end + 1e6))).toBeLessThanOrEqual(2 * 40);
      const c = new RegExp(`^# irisflame-offcpu C\\t${pid}\\t${pid}\\t(\\d+)\\t`, 'm').exec(text);
      expect(wait).toBeCloseTo(c ? Number(c[1]) / 1e3 : 0, -1);
    }
    // The recorded iris waited in wait4 for (almost) all its life.
    const [lived, , , , child] = await page.evaluate(() => {
      const rows = Array.from(document.querySelectorAll('#totals tr')).filter((tr) => (tr.textContent ?? '').includes('iris restart IRIS'));
      if (rows.length !== 1) throw new Error(`expected one totals row of iris restart IRIS, found ${rows.length}`);
      return Array.from(rows[0]!.querySelectorAll('td[data-us]')).map((td) => Number(td.getAttribute('data-us')));
    });
    expect(child! / lived!).toBeGreaterThan(0.95);
  });

  test.skipIf(skip)("every process of the restart's tree adds up to its lifetime within sampling error", async () => {
    const rows = await page.evaluate(() => {
      const w = window as unknown as { lcData: { span: number; processes: Array<{ label: string; depth: number }> }; irisflameLifecycle: { laneTotals(from: number, to: number): Array<{ life: number; samples: number; unaccounted: number }> } };
      const lanes = w.lcData.processes, totals = w.irisflameLifecycle.laneTotals(0, w.lcData.span);
      const top = lanes.findIndex((lane) => lane.label === 'iris restart IRIS');
      const tree = [top];
      for (let k = top + 1; k < lanes.length && lanes[k]!.depth > lanes[top]!.depth; k++) tree.push(k);
      return tree.map((k) => ({ label: lanes[k]!.label, ...totals[k]! }));
    });
    expect(rows.length).toBeGreaterThan(15);
    const period = 1e6 / FREQUENCY;
    const short: string[] = [];
    for (const row of rows) {
      // On-CPU is a count of samples: its error grows as the square root of the count (3 sigma), plus a period at each end.
      const bound = 3 * Math.sqrt(row.samples + 1) * period + 2 * period;
      // Never more than the lifetime (nothing counted twice).
      expect(row.unaccounted, `${row.label}: ${row.unaccounted} µs unaccounted of ${row.life}`).toBeGreaterThanOrEqual(-bound);
      if (row.unaccounted > bound) short.push(`${row.label}: ${row.unaccounted} µs unaccounted of ${row.life}`);
    }
    // The tracer's known gap (docs/lifecycle.md: now and then a daemon comes out 100-200 ms short, no lost
    // events reported; the live recording test allows it too): one process in ten at most, not more.
    expect(short.length, short.join('; ')).toBeLessThanOrEqual(Math.floor(rows.length / 10));
  });

  test.skipIf(skip)('the critical path of the recorded restart goes iris → irisstop → its first child, and ends back in iris', async () => {
    const labels = await criticalLabels(page);
    const chain = labels.filter((label, k) => k === 0 || labels[k - 1] !== label);
    expect(chain.slice(0, 3)).toEqual(['iris restart IRIS', 'irisstop quietly restart', 'irisdb -cV']);
    expect(chain.slice(-2)).toEqual(['irisstop quietly restart', 'iris restart IRIS']);
    expect(chain).toContain('irisrecov quietly');
    expect(chain).toContain('irisdb QUIET^STU');
  });
});
