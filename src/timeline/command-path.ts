/**
 * The critical path of a timeline's recorded command (critical-path.ts on its lanes and off-CPU data), and
 * the one line that says what it was made of: for the page's header and for the terminal after a recording
 * (`critical path of iris restart IRIS: 2.405 s = running 777 ms · read/write 739 ms · …`).
 */
import { criticalPath, findTopProcess, splitCpuWaits, type CriticalPath } from './critical-path.js';
import { lifetimeFinder } from './lifetime-at.js';
import type { Timeline } from './model.js';

export interface CommandPath {
  /** undefined when there is none (no off-CPU data, no process to start from); `note` says why. */
  path: CriticalPath | undefined;
  /** Why there is no path, or how its top process was chosen when no command was recorded; '' otherwise. */
  note: string;
}

export function commandCriticalPath(timeline: Timeline): CommandPath {
  const offCpu = timeline.offCpu;
  if (offCpu === undefined || offCpu.offCpuUnavailable !== undefined) {
    return { path: undefined, note: `no critical path: no off-CPU data (${offCpu?.offCpuUnavailable ?? 'the capture has none'})` };
  }
  const lanes = timeline.processes;
  let note = '';
  let top = timeline.command ? findTopProcess(lanes, timeline.command.argv) : undefined;
  if (top === undefined) {
    // No recorded command (a --seconds recording): the first top-level process that started and ended in it.
    top = lanes.findIndex((lane) => lane.depth === 0 && !lane.startedBefore && lane.end !== undefined);
    if (top === -1) return { path: undefined, note: 'no critical path: no recorded command, and no top-level process started and ended while recording' };
    note = `no recorded command: the path of ${lanes[top]!.label}, the first top-level process that started and ended`;
  }
  const laneAt = lifetimeFinder(lanes);
  const waits = lanes.map(() => [] as Array<{ start: number; end: number }>);
  for (const wait of offCpu.cpuWaits) {
    if (wait.tid !== wait.pid) continue;
    for (const long of wait.long) {
      const lane = laneAt(wait.pid, long.start);
      if (lane !== -1) waits[lane]!.push({ start: long.start, end: long.start + long.duration });
    }
  }
  const path = splitCpuWaits(criticalPath(lanes, offCpu.blocked, top, lanes[top]!.end ?? timeline.end), waits);
  return { path, note };
}

const KIND_LABELS: Record<string, string> = {
  running: 'running', 'cpu-wait': 'CPU wait', disk: 'disk IO', lock: 'lock/futex', child: 'child wait',
  sleep: 'sleeping', io: 'read/write', poll: 'polling', other: 'other',
};

/** `critical path of iris restart IRIS: 2.405 s = running 777.1 ms · … — 10 processes`, or the note. */
export function describeCommandPath(timeline: Timeline, { path, note }: CommandPath): string {
  if (path === undefined) return note;
  const byKind = new Map<string, number>();
  const processes = new Set<number>();
  for (const segment of path.segments) {
    byKind.set(segment.kind, (byKind.get(segment.kind) ?? 0) + segment.end - segment.start);
    processes.add(segment.process);
  }
  const parts = [...byKind.entries()].sort((a, b) => b[1] - a[1]).map(([kind, seconds]) => `${KIND_LABELS[kind] ?? kind} ${formatSeconds(seconds)}`);
  const length = formatSeconds(path.end - path.start);
  return `critical path of ${timeline.processes[path.top]!.label}: ${length} = ${parts.join(' · ')} — ${processes.size} processes${note ? ` (${note})` : ''}`;
}

function formatSeconds(seconds: number): string {
  return seconds >= 1 ? `${seconds.toFixed(3)} s` : `${(seconds * 1e3).toFixed(1)} ms`;
}
