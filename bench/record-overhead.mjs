#!/usr/bin/env node
// What recording costs, per backend: CPU seconds (user+sys) of the sampler's processes and of irisflame
// itself for one recording at -F 99, and the bytes each backend moves to user space.
//
//   node bench/record-overhead.mjs [--seconds 30] [--backends perf,bpftrace] [--iris]   (root; npm run build first)
//
// --iris records with --iris (run an IRIS, or the simulated one's `irisdb --burn MS`, meanwhile): bpftrace then
// filters in the kernel, perf still records everything and filters while collapsing.
//
// The recording runs in this process through the library, so irisflame's own CPU is process.cpuUsage();
// the tools' CPU is what the kernel charges this process for its reaped children (cutime + cstime in
// /proc/self/stat), split by tool from polling each child's /proc/PID/stat while it runs.
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRecordSession } from '../dist/record/session.js';
import { CLOCK_TICKS, arg, statFields } from './proc-stat.mjs';

const POLL_MS = 100;

/** Reaped children's CPU of this process, seconds. */
function childrenCpuSeconds() {
  const fields = statFields('self');
  return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS; // cutime, cstime
}

/** Every descendant of `root` with its command line and CPU so far. */
function descendants(root) {
  const parentOf = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const fields = statFields(name);
    if (fields) parentOf.set(Number(name), { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS });
  }
  const found = [];
  for (const [pid, info] of parentOf) {
    let up = info.ppid;
    while (up !== undefined && up !== root && up > 1) up = parentOf.get(up)?.ppid;
    if (up !== root) continue;
    let command = '';
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').slice(0, 2).join(' ');
    } catch {}
    found.push({ pid, command, cpu: info.cpu });
  }
  return found;
}

/** "perf record", "perf script", "bpftrace", … from a command line. */
function toolName(command) {
  const [program, sub] = command.split(' ');
  const base = program.split('/').pop();
  return base === 'perf' ? `perf ${sub}` : base;
}

async function measure(backend, seconds, dir) {
  const perChild = new Map(); // pid -> { tool, cpu }
  let pollingCpu = 0; // the bench's own polling, taken out of irisflame's figure
  const poll = setInterval(() => {
    const before = process.cpuUsage();
    for (const child of descendants(process.pid)) {
      // A zombie has an empty command line: keep the name read while it ran.
      const tool = child.command === '' ? perChild.get(child.pid)?.tool ?? '?' : toolName(child.command);
      perChild.set(child.pid, { tool, cpu: child.cpu });
    }
    const spent = process.cpuUsage(before);
    pollingCpu += (spent.user + spent.system) / 1e6;
  }, POLL_MS);
  const cpuBefore = process.cpuUsage();
  const childrenBefore = childrenCpuSeconds();
  const started = Date.now();
  const session = startRecordSession({
    record: { backend, seconds, frequency: 99, output: join(dir, `${backend}.svg`), progress: false, iris: process.argv.includes('--iris') },
    flamegraph: {},
    log: () => {},
  });
  const result = await session.done;
  clearInterval(poll);
  const own = process.cpuUsage(cpuBefore);
  const byTool = new Map();
  for (const { tool, cpu } of perChild.values()) byTool.set(tool, (byTool.get(tool) ?? 0) + cpu);
  return {
    backend,
    wallSeconds: (Date.now() - started) / 1000,
    samples: result.summary.samples,
    irisflameCpu: (own.user + own.system) / 1e6 - pollingCpu,
    toolsCpu: childrenCpuSeconds() - childrenBefore,
    byTool: Object.fromEntries([...byTool].map(([tool, cpu]) => [tool, Number(cpu.toFixed(2))])),
    transfers: result.transfers,
  };
}

export async function runRecordOverheadBench() {
  if (process.geteuid?.() !== 0) {
    console.log('record overhead: skipped (needs root)');
    return;
  }
  const seconds = Number(arg('seconds', '30'));
  const backends = arg('backends', 'perf,bpftrace').split(',');
  const dir = mkdtempSync(join(tmpdir(), 'irisflame-bench-record-'));
  try {
    for (const backend of backends) {
      const m = await measure(backend, seconds, dir);
      console.log(
        `${m.backend.padEnd(8)} ${seconds} s at 99 Hz${process.argv.includes('--iris') ? ' --iris' : ''}: ${m.samples} samples, wall ${m.wallSeconds.toFixed(1)} s; ` +
          `CPU: tools ${m.toolsCpu.toFixed(2)} s ${JSON.stringify(m.byTool)}, irisflame ${m.irisflameCpu.toFixed(2)} s; ` +
          `bytes: ${m.transfers.map((t) => `${t.what} ${(t.bytes / 1e6).toFixed(2)} MB`).join(', ')}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runRecordOverheadBench();
