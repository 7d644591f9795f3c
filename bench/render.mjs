#!/usr/bin/env node
// Render benchmark: one folded input of at least 200k unique stacks, drawn by flamegraph.pl, inferno
// and `irisflame flamegraph`; wall time and peak RSS of each, and the ratios. Target: irisflame at
// least 8x faster than flamegraph.pl.
//
// The input is derived from the real captures in fixtures/flamegraph/captures/ (recorded here with
// perf): each capture is replicated with varied frame names (the root gets one of 50 suffixes, as
// per-process names would; the leaf a replica number), so the tree has realistic depth and fan-out.
// It is sorted, as collapsers write folded stacks, and cached in bench/.cache/.
//
// Run alone: `npm run build && node bench/render.mjs` (BENCH_STACKS=N for another size, BENCH_RUNS=N
// to run each tool N times, interleaved, and keep each one's fastest wall and least CPU time).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = join(ROOT, 'bench', '.cache');
const CAPTURES = join(ROOT, 'fixtures', 'flamegraph', 'captures');
const REFERENCE = join(ROOT, '..', 'shared', 'reference');
const FLAMEGRAPH_PL = process.env.FLAMEGRAPH_PL_DIR
  ? join(process.env.FLAMEGRAPH_PL_DIR, 'flamegraph.pl')
  : join(REFERENCE, 'flamegraph-pl', 'flamegraph.pl');
const INFERNO = process.env.INFERNO_BIN_DIR
  ? join(process.env.INFERNO_BIN_DIR, 'inferno-flamegraph')
  : join(REFERENCE, 'inferno', 'inferno-flamegraph');
const IRISFLAME = join(ROOT, 'bin', 'irisflame');
const STACKS = Number(process.env.BENCH_STACKS ?? 200_000);
/** Root-name variants per replica: like the same program running as several processes. */
const ROOT_VARIANTS = 50;
const TARGET_SPEEDUP = 8;
/** Runs per tool, interleaved; the fastest run counts (the least disturbed on a shared machine). */
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 1));

/** Build (or reuse) the big folded input; returns its path. */
export function benchInput(stacks = STACKS) {
  mkdirSync(CACHE, { recursive: true });
  const ignore = join(CACHE, '.gitignore');
  if (!existsSync(ignore)) writeFileSync(ignore, '*\n');
  const path = join(CACHE, `render-v3-${stacks}.folded`);
  if (existsSync(path)) return path;
  // Captures can share stacks: merge them first so every generated line is a unique stack.
  const counts = new Map();
  for (const file of readdirSync(CAPTURES).filter((name) => name.endsWith('.folded')).sort()) {
    for (const line of readFileSync(join(CAPTURES, file), 'latin1').split('\n')) {
      const space = line.lastIndexOf(' ');
      if (space > 0) counts.set(line.slice(0, space), (counts.get(line.slice(0, space)) ?? 0) + Number(line.slice(space + 1)));
    }
  }
  const base = [...counts].map(([stack, count]) => [stack.split(';'), String(count)]);
  const out = [];
  for (let replica = 0; out.length < stacks; replica++) {
    for (const [frames, count] of base) {
      if (out.length >= stacks) break;
      const varied = frames.slice();
      varied[0] = `${varied[0]}-${replica % ROOT_VARIANTS}`;
      const leaf = varied.length - 1;
      varied[leaf] = `${varied[leaf]}#${Math.floor(replica / ROOT_VARIANTS)}`;
      out.push(`${varied.join(';')} ${count}`);
    }
  }
  // Sorted, as every collapser writes folded stacks (stackcollapse-*.pl, inferno, irisflame collapse).
  out.sort();
  writeFileSync(path, `${out.join('\n')}\n`, 'latin1');
  return path;
}

/** Run `command args < nothing > /dev/null`; wall time (s) and peak RSS (MiB). */
function measure(command, args) {
  const useTime = existsSync('/usr/bin/time');
  const argv = useTime ? ['/usr/bin/time', '-f', 'IRISFLAME_BENCH %e %M %U %S', command, ...args] : [command, ...args];
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let peakKiB = 0;
    // Without GNU time, sample the child's RSS (a lower bound of the true peak).
    const poll = useTime
      ? undefined
      : setInterval(() => {
          try {
            const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
            const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
            if (rss > peakKiB) peakKiB = rss;
          } catch {
            // exited
          }
        }, 10);
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (poll) clearInterval(poll);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const line = /IRISFLAME_BENCH ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(stderr);
      if (code !== 0) return reject(new Error(`${command} exited ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
      // CPU time (user + system, all threads) is less disturbed than wall time by other work on the machine.
      const cpuSeconds = line ? Number(line[3]) + Number(line[4]) : undefined;
      resolve({ seconds, cpuSeconds, rssMiB: (line ? Number(line[2]) : peakKiB) / 1024 });
    });
  });
}

export async function runRenderBench() {
  const input = benchInput();
  const unique = readFileSync(input, 'latin1').split('\n').filter(Boolean).length;
  console.log(`input: ${input} (${unique} unique stacks, ${(statSync(input).size / 2 ** 20).toFixed(1)} MiB)`);
  const tools = [
    { name: 'flamegraph.pl', command: 'perl', args: [FLAMEGRAPH_PL, input], present: existsSync(FLAMEGRAPH_PL) },
    { name: 'inferno-flamegraph', command: INFERNO, args: [input], present: existsSync(INFERNO) },
    { name: 'irisflame flamegraph', command: process.execPath, args: [IRISFLAME, 'flamegraph', input], present: true },
  ];
  const results = {};
  for (let run = 0; run < RUNS; run++) {
    for (const tool of tools) {
      if (!tool.present) continue;
      const result = await measure(tool.command, tool.args);
      // Fastest wall and least CPU are kept separately: on a shared machine they may come from different runs.
      const best = results[tool.name];
      results[tool.name] = !best
        ? result
        : {
            seconds: Math.min(best.seconds, result.seconds),
            cpuSeconds: result.cpuSeconds === undefined ? best.cpuSeconds : Math.min(best.cpuSeconds, result.cpuSeconds),
            rssMiB: Math.min(best.rssMiB, result.rssMiB),
          };
    }
  }
  for (const tool of tools) {
    const result = results[tool.name];
    if (!result) {
      console.log(`${tool.name.padEnd(22)} skipped: not found`);
      continue;
    }
    const label = RUNS > 1 ? ` (best of ${RUNS}, each column)` : '';
    const cpu = result.cpuSeconds === undefined ? '' : `  ${result.cpuSeconds.toFixed(2).padStart(6)} s CPU`;
    console.log(`${tool.name.padEnd(22)} ${result.seconds.toFixed(2).padStart(7)} s wall${cpu}  ${result.rssMiB.toFixed(0).padStart(6)} MiB peak RSS${label}`);
  }
  await reportPhases(input);
  const ours = results['irisflame flamegraph'];
  const perl = results['flamegraph.pl'];
  const inferno = results['inferno-flamegraph'];
  const ratios = (name, other) => {
    const wall = other.seconds / ours.seconds;
    const cpu = other.cpuSeconds && ours.cpuSeconds ? other.cpuSeconds / ours.cpuSeconds : undefined;
    const cpuText = cpu === undefined ? '' : `, CPU ${cpu.toFixed(2)}x`;
    console.log(`irisflame vs ${name}: wall ${wall.toFixed(2)}x${cpuText} (>1: irisflame faster), memory ${(other.rssMiB / ours.rssMiB).toFixed(2)}x`);
    return { wall, cpu };
  };
  if (perl) {
    const { wall, cpu } = ratios('flamegraph.pl', perl);
    const verdict = (ratio) => (ratio >= TARGET_SPEEDUP ? 'meets' : 'MISSES');
    const cpuVerdict = cpu === undefined ? '' : `, CPU ${verdict(cpu)} it`;
    console.log(`target ${TARGET_SPEEDUP}x faster than flamegraph.pl: wall ${verdict(wall)} it${cpuVerdict}`);
  }
  if (inferno) ratios('inferno', inferno);
  return results;
}

/** Where irisflame's time goes, in this process: collapsing the input, then drawing it. */
async function reportPhases(input) {
  const { collapseInput } = await import('../dist/collapse/index.js');
  const { writeFlamegraph } = await import('../dist/flamegraph/index.js');
  const { Writable } = await import('node:stream');
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const cpuMs = (usage) => (usage.user + usage.system) / 1000;
  let started = performance.now();
  let cpu = process.cpuUsage();
  const run = await collapseInput(input, {});
  const collapseMs = performance.now() - started;
  const collapseCpu = cpuMs(process.cpuUsage(cpu));
  started = performance.now();
  cpu = process.cpuUsage();
  await writeFlamegraph({ stacks: run.stacks, before: run.before }, {}, sink);
  const renderMs = performance.now() - started;
  const renderCpu = cpuMs(process.cpuUsage(cpu));
  // What holding the input's bytes once more costs on this machine: a copy into fresh memory is mostly
  // page faults (slow on some VMs), and every tool keeps about the input's size of stack names.
  const bytes = readFileSync(input);
  cpu = process.cpuUsage();
  const copy = Buffer.from(bytes);
  const copyCpu = cpuMs(process.cpuUsage(cpu));
  console.log(`fresh-memory floor: copying the ${(copy.length / 2 ** 20).toFixed(0)} MiB input into new memory takes ${copyCpu.toFixed(0)} ms CPU here`);
  console.log(
    `irisflame general path (unsorted or stdin input), in-process: collapse ${collapseMs.toFixed(0)} ms wall / ${collapseCpu.toFixed(0)} ms CPU, ` +
      `flame graph ${renderMs.toFixed(0)} ms wall / ${renderCpu.toFixed(0)} ms CPU`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runRenderBench();
}
