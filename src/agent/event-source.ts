/**
 * The exec snooper (src/kernel/exec-snooper.ts) kept running for as long as the agent runs: when bpftrace
 * dies (killed, OOM, a kernel hiccup) it is started again after a backoff, and each restart is counted.
 * While it is down the /proc scan keeps the status right; the owner scans again as soon as it is back.
 *
 * With `warm` (the flight recorder), the same bpftrace also carries the warm off-CPU and file tracer
 * (kernel/offcpu-tracer.ts warmTracerProgram): one start instead of two. If that program cannot start (its
 * probes need more of the kernel than the snooper's: BTF, task structs, syscall tracepoints), the plain
 * snooper starts at once instead, so the status never depends on the off-CPU probes.
 */
import { startExecSnooper, type ExecSnooperOptions, type RunningSnooper } from '../kernel/exec-snooper.js';

export interface SupervisedSnooperOptions {
  onEvent: NonNullable<ExecSnooperOptions['onEvent']>;
  onLost: (count: number) => void;
  /** bpftrace attached (first start or a restart): events flow again from here on. */
  onAttached: (restart: boolean) => void;
  /** bpftrace died or could not start; `reason` is one line. */
  onDown: (reason: string) => void;
  onRestart: () => void;
  warm?: {
    /** The program carrying the snooper's probes, built at each start (it follows the IRIS processes running then). */
    carrier: () => { program: string; env: Record<string, string>; readyLine: string };
    /** Its lines that are not the snooper's. */
    onLine: (line: string) => void;
    onUp: (restart: boolean) => void;
    /** It died, or could not start (then the plain snooper runs). */
    onDown: (reason: string) => void;
  };
}

export interface SupervisedSnooper {
  /** The bpftrace process id while it runs (tests kill it to prove the restart). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** First retry after 1 s, doubling to 30 s; a tracer that ran a minute starts over at 1 s. */
const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;
const HEALTHY_RUN_MS = 60_000;
/**
 * Events are read in batches at most this often: a busy node's exec stream otherwise costs a wake-up per
 * event (measured: 73 events/s took ~0.5% of a core). Well inside the 1 s an exit has to show up in.
 */
const READ_INTERVAL_MS = 100;
/** bpftrace gets this long to exit on SIGINT before it is killed. */
const STOP_GRACE_MS = 800;

export function superviseExecSnooper(options: SupervisedSnooperOptions): SupervisedSnooper {
  let current: RunningSnooper | undefined;
  let stopped = false;
  let backoff = FIRST_BACKOFF_MS;
  let retryTimer: NodeJS.Timeout | undefined;
  let wake: () => void = () => undefined;
  let starts = 0;

  const run = async (): Promise<void> => {
    while (!stopped) {
      const restart = starts++ > 0;
      if (restart) options.onRestart();
      const plain = { onEvent: options.onEvent, onLost: options.onLost, readIntervalMs: READ_INTERVAL_MS };
      let snooper: RunningSnooper | undefined;
      let carried = false;
      if (options.warm !== undefined) {
        const warm = options.warm;
        snooper = await startExecSnooper({ ...plain, carrier: { ...warm.carrier(), label: 'the exec snooper with the off-CPU tracer', onOtherLine: warm.onLine } });
        carried = snooper.unavailable === undefined;
        if (!carried && !stopped) {
          warm.onDown(`${snooper.unavailable}; starting the plain exec snooper (no warm off-CPU tracer)`);
          snooper = undefined;
        }
      }
      snooper ??= await startExecSnooper(plain);
      if (stopped) {
        snooper.kill();
        return;
      }
      const startedAt = Date.now();
      if (snooper.unavailable !== undefined) {
        options.onDown(snooper.unavailable);
      } else {
        current = snooper;
        options.onAttached(restart);
        if (carried) options.warm?.onUp(restart);
        const done = await snooper.process!.exited;
        current = undefined;
        if (stopped) return;
        const reason = `bpftrace exited (${done.signal ?? `status ${done.exitCode}`})`;
        if (carried) options.warm?.onDown(reason);
        options.onDown(reason);
        if (Date.now() - startedAt >= HEALTHY_RUN_MS) backoff = FIRST_BACKOFF_MS;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        retryTimer = setTimeout(resolve, backoff);
      });
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  };
  const running = run();

  return {
    get pid() {
      return current?.process?.pid;
    },
    async stop() {
      stopped = true;
      clearTimeout(retryTimer);
      wake();
      const snooper = current;
      if (snooper !== undefined) {
        const grace = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), STOP_GRACE_MS).unref());
        if ((await Promise.race([snooper.stop().then(() => 'done' as const), grace])) === 'late') snooper.kill();
      }
      await Promise.race([running, new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref())]);
    },
  };
}
