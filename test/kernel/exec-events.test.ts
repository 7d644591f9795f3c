import { describe, expect, test } from 'vitest';
import { describeExitStatus, parseSnoopLine, unescapeBpftraceBuffer } from '../../src/kernel/exec-events.js';

describe('exec snooper lines', () => {
  test('an exec line gives time, ids, comm and the whole argv', () => {
    const line = 'E\t568541922730\t9115\t9114\t30\t./irisdb\\x00-s/data/IRIS/mgr/\\x00-cV\\x00\tirisdb';
    expect(parseSnoopLine(line)).toEqual({
      kind: 'exec',
      exec: { time: 568.54192273, pid: 9115, ppid: 9114, comm: 'irisdb', argv: ['./irisdb', '-s/data/IRIS/mgr/', '-cV'], truncated: false },
    });
  });

  test('the irisflame comment prefix is accepted', () => {
    expect(parseSnoopLine('# irisflame-snoop X\t570354910307\t9137\t768')).toEqual({
      kind: 'exit',
      exit: { time: 570.354910307, pid: 9137, status: 768 },
    });
  });

  test('arguments with spaces, backslashes and UTF-8 survive, and a cut argv is flagged', () => {
    const parsed = parseSnoopLine('E\t1\t2\t3\t400\t/bin/echo\\x00a b\\x00c\\d\\x00\\xc3\\xa9\\x00\techo');
    expect(parsed).toMatchObject({ kind: 'exec', exec: { argv: ['/bin/echo', 'a b', 'c\\d', 'é'], truncated: true } });
  });

  test("bpftrace's own chatter is ignored and broken lines are bad", () => {
    expect(parseSnoopLine('Attaching 2 probes...').kind).toBe('other');
    expect(parseSnoopLine('E\tx\t1\t2').kind).toBe('bad');
    expect(parseSnoopLine('X\t1\tpid\t0').kind).toBe('bad');
  });

  test('\\xHH escapes become bytes and a lone backslash stays', () => {
    expect([...unescapeBpftraceBuffer('a\\x00\\x41\\')]).toEqual([0x61, 0, 0x41, 0x5c]);
  });

  test('wait statuses read as a shell reports them', () => {
    expect(describeExitStatus(0)).toBe('exit 0');
    expect(describeExitStatus(768)).toBe('exit 3');
    expect(describeExitStatus(9)).toBe('killed by signal 9');
  });
});
