/**
 * The simulated IRIS (examples/simulated-iris) as a running instance: `iris start NAME` leaves a control
 * process and resident jobs up until `iris stop NAME`; `iris force NAME` or kill -9 of the control process
 * is a crash after which the other processes go too; two instances run side by side. Real processes,
 * built with gcc into a temporary root; everything is stopped and removed in afterAll.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { reportSkip } from '../support/references.js';
import { findExecutable } from '../../src/tools/executables.js';
import {
  installSimulatedIrisRoot, processesUnder, removeSimulatedIris, simulatedIrisReason, waitUntil,
  type LiveProcess, type SimulatedIris,
} from '../support/simulated-iris.js';

const RESIDENT_ROUTINES = ['START^MONITOR', 'START^CLNDMN', '^RECEIVE', 'SCAN^JRNZIP', 'Master^%SYS.SERVER',
  'RunManager^%SYS.Task', 'Daemon^LOGDMN', 'startWork^%SYS.WorkQueueMgr'];

const skip = reportSkip('simulated IRIS instance', simulatedIrisReason());
const noStrace = !skip && reportSkip('simulated IRIS waits (strace)', findExecutable('strace') === undefined ? 'strace is not installed' : undefined);

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

  describe('waits as a real start and stop has them', () => {
    let traces = 0;
    /** strace -f of a command that ends (no resident process among its descendants): the trace lines. */
    function strace(calls: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): string[] {
      const out = join(sim!.root, `strace-${++traces}.txt`); // removed with the root in afterAll
      execFileSync('strace', ['-f', '-qq', '-e', `trace=${calls}`, '-o', out, command, ...args], {
        env: { ...process.env, IRISSIM_MS: '50', IRISSIM_MGR: `${sim!.dataDir('IRIS')}/mgr/`, ...env }, stdio: 'ignore',
      });
      return readFileSync(out, 'utf8').split('\n');
    }

    test.skipIf(noStrace)('recovery reads the WIJ and the journal files with O_DIRECT, 8 KB a read, and writes with O_DSYNC', () => {
      const mgr = `${sim!.dataDir('IRIS')}/mgr/`;
      const lines = strace('openat,read', join(sim!.installDir, 'bin', 'irisrecov'), [mgr, 'quietly']);
      for (const file of ['IRIS.WIJ', 'journal/20261130.001', 'journal/20261130.002']) {
        expect(lines.some((line) => line.includes(`"${mgr}${file}", O_RDONLY|O_DIRECT`))).toBe(true);
      }
      expect(lines.some((line) => line.includes(`"${mgr}IRIS.DAT", O_WRONLY|O_CREAT|O_DSYNC|O_DIRECT`))).toBe(true);
      // 2 MB of WIJ and 2 x 1 MB of journal, block by block
      expect(lines.filter((line) => /read\(\d+, .*, 8192\) = 8192$/.test(line)).length).toBeGreaterThanOrEqual(512);
      expect(lines.some((line) => line.includes(`"${sim!.dataDir('IRIS')}/iris.cpf", O_RDONLY`))).toBe(true);
    });

    test.skipIf(noStrace)('where O_DIRECT is refused, reads drop the cache first and writes are each followed by fdatasync', () => {
      const mgr = `${sim!.dataDir('IRIS')}/mgr/`;
      const lines = strace('openat,fadvise64,fdatasync', join(sim!.installDir, 'bin', 'irisrecov'), [mgr, 'quietly'],
        { IRISSIM_NO_DIRECT: '1' });
      expect(lines.some((line) => line.includes('O_DIRECT'))).toBe(false);
      expect(lines.some((line) => line.includes(`"${mgr}IRIS.WIJ", O_RDONLY|O_CLOEXEC`))).toBe(true);
      expect(lines.filter((line) => line.includes('POSIX_FADV_DONTNEED')).length).toBeGreaterThanOrEqual(3);
      expect(lines.filter((line) => / fdatasync\(/.test(line)).length).toBeGreaterThanOrEqual(16);
    });

    test.skipIf(noStrace)('irisstop waits for each child in wait4; -cV reads the CPF; -cL looks up a license key that is not there', () => {
      const lines = strace('execve,openat,newfstatat,wait4', join(sim!.installDir, 'bin', 'iris'), ['stop', 'IRIS']);
      // strace -f -o: "PID  call(...)", the pid padded with spaces
      const irisstop = /^(\d+)\s+execve\("[^"]*\/irisstop"/m.exec(lines.join('\n'))![1];
      expect(lines.filter((line) => new RegExp(`^${irisstop}\\s+wait4\\(`).test(line)).length).toBeGreaterThanOrEqual(3);
      expect(lines.some((line) => line.includes(`"${sim!.dataDir('IRIS')}/iris.cpf", O_RDONLY`))).toBe(true);
      expect(lines.some((line) => /newfstatat\(AT_FDCWD, "[^"]*\/mgr\/iris\.key", .*= -1 ENOENT/.test(line))).toBe(true);
    });

    test('at start SCAN^JRNZIP waits in futex for the lock START^CLNDMN holds; daemons sleep in clock_nanosleep', async () => {
      const data = sim!.dataDir('IRIS');
      sim!.iris(['start', 'IRIS']);
      const log = readFileSync(join(data, 'mgr', 'messages.log'), 'utf8');
      const waits = [...log.matchAll(/SCAN\^JRNZIP took the instance lock after waiting (\d+) ms/g)];
      expect(Number(waits.at(-1)?.[1])).toBeGreaterThan(0);
      const CLOCK_NANOSLEEP = '230';
      const sleeping = () => processesUnder(data).some((p) => {
        try { return readFileSync(`/proc/${p.pid}/syscall`, 'utf8').split(' ')[0] === CLOCK_NANOSLEEP; } catch { return false; }
      });
      expect(await waitUntil(sleeping)).toBe(true);
      sim!.iris(['stop', 'IRIS']);
    });
  });
});
