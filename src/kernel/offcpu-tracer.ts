/**
 * Running the off-CPU and file tracer (offcpu-program.ts) beside perf: one bpftrace process, which also
 * carries the exec snooper's probes when asked (one bpftrace start instead of two: each costs 0.5–3.5 s of
 * CPU and ~120 MB; docs/lifecycle.md has the measurement). It collects records until stopped; the recorder
 * names user frames and writes the capture lines afterwards (timeline/record.ts).
 */
import { readFileSync } from 'node:fs';
import { listPids } from './proc.js';
import { startBpftraceProgram, type RunningBpftrace } from './bpftrace-process.js';
import { SNOOPER_ARGV_BYTES, execSnooperProgram } from './exec-events.js';
import { TracerLineReader, formatCpuWaitTotalLine, formatRecordLine, type TracedBlock } from './offcpu-lines.js';
import { READY_LINE, STOP_GUARD, offCpuProgram, type OffCpuProgramOptions } from './offcpu-program.js';
import type { OffCpuRing } from './offcpu-ring.js';

/** How long to wait for a sync line before stopping anyway (a loaded 2-core host: well under a second). */
const SYNC_TIMEOUT_MS = 5_000;
const SYNC_ROUNDS = 2;
/** While bpftrace is stopping: how often to wake its poll with a sync line. */
const NUDGE_MS = 250;

export interface OffCpuTracerOptions extends Omit<OffCpuProgramOptions, 'withExecSnooper' | 'pids' | 'syncPid'> {
  /** Carry the exec snooper's probes too; its E/X lines come back in `snoopLines`. */
  withExecSnooper: boolean;
  /** Processes to follow from the start; default: the running processes named in `names`. */
  pids?: readonly number[];
}

export interface OffCpuTrace {
  blocks: TracedBlock[];
  /** Capture lines for everything but the blocked intervals (waits, CPU-wait sums, files, lost). */
  lines: string[];
  /** The exec snooper's raw lines, when it rode along. */
  snoopLines: string[];
  lost: number;
  badLines: number;
  badExamples: string[];
}

export interface RunningOffCpuTracer {
  /** Why there is no trace, when bpftrace could not start. */
  unavailable: string | undefined;
  /** Stop (SIGINT: bpftrace prints the CPU-wait sums) and return what was traced. Safe to call twice. */
  stop(): Promise<OffCpuTrace>;
  kill(): void;
  process: RunningBpftrace | undefined;
}

/** Pids of running processes whose comm is one of `names` (read once, at start). */
export function runningProcessesNamed(names: readonly string[]): number[] {
  const wanted = new Set(names);
  return listPids().filter((pid) => {
    try {
      return wanted.has(readFileSync(`/proc/${pid}/comm`, 'utf8').trimEnd());
    } catch {
      return false; // gone meanwhile
    }
  });
}

export async function startOffCpuTracer(options: OffCpuTracerOptions): Promise<RunningOffCpuTracer> {
  const trace: OffCpuTrace = { blocks: [], lines: [], snoopLines: [], lost: 0, badLines: 0, badExamples: [] };
  const waitTotals = new Map<string, { pid: number; tid: number; ns: number; count: number }>();
  const waitOf = (pid: number, tid: number) => {
    const key = `${pid}/${tid}`;
    let entry = waitTotals.get(key);
    if (entry === undefined) waitTotals.set(key, (entry = { pid, tid, ns: 0, count: 0 }));
    return entry;
  };
  const reader = new TracerLineReader((record) => {
    switch (record.kind) {
      case 'block':
        trace.blocks.push(record.block);
        return;
      case 'cpuwait-total':
        waitOf(record.pid, record.tid).ns += record.ns;
        return;
      case 'cpuwait-count':
        waitOf(record.pid, record.tid).count += record.count;
        return;
      case 'lost':
        trace.lost += record.count;
        break;
    }
    const line = formatRecordLine(record);
    if (line !== undefined) trace.lines.push(line);
  });

  let synced: (() => void) | undefined;
  const program = offCpuProgram({
    ...options,
    syncPid: process.pid,
    pids: options.pids ?? runningProcessesNamed(options.names),
    withExecSnooper: options.withExecSnooper ? execSnooperProgram(STOP_GUARD) : undefined,
  });
  const started = await startBpftraceProgram(program, {
    label: 'the off-CPU tracer',
    // Its CPU-wait sums come at END, ~2 s after SIGINT: the recording session must not kill it first.
    outlivesSession: true,
    readyLine: READY_LINE,
    // Raw user addresses: named afterwards from perf's MMAP2 events (offcpu-program.ts says why).
    env: { BPFTRACE_STRLEN: String(SNOOPER_ARGV_BYTES), BPFTRACE_NO_USER_SYMBOLS: '1' },
    onLine: (line) => {
      if (options.withExecSnooper && (line.startsWith('E\t') || line.startsWith('X\t'))) trace.snoopLines.push(line);
      else if (line === 'S') synced?.();
      else reader.push(line);
    },
  });
  if (started.unavailable !== undefined) {
    return { unavailable: started.unavailable, stop: async () => trace, kill: () => undefined, process: undefined };
  }
  const running = started.running;
  let stopped: Promise<OffCpuTrace> | undefined;
  return {
    unavailable: undefined,
    process: running,
    stop() {
      const drained = async (): Promise<void> => {
        // Twice: the first sync may be read in the same poll round as events written just before it on another CPU.
        for (let round = 0; round < SYNC_ROUNDS; round++) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            new Promise<void>((resolve) => {
              synced = resolve;
              void process.ppid; // getppid(2): the tracer prints `S`
            }),
            running.exited,
            new Promise<void>((resolve) => (timer = setTimeout(resolve, SYNC_TIMEOUT_MS))),
          ]);
          clearTimeout(timer);
        }
      };
      // bpftrace notices SIGINT when its poll for events returns; once the probes are frozen nothing else comes,
      // and a SIGINT landing just before it polls again would leave it waiting forever (seen once in ~40 runs).
      // Sync lines wake it until it exits.
      const stopping = async (): Promise<void> => {
        const nudge = setInterval(() => void process.ppid, NUDGE_MS);
        try {
          await running.stop();
        } finally {
          clearInterval(nudge);
        }
      };
      stopped ??= drained().then(stopping).then(() => {
        reader.finish();
        for (const wait of waitTotals.values()) trace.lines.push(formatCpuWaitTotalLine(wait.pid, wait.tid, wait.ns, wait.count));
        trace.badLines = reader.badLines;
        trace.badExamples = reader.badExamples;
        return trace;
      });
      return stopped;
    },
    kill: () => running.kill(),
  };
}

/**
 * The tracer kept running (the agent's flight recorder): the exec snooper's probes and the off-CPU and file
 * probes in one bpftrace (one start, ~120 MB and 0.5–3.5 s of CPU, instead of two), following the processes
 * named `names` (IRIS's, and the iris/irisstop commands) and their descendants, from their exec on and those
 * running when it starts. Nothing stops it; its records go to an OffCpuRing (`WarmOffCpuStream`). It prints
 * blocked intervals only while armed (`WarmOffCpuStream.arm`), keeping them in the kernel otherwise (offcpu-program.ts `warm`).
 */
export function warmTracerProgram(
  names: readonly string[],
  syncPid: number = process.pid,
): { program: string; env: Record<string, string>; readyLine: string } {
  const program = offCpuProgram({
    offCpu: true,
    files: true,
    names,
    pids: runningProcessesNamed(names),
    syncPid,
    warm: true,
    withExecSnooper: execSnooperProgram(),
  });
  const env = { BPFTRACE_STRLEN: String(SNOOPER_ARGV_BYTES), BPFTRACE_NO_USER_SYMBOLS: '1', BPFTRACE_PERF_RB_PAGES: String(WARM_BUFFER_PAGES) };
  return { program, env, readyLine: READY_LINE };
}

/**
 * The kernel buffer bpftrace reads its events from, pages per CPU (default 64): a restart's burst of blocked
 * intervals while the agent is busy (writing a record) overflowed 64 in tests, losing exec events with it.
 * 256 pages is 1 MiB per CPU.
 */
const WARM_BUFFER_PAGES = 256;

/** The warm tracer's off-CPU lines (not the snooper's E/X lines) into a ring, and syncs with it. */
export class WarmOffCpuStream {
  private readonly waiting: Array<() => void> = [];

  constructor(readonly ring: OffCpuRing) {}

  /** A line of the warm tracer's output other than the exec snooper's. */
  onLine(line: string): void {
    if (line === 'S') {
      for (const resolve of this.waiting.splice(0)) resolve();
      return;
    }
    this.ring.push(line);
  }

  /**
   * Keep the tracer printing every blocked interval for the next WARM_ARM_NS (offcpu-program.ts `warm`): the
   * flight recorder calls this while a record is under way. From unarmed, the intervals the kernel kept come
   * out first (the last one to two generations), so a window reaching back before its trigger has them.
   */
  arm(): void {
    void process.getegid?.(); // getegid(2): the tracer's arming probe
  }

  /**
   * Resolves once the tracer has printed what the kernel wrote before this call (its sync line came back), or
   * after `timeoutMs` (tracer down or slow): true when synced.
   */
  async sync(timeoutMs = SYNC_TIMEOUT_MS): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    // Twice, as in stop(): the first sync may be read in the same round as events from another CPU before it.
    for (let round = 0; round < SYNC_ROUNDS; round++) {
      const synced = await Promise.race([
        new Promise<boolean>((resolve) => {
          this.waiting.push(() => resolve(true));
          void process.ppid; // getppid(2): the tracer prints `S`
        }),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
      ]);
      clearTimeout(timer);
      if (!synced) return false;
    }
    return true;
  }
}
