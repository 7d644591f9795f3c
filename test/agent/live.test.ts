/**
 * `irisflame agent` for real: the CLI with bpftrace's exec snooper, watching the simulated IRIS (examples/
 * simulated-iris) start, stop, crash, run beside a second instance, lose its tracer, and survive a storm
 * of short-lived processes. Needs root, bpftrace and gcc; skips, saying why, without them. Instance names
 * are unique per run: the agent sees every instance on the machine, other tests' included.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findExecutable } from '../../src/tools/executables.js';
import { reportSkip } from '../support/references.js';
import { childrenOf, commOf, installSimulatedIris, iris, isAlive, startAgentCli, uniqueInstanceName, waitFor, type AgentProcess } from './support.js';
import { runningProcessesNamed } from '../../src/kernel/offcpu-tracer.js';
import { IRIS_PROCESS_NAMES } from '../../src/iris/processes.js';

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (bpftrace needs it)';
  for (const tool of ['bpftrace', 'gcc']) if (findExecutable(tool) === undefined) return `${tool} is not installed`;
  return undefined;
}

const skip = reportSkip('agent: live', missing());
const run = promisify(execFile);

describe.skipIf(skip)('irisflame agent on the simulated IRIS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'irisflame-agent-live-'));
  const started = new Set<string>();
  let command = '';
  let agent: AgentProcess;

  beforeAll(async () => {
    command = installSimulatedIris(join(dir, 'root'));
    agent = await startAgentCli(['--scan-interval', '1', '--node', 'test-node']);
  }, 120_000);

  afterAll(async () => {
    for (const name of started) await run(command, ['stop', name]).catch(() => undefined);
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  const start = (name: string): void => {
    started.add(name);
    iris(command, 'start', name);
  };
  const value = async (metric: string, name: string): Promise<number | undefined> => (await agent.metrics()).value(metric, { iris_instance: name });
  /** Poll until the metric of instance `name` reads `expected`; returns it. */
  const expectSoon = (metric: string, name: string, expected: number): Promise<number> =>
    waitFor(`${metric}{iris_instance="${name}"} == ${expected}`, async () => ((await value(metric, name)) === expected ? expected : undefined));

  test('start → 1, stop → 0 and a stop counted, start → 1, force → 0 and an unexpected exit counted', async () => {
    const name = uniqueInstanceName('LIVE');
    start(name);
    await expectSoon('iris_instance_status', name, 1);
    const metrics = await agent.metrics();
    expect(metrics.value('iris_instance_status', { iris_instance: name, node: 'test-node', install_dir: join(dir, 'root/usr/irissys') })).toBe(1);
    expect(metrics.value('iris_instance_starts_total', { iris_instance: name })).toBe(1);
    expect(metrics.value('iris_instance_processes', { iris_instance: name, comm: 'httpd' })).toBe(1);
    // The startup process's exit (end of the start) may be read a moment after the control process's exec.
    const startSeconds = await waitFor('the start duration', () => value('iris_instance_last_start_duration_seconds', name));
    expect(startSeconds).toBeGreaterThan(0);

    iris(command, 'stop', name);
    await expectSoon('iris_instance_status', name, 0);
    expect(await value('iris_instance_stops_total', name)).toBe(1);
    expect(await value('iris_instance_unexpected_exits_total', name)).toBe(0);
    expect(await waitFor('the stop duration', () => value('iris_instance_last_stop_duration_seconds', name))).toBeGreaterThan(0);

    start(name);
    await expectSoon('iris_instance_status', name, 1);
    expect(await value('iris_instance_starts_total', name)).toBe(2);

    iris(command, 'force', name);
    await expectSoon('iris_instance_status', name, 0);
    expect(await value('iris_instance_unexpected_exits_total', name)).toBe(1);
    expect(await value('iris_instance_stops_total', name)).toBe(1);
    // Once everything of the instance has exited, its process series read 0 and stay.
    await waitFor('no irisdb left', async () => ((await agent.metrics()).value('iris_instance_processes', { iris_instance: name, comm: 'irisdb' }) === 0 ? true : undefined));
    expect((await agent.metrics()).value('iris_instance_status', { iris_instance: name })).toBe(0);
  }, 180_000);

  test('two instances of one install keep separate series; a crash of one leaves the other up', async () => {
    const first = uniqueInstanceName('TWOA');
    const second = uniqueInstanceName('TWOB');
    start(first);
    start(second);
    await expectSoon('iris_instance_status', first, 1);
    await expectSoon('iris_instance_status', second, 1);
    iris(command, 'force', second);
    await expectSoon('iris_instance_status', second, 0);
    expect(await value('iris_instance_unexpected_exits_total', second)).toBe(1);
    expect(await value('iris_instance_status', first)).toBe(1);
    expect(await value('iris_instance_unexpected_exits_total', first)).toBe(0);
    iris(command, 'stop', first);
    await expectSoon('iris_instance_status', first, 0);
    expect(await value('iris_instance_stops_total', first)).toBe(1);
  }, 180_000);

  test('bpftrace killed under the agent: restarted and counted; a stop meanwhile is still seen (by the /proc scan)', async () => {
    const name = uniqueInstanceName('KILL');
    start(name);
    await expectSoon('iris_instance_status', name, 1);
    const tracer = await waitFor('the agent\'s bpftrace', () => agent.tracerPid());
    process.kill(tracer, 'SIGKILL');
    iris(command, 'stop', name);
    await expectSoon('iris_instance_status', name, 0);
    // Without the events, a scan may miss the short irisstop: the exit is counted as one or the other.
    expect((await value('iris_instance_stops_total', name))! + (await value('iris_instance_unexpected_exits_total', name))!).toBe(1);
    await waitFor('the restart to be counted', async () => ((await agent.metrics()).value('irisflame_tracer_restarts_total', { tracer: 'exec_snooper' })! >= 1 ? true : undefined));
    await waitFor('the tracer to be back', async () => ((await agent.metrics()).value('irisflame_tracer_up', { tracer: 'exec_snooper' }) === 1 ? true : undefined), 90_000);
    expect(agent.tracerPid()).not.toBe(tracer);
    // Events flow again: a start and a crash are seen as such.
    start(name);
    await expectSoon('iris_instance_status', name, 1);
    iris(command, 'force', name);
    await expectSoon('iris_instance_status', name, 0);
    expect(agent.stderr()).toContain('exec snooper restarted');
  }, 240_000);

  test('a storm of 10,000 short-lived processes during a stop hides neither the exit nor grows memory without bound', async () => {
    const name = uniqueInstanceName('STORM');
    start(name);
    await expectSoon('iris_instance_status', name, 1);
    const before = await agent.metrics();
    // A fixed script, no input from anywhere: 10,000 execs of /bin/true.
    const storm = run('/bin/sh', ['-c', 'i=0; while [ $i -lt 10000 ]; do /bin/true; i=$((i+1)); done'], { timeout: 300_000 });
    iris(command, 'stop', name);
    await storm;
    await expectSoon('iris_instance_status', name, 0);
    expect(await value('iris_instance_stops_total', name)).toBe(1);
    // The storm's last events may still be on their way (bpftrace's buffer, the pipe, the agent's 100 ms reads):
    // wait for them rather than read once.
    let after = await agent.metrics();
    const seen = (metrics: typeof after): { execs: number; lost: number } => ({
      execs: metrics.value('irisflame_exec_events_total')! - before.value('irisflame_exec_events_total')!,
      lost: metrics.value('irisflame_events_lost_total')! - before.value('irisflame_events_lost_total')!,
    });
    for (let deadline = Date.now() + 30_000; seen(after).execs + seen(after).lost < 10_000 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      after = await agent.metrics();
    }
    const { execs, lost } = seen(after);
    console.log(`storm: ${execs} exec events, ${lost} lost; tracked processes ${after.value('irisflame_tracked_processes')}; RSS ${before.value('process_resident_memory_bytes')! / 2 ** 20} -> ${after.value('process_resident_memory_bytes')! / 2 ** 20} MiB`);
    expect(execs + lost).toBeGreaterThanOrEqual(10_000);
    // Unrelated processes are never kept: what is tracked is bounded by what IRIS runs (the storm's would be
    // thousands). Other test files may start simulated instances meanwhile: the bound counts the node's IRIS
    // processes now, with room for exits not yet read.
    const irisNow = runningProcessesNamed([...IRIS_PROCESS_NAMES]).length;
    expect(after.value('irisflame_tracked_processes')!).toBeLessThanOrEqual(Math.max(before.value('irisflame_tracked_processes')!, irisNow) + 20);
    expect(after.value('process_resident_memory_bytes')! - before.value('process_resident_memory_bytes')!).toBeLessThan(64 * 2 ** 20);
  }, 360_000);

  test('bad requests get proper answers and change nothing', async () => {
    const before = (await agent.metrics()).value('irisflame_proc_scans_total')!;
    const answers = await Promise.all([
      fetch(`${agent.url}/nope`).then((r) => r.status),
      fetch(`${agent.url}/debug/pprof/heap`).then((r) => r.status),
      fetch(`${agent.url}/metrics`, { method: 'POST', body: 'x' }).then((r) => r.status),
      ...Array.from({ length: 50 }, () => fetch(`${agent.url}/metrics`).then((r) => r.status)),
    ]);
    expect(answers.slice(0, 3)).toEqual([404, 404, 405]);
    expect(answers.slice(3).every((status) => status === 200)).toBe(true);
    expect((await agent.metrics()).value('irisflame_proc_scans_total')!).toBeGreaterThanOrEqual(before);
  });

  test('SIGTERM: the agent and its bpftrace are gone within 2 s', async () => {
    const tracer = await waitFor('the agent\'s bpftrace', () => agent.tracerPid(), 90_000);
    const pid = agent.child.pid!;
    // The profile sampler's bpftrace too, when it runs.
    const tracers = [tracer, ...childrenOf(pid).filter((child) => child !== tracer && commOf(child) === 'bpftrace')];
    const sent = Date.now();
    agent.child.kill('SIGTERM');
    await waitFor('the agent and bpftrace to exit', () => (!isAlive(pid) && tracers.every((child) => !isAlive(child)) ? true : undefined), 10_000);
    // The stated requirement (issue 9): gone within 2 s.
    expect(Date.now() - sent).toBeLessThanOrEqual(2_000);
    expect(agent.stderr()).toContain('SIGTERM: stopping');
  }, 30_000);
});
