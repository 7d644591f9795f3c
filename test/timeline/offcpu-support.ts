/**
 * A hand-made off-CPU capture for the simulated restart fixture (fixtures/timeline/perf/simulated-restart.txt.gz):
 * blocked intervals, CPU waits and file events placed on its real process lifetimes the way the simulated IRIS
 * waits (iris and irisstop in wait4 for their children, irisrecov and iriswdimj on the disk, QUIET^STU on a lock
 * then on its last daemon, daemons sleeping, httpd polling). Its critical path is known by construction
 * (`EXPECTED_PATH`), and the tests count its totals from these lists, not from the page.
 */
import type { BlockedInterval, BlockReason, CpuWait, FileEvent, OffCpuCapture } from '../../src/kernel/offcpu-events.js';
import type { ProcessLifetime, Timeline } from '../../src/timeline/model.js';

const KERNEL: Record<BlockReason, string[]> = {
  child: ['entry_SYSCALL_64', 'do_syscall_64', '__x64_sys_wait4', 'kernel_wait4', 'do_wait', 'schedule'],
  disk: ['entry_SYSCALL_64', 'do_syscall_64', '__x64_sys_pread64', 'ext4_file_read_iter', 'iomap_dio_rw', 'io_schedule'],
  lock: ['entry_SYSCALL_64', 'do_syscall_64', '__x64_sys_futex', 'futex_wait', 'futex_do_wait', 'schedule'],
  sleep: ['entry_SYSCALL_64', 'do_syscall_64', '__x64_sys_clock_nanosleep', 'hrtimer_nanosleep', 'do_nanosleep', 'schedule'],
  io: ['entry_SYSCALL_64', 'do_syscall_64', '__x64_sys_read', 'pipe_read', 'schedule'],
  poll: ['entry_SYSCALL_64', 'do_syscall_64', '__x64_sys_poll', 'do_sys_poll', 'schedule_hrtimeout_range'],
  other: ['schedule'],
};
const SYSCALL: Record<BlockReason, number> = { child: 61, disk: 17, lock: 202, sleep: 230, io: 0, poll: 7, other: -1 };

function block(lane: ProcessLifetime, start: number, end: number, reason: BlockReason, user: string[] = ['main']): BlockedInterval {
  return {
    start, duration: end - start, pid: lane.pid, tid: lane.pid, comm: lane.comm, state: reason === 'disk' ? 'D' : 'S',
    syscall: SYSCALL[reason], reason, kernelStack: KERNEL[reason], userStack: user,
  };
}

function file(lane: ProcessLifetime, time: number, call: string, path: string, errno?: string): FileEvent {
  return { time, pid: lane.pid, tid: lane.pid, call, path, result: errno ? -2 : call.startsWith('open') ? 3 : 0, errno };
}

export interface HandMade {
  capture: OffCpuCapture;
  /** Labels of the lanes on the critical path, in time order (consecutive repeats merged). */
  expectedChain: string[];
}

/** Adds the hand-made capture to a timeline of the restart fixture (mutates and returns it). */
export function addHandMadeOffCpu(timeline: Timeline): HandMade {
  const lane = (label: string): ProcessLifetime => {
    const found = timeline.processes.find((p) => p.label === label);
    if (!found) throw new Error(`no lane ${label}`);
    return found;
  };
  const childrenOf = (parent: ProcessLifetime) => timeline.processes.filter((p) => p.parent === parent.index);
  const blocked: BlockedInterval[] = [];
  const files: FileEvent[] = [];
  const mgr = '/tmp/irisflame-simulated-iris/usr/irissys/mgr';

  const iris = lane('iris restart IRIS');
  const irisstop = lane('irisstop quietly restart');
  blocked.push(block(iris, irisstop.start + 0.002, irisstop.end! + 0.0003, 'child', ['main', 'RunIrisstop']));
  for (const parent of [irisstop, lane('sh -c irisdb OPT^SHUTDOWN(1)')]) {
    for (const child of childrenOf(parent)) blocked.push(block(parent, child.start + 0.001, child.end! + 0.0002, 'child'));
  }
  files.push(file(irisstop, irisstop.start + 0.001, 'openat', '/tmp/irisflame-simulated-iris/usr/irissys/iris.cpf'));
  files.push(file(irisstop, irisstop.start + 0.0012, 'openat', '/lib/x86_64-linux-gnu/libc.so.6'));

  const recov = lane('irisrecov quietly');
  files.push(file(recov, recov.start + 0.005, 'openat', `${mgr}/journal.log`));
  files.push(file(recov, recov.start + 0.009, 'openat', `${mgr}/journal/20261130.001`));
  blocked.push(block(recov, recov.start + 0.01, recov.start + 0.06, 'disk', ['main', 'JournalApply']));
  blocked.push(block(recov, recov.start + 0.07, recov.start + 0.1, 'disk', ['main', 'JournalApply']));
  files.push(file(recov, recov.start + 0.101, 'newfstatat', `${mgr}/journal/20261130.002`, 'ENOENT'));
  for (const child of childrenOf(recov)) blocked.push(block(recov, child.start + 0.001, child.end! + 0.0002, 'child'));
  const wijT = lane('iriswdimj -t');
  files.push(file(wijT, wijT.start + 0.004, 'openat', `${mgr}/IRIS.WIJ`));
  blocked.push(block(wijT, wijT.start + 0.005, wijT.start + 0.035, 'disk', ['main', 'WijRecoveryScan']));
  const wijJ = lane('iriswdimj -j …');
  files.push(file(wijJ, wijJ.start + 0.003, 'openat', `${mgr}/journal/20261130.001`));
  blocked.push(block(wijJ, wijJ.start + 0.004, wijJ.start + 0.044, 'disk', ['main', 'WijJournalRestore']));

  const stu = lane('irisdb QUIET^STU');
  files.push(file(stu, stu.start + 0.002, 'openat', `${mgr}/IRIS.DAT`));
  files.push(file(stu, stu.start + 0.003, 'access', `${mgr}/iris.lck`, 'ENOENT'));
  files.push(file(stu, stu.start + 0.004, 'openat', `${mgr}/user/IRIS.DAT`));
  blocked.push(block(stu, stu.start + 0.01, stu.start + 0.03, 'lock', ['main', 'StartupLoadDatabases']));
  const daemons = childrenOf(stu);
  const last = daemons.reduce((a, b) => (b.end! > a.end! ? b : a));
  blocked.push(block(stu, last.end! - 0.05, last.end! + 0.0002, 'child'));
  for (const daemon of daemons) {
    if (daemon.label.startsWith('httpd')) {
      blocked.push(block(daemon, daemon.start + 0.02, daemon.start + 0.12, 'poll', ['main', 'HttpdServe']));
      continue;
    }
    const middle = (daemon.start + daemon.end!) / 2;
    blocked.push(block(daemon, middle - 0.04, middle + 0.04, 'sleep', ['main', 'DaemonLoop']));
    files.push(file(daemon, daemon.start + 0.001, 'openat', `${mgr}/messages.log`));
  }

  const cpuWaits: CpuWait[] = [
    { pid: stu.pid, tid: stu.pid, total: 0.021, count: 40, long: [{ start: stu.start + 0.05, duration: 0.012 }] },
    { pid: recov.pid, tid: recov.pid, total: 0.004, count: 9, long: [] },
  ];
  const capture: OffCpuCapture = { blocked, cpuWaits, files, lost: 0, offCpuUnavailable: undefined, filesUnavailable: undefined };
  timeline.offCpu = capture;
  const expectedChain = [
    'iris restart IRIS', 'irisstop quietly restart', 'irisdb -cV', 'irisstop quietly restart',
    'sh -c irisdb OPT^SHUTDOWN(1)', 'irisdb OPT^SHUTDOWN(1)', 'sh -c irisdb OPT^SHUTDOWN(1)', 'irisstop quietly restart',
    'irisdb -cL', 'irisstop quietly restart', 'irisrecov quietly', 'iriswdimj -t', 'irisrecov quietly', 'iriswdimj -j …',
    'irisrecov quietly', 'irisstop quietly restart', 'irisdb QUIET^STU', last.label, 'irisdb QUIET^STU',
    'irisstop quietly restart', 'iris restart IRIS',
  ];
  return { capture, expectedChain };
}
