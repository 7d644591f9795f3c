/**
 * The lifecycle model: what ran (processes with their start, exec, exit and argv) and what the CPUs were
 * doing meanwhile (timestamped stack samples). Parsers feed `LifecycleEvent`s and `TimelineSample`s;
 * `buildTimeline` (build.ts) assembles them; the SVG writer only reads a `Timeline`.
 *
 * Times are seconds on perf's clock, as `perf script` prints them (`452.632720`).
 */
import type { StackKey } from '../collapse/types.js';
import type { OffCpuCapture } from '../kernel/offcpu-events.js';

/** A process or thread created: perf's `PERF_RECORD_FORK(pid:tid):(ppid:ptid)`. */
export interface ForkEvent {
  kind: 'fork';
  time: number;
  pid: number;
  tid: number;
  ppid: number;
  ptid: number;
}

/** A successful exec: perf's `PERF_RECORD_COMM exec: name:pid/tid`, or the exec snooper's `E` line. */
export interface ExecEvent {
  kind: 'exec';
  time: number;
  pid: number;
  tid: number;
  /** The new comm (15 bytes at most). */
  comm: string;
}

/** A rename without exec (`prctl(PR_SET_NAME)`): perf's `PERF_RECORD_COMM: name:pid/tid`. */
export interface CommEvent {
  kind: 'comm';
  time: number;
  pid: number;
  tid: number;
  comm: string;
}

/** A thread or process ended: perf's `PERF_RECORD_EXIT(pid:tid):(ppid:ptid)`. */
export interface ExitEvent {
  kind: 'exit';
  time: number;
  pid: number;
  tid: number;
  ppid: number;
}

export type TaskEvent = ForkEvent | ExecEvent | CommEvent | ExitEvent;

/**
 * What the exec snooper (bpftrace beside perf) adds, which perf cannot record: the argv of each exec and
 * the exit status of each process. Joined to perf's events by pid and order (see build.ts).
 */
export type { SnoopedExec, SnoopedExit } from '../kernel/exec-events.js';

/** One stack sample with its time: what `createPerfCollapser`'s `onSample` hands over, trimmed. */
export interface TimelineSample {
  time: number;
  pid: number;
  tid: number;
  /** The folded stack, root first, root frame already relabelled (`irisdb START^MONITOR;main;…`). */
  stack: StackKey;
}

/** One process as the timeline shows it: a lane from its start to its exit. */
export interface ProcessLifetime {
  /** Position in `Timeline.processes`; samples and children refer to processes by this. */
  index: number;
  pid: number;
  /** Parent process id, when the fork was seen (or the snooper told). */
  ppid: number | undefined;
  /** Index of the parent's lane, when the parent is in the timeline. */
  parent: number | undefined;
  /** Lane label: `irisdb START^MONITOR`, `irisdb -cV`, or the comm. */
  label: string;
  comm: string;
  /** Entry routine, for IRIS jobs that name one. */
  routine: string | undefined;
  /** argv of the last exec, when the snooper saw it. */
  argv: string[] | undefined;
  /** Fork time, or the recording's start for processes that existed before it. */
  start: number;
  /** Time of the last exec seen, if any. */
  exec: number | undefined;
  /** Exit time; undefined when still running at the end of the recording. */
  end: number | undefined;
  /** Raw wait(2) status at exit, when the snooper saw it. */
  exitStatus: number | undefined;
  /** Existed before the recording began (perf's synthesized events at time 0). */
  startedBefore: boolean;
  /** Samples attributed to this process. */
  samples: number;
  /** Nesting depth under the shown ancestors (0 for a lane without a shown parent). */
  depth: number;
}

/** Counts that say how complete the capture is; shown in the SVG, never fatal. */
export interface TimelineReport {
  /** Sample lines kept. */
  samples: number;
  /** Task events read (fork, exec, comm, exit). */
  taskEvents: number;
  /** Execs seen with argv (from the snooper). */
  snoopedExecs: number;
  /** Events perf reported lost (PERF_RECORD_LOST records and "lost N chunks" summaries). */
  lostEvents: number;
  /** Lines that looked like events but could not be read. */
  badLines: number;
  badLineExamples: string[];
  notes: string[];
}

/** The command after `--` in `record --lifecycle`, when there was one. */
export interface RecordedCommand {
  argv: string[];
  /** Its exit code (or 128 + signal), as a shell would report it. */
  exitCode: number | undefined;
}

export interface Timeline {
  /** Lanes in display order: parents before children, siblings by start time. */
  processes: ProcessLifetime[];
  /** Samples sorted by time; `process` is the lane index, or -1 when the process has no lane. */
  samples: Array<TimelineSample & { process: number }>;
  /** First and last moment covered (samples and events). */
  start: number;
  end: number;
  report: TimelineReport;
  command: RecordedCommand | undefined;
  /** Blocked time, CPU waits and file events (src/kernel/offcpu-events.ts), when the capture has them. */
  offCpu?: OffCpuCapture;
  /**
   * perf's sampling frequency (samples per second per CPU: each sample stands for 1/frequency s on a CPU),
   * when the capture says (`perf record -F N` in the snooped argv, or the header); undefined when unknown.
   */
  sampleFrequency?: number;
}

export function emptyTimelineReport(): TimelineReport {
  return { samples: 0, taskEvents: 0, snoopedExecs: 0, lostEvents: 0, badLines: 0, badLineExamples: [], notes: [] };
}
