/**
 * The off-CPU tracer for real: `irisflame record --lifecycle` with perf and bpftrace on the simulated IRIS
 * restart (examples/simulated-iris; it is not IRIS). Needs root, perf, bpftrace and gcc; skips, saying why.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BlockedInterval } from '../../src/kernel/offcpu-events.js';
import type { ProcessLifetime, Timeline } from '../../src/timeline/model.js';
import { readTimeline } from '../../src/timeline/render.js';
import { findExecutable } from '../../src/tools/executables.js';
import { runCli } from '../support/cli.js';
import { pathWithOnly } from '../record/support.js';
import { reportSkip } from '../support/references.js';
import { installSimulatedIrisRoot, removeSimulatedIris, simulatedIrisReason, type SimulatedIris } from '../support/simulated-iris.js';

const FREQUENCY = 99;

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (perf -a and bpftrace need it)';
  for (const tool of ['perf', 'bpftrace']) if (findExecutable(tool) === undefined) return `${tool} is not installed`;
  return simulatedIrisReason();
}

const skip = reportSkip('timeline: record --lifecycle with the off-CPU tracer', missing());

const blockedOf = (timeline: Timeline, lane: ProcessLifetime): BlockedInterval[] =>
  timeline.offCpu!.blocked.filter((block) => block.pid === lane.pid && block.start >= lane.start - 0.001 && block.start <= (lane.end ?? timeline.end));
const seconds = (blocks: BlockedInterval[]): number => blocks.reduce((sum, block) => sum + block.duration, 0);

describe.skipIf(skip)('record --lifecycle traces what the simulated IRIS restart waited on', () => {
  let sim: SimulatedIris | undefined;
  let timeline: Timeline;
  let stderr = '';

  beforeAll(async () => {
    sim = installSimulatedIrisRoot('irisflame-offcpu-record-');
    const svg = join(sim.root, 'restart.svg');
    // A shell as the recorded command: it is followed (with its descendants) though it is no IRIS program;
    // its `sleep` shows a known 0.3 s wait.
    const script = `IRISSIM_MS=50 ${sim.installDir}/bin/iris restart IRIS && sleep 0.3`;
    const result = await runCli(['record', '--lifecycle', '--no-progress', '-o', svg, '--', 'sh', '-c', script], { timeoutMs: 240_000 });
    stderr = result.stderr;
    expect(result.exitCode, result.stderr).toBe(0);
    expect(existsSync(join(sim.root, 'restart.lifecycle.txt.gz'))).toBe(true);
    timeline = await readTimeline(join(sim.root, 'restart.lifecycle.txt.gz'));
  }, 300_000);
  afterAll(() => removeSimulatedIris(sim));

  /** The recorded command's process tree (other engineers' simulated instances may run beside it). */
  const inTree = (process: ProcessLifetime): boolean => {
    for (let current: ProcessLifetime | undefined = process; current !== undefined; current = current.parent === undefined ? undefined : timeline.processes[current.parent]) {
      if (current.comm === 'sh' && current.argv?.some((arg) => arg.includes(sim!.root)) && timeline.command !== undefined) return true;
    }
    return false;
  };
  const lane = (label: string): ProcessLifetime => {
    const found = timeline.processes.find((process) => process.label === label && inTree(process));
    expect(found, `a lane ${label}`).toBeDefined();
    return found!;
  };

  test('the recording says what it traced, and nothing was lost', () => {
    expect(stderr).toMatch(/off-CPU: \d+ blocked intervals, \d+ file events/);
    expect(timeline.offCpu?.offCpuUnavailable).toBeUndefined();
    expect(timeline.offCpu?.lost).toBe(0);
  });

  test('iris spends most of its life blocked in wait4 for its child', () => {
    const iris = lane('iris restart IRIS');
    const child = blockedOf(timeline, iris).filter((block) => block.reason === 'child' && block.syscall === 61);
    expect(seconds(child) / (iris.end! - iris.start)).toBeGreaterThan(0.9);
    expect(child[0]!.kernelStack).toContain('do_wait');
  });

  test('irisstop waits for each child it runs: it is blocked in wait4 when that child exits', () => {
    const irisstop = lane('irisstop quietly restart');
    const waits = blockedOf(timeline, irisstop).filter((block) => block.reason === 'child');
    const children = timeline.processes.filter((process) => process.parent === irisstop.index && process.end !== undefined && process.end - process.start > 0.03);
    expect(children.length).toBeGreaterThan(2);
    // On a loaded host irisstop may reach wait4 late (it waits for a CPU first), so what holds is the end: the
    // child's exit falls inside one of irisstop's waits (5 ms of slack for the two clocks' event order).
    for (const child of children) {
      const waiting = waits.some((wait) => wait.start <= child.end! + 0.005 && wait.start + wait.duration >= child.end! - 0.005);
      expect(waiting, `irisstop waiting when ${child.label} exits`).toBe(true);
    }
    expect(waits.length).toBeGreaterThanOrEqual(children.length);
  });

  test('the recorded command and its descendants are followed, other processes are not', () => {
    const sleep = timeline.processes.find((process) => process.comm === 'sleep' && process.argv?.[1] === '0.3')!;
    expect(sleep).toBeDefined();
    const slept = blockedOf(timeline, sleep).filter((block) => block.reason === 'sleep');
    expect(seconds(slept)).toBeGreaterThan(0.29);
    const followed = new Set(timeline.offCpu!.blocked.map((block) => block.comm));
    for (const outsider of ['perf', 'node', 'bpftrace']) expect(followed.has(outsider)).toBe(false);
  });

  test('file events include the CPF being read and a failed lookup', () => {
    const files = timeline.offCpu!.files.filter((file) => file.path.includes(sim!.root));
    expect(files.some((file) => file.path.endsWith('/iris.cpf') && file.result >= 0)).toBe(true);
    expect(files.some((file) => file.errno === 'ENOENT')).toBe(true);
    expect(files.some((file) => file.path === '')).toBe(false); // glibc's fstat is dropped in the kernel
  });

  test('for each long process, on-CPU + blocked + waiting for a CPU adds up to its lifetime, within sampling error', () => {
    // Processes still running at the end (the instance's daemons) live, for the capture, until its end; for the
    // off-CPU part only until the tracer stopped (threads still blocked end there: the latest interval end). perf
    // may stop later on a loaded host: three daemons were once each ~80 ms short, that gap.
    const tracerEnd = Math.max(...timeline.offCpu!.blocked.map((block) => block.start + block.duration));
    const endOf = (process: ProcessLifetime): number => process.end ?? Math.min(timeline.end, tracerEnd);
    const long = timeline.processes.filter((process) => endOf(process) - process.start > 0.3 && inTree(process));
    expect(long.length).toBeGreaterThan(2);
    expect(long.some((process) => process.end === undefined)).toBe(true);
    const outside: string[] = [];
    for (const process of long) {
      const life = endOf(process) - process.start;
      const onCpu = process.samples / FREQUENCY;
      const waits = timeline.offCpu!.cpuWaits.filter((wait) => wait.pid === process.pid).reduce((sum, wait) => sum + wait.total, 0);
      const total = onCpu + seconds(blockedOf(timeline, process)) + waits;
      const what = `${process.label}: ${total.toFixed(3)} s of ${life.toFixed(3)} s`;
      // Nothing is counted twice: never more than the lifetime beyond sampling error.
      // Sampling error of the on-CPU part: 3 standard deviations of a Poisson count, plus 5% for the moments
      // no event covers (between exec and the first switch, the last instants before the stop).
      const tolerance = (3 * Math.sqrt(Math.max(process.samples, 1))) / FREQUENCY + 0.05 * life;
      expect(total - life, what).toBeLessThan(tolerance);
      if (Math.abs(total - life) >= tolerance) outside.push(what);
      expect(total / life, what).toBeGreaterThan(0.7);
    }
    // On a very busy host one daemon in twenty was seen short of 100-200 ms (no lost events reported; cause
    // not found, see docs/lifecycle.md): allow one such process in ten, and no more.
    expect(outside.length, outside.join('; ')).toBeLessThanOrEqual(Math.floor(long.length / 10));
  });
});

describe.skipIf(skip)('record --lifecycle --no-files / --no-off-cpu', () => {
  let sim: SimulatedIris | undefined;
  beforeAll(() => {
    sim = installSimulatedIrisRoot('irisflame-offcpu-parts-');
  });
  afterAll(() => removeSimulatedIris(sim));

  test('--no-files keeps blocked time and says files were turned off', async () => {
    const svg = join(sim!.root, 'nofiles.svg');
    const result = await runCli(['record', '--lifecycle', '--no-progress', '--no-files', '-o', svg, '--', 'sh', '-c', 'sleep 0.2']);
    expect(result.exitCode, result.stderr).toBe(0);
    const offCpu = (await readTimeline(join(sim!.root, 'nofiles.lifecycle.txt.gz'))).offCpu!;
    expect(offCpu.filesUnavailable).toMatch(/--no-files/);
    expect(offCpu.files).toEqual([]);
    expect(offCpu.blocked.some((block) => block.comm === 'sleep' && block.reason === 'sleep' && block.duration > 0.19)).toBe(true);
  }, 240_000);

  test('without bpftrace it records what perf gives, and says so in its output and in the capture', async () => {
    const svg = join(sim!.root, 'nobpftrace.svg');
    const path = pathWithOnly(['perf', 'setpriv', 'sh', 'sleep', 'c++filt', 'mkfifo']);
    const result = await runCli(['record', '--lifecycle', '--no-progress', '-o', svg, '--', 'sh', '-c', 'sleep 0.2'], { env: { PATH: path } });
    rmSync(path, { recursive: true, force: true });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/warning: bpftrace is not installed.*no off-CPU time or file events/);
    const timeline = await readTimeline(join(sim!.root, 'nobpftrace.lifecycle.txt.gz'));
    expect(timeline.offCpu?.offCpuUnavailable).toMatch(/bpftrace is not installed/);
    expect(timeline.offCpu?.filesUnavailable).toMatch(/bpftrace is not installed/);
    expect(timeline.processes.some((process) => process.comm === 'sleep')).toBe(true);
  }, 240_000);

  test('with both off, the capture says why there is no off-CPU data, and the timeline is still written', async () => {
    const svg = join(sim!.root, 'none.svg');
    const result = await runCli(['record', '--lifecycle', '--no-progress', '--no-off-cpu', '--no-files', '-o', svg, '--', 'sh', '-c', 'sleep 0.2']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/off-CPU:/);
    const timeline = await readTimeline(join(sim!.root, 'none.lifecycle.txt.gz'));
    expect(timeline.offCpu?.offCpuUnavailable).toMatch(/--no-off-cpu/);
    expect(timeline.offCpu?.blocked).toEqual([]);
    expect(timeline.processes.some((process) => process.comm === 'sleep')).toBe(true);
  }, 240_000);
});
