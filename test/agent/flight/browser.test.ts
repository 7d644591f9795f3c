/**
 * The flight recorder's pages as Chromium and Firefox see them over http from a real agent server (not file://):
 * the /lifecycle/ list (links, escaping, no script) and a served SVG with the lifecycle view's own
 * interactions under the route's Content-Security-Policy: hover, range selection, the flame graph below,
 * the critical path outline. The record is the simulated IRIS restart captured by irisflame (support.ts).
 */
import { rmSync } from 'node:fs';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { lifecycleRoutes } from '../../../src/agent/flight/routes.js';
import { startAgentServer, type RunningServer } from '../../../src/agent/server.js';
import {
  BROWSERS, boxOf, browserMissingReason, clickOn, countOf, hoverOn, launchBrowser, textAt, type Page, type TestBrowser,
} from '../../browser/support/browsers.js';
import { laneSelector } from '../../timeline/page-support.js';
import { reportSkip } from '../../support/references.js';
import { readTimeline } from '../../../src/timeline/render.js';
import { CAPTURE_FIXTURE, scratchDataDir, writeRecord } from './support.js';

const RESTART = '20261206T183000.000Z-IRIS-restart';
const HOSTILE = '<script>document.title="owned"</script>';

/** The samples of IRIS processes in the capture, as `irisflame timeline --iris FILE` reads them. */
async function irisSampleCount(): Promise<number> {
  return (await readTimeline(CAPTURE_FIXTURE, { iris: true })).report.samples;
}

interface Range { from: number; to: number; samples: number }
async function range(page: Page): Promise<Range> {
  return page.evaluate(() => {
    const r = document.getElementById('range')!;
    return { from: Number(r.getAttribute('data-from-us')), to: Number(r.getAttribute('data-to-us')), samples: Number(r.getAttribute('data-samples')) };
  });
}
interface Frame { node: number; name: string; y: number; value: number }
async function frames(page: Page): Promise<Frame[]> {
  return page.evaluate(() => (window as unknown as { irisflameLifecycle: { frames(): Frame[] } }).irisflameLifecycle.frames());
}

/**
 * Firefox fetches /favicon.ico for every page by itself and applies the page's policy to it (Chromium does
 * not): the block is reported as a violation and a console error, but the request is the browser's, not the
 * page's, and the policy is right to refuse it. Only that report
 * (Firefox's driver passes it on as a page error) is left out.
 */
const FAVICON_VIOLATION = /^img-src http:\/\/127\.0\.0\.1:\d+\/favicon\.ico$/;
const FAVICON_CONSOLE = /^Content-Security-Policy: .* blocked the loading of a resource \(img-src\) at http:\/\/127\.0\.0\.1:\d+\/favicon\.ico /;

/** The policy violations the page reported, recorded by a listener installed before any of its own code runs. */
async function violations(page: Page): Promise<string[]> {
  const seen = await page.evaluate(() => (window as unknown as { cspViolations?: string[] }).cspViolations ?? ['no listener']);
  return seen.filter((v) => !FAVICON_VIOLATION.test(v));
}

describe.each(BROWSERS)('flight recorder pages served by the agent, in %s', (browserName) => {
  const skip = reportSkip(`agent flight recorder pages in ${browserName}`, browserMissingReason(browserName));
  let dir: string;
  let server: RunningServer;
  let browser: TestBrowser;
  const problems: string[] = [];
  beforeAll(async () => {
    if (skip) return;
    dir = scratchDataDir();
    writeRecord(dir, RESTART);
    writeRecord(dir, '20261206T184500.000Z-x-crash', { kind: 'crash', iris_instance: HOSTILE, started_at: '2026-12-06T18:45:00.000Z', signal: 'SIGKILL' });
    server = await startAgentServer({ listen: { host: '127.0.0.1', port: 0 }, registry: new Registry(), routes: lifecycleRoutes({ dataDir: dir, enabled: true }) });
    browser = await launchBrowser(browserName, 2400);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function open(path: string): Promise<Page> {
    const page = await browser.newPage();
    // A CSP violation or a script error shows up here: the view must work under the route's policy.
    const report = (text: string) => { if (!FAVICON_CONSOLE.test(text)) problems.push(`${path}: ${text}`); };
    page.on('pageerror', (error) => report(error instanceof Error ? error.message : String(error)));
    page.on('console', (message) => {
      if (message.type() === 'error') report(message.text());
    });
    // The page's own securitypolicyviolation events are counted too, whatever a browser logs to the console
    // (the driver's preload script is exempt from the policy).
    await page.evaluateOnNewDocument(() => {
      const seen: string[] = [];
      (window as unknown as { cspViolations: string[] }).cspViolations = seen;
      document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    await page.goto(`${server.url}${path}`, { waitUntil: 'load', timeout: 120_000 });
    return page;
  }

  test.skipIf(skip)('the list shows both records newest first, the hostile name as text, and its links open the view', async () => {
    const page = await open('/lifecycle');
    expect(page.url()).toBe(`${server.url}/lifecycle/`);
    expect(await countOf(page, 'tbody tr')).toBe(2);
    expect(await textAt(page, 'tbody tr:nth-child(1) td')).toBe(HOSTILE);
    expect(await page.title()).not.toBe('owned');
    expect(await textAt(page, 'tbody tr:nth-child(1)')).toContain('crash (SIGKILL)');
    expect(await textAt(page, 'tbody tr:nth-child(2)')).toContain('critical path of iris restart IRIS: 2.561 s');
    expect(await violations(page)).toEqual([]);
    // The second row's one link that reads "view", found by what it says and clicked by its address.
    const views = await page.evaluate(() => Array.from(document.querySelectorAll('tbody tr:nth-child(2) a'))
      .filter((a) => (a.textContent ?? '').trim() === 'view').map((a) => a.getAttribute('href')!));
    expect(views).toHaveLength(1);
    await Promise.all([
      page.waitForNavigation({ waitUntil: 'load', timeout: 120_000 }),
      clickOn(page, `tbody tr:nth-child(2) a[href="${views[0]}"]`),
    ]);
    expect(page.url()).toBe(`${server.url}/lifecycle/${RESTART}.svg`);
    await expect.poll(() => page.evaluate(() => 'irisflameLifecycle' in window), { timeout: 30_000 }).toBe(true);
    expect(await violations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });

  test.skipIf(skip)('the served SVG: whole capture at first, hover, a dragged range, the flame graph below, the critical path', async () => {
    const page = await open(`/lifecycle/${RESTART}.svg`);
    const all = await range(page);
    expect(all.from).toBe(0);
    expect(all.samples).toBe(await irisSampleCount());
    const root = (await frames(page)).find((frame) => frame.node === 0)!;
    expect(root.value).toBe(all.samples);

    const lane = await laneSelector(page, 'iris restart IRIS', true);
    expect(await countOf(page, `${lane} .bar`)).toBe(1);
    await hoverOn(page, `${lane} .bar`);
    expect(await textAt(page, '#tip')).toMatch(/pid \d+, ppid \d+/);

    const strip = await boxOf(page, '#strip .strip-back');
    await page.mouse.move(strip.x + strip.width * 0.2, strip.y + strip.height / 2);
    await page.mouse.down();
    await page.mouse.move(strip.x + strip.width * 0.35, strip.y + strip.height / 2);
    await page.mouse.move(strip.x + strip.width * 0.5, strip.y + strip.height / 2);
    await page.mouse.up();
    const part = await range(page);
    expect(part.from).toBeGreaterThan(0);
    expect(part.samples).toBeGreaterThan(0);
    expect(part.samples).toBeLessThan(all.samples);
    const partFrames = await frames(page);
    expect(partFrames.find((frame) => frame.node === 0)!.value).toBe(part.samples);
    // The flame graph is drawn below the strip and the lanes.
    expect(Math.min(...partFrames.map((frame) => frame.y))).toBeGreaterThan(strip.y);

    expect(await textAt(page, '#critical')).toMatch(/^Critical path of iris restart IRIS: [\d.]+ s = /);
    expect(await countOf(page, '#critical-path .critical-box')).toBe(1);
    // The outline spans every lane on the critical path, top to bottom. (Measured as drawn: Playwright's
    // box of it was Chromium's, grown by the stroke's miter allowance, 6.4 px taller than the path itself.)
    const outline = await boxOf(page, '#critical-path .critical-box');
    const lanes = await page.evaluate(() => {
      const names = new Set(Array.from(document.querySelectorAll('#critical-list tbody tr td.name')).map((td) => td.getAttribute('title')!));
      const bars = Array.from(document.querySelectorAll('#lanes .lane'))
        .filter((lane) => Array.from(lane.querySelectorAll('*')).some((e) => names.has((e.textContent ?? '').trim())))
        .map((lane) => lane.querySelector('.bar')!.getBoundingClientRect());
      return { count: bars.length, top: Math.min(...bars.map((r) => r.top)), bottom: Math.max(...bars.map((r) => r.bottom)) };
    });
    expect(lanes.count).toBeGreaterThan(5);
    expect(outline.y).toBeLessThanOrEqual(lanes.top);
    expect(outline.y + outline.height).toBeGreaterThanOrEqual(lanes.bottom);
    expect(outline.height).toBeGreaterThan(190);
    const labels = await page.evaluate(() => Array.from(document.querySelectorAll('#critical-list tbody tr td.name')).map((td) => td.getAttribute('title')!));
    expect(labels[0]).toBe('iris restart IRIS');
    expect(labels).toContain('irisrecov quietly');
    expect(await violations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });
});
