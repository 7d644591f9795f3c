#!/usr/bin/env node
// What each perf call graph costs and gives on a whole-system recording, through the real CLI
// (`node bin/irisflame record --seconds S --call-graph MODE`), side by side over the same load:
// perf.data size, CPU of perf record and perf script, perf script's wall time, irisflame's time from the end
// of sampling to the SVG, and the share of whole user stacks (summary.ts's definition), overall and per busy
// process. Also what `auto` chose.
//
//   node bench/record-callgraph.mjs [--seconds 10,30] [--modes fp,dwarf8192,dwarf4096,auto] [--loads mixed,idle]
//                                   [--compression]      (root; npm run build first)
//
// Loads: `mixed` runs, niced, a shell loop of tar|gzip, find|sort, perl and python (Debian's builds: no frame
// pointers) beside one simulated IRIS `irisdb --deep` built without frame pointers; `idle` runs nothing (the
// machine's other work goes on). --compression adds a raw perf pair (dwarf,8192 with and without -z) to see
// what perf's zstd compression saves.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { cutStacks } from '../dist/record/summary.js';
import { arg, childrenCpuSeconds, descendants, toolName } from './proc-stat.mjs';

const REPO = new URL('..', import.meta.url).pathname;
const CLI = join(REPO, 'bin', 'irisflame');
const POLL_MS = 100;
const MODES = { fp: 'fp', dwarf8192: 'dwarf,8192', dwarf4096: 'dwarf,4096', dwarf16384: 'dwarf,16384', auto: 'auto' };
/** Processes whose stacks are reported one by one: the load's programs. */
const BUSY = ['irisdb', 'gzip', 'tar', 'sort', 'find', 'perl', 'python3'];
/** Besides those, the processes with most user-stack samples shown. */
const TOP_OTHERS = 4;

const MIXED_LOOP = `
while :; do
  tar cf - /usr/share/doc /usr/lib/python3 2>/dev/null | gzip -6 > /dev/null
  find /usr -type f 2>/dev/null | sort > /dev/null
  perl -e 'my %h; for my $i (1..2000000) { $h{$i % 997} .= "x" if $i % 3; $h{$i % 997} = "" if length($h{$i % 997}) > 50 }'
  /usr/bin/python3 -c 'import json; d=[{"k": i, "v": str(i)*5} for i in range(200000)]; [json.loads(json.dumps(x)) for x in d[:100000]]; sorted(d, key=lambda x: x["v"])'
done`;

function startLoad(kind, dir) {
  if (kind !== 'mixed') return { stop() {}, describe: 'no load of ours (the shared machine goes on)' };
  const install = execFileSync(join(REPO, 'examples', 'simulated-iris', 'install.sh'), ['--no-frame-pointers', join(dir, 'sim')], {
    encoding: 'utf8',
  }).trim().split('\n').pop();
  // Niced, so the machine's other users (and the tools measured) are not starved by the load itself.
  const loop = spawn('nice', ['-n', '10', 'sh', '-c', MIXED_LOOP], { stdio: 'ignore', detached: true });
  const iris = spawn('nice', ['-n', '10', join(install, 'bin', 'irisdb'), '--deep', '3600000'], { stdio: 'ignore', detached: true });
  return {
    describe: 'niced tar|gzip, find|sort, perl, python3 loop + simulated IRIS irisdb --deep (no frame pointers)',
    stop() {
      for (const child of [loop, iris]) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {}
      }
    },
  };
}

/** The whole command line of a process (descendants() keeps two words). */
function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
  } catch {
    return [];
  }
}

function sizeOf(path) {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

async function recordOnce(mode, seconds, dir) {
  const name = `${mode}-${seconds}s`;
  const svg = join(dir, `${name}.svg`);
  const perChild = new Map(); // pid -> { tool, cpu, first, last }
  let perfData;
  let perfDataBytes = 0;
  const poll = setInterval(() => {
    const now = Date.now();
    for (const child of descendants(process.pid)) {
      const seen = perChild.get(child.pid);
      const tool = child.command === '' ? seen?.tool ?? '?' : toolName(child.command);
      perChild.set(child.pid, { tool, cpu: child.cpu, first: seen?.first ?? now, last: now });
      if (tool === 'perf record' && perfData === undefined) {
        const args = cmdline(child.pid); // not `perf record -h`, which irisflame runs first
        if (args.includes('-o')) perfData = args[args.indexOf('-o') + 1];
      }
    }
    if (perfData !== undefined) perfDataBytes = Math.max(perfDataBytes, sizeOf(perfData));
  }, POLL_MS);
  const childrenBefore = childrenCpuSeconds();
  const load = loadavg()[0];
  const cli = spawn(process.execPath, [CLI, 'record', '--no-progress', '--seconds', String(seconds), '--call-graph', MODES[mode], '-o', svg], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let samplingFrom;
  cli.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (samplingFrom === undefined && /^recording /m.test(stderr)) samplingFrom = Date.now();
  });
  const exitCode = await new Promise((resolve) => cli.on('close', resolve));
  const ended = Date.now();
  clearInterval(poll);
  if (exitCode !== 0) throw new Error(`irisflame record --call-graph ${MODES[mode]} failed: ${stderr.trim().split('\n').pop()}`);
  const byTool = {};
  const wall = {};
  for (const { tool, cpu, first, last } of perChild.values()) {
    byTool[tool] = (byTool[tool] ?? 0) + cpu;
    wall[tool] = Math.max(wall[tool] ?? 0, (last - first) / 1000);
  }
  const stacks = readFolded(join(dir, `${name}.folded`));
  // The load's programs, and whatever else was busiest (the shared machine's other work).
  const byComm = new Map();
  for (const [key, count] of stacks) {
    const comm = key.slice(0, key.indexOf(';'));
    if (!byComm.has(comm)) byComm.set(comm, new Map());
    byComm.get(comm).set(key, count);
  }
  const cuts = [...byComm].map(([comm, own]) => [comm, cutStacks(own)]).filter(([, cut]) => cut.withUserStack >= 20);
  cuts.sort((a, b) => b[1].withUserStack - a[1].withUserStack);
  const perProcess = Object.fromEntries(cuts.filter(([comm], index) => BUSY.includes(comm) || index < TOP_OTHERS));
  return {
    mode,
    seconds,
    load,
    chosen: /call graph: (.*)/.exec(stderr)?.[1] ?? '?',
    samples: Number(/recorded ([\d,]+) samples/.exec(stderr)?.[1].replaceAll(',', '') ?? NaN),
    notes: [...stderr.matchAll(/^ {2}note: (.*)$/gm)].map((match) => match[1]),
    perfDataBytes,
    perfRecordCpu: byTool['perf record'] ?? 0,
    perfScriptCpu: byTool['perf script'] ?? 0,
    perfScriptWall: wall['perf script'] ?? 0,
    irisflameCpu: byTool.node ?? 0,
    allChildrenCpu: childrenCpuSeconds() - childrenBefore,
    endToSvg: samplingFrom === undefined ? NaN : (ended - samplingFrom) / 1000 - seconds,
    overall: cutStacks(stacks),
    perProcess,
  };
}

function readFolded(path) {
  const stacks = new Map();
  for (const line of readFileSync(path, 'latin1').split('\n')) {
    const at = line.lastIndexOf(' ');
    if (at > 0) stacks.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return stacks;
}

const whole = (cut) => (cut.withUserStack === 0 ? 'n/a' : `${(100 * (1 - cut.share)).toFixed(0)}%`);

function report(m, base) {
  const ratio = (value, of) => (of > 0 ? ` (${(value / of).toFixed(1)}x)` : '');
  const busy = Object.entries(m.perProcess).map(([comm, cut]) => `${comm} ${whole(cut)}/${cut.withUserStack}`).join(', ');
  console.log(
    `  ${m.mode.padEnd(9)} ${String(m.seconds).padStart(2)} s, load ${m.load.toFixed(1)}: perf.data ${(m.perfDataBytes / 1e6).toFixed(1)} MB${ratio(m.perfDataBytes, base?.perfDataBytes)}; ` +
      `CPU perf record ${m.perfRecordCpu.toFixed(2)} s, perf script ${m.perfScriptCpu.toFixed(1)} s${ratio(m.perfScriptCpu, base?.perfScriptCpu)} ` +
      `(wall ${m.perfScriptWall.toFixed(1)} s), irisflame ${m.irisflameCpu.toFixed(1)} s; end of sampling to SVG ${m.endToSvg.toFixed(1)} s${ratio(m.endToSvg, base?.endToSvg)}`,
  );
  console.log(`            ${m.samples} samples; whole user stacks ${whole(m.overall)} of ${m.overall.withUserStack} with one; by process (whole/samples): ${busy || '(none)'}`);
  console.log(`            call graph: ${m.chosen}`);
  for (const note of m.notes) console.log(`            note: ${note}`);
}

/** dwarf,8192 straight through perf, with and without -z, to see what zstd saves and costs. */
function compressionPair(seconds, dir) {
  for (const z of [[], ['-z']]) {
    const data = join(dir, `raw${z.join('')}.data`);
    const before = childrenCpuSeconds();
    spawnSync('perf', ['record', '-F', '99', '-a', '--call-graph', 'dwarf,8192', '--no-buildid', ...z, '-o', data, '--', 'sleep', String(seconds)], { stdio: 'ignore' });
    const recordCpu = childrenCpuSeconds() - before - 0; // sleep's CPU is nil
    const started = Date.now();
    const mid = childrenCpuSeconds();
    spawnSync('sh', ['-c', `perf script -i ${data} -F +pid --no-inline > /dev/null 2>&1`]);
    console.log(
      `  raw perf dwarf,8192${z.length ? ' -z' : '   '} ${seconds} s: perf.data ${(sizeOf(data) / 1e6).toFixed(1)} MB, perf record CPU ${recordCpu.toFixed(2)} s, ` +
        `perf script ${((Date.now() - started) / 1000).toFixed(1)} s wall ${(childrenCpuSeconds() - mid).toFixed(1)} s CPU`,
    );
    rmSync(data, { force: true });
  }
}

export async function runRecordCallGraphBench() {
  if (process.geteuid?.() !== 0) {
    console.log('record call graph: skipped (needs root)');
    return;
  }
  if (spawnSync('perf', ['version']).status !== 0) {
    console.log('record call graph: skipped (perf is not installed)');
    return;
  }
  const durations = arg('seconds', '10').split(',').map(Number);
  const modes = arg('modes', 'fp,dwarf8192,dwarf4096,auto').split(',');
  const loads = arg('loads', 'mixed,idle').split(',');
  const dir = mkdtempSync(join(tmpdir(), 'irisflame-bench-callgraph-'));
  try {
    for (const kind of loads) {
      const load = startLoad(kind, dir);
      try {
        console.log(`${kind}: ${load.describe}; 99 Hz whole system, ${durations.join(' and ')} s; ratios against fp`);
        await new Promise((resolve) => setTimeout(resolve, 2000)); // let the load get going
        for (const seconds of durations) {
          let base;
          for (const mode of modes) {
            const m = await recordOnce(mode, seconds, dir);
            if (mode === 'fp') base = m;
            report(m, mode === 'fp' ? undefined : base);
          }
        }
        if (process.argv.includes('--compression')) compressionPair(durations[0], dir);
      } finally {
        load.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runRecordCallGraphBench();
