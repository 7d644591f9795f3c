#!/usr/bin/env node
/**
 * Interactive latency of flame-graph SVGs in headless Chromium: ours vs flamegraph.pl's vs inferno's.
 *
 * Inputs (about 1k, 20k and 150k drawn frames) are derived from a real capture recorded on this machine
 * (fixtures/browser/perf-mixed.folded: perf record -F 499 -a -g over tar|gzip, find|sort, perl, python), by
 * subsetting, replicating under renamed process names, repeating the middle of stacks (as recursion does) and
 * giving each stack a few unique leaf frames. They are cached under bench/.cache.
 *
 * Each SVG is loaded from file:// and timed in the page: performance.now() around a dispatched event plus a
 * double requestAnimationFrame, so style, layout and paint of the next frame are included.
 *   load   = navigation start -> load event -> two animation frames, in a new tab: median of REPEATS loads (each in a
 *            tab of its own; the "loads" field lists them all). An empty SVG is measured the same way first: the
 *            floor, what a browser takes to open any file in a new tab. A tab showing an empty SVG stays open all
 *            along, so every load finds the browser's file:// content process running: Firefox starts one when no
 *            file:// tab is open (0.3-0.6 s, and up to 1 s more while the previous one shuts down), which the bench
 *            used to measure in some loads and not in others, whichever tabs happened to be open.
 *   zoom   = click on a fixed mid-depth frame (the widest one at a third of the depth) -> painted
 *   zoom big = click on the root's widest child -> painted, measured on a variant of the input where half of
 *            the stacks (and so about half the frames) pass through one child of the root, as one busy process
 *            does in a whole-system capture: the largest subtree a click can zoom to
 *   reset  = click on "Reset Zoom" -> painted
 *   search = click on "Search" answering the prompt with SEARCH_REGEX -> painted (then cleared, untimed)
 *   idle   = nothing -> painted: the floor of this measurement on this machine at that moment (two frames)
 * Clicks start SETTLE_MS after load; first zoom is reported apart; the others are medians of REPEATS runs.
 * zoom, reset and search are measured twice: with the pointer off the graph, then resting on it (on a frame a few
 * rows above the root, where a person's pointer is), since Chromium re-hit-tests under the pointer after changes.
 * Above LOAD_ONLY_ABOVE frames, the other renderers' interactions (tens of seconds each) are skipped unless
 * --interact-all; their earlier figures are in docs/benchmarks.md.
 *
 * Run alone: node bench/browser.mjs [--sizes=1000,20000] [--repeats=N] [--renderers=inferno,ours];
 * or import { runBrowserBench } (same options as an object).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import { contractSvg, foldedToFrames } from '../test/browser/support/contract-svg.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CACHE = join(ROOT, 'bench', '.cache');
const BASE_CAPTURE = join(ROOT, 'fixtures', 'browser', 'perf-mixed.folded');
const REFERENCE = process.env.IRISFLAME_REFERENCE_DIR ?? join(ROOT, '..', 'shared', 'reference');
const CHROMIUM = process.env.IRISFLAME_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A number: frames from the real capture; `<n>w`: the wide-frames input (cachedWideInput). */
export const DEFAULT_SIZES = [1_000, 20_000, '20000w', 160_000];
export const DEFAULT_BROWSERS = ['chromium', 'firefox'];
const FIREFOX = process.env.IRISFLAME_FIREFOX ?? '/usr/bin/firefox-esr';
/** A fresh profile (puppeteer makes one per launch) that reaches no network: nothing of Firefox's own phones home. */
const FIREFOX_PREFS = {
  'toolkit.telemetry.enabled': false, 'toolkit.telemetry.unified': false, 'toolkit.telemetry.server': '',
  'datareporting.healthreport.uploadEnabled': false, 'datareporting.policy.dataSubmissionEnabled': false,
  'app.update.enabled': false, 'app.update.auto': false, 'app.update.url': '',
  'browser.safebrowsing.malware.enabled': false, 'browser.safebrowsing.phishing.enabled': false,
  'browser.safebrowsing.downloads.enabled': false, 'browser.safebrowsing.downloads.remote.enabled': false,
  'browser.safebrowsing.provider.google4.updateURL': '', 'browser.safebrowsing.provider.mozilla.updateURL': '',
  'network.captive-portal-service.enabled': false, 'captivedetect.canonicalURL': '',
  'network.connectivity-service.enabled': false,
  'app.normandy.enabled': false, 'app.normandy.api_url': '', 'app.shield.optoutstudies.enabled': false,
  'services.settings.server': 'http://127.0.0.1:9/', 'extensions.update.enabled': false,
  'extensions.blocklist.enabled': false, 'browser.search.update': false, 'network.prefetch-next': false,
  'network.dns.disablePrefetch': true, 'browser.newtabpage.enabled': false, 'browser.startup.page': 0,
};
const REPEATS = 3;
/** Pause between load and the first click, for every renderer: a person reads the graph first (our script
 * builds its model when idle). */
const SETTLE_MS = 3_000;
/** When one zoom and reset take longer than this, each action is measured once (flamegraph.pl at 150k). */
const SLOW_MS = 10_000;
/** Kernel allocation and locking: matches a few percent of frames spread all over the capture. */
const SEARCH_REGEX = 'alloc|lock';
const WIDTH_PX = 1180; // 1200 - 2 * xpad, the same for all three renderers by default
const MINWIDTH_PX = 0.1;
const LOAD_ONLY_ABOVE = 100_000;

/* ---------- inputs ---------- */

function drawnFrames(lines) {
  const frames = foldedToFrames(lines.join('\n'));
  const scale = WIDTH_PX / frames[0].samples;
  return frames.filter((f) => f.samples * scale >= MINWIDTH_PX).length;
}

// Replicate the capture `replicas` times under renamed process names, repeat the middle of each stack
// `recursion` times, and make the last `uniqueLeaves` frames of every stack its own (all counts 1).
function varied(base, replicas, recursion, uniqueLeaves) {
  const out = [];
  for (let r = 0; r < replicas; r++) {
    base.forEach((line, j) => {
      let frames = line.slice(0, line.lastIndexOf(' ')).split(';');
      if (r > 0) frames[0] += `~${r}`;
      if (recursion > 1 && frames.length > 2) {
        const middle = frames.slice(1, -1);
        frames = [frames[0], ...Array(recursion).fill(middle).flat(), frames[frames.length - 1]];
      }
      for (let d = Math.max(1, frames.length - uniqueLeaves); d < frames.length; d++) frames[d] += `~${j}`;
      out.push(`${frames.join(';')} 1`);
    });
  }
  return out;
}

function makeInput(base, target) {
  if (target <= drawnFrames(base)) { // a strided subset of the real capture, real counts kept
    let lo = 1, hi = base.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const stride = base.length / mid;
      const subset = Array.from({ length: mid }, (_, k) => base[Math.floor(k * stride)]);
      if (drawnFrames(subset) < target) lo = mid + 1; else hi = mid;
    }
    const stride = base.length / lo;
    return Array.from({ length: lo }, (_, k) => base[Math.floor(k * stride)]);
  }
  const perCopy = drawnFrames(varied(base, 1, 1, 0));
  // At most 9 copies: one sample is then >= 0.12 px wide, safely above every renderer's 0.1 px minimum width
  // (with 10 copies, single samples sat at 0.108 px and inferno dropped them while flamegraph.pl drew them).
  const replicas = Math.min(9, Math.ceil(target / perCopy));
  const recursion = target > perCopy * 9 ? 2 : 1;
  let best = null;
  for (let k = 0; k <= 32; k += 2) {
    const lines = varied(base, replicas, recursion, k);
    const n = drawnFrames(lines);
    if (!best || Math.abs(n - target) < Math.abs(best.n - target)) best = { lines, n };
    if (n >= target) break;
  }
  return best.lines;
}

export function cachedInput(target) {
  const baseText = readFileSync(BASE_CAPTURE, 'utf8');
  const key = createHash('sha1').update(baseText).update(String(target)).update('v2').digest('hex').slice(0, 10);
  const file = join(CACHE, `browser-${target}-${key}.folded`);
  if (!existsSync(file)) {
    mkdirSync(CACHE, { recursive: true });
    const lines = makeInput(baseText.trim().split('\n'), target);
    writeFileSync(file, lines.sort().join('\n') + '\n');
  }
  return file;
}

/**
 * The hard case for an SVG (deterministic, not from the capture): about `target` frames of which about half are
 * between 1 and 10 px wide, so neither the narrow-frame merging nor skipped labels spare them. Eight processes;
 * each "wide" stack is 1-10 px (most near 1-3 px) and 20-40 frames deep, of which the first few are shared with
 * its neighbours; "narrow" stacks (0.13 px, 12 unique frames each) fill the last tenth of the width.
 */
export function cachedWideInput(target) {
  const file = join(CACHE, `browser-wide-${target}-v1.folded`);
  if (existsSync(file)) return file;
  let seed = 0x9e3779b9;
  const random = () => { // mulberry32
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const total = 100_000; // samples: 1 px = 84.7 samples at 1180 px
  const px = total / WIDTH_PX;
  const lines = [];
  let used = 0, frames = 0, k = 0;
  while (frames < target * 0.52 && used < total * 0.9) {
    const weight = Math.round((1 + 9 * random() ** 3) * px);
    const depth = 20 + Math.floor(random() * 21);
    const proc = `proc${k % 8}`;
    const shared = Math.floor(k / 4); // four neighbouring stacks share their first three frames
    const stack = [proc];
    for (let d = 1; d < depth; d++) stack.push(d <= 3 ? `${proc}_path${shared}_${d}` : `fn_${k}_${d}_${d % 3 ? 'work' : 'call'}`);
    lines.push(`${stack.join(';')} ${weight}`);
    used += weight; frames += depth; k++;
  }
  const narrowWeight = Math.ceil(0.13 * px);
  for (let j = 0; used + narrowWeight <= total && frames < target; j++) {
    const proc = `proc${j % 8}`;
    const stack = [proc, ...Array.from({ length: 12 }, (_, d) => `narrow_${j}_${d}`)];
    lines.push(`${stack.join(';')} ${narrowWeight}`);
    used += narrowWeight; frames += 12;
  }
  mkdirSync(CACHE, { recursive: true });
  writeFileSync(file, lines.sort().join('\n') + '\n');
  return file;
}

/** The input with its first half of stacks under one frame, `busy`: a root child holding half the graph. */
function cachedHeavyInput(input) {
  const file = input.replace(/\.folded$/, '-heavy.folded');
  if (!existsSync(file)) {
    const lines = readFileSync(input, 'utf8').trim().split('\n');
    const half = lines.length >> 1;
    writeFileSync(file, lines.map((l, k) => (k < half ? `busy;${l}` : l)).join('\n') + '\n');
  }
  return file;
}

/* ---------- renderers ---------- */

function renderPerl(input, output) {
  const svg = execFileSync('perl', [join(REFERENCE, 'flamegraph-pl', 'flamegraph.pl'), input],
    { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
  writeFileSync(output, svg);
}

function renderInferno(input, output) {
  const svg = execFileSync(join(REFERENCE, 'inferno', 'inferno-flamegraph'), [input],
    { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
  writeFileSync(output, svg);
}

/** bin/irisflame flamegraph; until it works, the contract stand-in from the browser tests (labelled so). */
function renderOurs(input, output) {
  const run = spawnSync('node', [join(ROOT, 'bin', 'irisflame'), 'flamegraph', input],
    { maxBuffer: 1 << 30, encoding: 'buffer' });
  if (run.status === 0 && run.stdout.subarray(0, 200).toString().includes('<svg')) {
    writeFileSync(output, run.stdout);
    return 'ours';
  }
  writeFileSync(output, contractSvg(readFileSync(input, 'utf8')));
  return 'ours(stand-in)';
}

/** The same command from another checkout (BENCH_BEFORE_DIR, built): the "before" column of a change. */
function renderBefore(input, output) {
  const dir = process.env.BENCH_BEFORE_DIR;
  const run = spawnSync('node', [join(dir, 'bin', 'irisflame'), 'flamegraph', input], { maxBuffer: 1 << 30, encoding: 'buffer' });
  if (run.status !== 0) throw new Error(`BENCH_BEFORE_DIR render failed: ${run.stderr}`);
  writeFileSync(output, run.stdout);
  return 'irisflame before';
}

/* ---------- in-page measurements ---------- */

// Runs in the page. Finds the frame to zoom by its title and rect y, so all three renderers zoom the same one.
function pageMeasure({ action, target, regex }) {
  const painted = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  const click = (el, at) => {
    const r = el.getBoundingClientRect();
    el.dispatchEvent(new MouseEvent('click', {
      bubbles: true, cancelable: true, view: window, clientX: at ? at[0] : r.x + r.width / 2,
      clientY: at ? at[1] : r.y + r.height / 2,
    }));
  };
  const findTarget = () => {
    // flamegraph.pl's layout: rect y = imageheight - ypad2 (34) - (depth + 1) * 16 + 1, in every renderer.
    const y = parseFloat(document.documentElement.getAttribute('height')) - 34 - (target.depth + 1) * 16 + 1;
    for (const g of document.getElementById('frames').children) {
      const title = g.querySelector('title');
      const rect = g.querySelector('rect');
      if (title && rect && title.textContent.startsWith(target.titlePrefix) &&
        Math.abs(parseFloat(rect.getAttribute('y')) - y) < 0.5) return rect;
    }
    // A large graph of ours draws frames under 1 px merged (#narrowframes): click where the frame is, on the
    // whole pixel it covers (clientX is an integer), as a pointer would.
    const narrow = document.querySelector('#narrowframes > path');
    if (narrow) {
      const box = document.documentElement.getBoundingClientRect();
      const x = Math.ceil(target.x1) < target.x2 ? Math.ceil(target.x1) : Math.floor((target.x1 + target.x2) / 2);
      return { el: narrow, at: [box.x + x, box.y + y + 7] };
    }
    throw new Error(`zoom target not found: ${target.titlePrefix} at y=${y}`);
  };
  const found = action === 'zoom' ? findTarget() : null;
  const el = found ? (found.el ?? found) : document.getElementById(action === 'reset' ? 'unzoom' : 'search');
  window.prompt = () => regex;
  const t0 = performance.now();
  if (action !== 'idle') click(el, found?.at);
  return painted().then(() => {
    const t = performance.now() - t0;
    const matched = document.getElementById('matched')?.textContent ?? '';
    if (action === 'search') { window.prompt = () => null; click(document.getElementById('search')); }
    return painted().then(() => (action === 'search' ? { t, matched } : t));
  });
}

/** The widest frame at a third of the maximum depth (or at `atDepth`), located as flamegraph.pl lays it out. */
function zoomTarget(inputFile, atDepth) {
  const frames = foldedToFrames(readFileSync(inputFile, 'utf8'));
  const scale = WIDTH_PX / frames[0].samples;
  const drawn = frames.filter((f) => f.samples * scale >= MINWIDTH_PX);
  const maxDepth = drawn.reduce((m, f) => Math.max(m, f.depth), 0);
  const depth = atDepth ?? Math.max(1, Math.round(maxDepth / 3));
  const target = drawn.filter((f) => f.depth === depth).sort((a, b) => b.samples - a.samples)[0];
  return {
    titlePrefix: `${target.name} (${target.samples.toLocaleString('en-US')} `,
    depth,
    x1: 10 + target.start * scale,
    x2: 10 + (target.start + target.samples) * scale,
    subtree: drawn.filter((f) => f.start >= target.start && f.start < target.start + target.samples &&
      f.depth >= depth).length,
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Move the real pointer onto the graph (a frame three rows above the root, mid-width) or off it. */
async function restPointer(page, on) {
  if (!on) { await page.mouse.move(1270, 2); return; }
  const [x, y] = await page.evaluate(() => {
    const root = document.querySelector('#frames rect').getBoundingClientRect();
    const inverted = window.fgConfig?.inverted === true;
    return [root.left + root.width / 2, root.top + 7 + (inverted ? 3 : -3) * 16];
  });
  await page.mouse.move(x, y);
}

/** A new tab, the file loaded in it, and its first frame: navigation start -> load -> two animation frames. */
async function openAndTime(context, file) {
  const page = await context.newPage();
  page.setDefaultTimeout(600_000);
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 600_000 });
  const load = await page.evaluate(() => new Promise((resolve) =>
    requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now())))));
  return { page, load };
}

/** Pause before each timed load: the browser finishes closing the previous tab (a 30 MB document's teardown
 * overlapped the next load by up to 0.4 s in Firefox). */
const LOAD_SETTLE_MS = 1_000;

/** Loads of `file` in `repeats` new tabs (the first tab kept open when `keep`): the load times and that tab. */
async function timeLoads(context, file, repeats, keep) {
  const loads = [];
  let kept = null;
  for (let k = 0; k < repeats; k++) {
    await sleep(LOAD_SETTLE_MS);
    const { page, load } = await openAndTime(context, file);
    loads.push(load);
    if (keep && k === 0) kept = page; else await page.close();
  }
  return { loads, page: kept };
}

async function measureSvg(context, file, target, repeats, interact = true) {
  const { loads, page } = await timeLoads(context, file, Math.max(1, repeats), interact);
  const load = median(loads);
  if (!interact) return { load, loads };
  await sleep(SETTLE_MS);
  const run = (action) => page.evaluate(pageMeasure, { action, target, regex: SEARCH_REGEX });
  const out = { load, loads };
  for (const on of [false, true]) {
    await restPointer(page, on);
    const zooms = [], resets = [], searches = [];
    let n = repeats;
    for (let k = 0; k < n; k++) {
      zooms.push(await run('zoom'));
      resets.push(await run('reset'));
      if (zooms[0] + resets[0] > SLOW_MS) { n = 1; break; } // seconds per click: one run says enough
    }
    const idles = [];
    for (let k = 0; k < n; k++) idles.push(await run('idle')); // the floor: two frames, nothing changed
    let matched = '';
    for (let k = 0; k < n; k++) ({ t: searches[k], matched } = await run('search'));
    const suffix = on ? 'On' : '';
    if (!on) out.firstZoom = zooms[0];
    Object.assign(out, {
      [`zoom${suffix}`]: median(zooms.slice(n > 1 && !on ? 1 : 0)), [`reset${suffix}`]: median(resets),
      [`search${suffix}`]: median(searches), [`idle${suffix}`]: median(idles), matched,
    });
  }
  await page.close();
  return out;
}

/** Median of `repeats` zooms (each followed by an untimed reset), after the same settle pause as above. */
async function measureZoomOnly(context, file, target, repeats) {
  const page = await context.newPage();
  page.setDefaultTimeout(600_000);
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 600_000 });
  await sleep(SETTLE_MS);
  const run = (action) => page.evaluate(pageMeasure, { action, target, regex: SEARCH_REGEX });
  const zooms = [];
  for (let k = 0; k < repeats; k++) {
    zooms.push(await run('zoom'));
    const reset = await run('reset');
    if (zooms[0] + reset > SLOW_MS) break;
  }
  await page.close();
  return median(zooms);
}

/* ---------- driver ---------- */

/**
 * A browser to measure in, with one page API (playwright-core for Chromium as before, puppeteer-core over WebDriver
 * BiDi for Firefox: both have newPage, goto, evaluate, mouse.move, close).
 */
async function launch(name, work) {
  if (name === 'chromium') {
    if (!existsSync(CHROMIUM)) return null;
    const context = await chromium.launchPersistentContext(join(work, 'profile'), {
      executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, viewport: { width: 1280, height: 1000 },
    });
    return { newPage: () => context.newPage(), close: () => context.close() };
  }
  if (!existsSync(FIREFOX)) return null;
  const browser = await puppeteer.launch({
    browser: 'firefox', protocol: 'webDriverBiDi', executablePath: FIREFOX, headless: true,
    defaultViewport: { width: 1280, height: 1000 }, extraPrefsFirefox: FIREFOX_PREFS,
  });
  return { newPage: () => browser.newPage(), close: () => browser.close() };
}

export async function runBrowserBench({
  sizes = DEFAULT_SIZES, repeats = REPEATS, renderers = ['flamegraph.pl', 'inferno', 'ours'], log = console.log,
  interactAll = false, browsers = process.env.BENCH_BROWSERS?.split(',') ?? DEFAULT_BROWSERS,
} = {}) {
  const work = mkdtempSync(join(tmpdir(), 'irisflame-bench-browser-'));
  const rows = [];
  try {
    const svgs = new Map(); // rendered once, opened in every browser
    for (const browserName of browsers) {
      const context = await launch(browserName, work);
      if (!context) { log(`[skip] browser bench in ${browserName}: executable not found`); continue; }
      log(`## ${browserName}`);
      try {
        const empty = join(work, 'empty.svg');
        writeFileSync(empty, '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="100"></svg>\n');
        // Untimed, and kept open (see the header): the browser's first tab is slower than any other.
        const anchor = (await openAndTime(context, empty)).page;
        const floor = await timeLoads(context, empty, Math.max(3, repeats), false);
        rows.push({ browser: browserName, size: 0, renderer: 'empty SVG (floor)', bytes: statSync(empty).size,
          load: median(floor.loads), loads: floor.loads });
        log(`  ${browserName} empty SVG (floor): ${JSON.stringify(floor.loads)}`);
        void anchor; // closed with the browser
        for (const size of sizes) {
          const wide = typeof size === 'string' && size.endsWith('w');
          const input = wide ? cachedWideInput(parseInt(size, 10)) : cachedInput(size);
          const target = zoomTarget(input);
          const heavy = cachedHeavyInput(input);
          const bigTarget = zoomTarget(heavy, 1);
          log(`# ~${size} frames: ${input} (zoom target subtree: ${target.subtree} frames; ` +
            `zoom big: ${bigTarget.subtree} of them in ${heavy})`);
          const all = [['flamegraph.pl', renderPerl], ['inferno', renderInferno], ['ours', renderOurs]];
          if (process.env.BENCH_BEFORE_DIR) all.splice(2, 0, ['before', renderBefore]);
          for (const [name, render] of all.filter(([n]) => renderers.includes(n) || n === 'before')) {
            const file = join(work, `${size}-${name}.svg`);
            const heavyFile = join(work, `${size}-${name}-heavy.svg`);
            if (!svgs.has(file)) svgs.set(file, render(input, file) ?? name);
            const label = svgs.get(file);
            const bytes = statSync(file).size;
            const interact = interactAll || name === 'ours' || name === 'before' || parseInt(size, 10) <= LOAD_ONLY_ABOVE;
            const m = await measureSvg(context, file, target, repeats, interact);
            if (interact) {
              if (!svgs.has(heavyFile)) svgs.set(heavyFile, render(heavy, heavyFile));
              m.zoomBig = await measureZoomOnly(context, heavyFile, bigTarget, repeats);
            }
            rows.push({ browser: browserName, size, renderer: label, bytes, ...m });
            log(`  ${browserName} ${label}: ${JSON.stringify(m)}`);
          }
        }
      } finally {
        await context.close();
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  log(formatTable(rows));
  return rows;
}

function formatTable(rows) {
  const ms = (v) => (v === undefined ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
  const out = ['', 'Pointer off the graph, then (on) resting on it:',
    '| browser | frames | renderer | SVG KB | load ms | loads ms | 1st zoom ms | zoom ms | zoom big ms | reset ms | search ms | idle ms | ' +
    'zoom on | reset on | search on | idle on |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'];
  for (const r of rows) {
    out.push(`| ${r.browser} | ~${r.size} | ${r.renderer} | ${(r.bytes / 1024).toFixed(0)} | ${ms(r.load)} | ${(r.loads ?? []).map(ms).join(' / ')} | ` +
      `${ms(r.firstZoom)} | ` +
      `${ms(r.zoom)} | ${ms(r.zoomBig)} | ${ms(r.reset)} | ${ms(r.search)} | ${ms(r.idle)} | ${ms(r.zoomOn)} | ` +
      `${ms(r.resetOn)} | ${ms(r.searchOn)} | ${ms(r.idleOn)} |`);
  }
  // "load, each": their k-th load over our k-th (run k of each, minutes apart); "above floor": both medians less the
  // empty SVG's (the part of the load that is the file's own).
  out.push('', 'Speed-up of ours (their time / our time; >1 = ours faster):',
    '| browser | frames | vs | size ratio (ours/theirs) | load | load, each | load above floor | 1st zoom | zoom | zoom big | reset | search |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const key of new Set(rows.map((r) => `${r.browser} ${r.size}`))) {
    const same = rows.filter((r) => `${r.browser} ${r.size}` === key);
    const ours = same.find((r) => r.renderer.startsWith('ours'));
    if (!ours) continue;
    const floor = rows.find((r) => r.browser === ours.browser && r.size === 0)?.load;
    for (const other of same.filter((r) => !r.renderer.startsWith('ours'))) {
      const x = (k) => (other[k] === undefined ? '-' : `${(other[k] / ours[k]).toFixed(1)}x`);
      const each = (other.loads ?? []).map((t, k) => (ours.loads?.[k] ? `${(t / ours.loads[k]).toFixed(1)}x` : '-')).join(' / ');
      const above = floor === undefined ? '-' : `${((other.load - floor) / (ours.load - floor)).toFixed(1)}x`;
      out.push(`| ${ours.browser} | ~${ours.size} | ${other.renderer} | ${(ours.bytes / other.bytes).toFixed(2)} | ${x('load')} | ` +
        `${each || '-'} | ${above} | ` +
        `${x('firstZoom')} | ${x('zoom')} | ${x('zoomBig')} | ${x('reset')} | ${x('search')} |`);
    }
  }
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const sizes = arg('sizes') ? arg('sizes').split(',').map((s) => (s.endsWith('w') ? s : Number(s))) : DEFAULT_SIZES;
  const browsers = arg('browsers')?.split(',');
  const renderers = arg('renderers')?.split(',');
  await runBrowserBench({
    sizes, repeats: arg('repeats') ? Number(arg('repeats')) : REPEATS, ...(renderers && { renderers }),
    ...(browsers && { browsers }),
    interactAll: process.argv.includes('--interact-all'),
  });
}
