import { describe, expect, test } from 'vitest';
import type { BlockedInterval, BlockReason } from '../../src/kernel/offcpu-events.js';
import { criticalPath, findTopProcess, splitCpuWaits, type PathProcess } from '../../src/timeline/critical-path.js';

function block(pid: number, start: number, end: number, reason: BlockReason, tid = pid): BlockedInterval {
  return { start, duration: end - start, pid, tid, comm: `p${pid}`, state: reason === 'disk' ? 'D' : 'S', syscall: -1, reason, kernelStack: [], userStack: [] };
}

/** Segments as compact tuples: [pid, start, end, kind], times rounded to µs. */
function tuples(processes: PathProcess[], path: ReturnType<typeof criticalPath>): Array<[number, number, number, string]> {
  const r = (t: number) => Math.round(t * 1e6) / 1e6;
  return path.segments.map((s) => [processes[s.process]!.pid, r(s.start), r(s.end), s.kind]);
}

describe('critical path of a recorded command', () => {
  test('a process that never blocks is running from start to end', () => {
    const processes: PathProcess[] = [{ pid: 1, parent: undefined, start: 0, end: 2 }];
    const path = criticalPath(processes, [], 0, 2);
    expect(tuples(processes, path)).toEqual([[1, 0, 2, 'running']]);
  });

  test('disk and sleep waits of the top process are on the path, with the running time between them', () => {
    const processes: PathProcess[] = [{ pid: 1, parent: undefined, start: 0, end: 10 }];
    const path = criticalPath(processes, [block(1, 1, 3, 'disk'), block(1, 5, 9, 'sleep')], 0, 10);
    expect(tuples(processes, path)).toEqual([
      [1, 0, 1, 'running'], [1, 1, 3, 'disk'], [1, 3, 5, 'running'], [1, 5, 9, 'sleep'], [1, 9, 10, 'running'],
    ]);
  });

  test('a wait for children follows the child that exited last, down to what it waited on', () => {
    // iris (1) forks irisstop (2) at 0.1 and waits; irisstop forks a quick child (3) and a slow one (4) and waits
    // twice; the slow one waits on the disk. The quick child's life is not on the path.
    const processes: PathProcess[] = [
      { pid: 1, parent: undefined, start: 0, end: 10 },
      { pid: 2, parent: 0, start: 0.1, end: 9.9 },
      { pid: 3, parent: 1, start: 0.5, end: 1.5 },
      { pid: 4, parent: 1, start: 2, end: 9.5 },
    ];
    const blocked = [
      block(1, 0.2, 9.95, 'child'),
      block(2, 0.6, 1.6, 'child'),
      block(2, 2.1, 9.6, 'child'),
      block(3, 0.7, 1.4, 'sleep'),
      block(4, 3, 8, 'disk'),
    ];
    const path = criticalPath(processes, blocked, 0, 10);
    expect(tuples(processes, path)).toEqual([
      [1, 0, 0.1, 'running'],
      [2, 0.1, 0.5, 'running'],
      [3, 0.5, 0.7, 'running'], // the quick child ended irisstop's first wait: followed back to its fork
      [3, 0.7, 1.4, 'sleep'],
      [3, 1.4, 1.5, 'running'],
      [2, 1.5, 1.6, 'child'],
      [2, 1.6, 2, 'running'],
      [4, 2, 3, 'running'],
      [4, 3, 8, 'disk'],
      [4, 8, 9.5, 'running'],
      [2, 9.5, 9.6, 'child'],
      [2, 9.6, 9.9, 'running'],
      [1, 9.9, 9.95, 'child'],
      [1, 9.95, 10, 'running'],
    ]);
  });
});

describe('critical path: following the child that ended a wait', () => {
  test('the quick child whose exit ended the first wait is followed back to its fork', () => {
    const processes: PathProcess[] = [
      { pid: 2, parent: undefined, start: 0, end: 4 },
      { pid: 3, parent: 0, start: 0.5, end: 1.5 },
    ];
    const path = criticalPath(processes, [block(2, 0.6, 1.6, 'child'), block(3, 0.7, 1.4, 'sleep')], 0, 4);
    expect(tuples(processes, path)).toEqual([
      [2, 0, 0.5, 'running'],
      [3, 0.5, 0.7, 'running'],
      [3, 0.7, 1.4, 'sleep'],
      [3, 1.4, 1.5, 'running'],
      [2, 1.5, 1.6, 'child'],
      [2, 1.6, 4, 'running'],
    ]);
    expect(path.segments.find((s) => s.kind === 'child')?.child).toBe(1);
  });

  test('segments cover the top process from its start to its end without gaps', () => {
    const processes: PathProcess[] = [
      { pid: 1, parent: undefined, start: 0, end: 10 },
      { pid: 2, parent: 0, start: 1, end: 6 },
      { pid: 3, parent: 0, start: 2, end: 8 },
    ];
    const blocked = [block(1, 3, 9, 'child'), block(2, 2, 5, 'lock'), block(3, 4, 7, 'disk')];
    const path = criticalPath(processes, blocked, 0, 10);
    expect(path.segments[0]!.start).toBe(0);
    expect(path.segments.at(-1)!.end).toBe(10);
    for (let k = 1; k < path.segments.length; k++) expect(path.segments[k]!.start).toBeCloseTo(path.segments[k - 1]!.end, 9);
    // The child that exited last (pid 3, at 8) is followed, not the one that exited first.
    expect(tuples(processes, path)).toEqual([
      [1, 0, 2, 'running'], [3, 2, 4, 'running'], [3, 4, 7, 'disk'], [3, 7, 8, 'running'], [1, 8, 9, 'child'], [1, 9, 10, 'running'],
    ]);
  });

  test('a child wait with no known child stays on the path as a wait', () => {
    const processes: PathProcess[] = [{ pid: 1, parent: undefined, start: 0, end: 3 }];
    const path = criticalPath(processes, [block(1, 1, 2, 'child')], 0, 3);
    expect(tuples(processes, path)).toEqual([[1, 0, 1, 'running'], [1, 1, 2, 'child'], [1, 2, 3, 'running']]);
  });

  test("other threads' blocks are not followed", () => {
    const processes: PathProcess[] = [{ pid: 1, parent: undefined, start: 0, end: 3 }];
    const path = criticalPath(processes, [block(1, 1, 2, 'disk', 7)], 0, 3);
    expect(tuples(processes, path)).toEqual([[1, 0, 3, 'running']]);
  });

  test('a reused pid: the interval belongs to the lifetime alive at its start', () => {
    const processes: PathProcess[] = [
      { pid: 1, parent: undefined, start: 0, end: 10 },
      { pid: 5, parent: 0, start: 1, end: 2 },
      { pid: 5, parent: 0, start: 3, end: 8 },
    ];
    const blocked = [block(1, 3.5, 9, 'child'), block(5, 4, 6, 'disk')];
    const path = criticalPath(processes, blocked, 0, 10);
    expect(tuples(processes, path)).toEqual([
      [1, 0, 3, 'running'], [5, 3, 4, 'running'], [5, 4, 6, 'disk'], [5, 6, 8, 'running'], [1, 8, 9, 'child'], [1, 9, 10, 'running'],
    ]);
    expect(path.segments.find((s) => s.kind === 'disk')!.process).toBe(2);
  });
});

describe('the top process', () => {
  const lanes = [
    { argv: ['perf', 'record'], comm: 'perf', start: 0 },
    { argv: ['/usr/irissys/bin/iris', 'restart', 'IRIS'], comm: 'iris', start: 1 },
    { argv: undefined, comm: 'iris', start: 0.5 },
  ];
  test('is the process with the command argv', () => {
    expect(findTopProcess(lanes, ['/usr/irissys/bin/iris', 'restart', 'IRIS'])).toBe(1);
  });
  test('is the first process of that program name when no argv matches', () => {
    expect(findTopProcess(lanes, ['iris', 'stop', 'IRIS'])).toBe(2);
  });
  test('is unknown without a command', () => {
    expect(findTopProcess(lanes, [])).toBeUndefined();
  });
});

describe('critical path: waits for a CPU', () => {
  test('running segments are split where the process waited for a CPU; other segments are left alone', () => {
    const processes: PathProcess[] = [{ pid: 1, parent: undefined, start: 0, end: 10 }];
    const path = splitCpuWaits(criticalPath(processes, [block(1, 4, 6, 'disk')], 0, 10), [[{ start: 1, end: 2 }, { start: 5, end: 7 }]]);
    expect(tuples(processes, path)).toEqual([
      [1, 0, 1, 'running'], [1, 1, 2, 'cpu-wait'], [1, 2, 4, 'running'], [1, 4, 6, 'disk'], [1, 6, 7, 'cpu-wait'], [1, 7, 10, 'running'],
    ]);
  });
});
