/**
 * Any input `collapse` reads (perf script, bpftrace maps, folded stacks, an irisflame lifecycle capture) as
 * pprof samples: the collapse pipeline does the parsing, its `onSample` hook hands over each sample's process,
 * and an IRIS root labeler fed the same chunks names the routine of each IRIS job when the input carries
 * exec argv (a lifecycle capture). What each format can say about time and CPU differs:
 *
 * - perf script: each sample's period. For clock events (`cpu-clock`, `task-clock`, which `perf record`
 *   falls back to on VMs) the period is nanoseconds of CPU, so those are the cpu/nanoseconds values; for
 *   other events (cycles) and perf script without periods, samples × 1e9/frequency. Time: the first to the
 *   last sample.
 * - bpftrace maps: sample counts only; CPU is samples × 1e9/frequency; no time.
 * - folded stacks: one weight per stack. Weights with a common divisor of at least 100 µs (folds of perf
 *   periods, e.g. 10101010 per sample at 99 Hz) are read as nanoseconds, that divisor being the period;
 *   anything else is sample counts. No time.
 * Without time, the profile ends at the input file's modification time (now, for stdin) and its duration is 0.
 */
import { statSync } from 'node:fs';
import { collapseChunks, type CollapseOptions, type CollapseRun } from '../collapse/pipeline.js';
import { openInput } from '../collapse/input.js';
import type { PerfSample } from '../collapse/perf-options.js';
import { createRootLabeler } from '../iris/root-labeler.js';
import { DEFAULT_IRIS_DIR } from '../iris/processes.js';
import type { ProfileSample, PprofProfileInput } from './pprof.js';

export interface ExportOptions {
  /**
   * Sampling frequency in Hz, for inputs that do not carry periods (bpftrace, folded counts, perf events
   * other than clocks).
   * @default 99 (what `irisflame record` and `perf record -F 99` sample at)
   */
  frequency: number;
  /** Collapse options: `--iris`, `--comm`, `--format`, `--event-filter`, … (pid, tid, samples and the kernel/jit annotations are fixed). */
  collapse: Partial<CollapseOptions>;
}

export const DEFAULT_EXPORT_OPTIONS: Readonly<ExportOptions> = Object.freeze({ frequency: 99, collapse: {} });

export interface ExportedProfile extends PprofProfileInput {
  samples: ProfileSample[];
  /** How the values were obtained, one line each, for stderr. */
  notes: string[];
  run: CollapseRun;
}

/** Folded weights with a common divisor at least this big (ns) are perf periods: 100 µs = 10 kHz. */
const MIN_FOLDED_PERIOD_NS = 100_000;
const CLOCK_EVENTS = new Set(['cpu-clock', 'task-clock']);
const NANOS_PER_MS = 1_000_000n;

interface Aggregate {
  sample: ProfileSample;
  /** Sum of perf periods (perf input). */
  periods: number;
}

/** Read `path` (undefined or "-" for stdin) and return what a pprof profile of it needs. */
export async function exportInput(path: string | undefined, options: Partial<ExportOptions> = {}): Promise<ExportedProfile> {
  const frequency = options.frequency ?? DEFAULT_EXPORT_OPTIONS.frequency;
  const collapseOptions = options.collapse ?? {};
  const input = await openInput(path === '' ? undefined : path);
  const labeler = createRootLabeler(collapseOptions.irisDir || DEFAULT_IRIS_DIR);
  const aggregates = new Map<string, Aggregate>();
  let firstTime = Number.POSITIVE_INFINITY;
  let lastTime = Number.NEGATIVE_INFINITY;
  let perfSamples = 0;

  const onSample = (sample: PerfSample): void => {
    const routine = labeler.active ? labeler.routine(sample) : undefined;
    const key = `${sample.pid ?? ''}\0${routine ?? ''}\0${sample.comm}\0${sample.stack}`;
    let aggregate = aggregates.get(key);
    if (aggregate === undefined) {
      const sampleFields: ProfileSample = { frames: framesOf(sample.stack), comm: sample.comm, count: 0 };
      if (sample.pid !== undefined) sampleFields.pid = sample.pid;
      if (routine !== undefined) sampleFields.routine = routine;
      aggregate = { sample: sampleFields, periods: 0 };
      aggregates.set(key, aggregate);
    }
    if (sample.time !== undefined) {
      firstTime = Math.min(firstTime, sample.time);
      lastTime = Math.max(lastTime, sample.time);
    }
    aggregate.periods += sample.weight;
    aggregate.sample.count += 1;
    perfSamples++;
  };

  // The labeler reads exec argv from the same bytes, before the collapser does (root-labeler.ts).
  async function* labelled(): AsyncIterable<Buffer> {
    for await (const chunk of input.chunks) {
      labeler.push(chunk);
      yield chunk;
    }
  }
  const run = await collapseChunks(labelled(), input.displayName, {
    ...collapseOptions,
    pid: false,
    tid: false,
    samples: false,
    routineRoots: false,
    // Annotated so kernel frames land in the kernel's mapping (pprof.ts strips the annotations).
    kernel: true,
    jit: true,
    onSample,
  });

  const notes: string[] = [];
  const endNanos = endOf(path, input.displayName);
  const result = (values: Omit<ExportedProfile, 'run' | 'notes' | 'frequency'> & { frequency?: number }): ExportedProfile => ({
    frequency,
    ...values,
    notes,
    run,
  });

  if (run.format === 'folded') {
    const samples: ProfileSample[] = [];
    const weights = [...run.stacks.values()];
    const period = commonDivisor(weights);
    const asNanos = period >= MIN_FOLDED_PERIOD_NS;
    if (run.before !== undefined) notes.push('two-column (differential) input: exported the second column only');
    let rounded = 0;
    for (const [stack, weight] of run.stacks) {
      const [comm, ...frames] = stack.split(';');
      if (asNanos) {
        samples.push({ comm: comm!, frames, count: weight / period, nanoseconds: weight });
        continue;
      }
      // pprof values are integers: a fractional weight keeps its CPU time, its count is rounded.
      const count = Math.round(weight);
      if (count !== weight) rounded++;
      samples.push({ comm: comm!, frames, count, nanoseconds: Math.round((weight * 1e9) / frequency) });
    }
    if (rounded > 0) notes.push(`${rounded} fractional weight(s) rounded to whole sample counts (CPU time kept exact)`);
    notes.push(
      asNanos
        ? `folded weights read as nanoseconds (all multiples of ${period}, taken as the period); no time in the input, so the profile ends at ${timeSource(path)} with duration 0`
        : `folded weights read as sample counts at ${frequency} Hz (--frequency); no time in the input, so the profile ends at ${timeSource(path)} with duration 0`,
    );
    return result({ samples, startNanos: endNanos, durationNanos: 0n, ...(asNanos ? { periodNanos: period } : {}) });
  }

  const samples = [...aggregates.values()].map((aggregate) => aggregate.sample);
  if (run.format === 'bpftrace') {
    // The bpftrace collapser's weight is the entry's count, not a period.
    for (const aggregate of aggregates.values()) aggregate.sample.count = aggregate.periods;
    notes.push(`bpftrace input holds counts only: CPU time is samples × 1e9/${frequency} ns (--frequency); no time in the input, so the profile ends at ${timeSource(path)} with duration 0`);
    return result({ samples, startNanos: endNanos, durationNanos: 0n });
  }

  const periodSum = [...aggregates.values()].reduce((sum, aggregate) => sum + aggregate.periods, 0);
  const eventName = run.event?.split(':')[0];
  const clockPeriods = eventName !== undefined && CLOCK_EVENTS.has(eventName) && periodSum > perfSamples;
  let periodNanos: number | undefined;
  if (clockPeriods) {
    for (const aggregate of aggregates.values()) aggregate.sample.nanoseconds = aggregate.periods;
    periodNanos = Math.round(periodSum / perfSamples);
    notes.push(`CPU time from ${run.event} periods (nanoseconds); period ${periodNanos} ns`);
  } else {
    notes.push(`no clock-event periods in the input (event ${run.event ?? 'unknown'}): CPU time is samples × 1e9/${frequency} ns (--frequency)`);
  }
  const durationNanos = Number.isFinite(firstTime) ? BigInt(Math.round((lastTime - firstTime) * 1e9)) + BigInt(periodNanos ?? Math.round(1e9 / frequency)) : 0n;
  return result({ samples, startNanos: endNanos - durationNanos, durationNanos, ...(periodNanos === undefined ? {} : { periodNanos }) });
}

/** `irisdb;main;HashBlock` without its process root: the frames. */
function framesOf(stack: string): string[] {
  const frames = stack.split(';');
  frames.shift();
  return frames;
}

function endOf(path: string | undefined, displayName: string): bigint {
  if (path !== undefined && path !== '' && path !== '-') {
    try {
      return BigInt(Math.round(statSync(displayName).mtimeMs)) * NANOS_PER_MS;
    } catch {
      // fall through to now
    }
  }
  return BigInt(Date.now()) * NANOS_PER_MS;
}

function timeSource(path: string | undefined): string {
  return path === undefined || path === '' || path === '-' ? 'the time of export' : "the input file's modification time";
}

function commonDivisor(values: readonly number[]): number {
  let divisor = 0;
  for (const value of values) {
    if (!Number.isInteger(value) || value <= 0) return 1;
    let a = divisor;
    let b = value;
    while (b !== 0) [a, b] = [b, a % b];
    divisor = a;
    if (divisor < MIN_FOLDED_PERIOD_NS) return divisor;
  }
  return divisor;
}
