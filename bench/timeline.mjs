#!/usr/bin/env node
// Lifecycle page speed: how long selecting a time range takes in Chromium, at 20k and 100k samples
// (target: under 200 ms, from the selection to the next painted frame), plus the Node-side cost of
// building the SVG; and once more at 100k samples with off-CPU data (30k blocked intervals, 5k file
// lookups), weighed by Wall clock: every sample and every interval counted per selection, lane totals and
// file list redrawn. Run alone with `node bench/timeline.mjs` (after `npm run build`), or via bench/run.mjs.
//
// The capture is synthetic but shaped like a 60 s whole-system recording at 99 Hz: a few hundred short and
// long processes with fork/exec/exit events and argv, 20 distinct stacks per process (6,000 in all), 8-40
// frames deep, drawn from a pool of function names; samples spread over the minute. The machine's load
// average is printed too: on a shared 2-core box it moves these numbers more than any code change.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { buildTimeline } from '../dist/timeline/build.js';
import { resolveTimelineOptions } from '../dist/timeline/options.js';
import { LifecycleReader } from '../dist/timeline/read.js';
import { renderTimeline } from '../dist/timeline/render.js';

const CHROMIUM = process.env.IRISFLAME_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SIZES = [20_000, 100_000];
const SELECTIONS = 25;
const SECONDS = 60;
const PROCESSES = 300;
const STACKS_PER_PROCESS = 20;
/** The off-CPU run: intervals and file lookups spread over the processes' lives. */
const OFFCPU = { samples: 100_000, blocked: 30_000, files: 5_000 };

/** Deterministic pseudo-random numbers, so every run measures the same page. */
function random(seed) {
  let state = seed >>> 0;
  return () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

export function syntheticCapture(samples, offCpu = undefined) {
  const next = random(samples);
  const functions = Array.from({ length: 600 }, (_, k) => `Function${k}_${['Scan', 'Flush', 'Read', 'Hash', 'Lock'][k % 5]}`);
  const lines = [offCpu ? '# irisflame-lifecycle 2 clock=monotonic frequency=99' : '# irisflame-lifecycle 1 clock=monotonic'];
  const base = 1000;
  const processes = [];
  for (let k = 0; k < PROCESSES; k++) {
    const pid = 10_000 + k;
    const start = base + next() * SECONDS * 0.9;
    const end = Math.min(base + SECONDS, start + 0.05 + next() * (k % 10 === 0 ? SECONDS : 3));
    const routine = ['START^MONITOR', 'START^CLNDMN', '^RECEIVE', 'SCAN^JRNZIP'][k % 4];
    const argv = `./irisdb\\x00-s/data/IRIS/mgr/\\x00-cj\\x00-p13\\x00${routine}\\x00`;
    lines.push(`# irisflame-snoop E\t${Math.round(start * 1e9) + 1000}\t${pid}\t9999\t60\t${argv}\tirisdb`);
    const trunk = Array.from({ length: 6 }, () => functions[Math.floor(next() * 50)]);
    // Each process runs a handful of distinct call paths, as real ones do: a 60 s whole-system capture
    // holds thousands of unique stacks, not one per sample.
    const stacks = Array.from({ length: STACKS_PER_PROCESS }, () => {
      const frames = [...trunk];
      const depth = 8 + Math.floor(next() * 32);
      while (frames.length < depth) frames.push(functions[Math.floor(next() ** 2 * functions.length)]);
      return frames.reverse().map((f) => `\t    4005d0 ${f}+0x1 (/usr/irissys/bin/irisdb)`).join('\n');
    });
    processes.push({ pid, start, end, comm: 'irisdb', stacks });
  }
  if (offCpu) lines.push(...syntheticOffCpuLines(processes, offCpu, next));
  const events = [];
  for (const p of processes) {
    events.push([p.start, `irisdb 9999/9999 [000] ${p.start.toFixed(6)}: PERF_RECORD_FORK(${p.pid}:${p.pid}):(9999:9999)`]);
    events.push([p.start + 1e-6, `irisdb ${p.pid}/${p.pid} [000] ${(p.start + 1e-6).toFixed(6)}: PERF_RECORD_COMM exec: irisdb:${p.pid}/${p.pid}`]);
    events.push([p.end, `irisdb ${p.pid}/${p.pid} [000] ${p.end.toFixed(6)}: PERF_RECORD_EXIT(${p.pid}:${p.pid}):(9999:9999)`]);
  }
  for (let k = 0; k < samples; k++) {
    const time = base + (k / samples) * SECONDS;
    const alive = processes.filter((p) => p.start <= time && time <= p.end);
    const p = alive.length ? alive[Math.floor(next() * alive.length)] : processes[0];
    const stack = p.stacks[Math.floor(next() ** 2 * p.stacks.length)];
    events.push([time, `irisdb ${p.pid}/${p.pid} [00${k % 2}] ${time.toFixed(6)}:   10101010 cpu-clock:ppp: \n${stack}\n`]);
  }
  events.sort((a, b) => a[0] - b[0]);
  return lines.join('\n') + '\n' + events.map((e) => e[1]).join('\n') + '\n';
}

/** `# irisflame-offcpu` lines (capture v2): blocked intervals by reason, file lookups, CPU-wait sums. */
function syntheticOffCpuLines(processes, { blocked, files }, next) {
  const ns = (seconds) => Math.round(seconds * 1e9);
  const kinds = [[2, 17, 'ksys_pread64;io_schedule'], [1, 202, 'futex_wait;schedule'], [1, 230, 'do_nanosleep;schedule'], [1, 7, 'do_sys_poll;schedule']];
  const lines = [];
  for (let k = 0; k < blocked; k++) {
    const p = processes[k % processes.length];
    const start = p.start + next() * (p.end - p.start) * 0.95;
    const duration = Math.min(p.end - start, 0.0005 + next() ** 3 * 0.2);
    const [state, syscall, stack] = kinds[k % kinds.length];
    lines.push(`# irisflame-offcpu B\t${ns(start)}\t${ns(duration)}\t${p.pid}\t${p.pid}\t${state}\t${syscall}\tirisdb\tentry_SYSCALL_64;do_syscall_64;${stack}\tmain;Function${k % 40}_Read`);
  }
  const paths = ['/data/IRIS/mgr/IRIS.DAT', '/data/IRIS/mgr/journal/20261130.001', '/data/IRIS/mgr/IRIS.WIJ', '/data/IRIS/iris.cpf', '/lib/x86_64-linux-gnu/libc.so.6', '/data/IRIS/mgr/messages.log'];
  for (let k = 0; k < files; k++) {
    const p = processes[(k * 7) % processes.length];
    const failed = k % 11 === 0;
    lines.push(`# irisflame-offcpu F\t${ns(p.start + next() * (p.end - p.start))}\t${p.pid}\t${p.pid}\topenat\t${failed ? -2 : 3}\t${paths[k % paths.length]}${k % 13 ? '' : '.missing'}`);
  }
  for (const p of processes) lines.push(`# irisflame-offcpu C\t${p.pid}\t${p.pid}\t${ns((p.end - p.start) * 0.02)}\t40`);
  return lines;
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function runTimelineBench() {
  const dir = mkdtempSync(join(tmpdir(), 'irisflame-bench-timeline-'));
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, viewport: { width: 1280, height: 1000 },
  });
  try {
    console.log(`load average ${(await import('node:os')).loadavg().map((v) => v.toFixed(1)).join(' ')}`);
    const runs = [...SIZES.map((size) => ({ size, offCpu: undefined })), { size: OFFCPU.samples, offCpu: OFFCPU }];
    for (const { size, offCpu } of runs) {
      const text = syntheticCapture(size, offCpu);
      let began = performance.now();
      const reader = new LifecycleReader();
      reader.push(Buffer.from(text));
      const timeline = buildTimeline(reader.finish(), resolveTimelineOptions({}));
      const svg = renderTimeline(timeline, { title: `bench ${size}` });
      const buildMs = performance.now() - began;
      const file = join(dir, `timeline-${size}.svg`);
      writeFileSync(file, svg);
      const page = await context.newPage();
      began = performance.now();
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      const loadMs = performance.now() - began;
      if (offCpu) await page.locator('#mode-wall').click();
      const result = await page.evaluate(async (count) => {
        const api = window.irisflameLifecycle;
        const span = window.lcData.span;
        const painted = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
        const total = [];
        const script = [];
        // With off-CPU data the range's tables are laid out after the graph paints: until they are shown too.
        const body = document.getElementById('tables-body');
        const withTables = [];
        let seed = 7;
        const next = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
        for (let k = 0; k < count; k++) {
          const a = next() * span, b = a + (0.05 + next() * 0.6) * span;
          const t = performance.now();
          api.select(Math.round(a), Math.round(Math.min(span, b)), -1);
          script.push(api.lastRenderMs);
          await painted();
          total.push(performance.now() - t);
          if (body) {
            const shown = Math.round(a) + ',' + Math.round(Math.min(span, b)) + ',-1';
            while (body.getAttribute('data-range') !== shown) await painted();
            await painted();
            withTables.push(performance.now() - t);
          }
        }
        const t = performance.now();
        api.select(0, span, -1);
        await painted();
        const frames = api.frames().length;
        return { total, script, withTables, whole: performance.now() - t, frames, nodes: window.lcData.nodeParent.length };
      }, SELECTIONS);
      await page.close();
      console.log(
        `timeline ${String(size).padStart(6)} samples${offCpu ? ` + ${offCpu.blocked} blocked, ${offCpu.files} files (wall clock)` : ''}, ` +
          `${timeline.processes.length} lanes: build+svg ${buildMs.toFixed(0)} ms, ` +
          `${(svg.length / 1e6).toFixed(1)} MB, page load ${loadMs.toFixed(0)} ms; range select (to next paint) ` +
          `median ${percentile(result.total, 50).toFixed(0)} ms, p95 ${percentile(result.total, 95).toFixed(0)} ms, ` +
          `max ${Math.max(...result.total).toFixed(0)} ms (script ${percentile(result.script, 50).toFixed(0)} ms); ` +
          `whole recording ${result.whole.toFixed(0)} ms, ${result.frames} frames drawn, ${result.nodes} call-tree nodes` +
          (result.withTables.length ? `; with the range's tables shown: median ${percentile(result.withTables, 50).toFixed(0)} ms, p95 ${percentile(result.withTables, 95).toFixed(0)} ms` : ''),
      );
    }
  } finally {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runTimelineBench();
