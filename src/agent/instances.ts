/**
 * IRIS instances and their status, from exec/exit events and /proc scans. Pure logic: events in, state
 * out; the caller (agent.ts) reads the kernel and /proc, tests feed recorded and hand-made sequences.
 *
 * - An instance is up while its control process lives (`irisdb … -cc … -C<cpf>*NAME`, see
 *   src/iris/instance-argv.ts). Its exit takes the status to 0 at once; it is a *stop* when an
 *   `irisstop` of that instance ran at that moment, otherwise an *unexpected exit*.
 * - Every other IRIS process is attributed to an instance: by the control process it is, the instance an
 *   `iris VERB NAME` command names, its manager dir (`-s`), its tracked ancestors, or (for `irisstop`,
 *   whose argv names nothing) the first child that names a manager dir; last, by install dir.
 * - Start duration: from the exec of the first process attributed to the instance while it was down to
 *   the exit of the startup process (`…^STU`), which ends once it has started the system jobs. A start
 *   sequence whose processes all exit without bringing the control process up is forgotten.
 *   Stop duration: the lifetime of the `irisstop` whose run made the exit a stop.
 * - A scan (/proc) repairs missed events: tracked processes that are gone (or whose pid now belongs to a
 *   process that started later) end at the scan's time; untracked IRIS processes are added.
 */
import { posix } from 'node:path';
import { isStartupRoutine, normaliseDir } from '../iris/instance-argv.js';
import { isUnderDir } from '../iris/processes.js';
import { ProcessTable, describeExec, isIrisProgram, processLabel, type ProcessExec, type TrackedProcess } from './process-table.js';

export interface ProcessExit {
  time: number;
  pid: number;
  /** wait(2) status. */
  status: number;
}

/** One process of a /proc scan: what /proc/PID/stat says; argv and executable are read on demand. */
export interface ScannedProcess {
  pid: number;
  ppid: number;
  comm: string;
  /** Kernel start time, monotonic seconds. */
  startTime: number;
}

export interface ProcessDetails {
  argv: readonly string[];
  executable: string | undefined;
}

export interface InstanceState {
  name: string;
  installDir: string | undefined;
  managerDir: string | undefined;
  up: boolean;
  controlPid: number | undefined;
  starts: number;
  stops: number;
  unexpectedExits: number;
  /** Monotonic seconds of the last up/down change (or when first seen up). */
  lastTransition: number | undefined;
  lastStartDurationSeconds: number | undefined;
  lastStopDurationSeconds: number | undefined;
  /** Program labels its processes have had: their series read 0, not absent, once they are gone. */
  programs: Set<string>;
}

export type InstanceTransition = { instance: string; time: number } & (
  | { kind: 'up'; counted: boolean }
  | { kind: 'stop' | 'unexpected-exit'; repaired: boolean }
);

/** Two clocks read by different means (bpftrace's nsecs, /proc's 10 ms ticks) agree within this. */
const CLOCK_SLACK_SECONDS = 0.05;

export interface InstanceTrackerOptions {
  /** Monotonic seconds at which the agent began watching: control processes older than that are not starts. */
  watchingSince?: number;
  onTransition?: (transition: InstanceTransition) => void;
}

export class InstanceTracker {
  private readonly processes = new ProcessTable();
  private readonly instances = new Map<string, InstanceState>();
  /** Per instance name: when its current start sequence began (only while it is down). */
  private readonly startBegan = new Map<string, number>();
  /** Per instance name: stoppers seen, to judge a control exit noticed late by a scan. */
  private readonly lastStopperEnd = new Map<string, { exec: number; exit: number }>();
  /** Instances whose last stop's duration waits for its irisstop to exit. */
  private readonly pendingStopDuration = new Set<string>();
  private readonly watchingSince: number;
  private readonly onTransition: ((transition: InstanceTransition) => void) | undefined;

  constructor(options: InstanceTrackerOptions = {}) {
    this.watchingSince = options.watchingSince ?? Number.NEGATIVE_INFINITY;
    this.onTransition = options.onTransition;
  }

  /** An exec on the node. Returns true when the process is tracked (an IRIS process or a descendant). */
  exec(event: ProcessExec): boolean {
    const previous = this.processes.get(event.pid);
    // A scan found it before its exec event arrived (events are read in batches): the same image.
    if (previous?.foundByScan === true && event.time >= previous.execTime - CLOCK_SLACK_SECONDS && sameArgv(previous.argv, event.argv)) {
      previous.foundByScan = false;
      return true;
    }
    if (!this.wouldTrack(event)) {
      if (previous !== undefined) this.end(previous, event.time, false);
      return false;
    }
    // The pid's old image ends here: an exec in place, or a reuse after a missed exit.
    if (previous !== undefined) this.end(previous, event.time, false);
    const process = describeExec(event);
    this.processes.set(process);
    this.attribute(process);
    if (process.control !== undefined) this.controlUp(process, event.time >= this.watchingSince);
    // Reported after its own exit (events from different CPUs arrive out of order): end it now.
    const exitedAt = this.processes.exitedSince(event.pid, event.time);
    if (exitedAt !== undefined) this.end(process, exitedAt, false);
    return true;
  }

  /**
   * Worth tracking: an IRIS program, a program from a known instance's install dir (its httpd), a child
   * of a tracked process, or a tracked pid execing in place (`sh -c` running its command; a pid reused
   * by another parent's child is not).
   */
  wouldTrack(event: { pid: number; ppid: number; comm: string; argv: readonly string[]; executable?: string }): boolean {
    if (isIrisProgram(event.comm, event.argv) || this.processes.has(event.ppid)) return true;
    if (this.processes.get(event.pid)?.ppid === event.ppid) return true;
    const path = event.executable ?? event.argv[0];
    if (path === undefined || !path.startsWith('/')) return false;
    for (const state of this.instances.values()) if (state.installDir !== undefined && isUnderDir(path, state.installDir)) return true;
    return false;
  }

  exit(event: ProcessExit): void {
    this.processes.noteExit(event.pid, event.time);
    const process = this.processes.get(event.pid);
    if (process === undefined || process.execTime > event.time + CLOCK_SLACK_SECONDS) return;
    this.end(process, event.time, false);
  }

  /**
   * Reconcile with a full /proc listing taken at `time`: end what is gone, add what was missed.
   * `details` reads argv and executable of a process worth tracking (undefined when it is already gone).
   */
  scan(listing: readonly ScannedProcess[], time: number, details: (pid: number) => ProcessDetails | undefined): void {
    const live = new Map<number, ScannedProcess>();
    for (const entry of listing) live.set(entry.pid, entry);
    for (const process of [...this.processes.values()]) {
      const entry = live.get(process.pid);
      if (entry !== undefined && this.sameProcess(process, entry)) {
        process.startTime ??= entry.startTime;
        process.confirmedAt = time;
        continue;
      }
      this.end(process, time, true);
    }
    // Parents before children, so descendants of newly found IRIS processes are recognised.
    const missing = listing.filter((entry) => !this.processes.has(entry.pid)).sort((a, b) => a.startTime - b.startTime);
    const ignored = new Map<number, string>();
    for (const entry of missing) {
      // A process judged not IRIS's last time, still with the same start time and comm, is skipped
      // without reading its argv again (an exec changes the comm).
      const identity = `${entry.startTime}\t${entry.comm}`;
      if (this.ignoredByScan.get(entry.pid) === identity && !this.processes.has(entry.ppid)) {
        ignored.set(entry.pid, identity);
        continue;
      }
      const found = isIrisProgram(entry.comm, []) || this.processes.has(entry.ppid) || this.anyInstallDir() ? details(entry.pid) : undefined;
      if (found === undefined || !this.wouldTrack({ ...entry, argv: found.argv, executable: found.executable })) {
        ignored.set(entry.pid, identity);
        continue;
      }
      this.exec({ time: entry.startTime, pid: entry.pid, ppid: entry.ppid, comm: entry.comm, argv: found.argv, startTime: entry.startTime, executable: found.executable });
      const added = this.processes.get(entry.pid);
      if (added !== undefined) added.foundByScan = true;
    }
    this.ignoredByScan = ignored;
  }

  /** Untracked processes of the last scan (pid → start time and comm), bounded by the processes alive. */
  private ignoredByScan = new Map<number, string>();

  private anyInstallDir(): boolean {
    for (const state of this.instances.values()) if (state.installDir !== undefined) return true;
    return false;
  }

  /** Tracked processes right now (for tests and the agent's own gauge). */
  get trackedProcessCount(): number {
    return this.processes.size;
  }

  process(pid: number): TrackedProcess | undefined {
    return this.processes.get(pid);
  }

  /** Instances that have had a control process, in the order first seen. */
  instanceStates(): InstanceState[] {
    return [...this.instances.values()];
  }

  /** Live processes attributed to each instance, by program label (IRIS program names and `other`). */
  processCounts(): Map<string, Map<string, number>> {
    const counts = new Map<string, Map<string, number>>();
    for (const state of this.instances.values()) counts.set(state.name, new Map([...state.programs].map((label) => [label, 0])));
    for (const process of this.processes.values()) {
      if (process.instance === undefined || !this.instances.has(process.instance)) continue;
      let perLabel = counts.get(process.instance);
      if (perLabel === undefined) counts.set(process.instance, (perLabel = new Map()));
      const label = processLabel(process.program);
      perLabel.set(label, (perLabel.get(label) ?? 0) + 1);
    }
    return counts;
  }

  instance(name: string): InstanceState | undefined {
    return this.instances.get(name);
  }

  /** Live processes attributed to `name` (the flight recorder: who was alive at a death, is it all gone). */
  processesOf(name: string): TrackedProcess[] {
    return [...this.processes.values()].filter((process) => process.instance === name);
  }

  /** A start of `name` is under way: it began while the instance was down and its ^STU has not exited yet. */
  startInProgress(name: string): boolean {
    return this.startBegan.has(name);
  }

  private sameProcess(process: TrackedProcess, entry: ScannedProcess): boolean {
    if (process.startTime !== undefined) return Math.abs(process.startTime - entry.startTime) <= CLOCK_SLACK_SECONDS;
    // A process starts (forks) before it execs: one that started after our exec is a later owner of the pid.
    return entry.startTime <= process.execTime + CLOCK_SLACK_SECONDS;
  }

  private attribute(process: TrackedProcess): void {
    process.instance = this.instanceFor(process);
    if (process.instance !== undefined) {
      // `./irisdb` gives no install dir when /proc could not say; the jobs' absolute argv[0] does.
      const state = this.instances.get(process.instance);
      if (state !== undefined && state.installDir === undefined && process.program !== 'httpd') state.installDir = process.installDir;
      state?.programs.add(processLabel(process.program));
      // irisstop names no instance; its first child with `-s` (`irisdb -s<mgr> -cV`) says which it serves.
      for (const ancestor of this.processes.ancestry(process)) {
        if (ancestor === process) continue;
        if (ancestor.instance !== undefined) break;
        ancestor.instance = process.instance;
      }
      this.noteStartSequence(process);
    }
  }

  private instanceFor(process: TrackedProcess): string | undefined {
    if (process.control !== undefined) return process.control.instance;
    if (process.namedInstance !== undefined) return process.namedInstance;
    if (process.managerDir !== undefined) {
      for (const state of this.instances.values()) if (state.managerDir === process.managerDir) return state.name;
    }
    for (const ancestor of this.processes.ancestry(process)) if (ancestor !== process && ancestor.instance !== undefined) return ancestor.instance;
    // A process whose parent exited before its exec is reparented (httpd, forked by SERVERS^STU1, which
    // returns at once): its arguments still name the instance's data dir (`-f /data/IRIS/httpd/conf/…`).
    const byPath = this.instanceByPath(process.pathArguments);
    if (byPath !== undefined) return byPath;
    if (process.installDir !== undefined) {
      const matches = [...this.instances.values()].filter((state) => state.installDir === process.installDir);
      if (matches.length === 1) return matches[0]!.name;
    }
    return undefined;
  }

  /** The instance whose data dir (the manager dir's parent) holds one of `paths`; the longest dir wins. */
  private instanceByPath(paths: readonly string[]): string | undefined {
    let best: { name: string; length: number } | undefined;
    for (const state of this.instances.values()) {
      if (state.managerDir === undefined) continue;
      const dataDir = posix.dirname(state.managerDir);
      if (dataDir === '/') continue;
      if (!paths.some((path) => isUnderDir(normaliseDir(path), dataDir))) continue;
      if (best === undefined || dataDir.length > best.length) best = { name: state.name, length: dataDir.length };
    }
    return best?.name;
  }

  private noteStartSequence(process: TrackedProcess): void {
    const name = process.instance!;
    const state = this.instances.get(name);
    if (state?.up === true && process.control === undefined) return;
    if (process.isStopper) return;
    if (!this.startBegan.has(name) || this.startBegan.get(name)! > process.execTime) this.startBegan.set(name, process.execTime);
  }

  private controlUp(control: TrackedProcess, counted: boolean): void {
    const args = control.control!;
    let state = this.instances.get(args.instance);
    if (state === undefined) {
      state = {
        name: args.instance,
        installDir: undefined,
        managerDir: undefined,
        up: false,
        controlPid: undefined,
        starts: 0,
        stops: 0,
        unexpectedExits: 0,
        lastTransition: undefined,
        lastStartDurationSeconds: undefined,
        lastStopDurationSeconds: undefined,
        programs: new Set(),
      };
      this.instances.set(args.instance, state);
    }
    state.installDir = control.installDir ?? state.installDir;
    state.managerDir = args.managerDir ?? state.managerDir;
    state.up = true;
    state.controlPid = control.pid;
    state.lastTransition = control.execTime;
    if (counted) state.starts++;
    // Processes with this manager dir that ran before anyone knew the dir (the first start) join now.
    for (const other of this.processes.values()) {
      if (other.instance === state.name) state.programs.add(processLabel(other.program));
      if (other.instance === undefined && other.managerDir !== undefined && other.managerDir === state.managerDir) {
        other.instance = state.name;
        state.programs.add(processLabel(other.program));
        this.noteStartSequence(other);
      }
    }
    this.onTransition?.({ instance: state.name, time: control.execTime, kind: 'up', counted });
  }

  /** A tracked process is gone (exit event, exec of a new image, or found missing by a scan). */
  private end(process: TrackedProcess, time: number, repaired: boolean): void {
    this.processes.delete(process.pid);
    const name = process.instance;
    if (name === undefined) return;
    const state = this.instances.get(name);
    if (process.isStopper) {
      const last = this.lastStopperEnd.get(name);
      if (last === undefined || last.exit < time) this.lastStopperEnd.set(name, { exec: process.execTime, exit: time });
      if (state !== undefined) this.finishStopDuration(state, process.execTime, time);
    }
    if (state !== undefined && isStartupRoutine(process.routine) && this.startBegan.has(name) && state.up) {
      state.lastStartDurationSeconds = time - this.startBegan.get(name)!;
      this.startBegan.delete(name);
    }
    if (state !== undefined && state.up && state.controlPid === process.pid && process.control !== undefined) {
      this.controlDown(state, process, time, repaired);
    }
    // A start sequence with nothing left running and no control process is abandoned.
    if ((state === undefined || !state.up) && this.startBegan.has(name) && !this.hasLiveProcesses(name)) this.startBegan.delete(name);
  }

  private controlDown(state: InstanceState, control: TrackedProcess, time: number, repaired: boolean): void {
    state.up = false;
    state.controlPid = undefined;
    state.lastTransition = time;
    this.startBegan.delete(state.name);
    // Without an exit event (repaired), the control died some time after it was last known alive. Event
    // times and scan times are both CLOCK_MONOTONIC: no slack (an irisstop that ended 10 ms before a
    // `iris force` must not make the crash a stop; recorded in fixtures/agent/start-stop-force.snoop).
    const lastKnownAlive = repaired ? control.confirmedAt : time;
    const stopper = this.runningStopper(state);
    const lastStopper = this.lastStopperEnd.get(state.name);
    const stopped = stopper !== undefined || (lastStopper !== undefined && lastStopper.exit >= lastKnownAlive && lastStopper.exec <= time);
    if (stopped) {
      state.stops++;
      // The stop's duration is irisstop's lifetime: known once it exits (see end()).
      this.pendingStopDuration.add(state.name);
      if (stopper === undefined && lastStopper !== undefined) this.finishStopDuration(state, lastStopper.exec, lastStopper.exit);
    } else {
      state.unexpectedExits++;
    }
    this.onTransition?.({ instance: state.name, time, kind: stopped ? 'stop' : 'unexpected-exit', repaired });
  }

  private finishStopDuration(state: InstanceState, exec: number, exit: number): void {
    if (!this.pendingStopDuration.delete(state.name)) return;
    state.lastStopDurationSeconds = exit - exec;
  }

  /** A live irisstop of this instance (or, not yet attributed, from its install dir). */
  private runningStopper(state: InstanceState): TrackedProcess | undefined {
    for (const process of this.processes.values()) {
      if (!process.isStopper) continue;
      if (process.instance === state.name) return process;
      if (process.instance === undefined && process.installDir !== undefined && process.installDir === state.installDir) return process;
    }
    return undefined;
  }

  private hasLiveProcesses(name: string): boolean {
    for (const process of this.processes.values()) if (process.instance === name) return true;
    return false;
  }
}

/** Same argv, allowing for the snooper's copy being cut short (bpftrace copies at most 200 bytes). */
function sameArgv(known: readonly string[], reported: readonly string[]): boolean {
  if (reported.length > known.length) return false;
  for (let index = 0; index < reported.length; index++) {
    const last = index === reported.length - 1;
    if (last ? !known[index]!.startsWith(reported[index]!) : known[index] !== reported[index]) return false;
  }
  return true;
}
