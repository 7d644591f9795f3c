/**
 * The simulated IRIS (examples/simulated-iris) as a running instance: `iris start NAME` leaves a control
 * process and resident jobs up until `iris stop NAME`; `iris force NAME` or kill -9 of the control process
 * is a crash after which the other processes go too; two instances run side by side. Real processes,
 * built with gcc into a temporary root; everything is stopped and removed in afterAll.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { reportSkip } from '../support/references.js';
import {
  installSimulatedIrisRoot, processesUnder, removeSimulatedIris, simulatedIrisReason, waitUntil,
  type LiveProcess, type SimulatedIris,
} from '../support/simulated-iris.js';

const RESIDENT_ROUTINES = ['START^MONITOR', 'START^CLNDMN', '^RECEIVE', 'SCAN^JRNZIP', 'Master^%SYS.SERVER',
  'RunManager^%SYS.Task', 'Daemon^LOGDMN', 'startWork^%SYS.WorkQueueMgr'];

const skip = reportSkip('simulated IRIS instance', simulatedIrisReason());

function controlOf(processes: LiveProcess[]): LiveProcess | undefined {
  return processes.find((p) => p.argv.includes('-cc'));
}

describe.skipIf(skip)('simulated IRIS: an instance that stays running', () => {
  let sim: SimulatedIris | undefined;
  beforeAll(() => {
    sim = installSimulatedIrisRoot();
  });
  afterAll(() => removeSimulatedIris(sim));

  test('iris start NAME leaves the control process, exec\'d as IRIS does, and the resident jobs and httpd', () => {
    const data = sim!.dataDir('IRIS');
    sim!.iris(['start', 'IRIS']);
    const processes = processesUnder(data);
    const control = controlOf(processes);
    expect(control).toBeDefined();
    const cmdline = readFileSync(`/proc/${control!.pid}/cmdline`, 'utf8');
    expect(cmdline.split('\0').slice(0, -1)).toEqual(
      ['./irisdb', `-s${data}/mgr/`, `-w${data}/mgr/`, '-cc', '-B', `-C${data}/iris.cpf*IRIS`]);
    expect(control!.exe).toBe(join(sim!.installDir, 'bin', 'irisdb'));

    const jobs = processes.filter((p) => p.argv.includes('-cj'));
    expect(jobs.map((job) => job.argv.at(-1)).sort()).toEqual([...RESIDENT_ROUTINES].sort());
    for (const job of jobs) {
      expect(job.argv.slice(0, 4)).toEqual([join(sim!.installDir, 'bin', 'irisdb'), `-s${data}/mgr`, '-cj', '-p13']);
      // Real IRIS jobs are started by the startup process (QUIET^STU), not by the control process.
      expect(job.ppid).not.toBe(control!.pid);
    }
    expect(processes.some((p) => p.exe === join(sim!.installDir, 'httpd', 'bin', 'httpd'))).toBe(true);
    // The startup process and the transient jobs are done once `iris start` returns.
    expect(processes.filter((p) => p.argv.includes('QUIET^STU') || p.argv.includes('SERVERS^STU1'))).toEqual([]);
    expect(readFileSync(join(data, 'mgr', 'irissim.pids'), 'utf8')).toMatch(new RegExp(`^${control!.pid} control\n`));
    expect(sim!.iris(['status', 'IRIS'])).toMatch(/simulated IRIS[\s\S]*status: +running, control process \d+/);
  });

  test('iris stop NAME returns once every process of the instance has exited', () => {
    sim!.iris(['start', 'IRIS']); // already running: says so and leaves it
    expect(controlOf(processesUnder(sim!.dataDir('IRIS')))).toBeDefined();
    sim!.iris(['stop', 'IRIS']);
    expect(processesUnder(sim!.dataDir('IRIS'))).toEqual([]);
    expect(() => sim!.iris(['status', 'IRIS'])).toThrow(); // status exits 1 while down
  });

  test('iris restart NAME stops a running instance and starts it again', () => {
    sim!.iris(['start', 'IRIS']);
    const before = controlOf(processesUnder(sim!.dataDir('IRIS')))!.pid;
    sim!.iris(['restart', 'IRIS']);
    const after = processesUnder(sim!.dataDir('IRIS'));
    expect(controlOf(after)?.pid).toBeDefined();
    expect(controlOf(after)!.pid).not.toBe(before);
    expect(after.filter((p) => p.argv.includes('-cj'))).toHaveLength(RESIDENT_ROUTINES.length);
    sim!.iris(['stop', 'IRIS']);
  });

  test('iris force NAME kills the control process without irisstop; the others follow', async () => {
    const data = sim!.dataDir('IRIS');
    sim!.iris(['start', 'IRIS']);
    const control = controlOf(processesUnder(data))!.pid;
    sim!.iris(['force', 'IRIS']);
    expect(processesUnder(data).some((p) => p.pid === control)).toBe(false);
    expect(await waitUntil(() => processesUnder(data).length === 0)).toBe(true);
  });

  test('kill -9 of the control process: the jobs and httpd notice and exit by themselves', async () => {
    const data = sim!.dataDir('IRIS');
    sim!.iris(['start', 'IRIS']);
    const processes = processesUnder(data);
    expect(processes.length).toBeGreaterThan(RESIDENT_ROUTINES.length);
    process.kill(controlOf(processes)!.pid, 'SIGKILL');
    expect(await waitUntil(() => processesUnder(data).length === 0)).toBe(true);
    const log = readFileSync(join(data, 'mgr', 'messages.log'), 'utf8');
    expect(log).toContain('the control process is gone, exiting');
  });

  test('two instances side by side, each in its own data dir; stopping one leaves the other running', () => {
    sim!.iris(['start', 'IRIS']);
    sim!.iris(['start', 'TWO']);
    const one = processesUnder(sim!.dataDir('IRIS'));
    const two = processesUnder(sim!.dataDir('TWO'));
    expect(controlOf(two)!.argv.at(-1)).toBe(`-C${sim!.dataDir('TWO')}/iris.cpf*TWO`);
    expect(two.filter((p) => p.argv.includes('-cj'))).toHaveLength(RESIDENT_ROUTINES.length);
    expect(one.map((p) => p.pid).filter((pid) => two.some((q) => q.pid === pid))).toEqual([]);
    expect(sim!.iris(['list'])).toMatch(/Configuration 'IRIS'[\s\S]*Configuration 'TWO'/);

    sim!.iris(['stop', 'TWO']);
    expect(processesUnder(sim!.dataDir('TWO'))).toEqual([]);
    expect(processesUnder(sim!.dataDir('IRIS')).map((p) => p.pid).sort()).toEqual(one.map((p) => p.pid).sort());
    sim!.iris(['stop', 'IRIS']);
    expect(processesUnder(sim!.root)).toEqual([]);
  });

  test('a bad instance name is refused with one line', () => {
    expect(() => sim!.iris(['start', '../x'])).toThrow(/bad instance name/);
  });
});
