/**
 * The flight recorder while nothing happens (issue 14, "Cost"): no timer of its own wakes the agent more often than
 * the warm ring's expiry every few seconds. Its 200 ms settle check, which ran all the time, cost an idle agent ~0.1%
 * of a core (docs/agent.md, "Overhead"); it now runs only while a record is under way.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { InstanceTracker } from '../../../src/agent/instances.js';
import { startFlightRecorder } from '../../../src/agent/flight/recorder.js';
import { OffCpuRing } from '../../../src/kernel/offcpu-ring.js';
import { WarmOffCpuStream } from '../../../src/kernel/offcpu-tracer.js';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'irisflame-flight-idle-'));
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dataDir, { recursive: true, force: true });
});

test('idle: one timer, the ring expiring every 5 s; nothing arms the warm tracer', async () => {
  const warm = new WarmOffCpuStream(new OffCpuRing());
  const expire = vi.spyOn(warm.ring, 'expire');
  const arm = vi.spyOn(warm, 'arm');
  const recorder = startFlightRecorder({
    warm,
    dataDir,
    keep: 5,
    maxBytes: 1024 * 1024,
    maxSeconds: 60,
    node: 'test',
    tracker: new InstanceTracker({ watchingSince: 0 }),
    registry: new Registry(),
    log: () => undefined,
  });
  try {
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(4_999);
    expect(expire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(expire).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(60_000);
    expect(expire).toHaveBeenCalledTimes(13);
    expect(arm).not.toHaveBeenCalled();
    expect(recorder.active).toBe(0);
  } finally {
    await recorder.stop();
  }
  vi.advanceTimersByTime(10_000);
  expect(expire).toHaveBeenCalledTimes(13); // stopped with the recorder
});
