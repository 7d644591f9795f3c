/**
 * `--push`: profiles POSTed to a loopback receiver that stands where Grafana Pyroscope's /ingest would
 * (no Pyroscope or Alloy can be installed here). It records each request; the bodies are decoded by
 * `go tool pprof` and checked against Parca's rules. The samples come from a ring filled by hand, so each
 * case controls exactly what is pushed; the live test pushes real samples.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProfilePusher } from '../../src/agent/push.js';
import { SampleRing } from '../../src/agent/sample-ring.js';
import type { ProfileSample } from '../../src/export/pprof.js';
import { decodeProfile, goPprof, goPprofReason, labelCounts, parcaProblems, valueTotal } from '../support/pprof.js';
import { eventually, startReceiver } from './profile-support.js';

const out = mkdtempSync(join(tmpdir(), 'irisflame-push-test-'));
const goSkip = goPprofReason();
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function ringWith(samples: ProfileSample[]): { ring: SampleRing; options: { frequency: number } } {
  const ring = new SampleRing(10);
  const now = Date.now();
  ring.add({ startMs: now - 1000, endMs: now, samples });
  return { ring, options: { frequency: 19 } };
}

const IRIS_JOB: ProfileSample = { frames: ['main', 'MonitorSample', 'HashBlock'], comm: 'irisdb', pid: 10, irisInstance: 'IRIS', routine: 'START^MONITOR', count: 5 };
const OTHER_INSTANCE: ProfileSample = { frames: ['main', 'ReceiveListen'], comm: 'irisdb', pid: 20, irisInstance: 'TEST', routine: '^RECEIVE', count: 3 };
const NO_INSTANCE: ProfileSample = { frames: ['main', 'ksys_read_[k]'], comm: 'irisstop', pid: 30, count: 2 };

/**
 * A pusher on a clock of its own: each `pushOnce` adds one second of `samples` to the ring and pushes that
 * second, as the timer does every interval.
 */
function pusherFor(base: string, samples: ProfileSample[], options: Partial<ConstructorParameters<typeof ProfilePusher>[1]> = {}) {
  let clock = Date.now() - 60_000;
  const ring = new SampleRing(100);
  const pusher = new ProfilePusher({ ring, options: { frequency: 19 } }, { url: base, node: 'node-1', ...options });
  closers.push(() => pusher.stop());
  const pushOnce = (): void => {
    ring.add({ startMs: clock, endMs: clock + 1000, samples });
    clock += 1000;
    pusher.pushInterval();
  };
  return { pusher, pushOnce };
}

describe('ProfilePusher', () => {
  test('POSTs one pprof profile per IRIS instance to /ingest with the name, time range, format and spy name', async () => {
    const receiver = await startReceiver();
    closers.push(receiver.close);
    const { pusher, pushOnce } = pusherFor(receiver.base, [IRIS_JOB, OTHER_INSTANCE, NO_INSTANCE]);
    pushOnce();
    await eventually(() => pusher.counters.ok === 3, 30_000, 'three pushes');
    expect(pusher.counters).toEqual({ ok: 3, failed: 0, dropped: 0 });
    const names = receiver.received.map((request) => request.url.searchParams.get('name')).sort();
    expect(names).toEqual(['irisflame.cpu{node=node-1,iris_instance=IRIS}', 'irisflame.cpu{node=node-1,iris_instance=TEST}', 'irisflame.cpu{node=node-1}']);
    for (const request of receiver.received) {
      expect(request.method).toBe('POST');
      expect(request.url.pathname).toBe('/ingest');
      expect(request.url.searchParams.get('format')).toBe('pprof');
      expect(request.url.searchParams.get('spyName')).toBe('irisflame');
      const from = Number(request.url.searchParams.get('from'));
      const until = Number(request.url.searchParams.get('until'));
      expect(Number.isInteger(from) && Number.isInteger(until) && from < until).toBe(true);
      expect(Math.abs(until - Date.now() / 1000)).toBeLessThan(3600);
      expect(request.contentType).toBe('application/octet-stream');
      expect([...request.body.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
      const profile = decodeProfile(request.body);
      expect(parcaProblems(profile)).toEqual([]);
    }
    const iris = decodeProfile(receiver.received.find((r) => r.url.searchParams.get('name')!.includes('=IRIS}'))!.body);
    expect(labelCounts(iris, 'routine')).toEqual(new Map([['START^MONITOR', 5]]));
    expect(valueTotal(iris, 0)).toBe(5);
  });

  test.skipIf(goSkip)('what it pushes is read by go tool pprof -raw', async () => {
    const receiver = await startReceiver();
    closers.push(receiver.close);
    const { pusher, pushOnce } = pusherFor(receiver.base, [IRIS_JOB]);
    pushOnce();
    await eventually(() => pusher.counters.ok === 1, 30_000, 'the push');
    const file = join(out, 'pushed.pb.gz');
    writeFileSync(file, receiver.received[0]!.body);
    const raw = await goPprof(['-raw', file]);
    expect(raw.exitCode, raw.stderr).toBe(0);
    expect(raw.stdout).toMatch(/routine:\[START\^MONITOR\]/);
  });

  test('retries a 503 with backoff, then counts the delivery and each failed attempt', async () => {
    const receiver = await startReceiver((n) => (n < 2 ? 503 : 200));
    closers.push(receiver.close);
    const { pusher, pushOnce } = pusherFor(receiver.base, [IRIS_JOB]);
    pushOnce();
    await eventually(() => pusher.counters.ok === 1, 60_000, 'the delivery after two 503s');
    expect(pusher.counters).toEqual({ ok: 1, failed: 2, dropped: 0 });
    expect(receiver.received).toHaveLength(3);
    expect(receiver.received[2]!.body.equals(receiver.received[0]!.body)).toBe(true);
  });

  test('does not retry a 400: the profile is dropped after one attempt', async () => {
    const receiver = await startReceiver(() => 400);
    closers.push(receiver.close);
    const { pusher, pushOnce } = pusherFor(receiver.base, [IRIS_JOB]);
    pushOnce();
    await eventually(() => pusher.counters.dropped === 1, 30_000, 'the drop');
    expect(pusher.counters).toEqual({ ok: 0, failed: 1, dropped: 1 });
    expect(receiver.received).toHaveLength(1);
  });

  test('gives up after maxAttempts on a server that is not there', async () => {
    const receiver = await startReceiver();
    await receiver.close(); // its port is now closed: connections are refused
    const { pusher, pushOnce } = pusherFor(receiver.base, [IRIS_JOB], { maxAttempts: 2 });
    pushOnce();
    await eventually(() => pusher.counters.dropped === 1, 60_000, 'giving up');
    expect(pusher.counters).toEqual({ ok: 0, failed: 2, dropped: 1 });
  });

  test('keeps at most queueSize profiles waiting behind a stuck request, dropping the oldest', async () => {
    const receiver = await startReceiver(() => 'hold');
    closers.push(receiver.close);
    const { pusher, pushOnce } = pusherFor(receiver.base, [IRIS_JOB], { queueSize: 2 });
    for (let i = 0; i < 5; i++) pushOnce();
    await eventually(() => receiver.received.length === 1, 30_000, 'the first request');
    // One in flight, two waiting, two dropped; pushInterval itself never waited for the network.
    expect(pusher.queued).toBe(2);
    expect(pusher.counters.dropped).toBe(2);
  });

  test('refuses a URL that is not one before starting', () => {
    expect(() => new ProfilePusher(ringWith([]), { url: 'not a url', node: 'n' })).toThrow();
  });
});
