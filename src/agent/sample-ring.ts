/**
 * The sampler's memory: one bucket per sampling interval (a second), the oldest dropped once the ring holds
 * `capacity` of them, so any `?seconds=N` window up to that long can be answered and memory stays bounded
 * however long the agent runs. A bucket holds the interval's unique stacks per process, already aggregated
 * in the kernel, so its size is bounded by bpftrace's map (BPFTRACE_MAP_KEYS_MAX) too.
 */
import type { ProfileSample } from '../export/pprof.js';

export interface SampleBucket {
  /** Interval start and end, ms since the epoch (wall clock). */
  startMs: number;
  endMs: number;
  samples: ProfileSample[];
}

export interface SampleWindow {
  samples: ProfileSample[];
  startMs: number;
  endMs: number;
  /** How many buckets (intervals) went into it. */
  buckets: number;
}

export class SampleRing {
  private readonly buckets: SampleBucket[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(readonly capacity: number) {}

  /** Buckets added since the ring was made (also those since dropped): a position for `windowSince`. */
  private added = 0;

  add(bucket: SampleBucket): void {
    this.buckets.push(bucket);
    this.added++;
    if (this.buckets.length > this.capacity) this.buckets.shift();
    for (const wake of [...this.waiters]) wake();
  }

  /** How many buckets have arrived so far; hand it to `windowSince` later to get only what came after. */
  get arrived(): number {
    return this.added;
  }

  /**
   * The buckets that arrived after position `arrived` (still in the ring), merged. The pusher reads by
   * arrival, not by clock: a bucket read late from bpftrace on a busy host must still go out, once.
   */
  windowSince(arrived: number): SampleWindow {
    const skip = Math.max(0, this.buckets.length - (this.added - arrived));
    return mergeBuckets(this.buckets.slice(skip), Number.NaN, Number.NaN);
  }

  /** End of the newest bucket, or undefined before the first. */
  get latestEndMs(): number | undefined {
    return this.buckets[this.buckets.length - 1]?.endMs;
  }

  get size(): number {
    return this.buckets.length;
  }

  /**
   * The samples of the intervals that lie in [fromMs, toMs) (by their midpoint: a 1 s interval straddling
   * the edge counts once, on the side that holds most of it; half-open, so back-to-back windows, as the
   * pusher asks for, never count one twice), merged per stack and process.
   */
  window(fromMs: number, toMs: number): SampleWindow {
    const inside = this.buckets.filter((bucket) => {
      const middle = (bucket.startMs + bucket.endMs) / 2;
      return middle >= fromMs && middle < toMs;
    });
    return mergeBuckets(inside, fromMs, toMs);
  }

  /** Resolves once a bucket ending at or after `ms` has arrived, or at `deadlineMs`, whichever is first. */
  waitForEnd(ms: number, deadlineMs: number, now: () => number = Date.now): Promise<void> {
    return new Promise((resolve) => {
      const check = (): boolean => (this.latestEndMs ?? Number.NEGATIVE_INFINITY) >= ms;
      if (check()) return resolve();
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const wake = (): void => {
        if (check()) finish();
      };
      const timer = setTimeout(finish, Math.max(0, deadlineMs - now()));
      this.waiters.add(wake);
    });
  }
}

/** Buckets merged per stack and process; an empty list spans [fromMs, toMs). */
function mergeBuckets(buckets: readonly SampleBucket[], fromMs: number, toMs: number): SampleWindow {
  if (buckets.length === 0) return { samples: [], startMs: fromMs, endMs: toMs, buckets: 0 };
  const merged = new Map<string, ProfileSample>();
  let startMs = Number.POSITIVE_INFINITY;
  let endMs = Number.NEGATIVE_INFINITY;
  for (const bucket of buckets) {
    startMs = Math.min(startMs, bucket.startMs);
    endMs = Math.max(endMs, bucket.endMs);
    for (const sample of bucket.samples) {
      const key = sampleKey(sample);
      const existing = merged.get(key);
      if (existing === undefined) merged.set(key, { ...sample });
      else existing.count += sample.count;
    }
  }
  return { samples: [...merged.values()], startMs, endMs, buckets: buckets.length };
}

function sampleKey(sample: ProfileSample): string {
  return `${sample.pid ?? ''}\0${sample.comm}\0${sample.irisInstance ?? ''}\0${sample.routine ?? ''}\0${sample.binary ?? ''}\0${sample.frames.join(';')}`;
}
