/**
 * Options of the `perf script` collapser, with their defaults in one place. The flags mirror
 * stackcollapse-perf.pl's (`--pid`, `--tid`, `--kernel`, …) so a user can swap one for the other.
 */
import type { ProcessFilter, StackKey } from './types.js';

/** One kept sample, as handed to `onSample` (the lifecycle view's hook). */
export interface PerfSample {
  /** Process (thread) name as perf printed it, spaces kept. */
  comm: string;
  /** Process id, or undefined when perf printed only a thread id. */
  pid: number | undefined;
  /** Thread id. */
  tid: number;
  /** Timestamp in seconds as perf printed it (`158665.570607`), when present. */
  time: number | undefined;
  /** CPU number from `[002]`, when present. */
  cpu: number | undefined;
  /** The folded stack this sample was counted under. */
  stack: StackKey;
  /** What the sample added to the stack: its period, or 1 with `samples`. */
  weight: number;
}

export interface PerfCollapseOptions {
  /**
   * Append the process id to the root frame: `comm-PID`.
   * @default false
   */
  pid: boolean;
  /**
   * Append process and thread ids to the root frame: `comm-PID/TID`. Implies `pid`.
   * @default false
   */
  tid: boolean;
  /**
   * Expand inlined functions by asking `addr2line` about each user-space address (slow; needs the
   * binaries that were profiled).
   * @default false
   */
  inline: boolean;
  /**
   * With `inline`, add the source file and line to each expanded frame (`func:file.c:42`).
   * @default false
   */
  context: boolean;
  /**
   * The input came from `perf script -F+srcline`: each frame line is followed by a source line,
   * appended to the frame name.
   * @default false
   */
  srcline: boolean;
  /**
   * Annotate kernel frames with `_[k]`.
   * @default false
   */
  kernel: boolean;
  /**
   * Annotate JIT frames (`/tmp/perf-PID.map`, perf jitdump `jitted-PID-N.so`) with `_[j]`.
   * @default false
   */
  jit: boolean;
  /**
   * All annotations: implies `kernel` and `jit`.
   * @default false
   */
  all: boolean;
  /**
   * Where a symbol is unknown, include its raw address: `[libc.so.6 <7f12…>]`.
   * @default false
   */
  addrs: boolean;
  /**
   * Keep only samples of this event (`cycles`, `cpu-clock`, …). When unset, the first event seen is
   * kept and the others are skipped, with a note in the report: adding cycles to instructions
   * would produce a misleading graph.
   * @default undefined (the first event in the input)
   */
  eventFilter?: string;
  /**
   * Count each sample as 1 instead of adding its period. The Perl weights by period, so the default
   * does too.
   * @default false
   */
  samples: boolean;
  /**
   * Keep only the samples this accepts. It is called once per sample with the comm and the module
   * paths of that sample's frames (collected only when a filter is set).
   * @default undefined (keep every sample)
   */
  processFilter?: ProcessFilter;
  /**
   * Called for each kept sample, after it is counted. Costs nothing when unset.
   * @default undefined
   */
  onSample?: (sample: PerfSample) => void;
}

export const DEFAULT_PERF_COLLAPSE_OPTIONS: Readonly<PerfCollapseOptions> = Object.freeze({
  pid: false,
  tid: false,
  inline: false,
  context: false,
  srcline: false,
  kernel: false,
  jit: false,
  all: false,
  addrs: false,
  eventFilter: undefined,
  samples: false,
  processFilter: undefined,
  onSample: undefined,
});

/** Fill in defaults and apply the implications the Perl applies: tid ⇒ pid, all ⇒ kernel + jit. */
export function resolvePerfCollapseOptions(options: Partial<PerfCollapseOptions> = {}): PerfCollapseOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const resolved: PerfCollapseOptions = { ...DEFAULT_PERF_COLLAPSE_OPTIONS, ...defined };
  if (resolved.tid) resolved.pid = true;
  if (resolved.all) {
    resolved.kernel = true;
    resolved.jit = true;
  }
  // An empty filter is what the Perl starts with: "take the first event".
  if (resolved.eventFilter === '') resolved.eventFilter = undefined;
  return resolved;
}
