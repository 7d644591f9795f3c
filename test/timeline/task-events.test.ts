import { describe, expect, test } from 'vitest';
import { lostChunksInPerfStderr, parseTaskEventLine } from '../../src/timeline/task-events.js';

describe('perf task event lines', () => {
  test('a fork gives child and parent ids and the time', () => {
    expect(parseTaskEventLine('irisstop  8043/8043  [000]   452.631236: PERF_RECORD_FORK(8044:8044):(8043:8043)')).toEqual({
      kind: 'event',
      event: { kind: 'fork', time: 452.631236, pid: 8044, tid: 8044, ppid: 8043, ptid: 8043 },
    });
  });

  test('an exit and an exec are told apart from a plain rename', () => {
    expect(parseTaskEventLine('irisdb  8044 [001]   452.760847: PERF_RECORD_EXIT(8044:8044):(8043:8043)')).toMatchObject({
      event: { kind: 'exit', pid: 8044, ppid: 8043 },
    });
    expect(parseTaskEventLine('irisdb  8044 [000]   452.632720: PERF_RECORD_COMM exec: irisdb:8044/8044')).toMatchObject({
      event: { kind: 'exec', comm: 'irisdb', pid: 8044 },
    });
    expect(parseTaskEventLine('java 9/12 [001] 5.5: PERF_RECORD_COMM: C2 Compiler:9/12')).toMatchObject({
      event: { kind: 'comm', comm: 'C2 Compiler', pid: 9, tid: 12 },
    });
  });

  test('comm names holding colons and spaces are kept whole', () => {
    expect(parseTaskEventLine('swapper     0 [000]     0.000000: PERF_RECORD_COMM: kworker/u8:0-ev:12/12')).toMatchObject({
      event: { kind: 'comm', comm: 'kworker/u8:0-ev', pid: 12, tid: 12, time: 0 },
    });
  });

  test('lost records are counted', () => {
    expect(parseTaskEventLine('swapper     0 [000]   670.374230: PERF_RECORD_LOST lost 86')).toEqual({ kind: 'lost', count: 86 });
  });

  test('other side-band records are ignored and damaged task records are bad', () => {
    expect(parseTaskEventLine('perf 1 [000] 1.0: PERF_RECORD_MMAP2 1/1: [0x1(0x2) @ 0]: r-xp /bin/x').kind).toBe('other');
    expect(parseTaskEventLine('x 1 [000] 1.0: PERF_RECORD_FORK(1:')).toEqual({ kind: 'bad' });
    expect(parseTaskEventLine('PERF_RECORD_EXIT(1:1):(0:0)')).toEqual({ kind: 'bad' });
  });

  test("perf script's lost-chunk summary is read from its stderr", () => {
    expect(lostChunksInPerfStderr('Warning:\nProcessed 5326 events and lost 3 chunks!\n')).toBe(3);
    expect(lostChunksInPerfStderr('')).toBe(0);
  });
});
