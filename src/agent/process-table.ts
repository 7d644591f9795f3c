/**
 * The processes the agent keeps: IRIS's own programs and their descendants, nothing else, so a storm of
 * unrelated short-lived processes costs a map lookup each and no memory. Keyed by pid; each entry also
 * carries when it began (exec time, and the kernel's start time when it could be read), which is how a
 * reused pid is told from the process that had it before.
 */
import { managerDirOf, parseControlProcess, instanceOfIrisCommand, installDirOf, type ControlProcessArgs } from '../iris/instance-argv.js';
import { labelProcess, programName } from '../iris/lifecycle.js';
import { IRIS_PROCESS_NAMES } from '../iris/processes.js';

/** An exec as the tracker takes it: the snooper's event, or a process found by the /proc scan. */
export interface ProcessExec {
  /** Seconds, CLOCK_MONOTONIC (bpftrace's `nsecs`; scan times are converted to it). */
  time: number;
  pid: number;
  ppid: number;
  comm: string;
  argv: readonly string[];
  /** The kernel's start time of the process (fork time), monotonic seconds, when known. */
  startTime?: number;
  /** The executable's path (/proc/PID/exe), when known. */
  executable?: string;
}

export interface TrackedProcess {
  pid: number;
  ppid: number;
  comm: string;
  /** Basename of argv[0], or comm when argv is empty. */
  program: string;
  routine: string | undefined;
  execTime: number;
  startTime: number | undefined;
  /** When it was last known alive: its exec, then each scan that found it. */
  confirmedAt: number;
  installDir: string | undefined;
  managerDir: string | undefined;
  /** Absolute paths among its arguments (`httpd -f /data/IRIS/httpd/conf/httpd.conf`), argv[0] excepted. */
  pathArguments: string[];
  control: ControlProcessArgs | undefined;
  /** The instance an `iris VERB NAME` command names. */
  namedInstance: string | undefined;
  /** The instance it was attributed to, once known. */
  instance: string | undefined;
  /** `irisstop` (without `force`): its presence makes a control process's exit a stop. */
  isStopper: boolean;
  /** argv, as reported (kept to match a late exec event against a process a scan found first). */
  argv: readonly string[];
  /** Added by a /proc scan and not yet confirmed by its exec event. */
  foundByScan: boolean;
}

/** IRIS programs whose comm is a bounded label value; other descendants count as `other`. */
const LABELLED_PROGRAMS: ReadonlySet<string> = new Set([...IRIS_PROCESS_NAMES, 'httpd']);

export function processLabel(program: string): string {
  return LABELLED_PROGRAMS.has(program) ? program : 'other';
}

/** True for processes the agent tracks on their own (not through a tracked parent). */
export function isIrisProgram(comm: string, argv: readonly string[]): boolean {
  if (IRIS_PROCESS_NAMES.has(comm)) return true;
  return argv.length > 0 && IRIS_PROCESS_NAMES.has(programName(argv[0]!));
}

export function describeExec(exec: ProcessExec): TrackedProcess {
  const argv = exec.argv;
  const label = labelProcess(argv.length === 0 ? undefined : argv, exec.comm);
  const program = argv.length === 0 || argv[0] === '' ? exec.comm : programName(argv[0]!);
  const executable = exec.executable ?? (argv[0]?.startsWith('/') ? argv[0] : undefined);
  return {
    pid: exec.pid,
    ppid: exec.ppid,
    comm: exec.comm,
    program,
    routine: label.routine,
    execTime: exec.time,
    startTime: exec.startTime,
    confirmedAt: exec.time,
    installDir: executable === undefined ? undefined : installDirOf(executable.replace(/\/httpd\/bin\/httpd$/, '/bin/httpd')),
    managerDir: managerDirOf(argv),
    pathArguments: argv.slice(1, MAX_ARGUMENTS_KEPT).filter((argument) => argument.startsWith('/')),
    control: parseControlProcess(argv),
    namedInstance: instanceOfIrisCommand(argv),
    instance: undefined,
    isStopper: program === 'irisstop' && !argv.includes('force'),
    argv,
    foundByScan: false,
  };
}

/** Arguments looked at for paths: IRIS's own command lines are short. */
const MAX_ARGUMENTS_KEPT = 16;

/** Exits remembered to catch an exec reported after its own exit (per-CPU buffers are not ordered). */
const RECENT_EXITS = 4096;

export class ProcessTable {
  private readonly byPid = new Map<number, TrackedProcess>();
  private readonly recentExits = new Map<number, number>();

  get size(): number {
    return this.byPid.size;
  }

  get(pid: number): TrackedProcess | undefined {
    return this.byPid.get(pid);
  }

  has(pid: number): boolean {
    return this.byPid.has(pid);
  }

  set(process: TrackedProcess): void {
    this.byPid.set(process.pid, process);
  }

  delete(pid: number): void {
    this.byPid.delete(pid);
  }

  values(): IterableIterator<TrackedProcess> {
    return this.byPid.values();
  }

  /** Remember an exit of any pid (tracked or not), bounded. */
  noteExit(pid: number, time: number): void {
    this.recentExits.delete(pid);
    this.recentExits.set(pid, time);
    if (this.recentExits.size > RECENT_EXITS) this.recentExits.delete(this.recentExits.keys().next().value!);
  }

  /** When `pid` exited at or after `time`, if an exit was seen: its exec arrived late. */
  exitedSince(pid: number, time: number): number | undefined {
    const exit = this.recentExits.get(pid);
    return exit !== undefined && exit >= time ? exit : undefined;
  }

  /** The process and its tracked ancestors, nearest first (bounded against ppid cycles from reused pids). */
  *ancestry(process: TrackedProcess): Generator<TrackedProcess> {
    let current: TrackedProcess | undefined = process;
    for (let depth = 0; current !== undefined && depth < 64; depth++) {
      yield current;
      if (current.ppid === current.pid) return;
      const parent = this.byPid.get(current.ppid);
      // A parent that began after its child is a later process that reused the pid.
      current = parent !== undefined && parent.execTime <= current.execTime ? parent : undefined;
    }
  }
}
