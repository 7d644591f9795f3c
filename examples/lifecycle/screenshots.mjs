// PNG screenshots of the lifecycle examples in headless Chromium (the README shows them):
//   node examples/lifecycle/screenshots.mjs DIR
// 1. the restart as it opens (whole recording: lanes with running / blocked / CPU-wait, file ticks, the
// critical path); 2. after clicking the `irisdb QUIET^STU` bar (its lifetime selected); 3. the same range as
// a flame chart; 4. the whole restart weighed as Off-CPU time; 5. as Wall clock, with the range's tables.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const dir = process.argv[2] ?? '.';
const profile = mkdtempSync(join(tmpdir(), 'irisflame-shots-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.IRISFLAME_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  headless: true,
  viewport: { width: 1200, height: 1000 },
});

async function open(name) {
  const page = await context.newPage();
  await page.goto(pathToFileURL(join(dir, name)).href, { waitUntil: 'load' });
  const height = await page.evaluate(() => Number(document.documentElement.getAttribute('height')));
  await page.setViewportSize({ width: 1200, height: Math.min(1300, height) });
  return page;
}

try {
  let page = await open('simulated-iris-restart.svg');
  await page.screenshot({ path: join(dir, 'simulated-iris-restart.png') });
  await page.locator('#lanes .lane', { hasText: 'irisdb QUIET^STU' }).locator('.bar').click();
  await page.mouse.move(5, 5);
  await page.screenshot({ path: join(dir, 'simulated-iris-restart-startup.png') });
  await page.locator('#mode-chart').click();
  await page.screenshot({ path: join(dir, 'simulated-iris-restart-chart.png') });
  if (await page.locator('#mode-off').count()) {
    await page.locator('#whole').click();
    await page.locator('#mode-off').click();
    await page.screenshot({ path: join(dir, 'simulated-iris-restart-offcpu.png') });
    await page.locator('#mode-wall').click();
    await page.setViewportSize({ width: 1200, height: await page.evaluate(() => Number(document.documentElement.getAttribute('height'))) });
    await page.screenshot({ path: join(dir, 'simulated-iris-restart-wall.png') });
  }
  page = await open('simulated-iris-stop.svg');
  await page.screenshot({ path: join(dir, 'simulated-iris-stop.png') });
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
