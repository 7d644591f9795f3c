import { describe, expect, test } from 'vitest';
import { openInput } from '../../src/collapse/input.js';
import { buildTimeline } from '../../src/timeline/build.js';
import { resolveTimelineOptions } from '../../src/timeline/options.js';
import { LifecycleReader } from '../../src/timeline/read.js';
import { readTimeline } from '../../src/timeline/render.js';
import { LOST_UNKNOWN, NO_TASK_EVENTS, RESTART, STOP_FAILS, fixtureText, rawSampleMicros } from './support.js';

const SIMULATED_ORDER = [
  'irisstop quietly restart',
  'irisdb -cV',
  'sh -c irisdb OPT^SHUTDOWN(1)',
  'irisdb OPT^SHUTDOWN(1)',
  'irisdb -cL',
  'irisrecov quietly',
  'iriswdimj -t',
  'iriswdimj -j …',
  'irisdb QUIET^STU',
  'irisdb START^MONITOR',
  'irisdb START^CLNDMN',
  'irisdb ^RECEIVE',
  'irisdb SCAN^JRNZIP',
  'irisdb Master^%SYS.SERVER',
  'irisdb SERVERS^STU1',
  'irisdb RunManager^%SYS.Task',
  'irisdb Daemon^LOGDMN',
  'irisdb startWork^%SYS.WorkQueueMgr',
  'requirements_check',
  'httpd -f … -d …',
];

describe('timeline of the simulated IRIS restart (recorded on this machine)', () => {
  test('lists the IRIS processes in the order they ran, nested under their parents, with routines', async () => {
    const timeline = await readTimeline(RESTART, { iris: true });
    const labels = timeline.processes.map((lane) => lane.label);
    expect(labels[0]).toMatch(/^iris restart IRIS$/);
    expect(labels.slice(1)).toEqual(SIMULATED_ORDER);
    const depth = Object.fromEntries(timeline.processes.map((lane) => [lane.label, lane.depth]));
    expect(depth['irisstop quietly restart']).toBe(1);
    expect(depth['irisdb OPT^SHUTDOWN(1)']).toBe(3);
    expect(depth['irisdb START^MONITOR']).toBe(3);
    for (let index = 1; index < timeline.processes.length; index++) {
      const lane = timeline.processes[index]!;
      const previous = timeline.processes[index - 1]!;
      if (lane.parent === previous.parent) expect(lane.start).toBeGreaterThanOrEqual(previous.start);
    }
  });

  test('every IRIS process has its argv, an exit time and exit status 0', async () => {
    const timeline = await readTimeline(RESTART, { iris: true });
    for (const lane of timeline.processes) {
      expect(lane.argv?.length).toBeGreaterThan(0);
      expect(lane.end).toBeGreaterThan(lane.start);
      expect(lane.exitStatus).toBe(0);
    }
  });

  test('keeps every sample stackcollapse-perf.pl counts, sorted by time', async () => {
    const timeline = await readTimeline(RESTART);
    const raw = rawSampleMicros(fixtureText(RESTART));
    expect(timeline.samples).toHaveLength(raw.length);
    const times = timeline.samples.map((sample) => sample.time);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  test("roots an IRIS job's samples at its routine, and at its comm when routine roots are off", async () => {
    const labelled = await readTimeline(RESTART);
    const monitor = labelled.processes.find((lane) => lane.routine === 'START^MONITOR')!;
    const samples = labelled.samples.filter((sample) => sample.process === monitor.index);
    expect(samples.length).toBeGreaterThan(0);
    for (const sample of samples) expect(sample.stack.startsWith('irisdb START^MONITOR;')).toBe(true);
    const plain = await readTimeline(RESTART, { routineRoots: false });
    expect(plain.samples.filter((sample) => sample.stack.startsWith('irisdb START^MONITOR')).length).toBe(0);
    expect(plain.samples.length).toBe(labelled.samples.length);
  });

  test('reads the same timeline whatever the chunk size', async () => {
    const whole = fixtureText(RESTART);
    const options = resolveTimelineOptions({ iris: true });
    const read = (size: number) => {
      const reader = new LifecycleReader();
      const bytes = Buffer.from(whole, 'latin1');
      for (let at = 0; at < bytes.length; at += size) reader.push(bytes.subarray(at, at + size));
      return buildTimeline(reader.finish(), options);
    };
    const reference = read(1 << 20);
    for (const size of [1, 97, 4096]) {
      const other = read(size);
      expect(other.processes).toEqual(reference.processes);
      expect(other.samples.length).toBe(reference.samples.length);
    }
  }, 60_000);
});

describe('faults', () => {
  test('a command that fails still yields its timeline, with its exit status', async () => {
    const timeline = await readTimeline(STOP_FAILS, { iris: true });
    expect(timeline.command?.exitCode).toBe(3);
    expect(timeline.processes.map((lane) => lane.label)).toContain('irisstop quietly');
    expect(timeline.processes.length).toBeGreaterThan(3);
  });

  test('lost events are counted and exit statuses of failed processes kept', async () => {
    const timeline = await readTimeline(LOST_UNKNOWN);
    expect(timeline.report.lostEvents).toBe(9); // 2 from the capture header, 7 from a PERF_RECORD_LOST line
    const byLabel = Object.fromEntries(timeline.processes.map((lane) => [lane.label, lane]));
    expect(byLabel['iris stop IRIS']?.exitStatus).toBe(256);
    expect(byLabel['irisstop quietly stop']?.exitStatus).toBe(256);
    expect(timeline.command).toEqual({ argv: ['iris', 'stop', 'IRIS'], exitCode: 1 });
  });

  test('a process gone before its symbols were read shows [unknown] frames under its name', async () => {
    const timeline = await readTimeline(LOST_UNKNOWN);
    const stacks = timeline.samples.map((sample) => sample.stack);
    expect(stacks).toContain('shortlived;[unknown]');
    expect(stacks.some((stack) => stack.startsWith('irisdb START^MONITOR;[unknown]'))).toBe(true);
    expect(timeline.processes.some((lane) => lane.label === 'shortlived')).toBe(true);
  });

  test('plain perf script without task events gives lanes from the samples alone', async () => {
    const timeline = await readTimeline(NO_TASK_EVENTS);
    expect(timeline.report.taskEvents).toBe(0);
    expect(timeline.processes.map((lane) => [lane.label, lane.samples])).toEqual([
      ['irisdb', 2],
      ['bash', 1],
    ]);
  });

  test('input without samples or task events is an error, not an empty picture', async () => {
    const input = await openInput(NO_TASK_EVENTS);
    for await (const chunk of input.chunks) void chunk;
    await expect(readTimeline('/dev/null')).rejects.toMatchObject({ code: 'NO_STACKS' });
  });
});
