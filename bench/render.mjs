#!/usr/bin/env node
// Render benchmark: one folded input of at least 200k unique stacks, drawn by flamegraph.pl, inferno
// and `irisflame flamegraph`; wall time and peak RSS of each, and the ratios. Target: irisflame at
// least 8x faster than flamegraph.pl and at least as fast as inferno (wall and CPU), with a peak RSS no
// larger than inferno's.
//
// The input is derived from the real captures in fixtures/flamegraph/captures/ (recorded here with
// perf): each capture is replicated with varied frame names (the root gets one of 50 suffixes, as
// per-process names would; the leaf a replica number), so the tree has realistic depth and fan-out.
// It is sorted, as collapsers write folded stacks, and cached in bench/.cache/.
//
// A second input stands for deep Java/C++ profiles (issue 11): 200k unique stacks with a median depth
// above 30, drawn by a seeded generator (deepBenchInput), so every run and machine gets the same bytes.
//
// Run alone: `npm run build && node bench/render.mjs` (BENCH_STACKS=N for another size, BENCH_RUNS=N
// to run each tool N times, interleaved, and keep each one's fastest wall and least CPU time;
// BENCH_IRISFLAME_BEFORE=path/to/bin/irisflame adds another build, e.g. before a change, to the same run;
// BENCH_NO_PHASES=1 skips the in-process timing of the general path).
//
// irisflame runs as users run it: bin/irisflame, through its `#!/usr/bin/env node` line, which loads the CLI
// bundle (dist/bundle/); "irisflame (unbundled)" is the same build from its compiled modules
// (IRISFLAME_NO_BUNDLE=1). A start-up part times `--version` and a 200-line input, where start-up is all.
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

/** Root frames of the deep input: the threads a JVM or a C++ server shows. */
const DEEP_THREADS = ['java', 'C2 CompilerThre', 'GC Thread#0', 'http-nio-8080-e', 'pool-3-thread-1', 'envoy', 'mysqld', 'ForkJoinPool-1-w'];
// Names about 20 bytes long on average, as in the 129 MB input (200k stacks, median depth 31).
const JAVA_PACKAGES = ['io.netty', 'java.util', 'org.h2', 'com.acme', 'sun.nio', 'jdk.internal'];
const JAVA_CLASSES = ['Wrapper', 'Dispatcher', 'Mapper', 'Pipeline', 'Executor', 'OrderSvc', 'Invoices', 'LambdaForm$MH', 'Selector', 'HashMap', 'TxInterceptor', 'Serializer'];
const JAVA_METHODS = ['invoke', 'run', 'write', 'read', 'put', 'get', 'place', 'find', 'select', 'apply', 'handle', 'call'];
const CPP_NAMESPACES = ['v8', 'std', 'Envoy', 'absl', 'pb', 'innodb', 'asio', 'llvm'];
const CPP_CLASSES = ['Heap', 'ConnMgr', 'raw_hash_set<int>', 'Wire', 'btr_cur', 'sched', 'DAG', 'vector<char>', 'Parser'];
const CPP_METHODS = ['Scavenge', 'onData', 'find', 'Read', 'search', 'run_one', 'Combine', 'insert', 'Parse'];
/** Stacks of the deep input, and the depth its stacks are drawn around. */
const DEEP_STACKS = 200_000;
const DEEP_MEDIAN_DEPTH = 32;

/** mulberry32: a small seeded generator, so the deep input is the same bytes everywhere. */
function seeded(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A Java (`pkg.Class.method`, `_[j]` for JIT-compiled) or C++ (`ns::Class::method(args)`) frame name. */
function deepFrameName(node) {
  const pick = (list, salt) => list[(Math.imul(node ^ salt, 0x9e3779b1) >>> 7) % list.length];
  if (node % 3 !== 0) {
    const jit = node % 5 === 0 ? '_[j]' : '';
    const scope = node % 4 === 1 ? `${pick(JAVA_PACKAGES, 11)}.` : '';
    return `${scope}${pick(JAVA_CLASSES, 23)}.${pick(JAVA_METHODS, 37)}${jit}`;
  }
  return `${pick(CPP_NAMESPACES, 41)}::${pick(CPP_CLASSES, 53)}::${pick(CPP_METHODS, 67)}(${node % 7 === 0 ? 'long' : ''})`;
}

/**
 * The deep input: each stack a random walk down an implicit call tree (a node's children are numbered;
 * low numbers are likelier, so hot paths are shared as in real profiles), depth drawn around
 * DEEP_MEDIAN_DEPTH, counts heavy-tailed. Unique, sorted, cached.
 */
export function deepBenchInput(stacks = DEEP_STACKS) {
  mkdirSync(CACHE, { recursive: true });
  const path = join(CACHE, `render-deep-v1-${stacks}.folded`);
  if (existsSync(path)) return path;
  const random = seeded(0x1f1a3e);
  const names = new Map();
  const nameOf = (node) => {
    let name = names.get(node);
    if (name === undefined) names.set(node, (name = deepFrameName(node)));
    return name;
  };
  const seen = new Map();
  while (seen.size < stacks) {
    const thread = Math.floor(random() ** 2 * DEEP_THREADS.length);
    // Depth: the median plus a symmetric spread of ±18 (sum of two uniforms), at least 4.
    const depth = Math.max(4, Math.round(DEEP_MEDIAN_DEPTH + (random() + random() - 1) * 18));
    const frames = [DEEP_THREADS[thread]];
    let node = thread + 1;
    for (let level = 1; level < depth; level++) {
      // Child index: geometric-like, so the first children carry most of the stacks.
      const child = Math.floor(-Math.log(1 - random()) * (level < 8 ? 0.6 : 2.2));
      node = (Math.imul(node, 0x01000193) ^ (child + 1) * 0x9e3779b1) >>> 0;
      frames.push(nameOf(node));
    }
    const key = frames.join(';');
    if (!seen.has(key)) seen.set(key, 1 + Math.floor(Math.exp(random() * 7)));
  }
  const keys = [...seen.keys()].sort();
  const out = keys.map((key) => `${key} ${seen.get(key)}`);
  writeFileSync(path, `${out.join('\n')}\n`, 'latin1');
  return path;
}

/** Run `command args < nothing > /dev/null`; wall time (s) and peak RSS (MiB). */
function measure(command, args, env) {
  const useTime = existsSync('/usr/bin/time');
  const argv = useTime ? ['/usr/bin/time', '-f', 'IRISFLAME_BENCH %e %M %U %S', command, ...args] : [command, ...args];
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: env ? { ...process.env, ...env } : process.env });
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
  const inputs = [
    { label: 'real captures, replicated', path: benchInput() },
    { label: 'deep generated (Java/C++-like)', path: deepBenchInput() },
  ];
  const all = { startup: await benchStartup(inputs[0].path) };
  for (const { label, path } of inputs) {
    console.log(`\n--- ${label} ---`);
    all[label] = await benchOneInput(path);
  }
  return all;
}

/** The three tools on one input, interleaved; their times, memory and the target verdicts. */
async function benchOneInput(input) {
  const lines = readFileSync(input, 'latin1').split('\n').filter(Boolean);
  const depths = lines.map((line) => line.split(';').length).sort((a, b) => a - b);
  const median = depths[depths.length >> 1];
  console.log(`input: ${input} (${lines.length} unique stacks, median depth ${median}, ${(statSync(input).size / 2 ** 20).toFixed(1)} MiB)`);
  const tools = [
    { name: 'flamegraph.pl', command: 'perl', args: [FLAMEGRAPH_PL, input], present: existsSync(FLAMEGRAPH_PL) },
    { name: 'inferno-flamegraph', command: INFERNO, args: [input], present: existsSync(INFERNO) },
    { name: 'irisflame flamegraph', command: IRISFLAME, args: ['flamegraph', input], present: true },
    { name: 'irisflame (unbundled)', command: IRISFLAME, args: ['flamegraph', input], env: { IRISFLAME_NO_BUNDLE: '1' }, present: true },
  ];
  // Another build to compare with in the same run (e.g. the previous commit's checkout, built).
  if (process.env.BENCH_IRISFLAME_BEFORE) {
    tools.push({ name: 'irisflame (before)', command: process.env.BENCH_IRISFLAME_BEFORE, args: ['flamegraph', input], present: true });
  }
  const results = {};
  for (let run = 0; run < RUNS; run++) {
    for (const tool of tools) {
      if (!tool.present) continue;
      const result = await measure(tool.command, tool.args, tool.env);
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
  if (!process.env.BENCH_NO_PHASES) await reportPhases(input);
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
  const verdict = (ratio, target) => (ratio === undefined ? 'n/a' : ratio >= target ? 'meets' : 'MISSES');
  if (perl) {
    const { wall, cpu } = ratios('flamegraph.pl', perl);
    console.log(`target ${TARGET_SPEEDUP}x faster than flamegraph.pl: wall ${verdict(wall, TARGET_SPEEDUP)} it, CPU ${verdict(cpu, TARGET_SPEEDUP)} it`);
  }
  if (inferno) {
    const { wall, cpu } = ratios('inferno', inferno);
    const memory = ours.rssMiB <= inferno.rssMiB ? 'meets' : 'MISSES';
    console.log(`target at least as fast as inferno: wall ${verdict(wall, 1)} it, CPU ${verdict(cpu, 1)} it; peak RSS no more than inferno's: ${memory} it`);
  }
  return results;
}

/**
 * Start-up, where a small input spends nearly all its time: `irisflame --version` and the first 200 lines of
 * the real input, bundled and unbundled, beside inferno. Interleaved; each one's fastest wall and least CPU.
 */
export async function benchStartup(input) {
  console.log('\n--- start-up ---');
  const small = join(CACHE, 'render-startup-200.folded');
  writeFileSync(small, `${readFileSync(input, 'latin1').split('\n').slice(0, 200).join('\n')}\n`, 'latin1');
  const runs = Math.max(RUNS, 10);
  const unbundled = { IRISFLAME_NO_BUNDLE: '1' };
  const cases = [
    { name: 'inferno-flamegraph small', command: INFERNO, args: [small], present: existsSync(INFERNO) },
    { name: 'irisflame flamegraph small', command: IRISFLAME, args: ['flamegraph', small], present: true },
    { name: 'irisflame (unbundled) small', command: IRISFLAME, args: ['flamegraph', small], env: unbundled, present: true },
    { name: 'irisflame --version', command: IRISFLAME, args: ['--version'], present: true },
    { name: 'irisflame (unbundled) --version', command: IRISFLAME, args: ['--version'], env: unbundled, present: true },
    { name: 'node -e 0', command: process.execPath, args: ['-e', '0'], present: true },
  ].filter((c) => c.present);
  const best = {};
  for (let run = 0; run < runs; run++) {
    for (const c of cases) {
      const r = await measure(c.command, c.args, c.env);
      const b = best[c.name];
      best[c.name] = !b ? r : { seconds: Math.min(b.seconds, r.seconds), cpuSeconds: Math.min(b.cpuSeconds ?? Infinity, r.cpuSeconds ?? Infinity), rssMiB: Math.min(b.rssMiB, r.rssMiB) };
    }
  }
  for (const c of cases) {
    const r = best[c.name];
    const cpu = Number.isFinite(r.cpuSeconds) ? `  ${(r.cpuSeconds * 1e3).toFixed(0).padStart(5)} ms CPU` : '';
    console.log(`${c.name.padEnd(32)} ${(r.seconds * 1e3).toFixed(0).padStart(5)} ms wall${cpu} (best of ${runs})`);
  }
  return best;
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
