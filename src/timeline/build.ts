/**
 * From a capture's events and samples to a `Timeline`: process lifetimes (fork → exit), their argv and
 * exit status, samples attributed to them with relabelled roots, and lanes in display order.
 */
import { isIrisProcess } from '../iris/processes.js';
import { labelProcess, relabelRoot } from '../iris/lifecycle.js';
import type { ArgvIndex } from '../kernel/argv-index.js';
import type { ProcessLifetime, TaskEvent, Timeline, TimelineSample } from './model.js';
import type { LifecycleCapture, RawSample } from './read.js';
import type { TimelineOptions } from './options.js';
import { selectLanes } from './lanes.js';
import { findTopProcess } from './critical-path.js';

/** A lifetime being assembled while events are replayed. */
interface Building {
  pid: number;
  ppid: number | undefined;
  comm: string;
  start: number;
  exec: number | undefined;
  end: number | undefined;
  startedBefore: boolean;
  /** Inherited from the parent at fork, replaced at exec. */
  inheritedArgv: string[] | undefined;
  samples: RawSample[];
}

/**
 * perf writes the tasks that already existed when recording began as synthesized events at time 0
 * (`swapper 0 [000] 0.000000: PERF_RECORD_FORK(1:1):(0:0)`); real events are never that early.
 */
function isSynthesized(time: number): boolean {
  return time === 0;
}

export function buildTimeline(capture: LifecycleCapture, options: TimelineOptions): Timeline {
  const perfSpan = timeSpan(capture.events, capture.samples);
  // A flight record whose perf failed has no perf part: the snooper's events are then all there is.
  const perfEmpty = capture.samples.length === 0 && capture.events.every((event) => isSynthesized(event.time));
  const lead = capture.leadFromSnooper ? snooperLead(capture, perfEmpty ? Number.POSITIVE_INFINITY : perfSpan.start) : [];
  const { start, end } = lead.length > 0 ? timeSpan([...lead, ...capture.events], capture.samples) : perfSpan;
  const byPid = new Map<number, Building[]>();
  const live = new Map<number, Building>();
  const tidToPid = new Map<number, number>();
  const all: Building[] = [];

  const open = (pid: number, time: number, ppid: number | undefined, comm: string): Building => {
    const before = isSynthesized(time) || time <= start;
    const building: Building = {
      pid, ppid, comm, start: before ? start : time, exec: undefined, end: undefined, startedBefore: before,
      inheritedArgv: undefined, samples: [],
    };
    const parent = ppid === undefined ? undefined : live.get(ppid);
    if (parent) building.inheritedArgv = argvOf(parent, capture.argv, time);
    live.set(pid, building);
    const list = byPid.get(pid);
    if (list) list.push(building);
    else byPid.set(pid, [building]);
    all.push(building);
    return building;
  };

  // perf's synthesized events (processes alive when it started) belong at its start, after the snooper's lead.
  const synthesizedAt = lead.length > 0 ? perfSpan.start : 0;
  const at = (event: { time: number }): number => (isSynthesized(event.time) ? synthesizedAt : event.time);
  const events = [...lead, ...capture.events].sort((a, b) => at(a) - at(b));
  for (const event of events) {
    tidToPid.set(event.tid, event.pid);
    switch (event.kind) {
      case 'fork':
        if (isSynthesized(event.time) && live.has(event.pid)) break; // its exec was in the snooper's lead
        if (event.pid !== event.tid) {
          if (!live.has(event.pid)) open(event.pid, event.time, undefined, '');
          break; // a new thread of an existing process
        }
        open(event.pid, event.time, event.ppid, live.get(event.ppid)?.comm ?? '');
        break;
      case 'exec': {
        const process = live.get(event.pid) ?? open(event.pid, event.time, undefined, event.comm);
        process.comm = event.comm;
        if (!isSynthesized(event.time)) {
          process.exec = event.time;
          // perf forks its workload before it starts counting: such a process begins, for us, at its exec.
          if (process.startedBefore && process.samples.length === 0 && event.time >= start) {
            process.start = event.time;
            process.startedBefore = false;
          }
        }
        break;
      }
      case 'comm': {
        const process = live.get(event.pid) ?? open(event.pid, event.time, undefined, event.comm);
        if (event.pid === event.tid) process.comm = event.comm;
        break;
      }
      case 'exit': {
        if (event.pid !== event.tid) break; // one thread ended
        const process = live.get(event.pid) ?? open(event.pid, start, event.ppid, '');
        if (process.ppid === undefined && event.ppid !== event.pid) process.ppid = event.ppid;
        process.end = event.time;
        live.delete(event.pid);
        break;
      }
    }
  }

  for (const sample of capture.samples) {
    const pid = sample.pid ?? tidToPid.get(sample.tid) ?? sample.tid;
    let process = lifetimeAt(byPid.get(pid), sample.time);
    if (process === undefined) {
      // A process we saw no fork or exec of. Its pid may be reused later in the recording (a busy host
      // recycles pids): it ends, for us, where the next lifetime of that pid begins.
      const next = byPid.get(pid)?.find((later) => later.start > sample.time);
      process = open(pid, start, undefined, sample.comm);
      if (next !== undefined) process.end = next.start;
    }
    if (process.comm === '') process.comm = sample.comm;
    process.samples.push(sample);
  }

  const lifetimes = all.map((building, index) => finishLifetime(building, index, capture.argv, options));
  const parents = linkParents(all, byPid);
  lifetimes.forEach((lifetime, index) => (lifetime.parent = parents[index]));

  const command = options.lanes === 'command' && capture.command ? findTopProcess(lifetimes, capture.command.argv) : undefined;
  const { lanes, laneOf } = selectLanes(lifetimes, options, (lifetime) => isIrisLifetime(lifetime, options.irisDir), command);
  const samples: Array<TimelineSample & { process: number }> = [];
  all.forEach((building, index) => {
    const lane = laneOf[index]!;
    if ((options.iris || command !== undefined) && lane === -1) return;
    for (const raw of building.samples) {
      const argv = options.routineRoots ? argvOf(building, capture.argv, raw.time) : undefined;
      samples.push({
        time: raw.time,
        pid: building.pid,
        tid: raw.tid,
        stack: relabelRoot(raw.stack, argv, options.irisDir),
        process: lane,
      });
    }
  });
  samples.sort((a, b) => a.time - b.time);
  const report = { ...capture.report, samples: samples.length };
  const timeline: Timeline = { processes: lanes, samples, start, end, report, command: capture.command };
  if (capture.sampleFrequency !== undefined) timeline.sampleFrequency = capture.sampleFrequency;
  if (capture.offCpu !== undefined) timeline.offCpu = capture.offCpu;
  return timeline;
}

/** The argv `process` was running at `time`: its own last exec, else what it inherited at fork. */
function argvOf(process: Building, argv: ArgvIndex, time: number): string[] | undefined {
  const exec = argv.execAt(process.pid, time);
  if (exec !== undefined && exec.time >= process.start - 0.001) return exec.argv;
  return process.inheritedArgv;
}

function finishLifetime(building: Building, index: number, argvIndex: ArgvIndex, options: TimelineOptions): ProcessLifetime {
  const lastMoment = building.end ?? Number.POSITIVE_INFINITY;
  const argv = argvOf(building, argvIndex, lastMoment);
  // A child that exited before exec, whose parent perf never named, has no comm at all.
  const label = labelProcess(argv, building.comm === '' ? `pid ${building.pid}` : building.comm, options.irisDir);
  const exit = building.end === undefined ? undefined : argvIndex.exitNear(building.pid, building.end, building.start);
  return {
    index,
    pid: building.pid,
    ppid: building.ppid,
    parent: undefined,
    label: label.text,
    comm: building.comm,
    routine: label.routine,
    argv,
    start: building.start,
    exec: building.exec,
    end: building.end,
    exitStatus: exit?.status,
    startedBefore: building.startedBefore,
    samples: building.samples.length,
    depth: 0,
  };
}

/** Each lifetime's parent: the lifetime of its ppid that was alive when it started. */
function linkParents(all: Building[], byPid: Map<number, Building[]>): Array<number | undefined> {
  const indexOf = new Map<Building, number>(all.map((building, index) => [building, index]));
  return all.map((building) => {
    if (building.ppid === undefined) return undefined;
    const parent = lifetimeAt(byPid.get(building.ppid), building.start);
    return parent === undefined || parent === building ? undefined : indexOf.get(parent);
  });
}

/** The lifetime of that pid alive at `time` (1 ms of slack after its exit, for a last sample at exit). */
function lifetimeAt(list: Building[] | undefined, time: number): Building | undefined {
  if (list === undefined) return undefined;
  for (let index = list.length - 1; index >= 0; index--) {
    const candidate = list[index]!;
    if (candidate.start <= time && (candidate.end === undefined || time <= candidate.end + 0.001)) return candidate;
  }
  return undefined;
}

function isIrisLifetime(lifetime: ProcessLifetime, irisDir: string): boolean {
  const argv0 = lifetime.argv?.[0];
  return isIrisProcess({ comm: lifetime.comm, path: argv0?.startsWith('/') ? argv0 : undefined }, irisDir);
}

/**
 * The snooper's execs and exits from before perf's first event, as task events: a process it saw exec there
 * forks (for the view) at its exec. Threads, forks without an exec and exits of processes exec'd before the
 * capture are perf's alone, from its start on.
 */
function snooperLead(capture: LifecycleCapture, perfStart: number): TaskEvent[] {
  const events: Array<{ event: TaskEvent; order: number }> = [];
  for (const exec of capture.argv.allExecs()) {
    if (exec.time >= perfStart) break;
    events.push({ event: { kind: 'fork', time: exec.time, pid: exec.pid, tid: exec.pid, ppid: exec.ppid, ptid: exec.ppid }, order: 0 });
    events.push({ event: { kind: 'exec', time: exec.time, pid: exec.pid, tid: exec.pid, comm: exec.comm }, order: 1 });
  }
  for (const exit of capture.argv.allExits()) {
    if (exit.time >= perfStart) break;
    events.push({ event: { kind: 'exit', time: exit.time, pid: exit.pid, tid: exit.pid, ppid: exit.pid }, order: 2 });
  }
  events.sort((a, b) => a.event.time - b.event.time || a.order - b.order);
  // A second exec of a live process (sh -c exec …) is no new process: drop its fork.
  const live = new Set<number>();
  const lead: TaskEvent[] = [];
  for (const { event } of events) {
    if (event.kind === 'fork') {
      if (live.has(event.pid)) continue;
      live.add(event.pid);
    } else if (event.kind === 'exit') {
      // The exit of a process whose exec came before the capture: nothing names it (no comm, no argv).
      if (!live.delete(event.pid)) continue;
    }
    lead.push(event);
  }
  return lead;
}

/** The span the capture covers, ignoring perf's time-0 synthesized events. */
function timeSpan(events: readonly TaskEvent[], samples: readonly RawSample[]): { start: number; end: number } {
  let start = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  for (const event of events) {
    if (isSynthesized(event.time)) continue;
    if (event.time < start) start = event.time;
    if (event.time > end) end = event.time;
  }
  if (samples.length > 0) {
    start = Math.min(start, samples[0]!.time);
    end = Math.max(end, samples[samples.length - 1]!.time);
  }
  if (!Number.isFinite(start)) return { start: 0, end: 0 };
  return { start, end };
}
