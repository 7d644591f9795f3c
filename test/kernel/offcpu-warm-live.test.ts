/**
 * The warm off-CPU tracer's arming for real (bpftrace 0.17, src/kernel/offcpu-program.ts `warm`): an idle
 * simulated IRIS instance (examples/simulated-iris; not IRIS) followed by pid, so that other work's IRIS-named
 * processes on the machine neither are followed nor arm it. Unarmed it prints no blocked interval; the agent's
 * arm() prints those the kernel kept, then every new one for WARM_ARM_NS; after a `kill -9` of the control
 * process, an arming still prints the intervals from before the death. Needs root, bpftrace and gcc.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findExecutable } from '../../src/tools/executables.js';
import { startBpftraceProgram, type RunningBpftrace } from '../../src/kernel/bpftrace-process.js';
import { execSnooperProgram } from '../../src/kernel/exec-events.js';
import { READY_LINE, WARM_ARM_NS, WARM_GENERATION_SECONDS, offCpuProgram } from '../../src/kernel/offcpu-program.js';
import { OffCpuRing, monotonicNs } from '../../src/kernel/offcpu-ring.js';
import { WarmOffCpuStream, warmTracerProgram } from '../../src/kernel/offcpu-tracer.js';
import type { TracedBlock } from '../../src/kernel/offcpu-lines.js';
import { reportSkip } from '../support/references.js';
import { installSimulatedIrisRoot, removeSimulatedIris, simulatedIrisReason, waitUntil, type SimulatedIris } from '../support/simulated-iris.js';

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (bpftrace needs it)';
  if (findExecutable('bpftrace') === undefined) return 'bpftrace is not installed';
  return simulatedIrisReason();
}

const skip = reportSkip('kernel: the warm off-CPU tracer armed and unarmed', missing());
const S = 1e9;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(skip)('the warm tracer on an idle simulated IRIS instance', () => {
  let sim: SimulatedIris | undefined;
  let tracer: RunningBpftrace | undefined;
  const ring = new OffCpuRing({ seconds: 120, maxRecords: 100_000, maxBytes: 1 << 26 });
  const stream = new WarmOffCpuStream(ring);
  let pids: number[] = [];
  const blocks = (): TracedBlock[] => ring.take(0, monotonicNs() + S).trace.blocks;

  beforeAll(async () => {
    sim = installSimulatedIrisRoot('irisflame-warm-live-');
    sim.iris(['start', 'WARM']);
    pids = readFileSync(join(sim.dataDir('WARM'), 'mgr', 'irissim.pids'), 'utf8')
      .split('\n')
      .map((line) => Number(line.split(' ')[0]))
      .filter((pid) => pid > 0);
    const program = offCpuProgram({ offCpu: true, files: true, names: [], pids, syncPid: process.pid, warm: true, withExecSnooper: execSnooperProgram() });
    const started = await startBpftraceProgram(program, {
      label: 'the warm tracer',
      env: warmTracerProgram([]).env,
      readyLine: READY_LINE,
      onLine: (line) => {
        if (!line.startsWith('E\t') && !line.startsWith('X\t')) stream.onLine(line);
      },
    });
    if (started.unavailable !== undefined) throw new Error(started.unavailable);
    tracer = started.running;
  }, 180_000);

  afterAll(async () => {
    tracer?.kill();
    removeSimulatedIris(sim);
  }, 120_000);

  test('unarmed: nothing printed; arm(): what the kernel kept, then each interval as it ends; then quiet again', async () => {
    const [control] = pids;
    // A generation and more, unarmed: the daemons block ~5 times a second each, and none of it is printed.
    await sleep((WARM_GENERATION_SECONDS + 2) * 1000);
    expect(await stream.sync()).toBe(true);
    expect(blocks()).toEqual([]);

    const armedNs = monotonicNs();
    stream.arm();
    expect(await stream.sync()).toBe(true);
    const kept = blocks().filter((block) => block.onNs < armedNs);
    // Every followed process (control, daemons, httpd) has kept intervals, reaching back more than a generation.
    expect(new Set(kept.map((block) => block.pid))).toEqual(new Set(pids));
    expect(kept.filter((block) => block.pid === control && block.syscall === 230).length).toBeGreaterThan(10);
    expect(armedNs - Math.min(...kept.map((block) => block.offNs))).toBeGreaterThan(WARM_GENERATION_SECONDS * S);
    // Armed: new intervals come as they end.
    await sleep(1000);
    expect(await stream.sync()).toBe(true);
    const live = blocks().filter((block) => block.offNs >= armedNs && block.pid === control);
    expect(live.length).toBeGreaterThanOrEqual(2);

    // Past WARM_ARM_NS with no arming: quiet again (an interval may still end in the last instant).
    await sleep(WARM_ARM_NS / 1e6 + 500);
    expect(await stream.sync()).toBe(true);
    const quietFrom = blocks().length;
    await sleep(2000);
    expect(await stream.sync()).toBe(true);
    // Armed, these 2 s would print ~100 (10 processes, ~5 naps a second each). One straggler was seen once in
    // three runs on the loaded machine (cause not found: read late past two syncs?): at most one per process.
    const late = blocks().slice(quietFrom);
    if (late.length > 0) console.warn(`warm-live: ${late.length} interval(s) printed after the arming ran out: ${JSON.stringify(late.map(({ kernel, ...rest }) => rest))}`);
    expect(late.length).toBeLessThan(pids.length);
  }, 120_000);

  test("kill -9 of the control process, then arm() (the agent's crash record): the naps before the death come back", async () => {
    const [control] = pids;
    const killedNs = monotonicNs();
    process.kill(control!, 'SIGKILL');
    // The agent reads the death from the snooper's X line and begins a crash record, which arms the tracer: a
    // moment later. The dead process's kept intervals are still in the maps.
    await sleep(500);
    stream.arm();
    // The daemons see the control process gone and exit; their intervals print as they end (armed).
    expect(await waitUntil(() => blocks().some((block) => block.pid === control && block.onNs >= killedNs), 30_000)).toBe(true);
    expect(await stream.sync()).toBe(true);
    const before = blocks().filter((block) => block.pid === control && block.onNs < killedNs && block.syscall === 230);
    // The previous test disarmed ~4.5 s before: the naps of those seconds were kept, and printed by the death.
    const sinceDisarm = before.filter((block) => block.offNs > killedNs - 3 * S);
    expect(sinceDisarm.length).toBeGreaterThan(5);
  }, 60_000);
});
