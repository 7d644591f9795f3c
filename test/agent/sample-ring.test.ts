/** The sampler's ring of per-second buckets and the route's `seconds` parsing, on hand-made data. */
import { describe, expect, test } from 'vitest';
import { SampleRing } from '../../src/agent/sample-ring.js';
import { parseSeconds } from '../../src/agent/pprof-route.js';
import { intervalProgram } from '../../src/agent/bpftrace-intervals.js';
import type { ProfileSample } from '../../src/export/pprof.js';

const sample = (count: number, routine?: string): ProfileSample => ({ frames: ['main', 'work'], comm: 'irisdb', pid: 7, count, ...(routine ? { routine } : {}) });

describe('SampleRing', () => {
  test('answers a window with the buckets whose middle lies in it, merging equal samples', () => {
    const ring = new SampleRing(10);
    ring.add({ startMs: 0, endMs: 1000, samples: [sample(1)] });
    ring.add({ startMs: 1000, endMs: 2000, samples: [sample(2), sample(5, 'START^MONITOR')] });
    ring.add({ startMs: 2000, endMs: 3000, samples: [sample(4)] });
    const window = ring.window(1000, 3000);
    expect(window.buckets).toBe(2);
    expect(window.startMs).toBe(1000);
    expect(window.endMs).toBe(3000);
    expect(window.samples.map((s) => [s.routine, s.count])).toEqual([[undefined, 6], ['START^MONITOR', 5]]);
    // The ring's own buckets are not changed by merging.
    expect(ring.window(1000, 2000).samples.map((s) => s.count)).toEqual([2, 5]);
  });

  test('hands out each bucket once by arrival, however late it arrived for its time', () => {
    const ring = new SampleRing(3);
    const start = ring.arrived;
    expect(ring.windowSince(start).buckets).toBe(0);
    ring.add({ startMs: 0, endMs: 1000, samples: [sample(1)] });
    const afterFirst = ring.arrived;
    // Read late: its time lies before the first push, yet it has not gone out yet.
    ring.add({ startMs: 1000, endMs: 2000, samples: [sample(2)] });
    expect(ring.windowSince(start).samples.map((s) => s.count)).toEqual([3]);
    expect(ring.windowSince(afterFirst)).toMatchObject({ buckets: 1, startMs: 1000, endMs: 2000 });
    expect(ring.windowSince(ring.arrived).buckets).toBe(0);
    // Buckets dropped from a full ring are gone; what is left still goes out.
    for (let k = 2; k < 6; k++) ring.add({ startMs: k * 1000, endMs: (k + 1) * 1000, samples: [sample(1)] });
    expect(ring.windowSince(afterFirst).buckets).toBe(3);
  });

  test('counts a bucket in only one of two back-to-back windows', () => {
    const ring = new SampleRing(10);
    ring.add({ startMs: 500, endMs: 1500, samples: [sample(3)] });
    expect(ring.window(0, 1000).buckets + ring.window(1000, 2000).buckets).toBe(1);
  });

  test('keeps only the newest `capacity` buckets', () => {
    const ring = new SampleRing(3);
    for (let i = 0; i < 10; i++) ring.add({ startMs: i * 1000, endMs: (i + 1) * 1000, samples: [sample(1)] });
    expect(ring.size).toBe(3);
    expect(ring.window(0, 10_000).buckets).toBe(3);
    expect(ring.latestEndMs).toBe(10_000);
  });

  test('says there were no buckets in a window the sampler did not cover', () => {
    const ring = new SampleRing(3);
    ring.add({ startMs: 0, endMs: 1000, samples: [sample(1)] });
    expect(ring.window(5000, 6000)).toMatchObject({ buckets: 0, samples: [] });
  });

  test('waitForEnd resolves when a bucket ends late enough, or at the deadline', async () => {
    const ring = new SampleRing(3);
    const waiting = ring.waitForEnd(2000, Date.now() + 60_000);
    let done = false;
    void waiting.then(() => (done = true));
    ring.add({ startMs: 0, endMs: 1000, samples: [] });
    await Promise.resolve();
    expect(done).toBe(false);
    ring.add({ startMs: 1000, endMs: 2000, samples: [] });
    await waiting;
    await ring.waitForEnd(Number.MAX_SAFE_INTEGER, Date.now()); // deadline already passed: resolves
  });
});

describe('parseSeconds', () => {
  test('defaults to 30 like Go, and takes whole numbers from 1 to 300', () => {
    expect(parseSeconds(null)).toBe(30);
    expect(parseSeconds('')).toBe(30);
    expect(parseSeconds('1')).toBe(1);
    expect(parseSeconds('14')).toBe(14);
    expect(parseSeconds('300')).toBe(300);
  });

  test('keeps the reason on one line whatever the value holds', () => {
    expect(parseSeconds('5\n6\r')).toBe('seconds must be a whole number from 1 to 300 (got "5?6?")');
  });

  test.each(['0', '301', '-1', '1.5', '1e2', 'abc', ' 5', '9999999'])('refuses %j with a one-line reason', (value) => {
    const reason = parseSeconds(value);
    expect(typeof reason).toBe('string');
    expect(reason).toMatch(/^seconds must be a whole number from 1 to 300 \(got ".*"\)$/);
  });
});

describe('intervalProgram', () => {
  test('filters by comm in the kernel unless every process is wanted, and prints then clears its map each second', () => {
    const iris = intervalProgram(19, ['irisdb', 'requirements_check']);
    expect(iris).toMatch(/^profile:hz:19 \/comm == "irisdb" \|\| comm == "requirements_ch"\/ \{ @s\[kstack, ustack, comm, pid\] = count\(\); \}/);
    expect(iris).toMatch(/interval:s:1 \{ print\(@s\); clear\(@s\); printf\("irisflame: interval\\n"\); \}/);
    expect(intervalProgram(99, undefined)).toMatch(/^profile:hz:99 \{/);
  });
});
