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

  add(bucket: SampleBucket): void {
    this.buckets.push(bucket);
    if (this.buckets.length > this.capacity) this.buckets.shift();
    for (const wake of [...this.waiters]) wake();
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
    const merged = new Map<string, ProfileSample>();
    let startMs = toMs;
    let endMs = fromMs;
    let buckets = 0;
    for (const bucket of this.buckets) {
      const middle = (bucket.startMs + bucket.endMs) / 2;
      if (middle < fromMs || middle >= toMs) continue;
      buckets++;
      startMs = Math.min(startMs, bucket.startMs);
      endMs = Math.max(endMs, bucket.endMs);
      for (const sample of bucket.samples) {
        const key = sampleKey(sample);
        const existing = merged.get(key);
        if (existing === undefined) merged.set(key, { ...sample });
        else existing.count += sample.count;
      }
    }
    if (buckets === 0) return { samples: [], startMs: fromMs, endMs: toMs, buckets };
    return { samples: [...merged.values()], startMs, endMs, buckets };
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

function sampleKey(sample: ProfileSample): string {
  return `${sample.pid ?? ''}\0${sample.comm}\0${sample.irisInstance ?? ''}\0${sample.routine ?? ''}\0${sample.binary ?? ''}\0${sample.frames.join(';')}`;
}
