/**
 * Running the exec snooper (exec-events.ts) as a bpftrace process: the lifecycle recording collects its
 * lines until stopped; a long-running consumer (the agent) takes each event as it arrives. If bpftrace is
 * missing or cannot attach, `unavailable` says why and callers go on without argv.
 */
import { startBpftraceProgram, type RunningBpftrace } from './bpftrace-process.js';
import { EXEC_SNOOPER_PROGRAM, SNOOPER_ARGV_BYTES, parseSnoopLine, type SnoopLine } from './exec-events.js';

export interface RunningSnooper {
  /** Why there will be no argv, when the snooper could not start. */
  unavailable: string | undefined;
  /** Stop it and return the E/X lines it printed (none when `onEvent` took them). Safe to call more than once. */
  stop(): Promise<string[]>;
  kill(): void;
  /** The bpftrace process, while it runs (its `exited` settles if it dies). */
  process: RunningBpftrace | undefined;
}

export interface ExecSnooperOptions {
  /** Take each exec/exit as it arrives instead of collecting lines; `lost` counts bpftrace's "Lost N events". */
  onEvent?: (event: Extract<SnoopLine, { kind: 'exec' | 'exit' }>, line: string) => void;
  onLost?: (count: number) => void;
  /** Read bpftrace's output at most this often (see BpftraceProgramOptions.readIntervalMs). */
  readIntervalMs?: number;
  /**
   * Run this program instead, which carries the snooper's probes (offcpu-tracer.ts warmTracerProgram): its
   * lines that are not the snooper's go to `onOtherLine` ("Lost N events" goes to both).
   */
  carrier?: { program: string; env: Record<string, string>; readyLine: string; label: string; onOtherLine: (line: string) => void };
}

const LOST_LINE = /^Lost (\d+) events/;

export async function startExecSnooper(options: ExecSnooperOptions = {}): Promise<RunningSnooper> {
  const lines: string[] = [];
  const carrier = options.carrier;
  const started = await startBpftraceProgram(carrier?.program ?? EXEC_SNOOPER_PROGRAM, {
    label: carrier?.label ?? 'the exec snooper',
    env: { BPFTRACE_STRLEN: String(SNOOPER_ARGV_BYTES), ...carrier?.env },
    readyLine: carrier?.readyLine,
    readIntervalMs: options.readIntervalMs,
    onLine: (line) => {
      if (line.startsWith('E\t') || line.startsWith('X\t')) {
        if (options.onEvent === undefined) {
          lines.push(line);
          return;
        }
        const parsed = parseSnoopLine(line);
        if (parsed.kind === 'exec' || parsed.kind === 'exit') options.onEvent(parsed, line);
        return;
      }
      // bpftrace reports lost events on stdout, not stderr (measured: ../shared/reference/offcpu.md).
      const lost = LOST_LINE.exec(line);
      if (lost !== null) options.onLost?.(Number(lost[1]));
      carrier?.onOtherLine(line);
    },
  });
  if (started.unavailable !== undefined) return { unavailable: started.unavailable, stop: async () => [], kill: () => undefined, process: undefined };
  const running = started.running;
  return {
    unavailable: undefined,
    process: running,
    async stop() {
      await running.stop();
      return lines;
    },
    kill: () => running.kill(),
  };
}
