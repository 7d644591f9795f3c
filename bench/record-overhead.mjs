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
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRecordSession } from '../dist/record/session.js';
import { arg, childrenCpuSeconds, descendants, toolName } from './proc-stat.mjs';

const POLL_MS = 100;

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
