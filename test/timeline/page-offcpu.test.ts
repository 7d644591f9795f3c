import { describe, expect, test } from 'vitest';
import { buildPageData } from '../../src/timeline/page-data.js';
import { resolveTimelineOptions } from '../../src/timeline/options.js';
import { readTimeline } from '../../src/timeline/render.js';
import { addHandMadeOffCpu } from './offcpu-support.js';
import { RESTART } from './support.js';

const OPTIONS = resolveTimelineOptions({ iris: true });

function mergedChain(labels: string[]): string[] {
  return labels.filter((label, k) => k === 0 || labels[k - 1] !== label);
}

describe('off-CPU page data of the simulated restart (hand-made off-CPU capture)', () => {
  test('the critical path runs from iris down through irisstop, each child it waited for, and back', async () => {
    const timeline = await readTimeline(RESTART, OPTIONS);
    const { expectedChain } = addHandMadeOffCpu(timeline);
    const data = buildPageData(timeline, OPTIONS);
    const critical = data.offCpu.critical!;
    expect(data.processes[critical.lane]!.label).toBe('iris restart IRIS');
    expect(mergedChain(critical.segments.map((s) => data.processes[s.lane]!.label))).toEqual(expectedChain);
    const iris = data.processes[critical.lane]!;
    expect(critical.start).toBe(iris.start);
    expect(critical.end).toBe(iris.end);
    expect(critical.segments[0]!.start).toBe(iris.start);
    expect(critical.segments.at(-1)!.end).toBe(iris.end);
    // The disk waits of irisrecov and both iriswdimj are on it: 50 + 30 + 30 + 40 ms.
    const disk = critical.segments.filter((s) => data.offCpu.reasons[s.reason]?.key === 'disk');
    expect(disk.reduce((sum, s) => sum + s.end - s.start, 0)).toBeCloseTo(150_000, -1);
  });

  test('off-CPU stacks join the call tree under the process root, kernel frames last, coloured by reason', async () => {
    const timeline = await readTimeline(RESTART, OPTIONS);
    addHandMadeOffCpu(timeline);
    const data = buildPageData(timeline, OPTIONS);
    const k = data.offCpu.blockReason.findIndex((r) => data.offCpu.reasons[r]!.key === 'lock');
    const path: string[] = [];
    for (let node = data.offCpu.blockNode[k]!; node > 0; node = data.nodeParent[node]!) path.unshift(data.names[data.nodeName[node]!]!);
    expect(path).toEqual(['irisdb QUIET^STU', 'main', 'StartupLoadDatabases', 'entry_SYSCALL_64_[k]', 'do_syscall_64_[k]', '__x64_sys_futex_[k]', 'futex_wait_[k]', 'futex_do_wait_[k]', 'schedule_[k]']);
    const leafName = data.nodeName[data.offCpu.blockNode[k]!]!;
    expect(data.offCpu.reasons[data.nameReason[leafName]!]!.key).toBe('lock');
  });

  test('files are grouped; disk waits are blamed on the group the thread opened last', async () => {
    const timeline = await readTimeline(RESTART, OPTIONS);
    addHandMadeOffCpu(timeline);
    const { offCpu } = buildPageData(timeline, OPTIONS);
    const group = (path: string) => offCpu.groups[offCpu.fileGroup[offCpu.filePath.findIndex((p) => p.endsWith(path))]!];
    expect(group('/iris.cpf')).toBe('CPF');
    expect(group('journal/20261130.001')).toBe('journal');
    expect(group('/IRIS.WIJ')).toBe('WIJ');
    expect(group('user/IRIS.DAT')).toBe('databases');
    expect(offCpu.fileFailed.filter((f) => f === 1)).toHaveLength(2);
    const blamed = offCpu.blockGroup.map((g, k) => (g >= 0 ? `${offCpu.groups[g]}:${offCpu.blockDur[k]}` : '')).filter(Boolean);
    expect(blamed.sort()).toEqual(['WIJ:30000', 'journal:30000', 'journal:40000', 'journal:50000']);
  });

  test('without a recorded command, the path is that of the first top-level process that started and ended, and says so', async () => {
    const timeline = await readTimeline(RESTART, OPTIONS);
    const { expectedChain } = addHandMadeOffCpu(timeline);
    timeline.command = undefined;
    const data = buildPageData(timeline, OPTIONS);
    expect(data.offCpu.criticalNote).toMatch(/^no recorded command: the path of iris restart IRIS/);
    expect(mergedChain(data.offCpu.critical!.segments.map((s) => data.processes[s.lane]!.label))).toEqual(expectedChain);
  });

  test('a capture without off-CPU data says why, and its page keeps the old layout', async () => {
    const timeline = await readTimeline(RESTART, OPTIONS);
    const data = buildPageData(timeline, OPTIONS);
    expect(data.offCpu.unavailable).toMatch(/capture has none/);
    expect(data.offCpu.critical).toBeNull();
    expect(data.layout.tablesHeight).toBe(0);
    expect(data.layout.laneHeight).toBe(15);
    expect(data.offCpu.frequency).toBe(99);
    expect(data.offCpu.frequencyAssumed).toBe(false);
  });
});

describe('the sampling frequency behind the on-CPU estimate', () => {
  test('comes from the capture header, else from perf record -F in the snooped argv', async () => {
    const { parseCaptureLine } = await import('../../src/timeline/capture-file.js');
    const { perfRecordFrequency } = await import('../../src/timeline/read.js');
    expect(parseCaptureLine('# irisflame-lifecycle 2 clock=monotonic frequency=250')).toMatchObject({ kind: 'header', frequency: 250 });
    expect(parseCaptureLine('# irisflame-lifecycle 2 clock=monotonic')).toMatchObject({ kind: 'header', frequency: undefined });
    expect(perfRecordFrequency(['perf', 'record', '-q', '-F', '99', '-a', '--', 'x', '-F', '5'])).toBe(99);
    expect(perfRecordFrequency(['/usr/bin/perf', 'record', '-F997'])).toBe(997);
    expect(perfRecordFrequency(['perf', 'record', '--freq=49'])).toBe(49);
    expect(perfRecordFrequency(['perf', 'record', '--', 'sleep', '-F', '5'])).toBeUndefined();
    expect(perfRecordFrequency(['iris', 'record', '-F', '99'])).toBeUndefined();
  });
});
