/**
 * The flight recorder's pages as a browser sees them over http from a real agent server (not file://):
 * the /lifecycle/ list (links, escaping, no script) and a served SVG with the lifecycle view's own
 * interactions under the route's Content-Security-Policy: hover, range selection, the flame graph below,
 * the critical path outline. The record is the simulated IRIS restart captured by irisflame (support.ts).
 */
import { rmSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { lifecycleRoutes } from '../../../src/agent/flight/routes.js';
import { startAgentServer, type RunningServer } from '../../../src/agent/server.js';
import { chromiumMissingReason, launchChromium, type Browser } from '../../browser/support/chromium.js';
import { reportSkip } from '../../support/references.js';
import { readTimeline } from '../../../src/timeline/render.js';
import { CAPTURE_FIXTURE, scratchDataDir, writeRecord } from './support.js';

const skip = chromiumMissingReason();
if (skip !== undefined) reportSkip('agent flight recorder pages in Chromium', skip);

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

describe.skipIf(skip)('flight recorder pages served by the agent, in Chromium', () => {
  let dir: string;
  let server: RunningServer;
  let browser: Browser;
  const problems: string[] = [];
  beforeAll(async () => {
    dir = scratchDataDir();
    writeRecord(dir, RESTART);
    writeRecord(dir, '20261206T184500.000Z-x-crash', { kind: 'crash', iris_instance: HOSTILE, started_at: '2026-12-06T18:45:00.000Z', signal: 'SIGKILL' });
    server = await startAgentServer({ listen: { host: '127.0.0.1', port: 0 }, registry: new Registry(), routes: lifecycleRoutes({ dataDir: dir, enabled: true }) });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(path: string): Promise<Page> {
    const page = await browser.context.newPage();
    // A CSP violation or a script error shows up here: the view must work under the route's policy.
    page.on('pageerror', (error) => problems.push(`${path}: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`${path}: ${message.text()}`);
    });
    await page.setViewportSize({ width: 1280, height: 2400 });
    await page.goto(`${server.url}${path}`, { waitUntil: 'load' });
    return page;
  }

  test('the list shows both records newest first, the hostile name as text, and its links open the view', async () => {
    const page = await open('/lifecycle');
    expect(page.url()).toBe(`${server.url}/lifecycle/`);
    const rows = page.locator('tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(0).locator('td').first().textContent()).toBe(HOSTILE);
    expect(await page.title()).not.toBe('owned');
    expect(await rows.nth(0).textContent()).toContain('crash (SIGKILL)');
    expect(await rows.nth(1).textContent()).toContain('critical path of iris restart IRIS: 2.561 s');
    await rows.nth(1).getByRole('link', { name: 'view' }).click();
    await page.waitForURL(`${server.url}/lifecycle/${RESTART}.svg`);
    await expect.poll(() => page.evaluate(() => 'irisflameLifecycle' in window)).toBe(true);
    expect(problems).toEqual([]);
  });

  test('the served SVG: whole capture at first, hover, a dragged range, the flame graph below, the critical path', async () => {
    const page = await open(`/lifecycle/${RESTART}.svg`);
    const all = await range(page);
    expect(all.from).toBe(0);
    expect(all.samples).toBe(await irisSampleCount());
    const root = (await frames(page)).find((frame) => frame.node === 0)!;
    expect(root.value).toBe(all.samples);

    const lane = page.locator('#lanes .lane').filter({ has: page.getByText('iris restart IRIS', { exact: true }) });
    await lane.locator('.bar').hover();
    expect(await page.locator('#tip').textContent()).toMatch(/pid \d+, ppid \d+/);

    const strip = (await page.locator('#strip .strip-back').boundingBox())!;
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

    expect(await page.locator('#critical').textContent()).toMatch(/^Critical path of iris restart IRIS: [\d.]+ s = /);
    const outline = await page.locator('#critical-path .critical-box').boundingBox();
    expect(outline!.height).toBeGreaterThan(200);
    const labels = await page.locator('#critical-list tbody tr td.name').evaluateAll((tds) => tds.map((td) => td.getAttribute('title')!));
    expect(labels[0]).toBe('iris restart IRIS');
    expect(labels).toContain('irisrecov quietly');
    expect(problems).toEqual([]);
  });
});
