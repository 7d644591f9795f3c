import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseSnoopLine } from '../../src/kernel/exec-events.js';
import { REPO_ROOT } from '../support/cli.js';
import { InstanceTracker, type InstanceTransition, type ProcessDetails, type ScannedProcess } from '../../src/agent/instances.js';

/** Hand-made events after the execsnoop trace of a real `iris stop IRIS quietly restart` (fleet.md §10). */
const MGR = '/data/IRIS/mgr';
const CONTROL_ARGV = ['./irisdb', `-s${MGR}/`, `-w${MGR}/`, '-cc', '-B', '-C/data/IRIS/iris.cpf*IRIS'];
const STARTUP_ARGV = ['./irisdb', `-s${MGR}/`, '-U', '-B', '-b1024', '-Erunlevel=sys/complete', 'QUIET^STU'];
const job = (routine: string): string[] => ['/usr/irissys/bin/irisdb', `-s${MGR}`, '-cj', '-p13', routine];
const IRISDB = '/usr/irissys/bin/irisdb';

function tracker(transitions: InstanceTransition[] = [], watchingSince = 0): InstanceTracker {
  return new InstanceTracker({ watchingSince, onTransition: (t) => transitions.push(t) });
}

function exec(t: InstanceTracker, time: number, pid: number, ppid: number, argv: string[], executable?: string): void {
  const program = argv[0]!.slice(argv[0]!.lastIndexOf('/') + 1);
  t.exec({ time, pid, ppid, comm: program.slice(0, 15), argv, executable });
}

/** `iris start IRIS`: the CLI, the control process, the startup and its jobs. */
function start(t: InstanceTracker, at: number, base: number): void {
  exec(t, at, base, 1, ['/usr/irissys/bin/iris', 'start', 'IRIS'], '/usr/irissys/bin/iris');
  exec(t, at + 0.1, base + 1, base, CONTROL_ARGV, IRISDB);
  exec(t, at + 0.2, base + 2, base, STARTUP_ARGV, IRISDB);
  exec(t, at + 0.3, base + 3, base + 2, job('START^MONITOR'), IRISDB);
  exec(t, at + 0.4, base + 4, base + 2, ['/usr/irissys/httpd/bin/httpd', '-f', '/data/IRIS/httpd/conf/httpd.conf'], '/usr/irissys/httpd/bin/httpd');
  t.exit({ time: at + 1, pid: base + 2, status: 0 });
  t.exit({ time: at + 1.1, pid: base, status: 0 });
}

/** `iris stop IRIS quietly`: irisstop names no instance; its children carry -s. */
function stop(t: InstanceTracker, at: number, base: number, control: number): void {
  exec(t, at, base, 1, ['/usr/irissys/bin/iris', 'stop', 'IRIS', 'quietly'], '/usr/irissys/bin/iris');
  exec(t, at + 0.1, base + 1, base, ['irisstop', 'quietly'], '/usr/irissys/bin/irisstop');
  exec(t, at + 0.2, base + 2, base + 1, ['./irisdb', `-s${MGR}/`, '-cV'], IRISDB);
  t.exit({ time: at + 0.3, pid: base + 2, status: 0 });
  exec(t, at + 0.4, base + 3, base + 1, ['./irisdb', `-s${MGR}/`, '-U', '-B', 'OPT^SHUTDOWN(1)'], IRISDB);
  t.exit({ time: at + 0.8, pid: control, status: 0 });
  t.exit({ time: at + 0.9, pid: base + 3, status: 0 });
  t.exit({ time: at + 1.5, pid: base + 1, status: 0 });
  t.exit({ time: at + 1.6, pid: base, status: 0 });
}

describe('instance status from exec and exit events', () => {
  test('a start brings the instance up with its install and manager dirs, and counts it', () => {
    const transitions: InstanceTransition[] = [];
    const t = tracker(transitions);
    start(t, 10, 100);
    expect(t.instance('IRIS')).toMatchObject({ up: true, installDir: '/usr/irissys', managerDir: MGR, starts: 1, controlPid: 101, lastTransition: 10.1 });
    // From `iris start IRIS` (10.0) to the startup process's exit (11.0).
    expect(t.instance('IRIS')!.lastStartDurationSeconds).toBeCloseTo(1.0, 6);
    expect(transitions).toEqual([{ instance: 'IRIS', time: 10.1, kind: 'up', counted: true }]);
    // `iris start` has exited: its series stays, at 0.
    expect(Object.fromEntries(t.processCounts().get('IRIS')!)).toEqual({ iris: 0, irisdb: 2, httpd: 1 });
  });

  test('the control process exiting while irisstop runs is a stop; irisstop is attributed through its child', () => {
    const transitions: InstanceTransition[] = [];
    const t = tracker(transitions);
    start(t, 10, 100);
    stop(t, 20, 200, 101);
    const state = t.instance('IRIS')!;
    expect(state).toMatchObject({ up: false, stops: 1, unexpectedExits: 0, lastTransition: 20.8, controlPid: undefined });
    expect(state.lastStopDurationSeconds).toBeCloseTo(1.4, 6); // irisstop 20.1 → 21.5
    expect(transitions.at(-1)).toEqual({ instance: 'IRIS', time: 20.8, kind: 'stop', repaired: false });
  });

  test('the control process dying with no irisstop running is an unexpected exit', () => {
    const t = tracker();
    start(t, 10, 100);
    t.exit({ time: 15, pid: 101, status: 9 });
    expect(t.instance('IRIS')).toMatchObject({ up: false, stops: 0, unexpectedExits: 1, lastTransition: 15 });
  });

  test('an irisstop that finished earlier does not make a later crash a stop', () => {
    const t = tracker();
    start(t, 10, 100);
    stop(t, 20, 200, 101);
    start(t, 30, 300);
    t.exit({ time: 40, pid: 301, status: 9 });
    expect(t.instance('IRIS')).toMatchObject({ up: false, starts: 2, stops: 1, unexpectedExits: 1 });
  });

  test('an exit of an untracked pid and a storm of unrelated processes leave nothing behind', () => {
    const t = tracker();
    start(t, 10, 100);
    for (let pid = 5000; pid < 15000; pid++) {
      t.exec({ time: 12 + pid * 1e-5, pid, ppid: 4999, comm: 'true', argv: ['/bin/true'] });
      t.exit({ time: 12 + pid * 1e-5, pid, status: 0 });
    }
    expect(t.trackedProcessCount).toBe(3); // control, START^MONITOR, httpd
    t.exit({ time: 20, pid: 101, status: 0 });
    expect(t.instance('IRIS')!.up).toBe(false);
  });

  test('a reused pid does not take the instance down or up', () => {
    const t = tracker();
    start(t, 10, 100);
    t.exit({ time: 15, pid: 101, status: 9 });
    // pid 101 is reused by an unrelated program: no start, no change.
    t.exec({ time: 16, pid: 101, ppid: 1, comm: 'bash', argv: ['bash'] });
    t.exit({ time: 17, pid: 101, status: 0 });
    expect(t.instance('IRIS')).toMatchObject({ up: false, starts: 1, unexpectedExits: 1 });
    // A late exit of the old control (out-of-order delivery) after a new start on another pid is ignored.
    start(t, 20, 400);
    t.exit({ time: 14.9, pid: 101, status: 9 });
    expect(t.instance('IRIS')).toMatchObject({ up: true, starts: 2, unexpectedExits: 1, controlPid: 401 });
  });

  test('an exec reported after its own exit (per-CPU buffers) still ends the process', () => {
    const t = tracker();
    t.exit({ time: 5.5, pid: 700, status: 9 });
    exec(t, 5, 700, 1, CONTROL_ARGV, IRISDB);
    expect(t.instance('IRIS')).toMatchObject({ up: false, starts: 1, unexpectedExits: 1 });
    expect(t.trackedProcessCount).toBe(0);
  });

  test('two instances keep separate series, by control name and manager dir', () => {
    const t = tracker();
    start(t, 10, 100);
    exec(t, 11, 600, 1, ['/opt/b/bin/irisdb', '-s/opt/b/mgr/', '-w/opt/b/mgr/', '-cc', '-B', '-C/opt/b/iris.cpf*B'], '/opt/b/bin/irisdb');
    exec(t, 11.5, 601, 1, ['/opt/b/bin/irisdb', '-s/opt/b/mgr', '-cj', '-p13', 'START^MONITOR'], '/opt/b/bin/irisdb');
    expect(t.process(601)!.instance).toBe('B');
    expect(t.process(103)!.instance).toBe('IRIS');
    t.exit({ time: 12, pid: 600, status: 9 });
    expect(t.instance('B')).toMatchObject({ up: false, unexpectedExits: 1, installDir: '/opt/b' });
    expect(t.instance('IRIS')).toMatchObject({ up: true, unexpectedExits: 0 });
    expect(t.instanceStates().map((state) => state.name)).toEqual(['IRIS', 'B']);
  });

  test('routine and instance of a job are known for labelling samples', () => {
    const t = tracker();
    start(t, 10, 100);
    expect(t.process(103)).toMatchObject({ routine: 'START^MONITOR', instance: 'IRIS', comm: 'irisdb' });
    expect(t.process(104)).toMatchObject({ routine: undefined, instance: 'IRIS', program: 'httpd', installDir: '/usr/irissys' });
  });
});

describe('the /proc scan', () => {
  const details = (table: Record<number, ProcessDetails>) => (pid: number) => table[pid];

  test('an instance running before the agent is up, but not counted as a start', () => {
    const t = tracker([], 100);
    const listing: ScannedProcess[] = [
      { pid: 1, ppid: 0, comm: 'systemd', startTime: 0 },
      { pid: 50, ppid: 1, comm: 'irisdb', startTime: 40 },
      { pid: 60, ppid: 1, comm: 'irisdb', startTime: 41 },
      { pid: 61, ppid: 60, comm: 'httpd', startTime: 42 },
    ];
    t.scan(listing, 100, details({
      50: { argv: CONTROL_ARGV, executable: IRISDB },
      60: { argv: job('START^MONITOR'), executable: IRISDB },
      61: { argv: ['httpd', '-f', 'x'], executable: '/usr/irissys/httpd/bin/httpd' },
    }));
    expect(t.instance('IRIS')).toMatchObject({ up: true, starts: 0, lastTransition: 40, installDir: '/usr/irissys' });
    expect(t.process(61)!.instance).toBe('IRIS');
    expect(t.process(1)).toBeUndefined();
  });

  test('a control exit missed by the tracer is repaired by the next scan; a later owner of the pid is not the control', () => {
    const t = tracker();
    start(t, 10, 100);
    t.scan([{ pid: 101, ppid: 100, comm: 'irisdb', startTime: 10.1 }, { pid: 103, ppid: 102, comm: 'irisdb', startTime: 10.3 }], 12, () => undefined);
    expect(t.instance('IRIS')!.up).toBe(true);
    // pid 101 now belongs to a process that started at 30: the control is gone.
    t.scan([{ pid: 101, ppid: 1, comm: 'bash', startTime: 30 }], 31, () => undefined);
    expect(t.instance('IRIS')).toMatchObject({ up: false, unexpectedExits: 1, lastTransition: 31 });
  });

  test('a missed control exit during an irisstop is still a stop', () => {
    const t = tracker();
    start(t, 10, 100);
    t.scan([{ pid: 101, ppid: 100, comm: 'irisdb', startTime: 10.1 }], 15, () => undefined);
    exec(t, 20, 200, 1, ['irisstop', 'quietly'], '/usr/irissys/bin/irisstop');
    exec(t, 20.1, 201, 200, ['./irisdb', `-s${MGR}/`, '-cV'], IRISDB);
    t.exit({ time: 20.2, pid: 201, status: 0 });
    t.exit({ time: 21, pid: 200, status: 0 }); // the control's exit at ~20.5 was lost
    t.scan([], 25, () => undefined);
    expect(t.instance('IRIS')).toMatchObject({ up: false, stops: 1, unexpectedExits: 0 });
  });

  test('a scan adds a control process whose exec was missed and counts it as a start', () => {
    const transitions: InstanceTransition[] = [];
    const t = tracker(transitions, 0);
    t.scan([{ pid: 900, ppid: 1, comm: 'irisdb', startTime: 5 }], 6, details({ 900: { argv: CONTROL_ARGV, executable: IRISDB } }));
    expect(t.instance('IRIS')).toMatchObject({ up: true, starts: 1 });
    t.scan([{ pid: 900, ppid: 1, comm: 'irisdb', startTime: 5 }], 16, () => undefined);
    expect(transitions).toHaveLength(1);
  });
});

/**
 * Recorded with fixtures/agent/record-sequences.sh (bpftrace's exec snooper, simulated IRIS): start A, stop A,
 * start A, restart A, force A, start A, start B, force B, stop A.
 */
describe('a recorded sequence of the simulated IRIS', () => {
  const lines = readFileSync(join(REPO_ROOT, 'fixtures/agent/start-stop-force.snoop'), 'utf8').split('\n');
  const events = lines.map(parseSnoopLine).filter((line) => line.kind === 'exec' || line.kind === 'exit');
  const feed = (t: InstanceTracker, event: (typeof events)[number]): void => {
    if (event.kind === 'exec') t.exec(event.exec);
    else if (event.kind === 'exit') t.exit(event.exit);
  };
  const isExecOf = (event: (typeof events)[number], ...argv: string[]): boolean =>
    event.kind === 'exec' && argv.every((argument, index) => event.exec.argv[index + 1] === argument) && event.exec.comm === 'iris';

  test('every start, stop, restart and crash of both instances is seen, in order', () => {
    const transitions: InstanceTransition[] = [];
    const t = tracker(transitions);
    for (const event of events) feed(t, event);
    const kinds = (name: string): string[] => transitions.filter((x) => x.instance === name).map((x) => x.kind);
    expect(kinds('A')).toEqual(['up', 'stop', 'up', 'stop', 'up', 'unexpected-exit', 'up', 'stop']);
    expect(kinds('B')).toEqual(['up', 'unexpected-exit']);
    expect(t.instance('A')).toMatchObject({ up: false, starts: 4, stops: 3, unexpectedExits: 1, managerDir: '/tmp/irisflame-agent-fixture/data/A/mgr' });
    expect(t.instance('B')).toMatchObject({ up: false, starts: 1, stops: 0, unexpectedExits: 1 });
    // Everything of both instances has exited: nothing is left tracked.
    expect(t.trackedProcessCount).toBe(0);
  });

  test('while up, the instance has its control process, resident jobs and httpd (reparented before its exec)', () => {
    const t = tracker();
    const firstStop = events.findIndex((event) => isExecOf(event, 'stop', 'A'));
    for (const event of events.slice(0, firstStop)) feed(t, event);
    const counts = Object.fromEntries(t.processCounts().get('A')!);
    expect(counts).toMatchObject({ irisdb: 9, httpd: 1, iris: 0 });
    const state = t.instance('A')!;
    // `iris start A` exec to the exit of QUIET^STU, and irisstop's lifetime: both a fraction of a second to seconds.
    expect(state.lastStartDurationSeconds).toBeGreaterThan(0.1);
    expect(state.lastStartDurationSeconds).toBeLessThan(30);
  });

  test('the stop duration is irisstop\'s lifetime', () => {
    const t = tracker();
    const stopper = events.find((event) => event.kind === 'exec' && event.exec.comm === 'irisstop');
    const exec = stopper!.kind === 'exec' ? stopper!.exec : undefined;
    const exit = events.find((event) => event.kind === 'exit' && event.exit.pid === exec!.pid);
    const firstRestart = events.findIndex((event) => isExecOf(event, 'restart', 'A'));
    for (const event of events.slice(0, firstRestart)) feed(t, event);
    expect(t.instance('A')!.lastStopDurationSeconds).toBeCloseTo((exit as { exit: { time: number } }).exit.time - exec!.time, 6);
  });

  test('with the control process\'s exit lost, a scan after the stop still calls it a stop', () => {
    const t = tracker();
    const firstStart = events.findIndex((event) => isExecOf(event, 'start', 'A'));
    const secondStart = events.findIndex((event, index) => index > firstStart && isExecOf(event, 'start', 'A'));
    const control = events.find((event) => event.kind === 'exec' && event.exec.argv.includes('-cc'));
    const controlPid = control!.kind === 'exec' ? control!.exec.pid : -1;
    const before = events.slice(0, secondStart);
    for (const event of before) if (!(event.kind === 'exit' && event.exit.pid === controlPid)) feed(t, event);
    expect(t.instance('A')!.up).toBe(true);
    t.scan(liveAfter(before), 10_000, () => undefined);
    expect(t.instance('A')).toMatchObject({ up: false, stops: 1, unexpectedExits: 0 });
  });
});

/** What /proc would have listed after these events: execs without an exit. */
function liveAfter(events: readonly ReturnType<typeof parseSnoopLine>[]): ScannedProcess[] {
  const live = new Map<number, ScannedProcess>();
  for (const event of events) {
    if (event.kind === 'exec') live.set(event.exec.pid, { pid: event.exec.pid, ppid: event.exec.ppid, comm: event.exec.comm, startTime: event.exec.time });
    else if (event.kind === 'exit') live.delete(event.exit.pid);
  }
  return [...live.values()];
}

describe('events read after a scan', () => {
  test('an exec event for a process a scan already found changes nothing (no second start, no exit)', () => {
    const transitions: InstanceTransition[] = [];
    const t = tracker(transitions, 0);
    t.scan([{ pid: 900, ppid: 1, comm: 'irisdb', startTime: 5 }], 5.05, (pid) => (pid === 900 ? { argv: CONTROL_ARGV, executable: IRISDB } : undefined));
    // The exec event (read in a batch) arrives after the scan; bpftrace's copy of argv may be cut short.
    exec(t, 5.001, 900, 1, [...CONTROL_ARGV.slice(0, 5), CONTROL_ARGV[5]!.slice(0, 10)], IRISDB);
    expect(t.instance('IRIS')).toMatchObject({ up: true, starts: 1, unexpectedExits: 0 });
    expect(transitions).toHaveLength(1);
  });
});
