/**
 * The off-CPU part of the lifecycle page's data: blocked intervals, long waits for a CPU and file events
 * attributed to lanes (µs from the page's origin, parallel arrays), off-CPU stacks merged into the page's
 * call tree, the file groups, and the recorded command's critical path. Built once in Node; the browser only
 * sums what falls in a range. Absent data is said, not guessed: `unavailable` carries the reason.
 */
import { rootFrameFor } from '../iris/lifecycle.js';
import { FILE_GROUPS, fileGroupOf } from '../iris/file-groups.js';
import { BLOCK_REASONS, type BlockedInterval, type BlockReason } from '../kernel/offcpu-events.js';
import type { PageCallTree } from './call-tree.js';
import { commandCriticalPath } from './command-path.js';
import { lifetimeFinder } from './lifetime-at.js';
import type { ProcessLifetime, Timeline } from './model.js';
import type { TimelineOptions } from './options.js';
import { toMicros } from './micros.js';

export const REASON_LABELS: Record<BlockReason, string> = {
  disk: 'disk IO', lock: 'lock/futex', child: 'child wait', sleep: 'sleeping', io: 'read/write', poll: 'polling', other: 'other',
};
/** Blue family, as Brendan Gregg's off-CPU graphs: dark for disk, pale for waiting on children. */
const REASON_RGB: Record<BlockReason, [number, number, number]> = {
  disk: [35, 65, 175], lock: [125, 75, 200], child: [150, 180, 220], sleep: [85, 145, 230],
  io: [35, 145, 165], poll: [100, 200, 225], other: [145, 150, 185],
};
export const RUNNING_COLOR = 'rgb(214,96,48)';
export const CPU_WAIT_COLOR = 'rgb(240,185,40)';
/** perf record's default, assumed when the capture does not say (said on the page). */
const ASSUMED_FREQUENCY = 99;

export interface PageCriticalSegment {
  lane: number;
  start: number;
  end: number;
  /** Index in BLOCK_REASONS, -1 for running, -2 for waiting for a CPU. */
  reason: number;
}

export interface PageOffCpu {
  /** Why there is no off-CPU data ('' when there is). */
  unavailable: string;
  filesUnavailable: string;
  lost: number;
  frequency: number;
  frequencyAssumed: boolean;
  samplePeriodUs: number;
  reasons: Array<{ key: BlockReason; label: string; color: string }>;
  runningColor: string;
  cpuWaitColor: string;
  /** Blocked intervals with a lane, sorted by start (µs). */
  blockStart: number[];
  blockDur: number[];
  blockLane: number[];
  blockReason: number[];
  /** Leaf of its stack in the page's call tree. */
  blockNode: number[];
  /** 1 when blocked in the process's main thread (tid = pid): the thread lane totals follow. */
  blockMain: number[];
  /** File group of the last file the thread opened before a disk wait; -1 otherwise. */
  blockGroup: number[];
  /** Per lane: main thread's summed wait for a CPU (µs) and how many waits. */
  laneWaitTotal: number[];
  laneWaitCount: number[];
  longWaitStart: number[];
  longWaitDur: number[];
  longWaitLane: number[];
  /** Per CPU sample: 1 when taken in its process's main thread. */
  sampleMain: number[];
  groups: string[];
  fileTime: number[];
  fileLane: number[];
  fileCall: string[];
  filePath: string[];
  /** `fd 3`, `0`, or the errno name. */
  fileResult: string[];
  fileFailed: number[];
  fileGroup: number[];
  critical: { lane: number; start: number; end: number; segments: PageCriticalSegment[] } | null;
  /** Why there is no critical path, or how its top process was chosen. */
  criticalNote: string;
}

export function buildPageOffCpu(timeline: Timeline, options: TimelineOptions, tree: PageCallTree, t0: number): PageOffCpu {
  const capture = timeline.offCpu;
  const lanes = timeline.processes;
  const laneAt = lifetimeFinder(lanes);
  const us = (seconds: number) => toMicros(seconds) - t0;
  const frequency = timeline.sampleFrequency ?? ASSUMED_FREQUENCY;
  const data: PageOffCpu = {
    unavailable: capture === undefined ? 'the capture has none (recorded without bpftrace or before irisflame traced it)' : capture.offCpuUnavailable ?? '',
    filesUnavailable: capture === undefined ? 'the capture has none' : capture.filesUnavailable ?? '',
    lost: capture?.lost ?? 0,
    frequency,
    frequencyAssumed: timeline.sampleFrequency === undefined,
    samplePeriodUs: 1e6 / frequency,
    reasons: BLOCK_REASONS.map((key) => ({ key, label: REASON_LABELS[key], color: `rgb(${REASON_RGB[key].join(',')})` })),
    runningColor: RUNNING_COLOR,
    cpuWaitColor: CPU_WAIT_COLOR,
    blockStart: [], blockDur: [], blockLane: [], blockReason: [], blockNode: [], blockMain: [], blockGroup: [],
    laneWaitTotal: lanes.map(() => 0), laneWaitCount: lanes.map(() => 0),
    longWaitStart: [], longWaitDur: [], longWaitLane: [],
    // Only pages with tracer data use it (lane totals, running marks): old captures' pages stay as they were.
    sampleMain: capture === undefined ? [] : timeline.samples.map((sample) => (sample.tid === sample.pid ? 1 : 0)),
    groups: [...FILE_GROUPS],
    fileTime: [], fileLane: [], fileCall: [], filePath: [], fileResult: [], fileFailed: [], fileGroup: [],
    critical: null,
    criticalNote: '',
  };
  if (capture === undefined) return data;

  const files = [...capture.files].sort((a, b) => a.time - b.time);
  /** Per tid, the times and groups of its successful opens, for blaming disk waits on a file group. */
  const opensByTid = new Map<number, Array<{ time: number; group: number }>>();
  for (const file of files) {
    const lane = laneAt(file.pid, file.time);
    if (lane === -1) continue;
    const group = FILE_GROUPS.indexOf(fileGroupOf(file.path));
    data.fileTime.push(us(file.time));
    data.fileLane.push(lane);
    data.fileCall.push(file.call);
    data.filePath.push(file.path);
    data.fileFailed.push(file.result < 0 ? 1 : 0);
    data.fileResult.push(file.result < 0 ? file.errno ?? String(file.result) : file.call.startsWith('open') ? `fd ${file.result}` : String(file.result));
    data.fileGroup.push(group);
    if (file.result >= 0) {
      const list = opensByTid.get(file.tid) ?? [];
      list.push({ time: file.time, group });
      opensByTid.set(file.tid, list);
    }
  }

  const blocked = [...capture.blocked].sort((a, b) => a.start - b.start);
  for (const interval of blocked) {
    const end = interval.start + interval.duration;
    let lane = laneAt(interval.pid, interval.start);
    if (lane === -1) lane = laneAt(interval.pid, end); // blocked since before the recording began
    if (lane === -1) continue;
    // Clipped to the page's origin: what came before the recording is not on the axis.
    const from = Math.max(0, us(interval.start));
    data.blockStart.push(from);
    data.blockDur.push(Math.max(0, us(end) - from));
    data.blockLane.push(lane);
    data.blockReason.push(BLOCK_REASONS.indexOf(interval.reason));
    data.blockNode.push(offCpuLeaf(tree, interval, lanes[lane]!, options));
    data.blockMain.push(interval.tid === interval.pid ? 1 : 0);
    // Disk waits only: `io` waits are pipes, sockets and terminals, not the files the thread opened.
    const blamed = interval.reason === 'disk' ? lastOpenBefore(opensByTid.get(interval.tid), interval.start) : -1;
    data.blockGroup.push(blamed);
  }

  for (const wait of capture.cpuWaits) {
    if (wait.tid !== wait.pid) continue;
    // Summed waits carry no time: a pid's first lane, unless a long wait says which lifetime.
    const lane = wait.long.length > 0 ? laneAt(wait.pid, wait.long[0]!.start) : lanes.findIndex((l) => l.pid === wait.pid);
    if (lane === -1) continue;
    data.laneWaitTotal[lane]! += Math.round(wait.total * 1e6);
    data.laneWaitCount[lane]! += wait.count;
    for (const long of wait.long) {
      data.longWaitStart.push(us(long.start));
      data.longWaitDur.push(Math.round(long.duration * 1e6));
      data.longWaitLane.push(lane);
    }
  }

  addCriticalPath(data, timeline, us);
  return data;
}

function addCriticalPath(data: PageOffCpu, timeline: Timeline, us: (s: number) => number): void {
  const { path, note } = commandCriticalPath(timeline);
  data.criticalNote = note;
  if (path === undefined) return;
  data.critical = {
    lane: path.top,
    start: us(path.start),
    end: us(path.end),
    segments: path.segments.map((segment) => ({
      lane: segment.process,
      start: us(segment.start),
      end: us(segment.end),
      reason: segment.kind === 'running' ? -1 : segment.kind === 'cpu-wait' ? -2 : BLOCK_REASONS.indexOf(segment.kind),
    })),
  };
}

/** The group of the thread's last successful open before `time`, or -1. */
function lastOpenBefore(opens: Array<{ time: number; group: number }> | undefined, time: number): number {
  if (opens === undefined) return -1;
  let group = -1;
  for (const open of opens) {
    if (open.time > time) break;
    group = open.group;
  }
  return group;
}

/** The off-CPU stack as the CPU fold roots it: process (and routine), user frames, kernel frames (`_[k]`). */
function offCpuLeaf(tree: PageCallTree, interval: BlockedInterval, lane: ProcessLifetime, options: TimelineOptions): number {
  const reason = BLOCK_REASONS.indexOf(interval.reason);
  const comm = interval.comm === '' ? lane.comm : interval.comm;
  const root = options.routineRoots ? rootFrameFor(comm, lane.argv, options.irisDir) : comm;
  const shade = reasonShade(interval.reason);
  const frame = (name: string) => tree.nameId(name, `\u0001${interval.reason}\u0001${name}`, shade, reason);
  const names = [tree.nameId(root)];
  for (const name of interval.userStack) names.push(frame(name));
  for (const name of interval.kernelStack) names.push(frame(`${name}_[k]`));
  if (names.length === 1) names.push(frame(`[${REASON_LABELS[interval.reason]}]`));
  return tree.leafOfNames(names);
}

/** A reason's colour, shaded per frame name (as flamegraph.pl varies a hue by name) so neighbours differ. */
function reasonShade(reason: BlockReason): (name: string) => string {
  const [r, g, b] = REASON_RGB[reason];
  return (name) => {
    let hash = 0;
    for (let k = 0; k < name.length; k++) hash = (hash * 31 + name.charCodeAt(k)) >>> 0;
    const shift = ((hash % 41) - 20) / 100; // ±20 %
    const channel = (value: number) => Math.max(0, Math.min(255, Math.round(value + (shift > 0 ? (255 - value) * shift : value * shift))));
    return `rgb(${channel(r)},${channel(g)},${channel(b)})`;
  };
}
