/**
 * The agent's bpftrace sampler: `profile:hz:N` counts `@s[kstack, ustack, comm, pid]` in a kernel map, and
 * every second an interval probe prints the map and clears it, then prints a marker line. Only the unique
 * stacks of that second cross to user space; the lines between two markers are one interval. Parsing is
 * the bpftrace collapser's (src/collapse/bpftrace.ts); user frames are named here, within a second of being
 * sampled, while their processes still run (bpftrace 0.17 names them only for live processes anyway, and
 * without a per-binary cache: see src/record/user-symbols.ts). A process that lives less than that is named
 * too when the agent reports its exec (`noteExec`): its maps are read right after it starts.
 */
import { createBpftraceCollapser } from '../collapse/bpftrace.js';
import type { PerfSample } from '../collapse/perf-options.js';
import type { Collapser } from '../collapse/types.js';
import { startBpftraceProgram } from '../kernel/bpftrace-process.js';
import { commCondition, ENTRY_END, nameUserFrame } from '../record/bpftrace.js';
import { UserSymbolizer } from '../record/user-symbols.js';
import { createFrameDemangler } from './demangle-frames.js';

/** Printed by the interval probe after each print/clear of the map. */
export const INTERVAL_MARKER = 'irisflame: interval';
const MAP = '@s';
/**
 * One second of unique stacks: 99 Hz × 64 CPUs is 6336 samples, so this many keys hold any second we
 * expect (a full map drops samples, never grows). Preallocated by bpftrace: ~8 MB of kernel memory.
 */
export const INTERVAL_MAP_KEYS = 8192;
/** How long after an exec event a process's maps are read (ld.so maps libc and friends within ms). */
const EXEC_SNAPSHOT_DELAY_MS = 20;
const MAX_EXEC_SNAPSHOTS_PER_SECOND = 200;
/** Symbol tables and process maps are read afresh this often, so their caches stay bounded. */
const SYMBOLIZER_LIFETIME_MS = 60_000;
/** A process's maps read at its exec outlive a symbolizer's renewal this long (its samples come within seconds). */
const RECENT_EXEC_MS = 10_000;

/** The program; `commNames` limits sampling to those process names, in the kernel. */
export function intervalProgram(frequency: number, commNames: readonly string[] | undefined): string {
  const predicate = commNames === undefined ? '' : ` /${commCondition(commNames)}/`;
  return [
    `profile:hz:${frequency}${predicate} { ${MAP}[kstack, ustack, comm, pid] = count(); }`,
    `interval:s:1 { print(${MAP}); clear(${MAP}); printf("${INTERVAL_MARKER}\\n"); }`,
    '',
  ].join('\n');
}

/** One sampled stack of one interval, as the collapser folded it (`comm;frame;…`). */
export type IntervalSample = Pick<PerfSample, 'comm' | 'pid' | 'stack' | 'weight'>;

export interface IntervalSourceOptions {
  frequency: number;
  commNames: readonly string[] | undefined;
  /** Each interval's samples, when its marker line arrives. */
  onInterval: (samples: IntervalSample[], endMs: number) => void;
}

/** A running sampling process (bpftrace's RunningBpftrace is one). */
export interface IntervalSource {
  /** Stop it and wait until it has exited. */
  stop(): Promise<void>;
  kill(): void;
  /** Settles when it exits, for whatever reason. */
  readonly exited: Promise<unknown>;
  readonly pid: number | undefined;
  /** A process just exec'd: read its maps now, before it can exit unnamed (bpftrace; perf names its own). */
  noteExec?(pid: number): void;
}

export type IntervalSourceStart = { running: IntervalSource; unavailable?: undefined } | { running?: undefined; unavailable: string };

export async function startBpftraceIntervals(options: IntervalSourceOptions): Promise<IntervalSourceStart> {
  let symbolizer = new UserSymbolizer();
  let symbolizerBorn = Date.now();
  let samples: IntervalSample[] = [];
  const newCollapser = (): Collapser =>
    createBpftraceCollapser({
      kernel: true,
      jit: true,
      onSample: (sample) => samples.push({ comm: sample.comm, pid: sample.pid, stack: sample.stack, weight: sample.weight }),
    });
  let collapser = newCollapser();
  /** Pids whose maps were read at their exec (noteExec), with when: kept across a symbolizer's renewal. */
  const recentExecs = new Map<number, number>();
  const demangler = createFrameDemangler();
  /** Intervals waiting on c++filt: later ones queue behind them so they are delivered in order. */
  let pending: Promise<void> | undefined;
  /** Lines of the entry being read: its pid comes on its last line, after the frames to name with it. */
  let entryLines: string[] = [];

  const onLine = (line: string): void => {
    if (line === INTERVAL_MARKER) {
      collapser.finish();
      const done = samples;
      samples = [];
      collapser = newCollapser();
      entryLines = [];
      if (Date.now() - symbolizerBorn > SYMBOLIZER_LIFETIME_MS) {
        // The maps read at recent execs go along: their samples may be read after they exited (seen in CI as a
        // short job's frames all [unknown] when the renewal fell between its exec and its samples).
        const fresh = new UserSymbolizer();
        for (const [pid, notedAt] of recentExecs) if (Date.now() - notedAt > RECENT_EXEC_MS) recentExecs.delete(pid);
        fresh.carryProcesses(symbolizer, recentExecs.keys());
        symbolizer = fresh;
        symbolizerBorn = Date.now();
      }
      const endMs = Date.now();
      const deliver = (named: IntervalSample[]) => options.onInterval(named, endMs);
      if (pending !== undefined) {
        pending = pending.then(async () => deliver(await demangler.demangle(done)));
      } else {
        const named = demangler.demangle(done);
        if (Array.isArray(named)) return deliver(named);
        pending = named.then(deliver);
      }
      const mine = pending;
      void mine.finally(() => {
        if (pending === mine) pending = undefined;
      });
      return;
    }
    if (line === '') return;
    entryLines.push(line);
    const end = ENTRY_END.exec(line);
    if (end === null) return;
    const pid = Number(end[2]);
    // bpftrace-process.ts decoded the line as UTF-8; encoding it again gives the collapser its bytes back.
    for (const entryLine of entryLines) collapser.push(Buffer.from(`${nameUserFrame(entryLine, pid, symbolizer)}\n`, 'utf8'));
    entryLines = [];
  };

  const started = await startBpftraceProgram(intervalProgram(options.frequency, options.commNames), {
    label: 'the continuous sampler',
    // Addresses are named here (user-symbols.ts says why); the map holds one second.
    env: { BPFTRACE_NO_USER_SYMBOLS: '1', BPFTRACE_MAP_KEYS_MAX: String(INTERVAL_MAP_KEYS) },
    onLine,
  });
  if (started.running === undefined) return started;
  const running = started.running;
  let snapshotsThisSecond = 0;
  let second = 0;
  return {
    running: {
      pid: running.pid,
      exited: running.exited,
      stop: () => running.stop(),
      kill: () => running.kill(),
      noteExec(pid: number) {
        // An exec storm must not turn into a /proc storm: at most this many early reads a second.
        const now = Math.floor(Date.now() / 1000);
        if (now !== second) [second, snapshotsThisSecond] = [now, 0];
        if (++snapshotsThisSecond > MAX_EXEC_SNAPSHOTS_PER_SECOND) return;
        // A moment after the exec event: the dynamic loader has mapped the libraries by then.
        setTimeout(() => {
          symbolizer.refreshProcess(pid);
          recentExecs.set(pid, Date.now());
        }, EXEC_SNAPSHOT_DELAY_MS).unref();
      },
    },
  };
}
