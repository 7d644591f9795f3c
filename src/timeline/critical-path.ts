/**
 * The critical path of a recorded command: the chain of processes and waits that determined when it ended.
 * Walk back from the end of the top process (the command itself):
 * - while it was blocked waiting for a child (`child`), follow the child that exited last before the wait
 *   ended: its whole life is on the path, from its exit back to its fork, and the parent's walk resumes at
 *   that fork (what the parent did meanwhile did not delay the end);
 * - while it was blocked for any other reason (disk, lock, sleep, …), that wait is on the path;
 * - between blocked intervals it was running (on a CPU or waiting for one): that time is on the path.
 * Only each process's main thread (tid = pid) is followed: the thread a parent's wait4 and a child's exit
 * belong to. Pure: lanes and intervals in, segments out.
 */
import type { BlockedInterval, BlockReason } from '../kernel/offcpu-events.js';
import { lifetimeFinder } from './lifetime-at.js';

/** What the walk needs of a process: its lane's parent and lifetime (seconds). */
export interface PathProcess {
  pid: number;
  /** Index of the parent process in the same list, or undefined. */
  parent: number | undefined;
  start: number;
  /** Exit time; undefined while still running at the end of the recording. */
  end: number | undefined;
}

/** `cpu-wait`: runnable but waiting for a CPU (the long waits the tracer kept as intervals). */
export type PathSegmentKind = 'running' | 'cpu-wait' | BlockReason;

export interface PathSegment {
  /** Index of the process in the list given. */
  process: number;
  start: number;
  end: number;
  kind: PathSegmentKind;
  /** For `child` waits that were followed: the child whose exit ended the wait (its segments follow). */
  child?: number;
}

export interface CriticalPath {
  /** The top process (the recorded command). */
  top: number;
  start: number;
  end: number;
  /** In time order, contiguous from `start` to `end`. */
  segments: PathSegment[];
}

/** A child's exit and its parent's return from wait4 are one wake-up apart; this much slack covers it. */
const EXIT_SLACK = 0.002;

/** Blocked intervals of each process's main thread, sorted by start. */
function mainThreadIntervals(processes: readonly PathProcess[], blocked: readonly BlockedInterval[]): BlockedInterval[][] {
  const ownerAt = lifetimeFinder(processes);
  const result: BlockedInterval[][] = processes.map(() => []);
  for (const interval of blocked) {
    if (interval.tid !== interval.pid) continue;
    // A pid can be reused: the lifetime alive at the interval's start owns it.
    const owner = ownerAt(interval.pid, interval.start);
    if (owner !== -1) result[owner]!.push(interval);
  }
  for (const list of result) list.sort((a, b) => a.start - b.start);
  return result;
}

/**
 * The critical path of `processes[top]` from its start to `end` (its exit, or the recording's end when it
 * was still running).
 */
export function criticalPath(
  processes: readonly PathProcess[],
  blocked: readonly BlockedInterval[],
  top: number,
  end: number,
): CriticalPath {
  const intervals = mainThreadIntervals(processes, blocked);
  const children: number[][] = processes.map(() => []);
  processes.forEach((process, index) => {
    if (process.parent !== undefined && process.parent !== index) children[process.parent]!.push(index);
  });
  const segments: PathSegment[] = [];
  const push = (segment: PathSegment): void => {
    if (segment.end > segment.start) segments.push(segment);
  };

  /** Segments of `p` covering [from, to], walking back from `to`. */
  const walk = (p: number, from: number, to: number, depth: number): void => {
    let t = to;
    const list = intervals[p]!;
    for (let k = list.length - 1; k >= 0 && t > from; k--) {
      const interval = list[k]!;
      if (interval.start >= t) continue;
      const waitEnd = Math.min(interval.start + interval.duration, t);
      const waitStart = Math.max(interval.start, from);
      if (waitEnd <= from) break;
      push({ process: p, start: waitEnd, end: t, kind: 'running' });
      const child = interval.reason === 'child' && depth < processes.length ? lastExited(children[p]!, interval.start, waitEnd) : undefined;
      if (child !== undefined) {
        const exit = Math.min(processes[child]!.end!, waitEnd);
        // After the child's exit the parent still waited to be woken: that is on the path too.
        push({ process: p, start: exit, end: waitEnd, kind: 'child', child });
        const childFrom = Math.max(processes[child]!.start, from);
        walk(child, childFrom, exit, depth + 1);
        t = childFrom;
        continue;
      }
      push({ process: p, start: waitStart, end: waitEnd, kind: interval.reason });
      t = waitStart;
    }
    push({ process: p, start: from, end: t, kind: 'running' });
  };

  const lastExited = (candidates: number[], waitStart: number, waitEnd: number): number | undefined => {
    let best: number | undefined;
    for (const child of candidates) {
      const exit = processes[child]!.end;
      if (exit === undefined || exit < waitStart - EXIT_SLACK || exit > waitEnd + EXIT_SLACK) continue;
      if (best === undefined || exit > processes[best]!.end!) best = child;
    }
    return best;
  };

  const start = processes[top]!.start;
  walk(top, start, end, 0);
  segments.sort((a, b) => a.start - b.start || a.end - b.end);
  return { top, start, end, segments };
}

/**
 * The path with its running segments split where the process was waiting for a CPU (`waits[process]`:
 * intervals in seconds, from the tracer's long waits): "running" then means on a CPU, within what the
 * tracer could tell.
 */
export function splitCpuWaits(path: CriticalPath, waits: ReadonlyArray<ReadonlyArray<{ start: number; end: number }>>): CriticalPath {
  const segments: PathSegment[] = [];
  for (const segment of path.segments) {
    const list = segment.kind === 'running' ? [...(waits[segment.process] ?? [])].sort((a, b) => a.start - b.start) : [];
    let t = segment.start;
    for (const wait of list) {
      const from = Math.max(wait.start, t), to = Math.min(wait.end, segment.end);
      if (to <= from) continue;
      if (from > t) segments.push({ ...segment, start: t, end: from });
      segments.push({ process: segment.process, start: from, end: to, kind: 'cpu-wait' });
      t = to;
    }
    if (segment.end > t) segments.push({ ...segment, start: t });
  }
  return { ...path, segments };
}

/** Which process is the recorded command: same argv, else same program name; the first to start. */
export function findTopProcess(
  processes: ReadonlyArray<{ argv: string[] | undefined; comm: string; start: number }>,
  commandArgv: readonly string[],
): number | undefined {
  if (commandArgv.length === 0) return undefined;
  const wanted = commandArgv.join('\u0000');
  const program = commandArgv[0]!.slice(commandArgv[0]!.lastIndexOf('/') + 1);
  let byArgv: number | undefined;
  let byName: number | undefined;
  processes.forEach((process, index) => {
    const earlier = (current: number | undefined) => current === undefined || process.start < processes[current]!.start;
    if (process.argv !== undefined && process.argv.join('\u0000') === wanted && earlier(byArgv)) byArgv = index;
    if (process.comm === program.slice(0, 15) && earlier(byName)) byName = index;
  });
  return byArgv ?? byName;
}
