import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readTracerLines } from './tracer-lines-support.js';
import {
  OffCpuCaptureReader,
  formatBlockLine,
  formatCpuWaitTotalLine,
  formatRecordLine,
  formatUnavailableLine,
  type TracerRecord,
} from '../../src/kernel/offcpu-lines.js';
import { blockReason, errnoName, stateLetter } from '../../src/kernel/offcpu-reasons.js';
import { REPO_ROOT } from '../support/cli.js';
import { prng } from '../support/prng.js';

/** Raw bpftrace output of the off-CPU program during a simulated IRIS restart, cut to the command's tree. */
const RAW = readFileSync(join(REPO_ROOT, 'fixtures/kernel/offcpu/simulated-restart.bpftrace.txt'), 'utf8');

const read = readTracerLines;

const BLOCK = [
  'B\t414293797963\t416293860207\t12980\t12981\t1\t230\tsleep',
  'k',
  '        __schedule+1560',
  '        schedule+35',
  '        do_nanosleep+94',
  '        entry_SYSCALL_64_after_hwframe+118',
  'u',
  '        0x7fa76b9ff503',
  '        0x55d0c7e2a123',
  '',
];

describe('the tracer output reader', () => {
  test('reads every record of a real restart, stacks leaf first without offsets', () => {
    const { records, reader } = read(RAW.split('\n'));
    expect(reader.badLines).toBe(0);
    const blocks = records.filter((record) => record.kind === 'block');
    expect(blocks.length).toBe(RAW.split('\n').filter((line) => line.startsWith('B\t')).length);
    const iris = blocks.find((record) => record.block.comm === 'iris')!.block;
    expect(iris.syscall).toBe(61);
    expect(iris.kernel[0]).toBe('__schedule');
    expect(iris.kernel).toContain('do_wait');
    expect(iris.user.every((frame) => /^0x[0-9a-f]+$/.test(frame))).toBe(true);
    expect(iris.onNs - iris.offNs).toBeGreaterThan(1e9); // it waits for the whole restart
    const files = records.filter((record) => record.kind === 'file');
    expect(files.some((record) => record.path.endsWith('iris.cpf'))).toBe(true);
    expect(records.some((record) => record.kind === 'cpuwait-total')).toBe(true);
    expect(records.some((record) => record.kind === 'cpuwait-count')).toBe(true);
  });

  test('a blocked interval spans its B line, both stacks and the blank line after', () => {
    const { records } = read(BLOCK);
    expect(records).toEqual([
      {
        kind: 'block',
        block: {
          offNs: 414293797963, onNs: 416293860207, pid: 12980, tid: 12981, state: 1, syscall: 230, comm: 'sleep',
          kernel: ['__schedule', 'schedule', 'do_nanosleep', 'entry_SYSCALL_64_after_hwframe'],
          user: ['0x7fa76b9ff503', '0x55d0c7e2a123'],
        },
      },
    ]);
  });

  test('an interval whose kernel stack could not be stored prints `ku`: no frames lost, nothing bad', () => {
    const { records, reader } = read(['B\t1\t2\t3\t3\t1\t61\tirisdb', 'ku', '        0x7fa76b9ff503', '', 'B\t5\t9\t3\t3\t1\t61\tirisdb', 'ku', '']);
    expect(reader.badLines).toBe(0);
    expect(records.map((record) => (record as Extract<TracerRecord, { kind: 'block' }>).block)).toMatchObject([
      { kernel: [], user: ['0x7fa76b9ff503'] },
      { kernel: [], user: [] },
    ]);
  });

  test('CRLF line ends read the same', () => {
    expect(read(BLOCK.map((line) => `${line}\r`)).records).toEqual(read(BLOCK).records);
  });

  test('a record cut short (lost output, end of stream) keeps what it has and never swallows the next one', () => {
    const { records, reader } = read([...BLOCK.slice(0, 4), 'Lost 12 events', 'F\t5\t1\t2\topenat\t-2\t/x', ...BLOCK.slice(0, 3)]);
    expect(records.map((record) => record.kind)).toEqual(['block', 'lost', 'file', 'block']);
    expect(records[1]).toEqual({ kind: 'lost', count: 12 });
    expect((records[3] as { block: { kernel: string[] } }).block.kernel).toEqual(['__schedule']);
    expect(reader.badLines).toBe(0);
  });

  test("threads still blocked or waiting for a CPU at the end (END's T line and maps): open intervals and waits ending at T", () => {
    const { records, reader } = read([
      'T\t2648092438579',
      '@off[31975]: (2646311959878, 31970, 1, 230, irisdb)',
      '@off[31976]: (2649000000000, 31976, 1, 230, late)',
      '@kstack[31975]: ',
      '        __schedule+1560',
      '        do_nanosleep+94',
      '',
      '@kstack[40000]: ',
      '        __schedule+1560',
      '',
      '@ustack[31975]: ',
      '        0x7fa76b9ff503',
      '',
      '@cpuwait_ns[31970, 31975]: 1500',
      '@runnable[31977]: (2648000000000, 31970)',
    ]);
    expect(reader.badLines).toBe(0);
    expect(records).toEqual([
      { kind: 'cpuwait-total', pid: 31970, tid: 31975, ns: 1500 },
      {
        kind: 'block',
        block: {
          offNs: 2646311959878, onNs: 2648092438579, pid: 31970, tid: 31975, state: 1, syscall: 230, comm: 'irisdb',
          kernel: ['__schedule', 'do_nanosleep'], user: ['0x7fa76b9ff503'], open: true,
        },
      },
      { kind: 'cpuwait-total', pid: 31970, tid: 31977, ns: 92438579 },
      { kind: 'cpuwait-count', pid: 31970, tid: 31977, count: 1 },
      { kind: 'wait', startNs: 2648000000000, endNs: 2648092438579, pid: 31970, tid: 31977 },
    ]);
    const line = formatBlockLine((records[1] as Extract<TracerRecord, { kind: 'block' }>).block, ['clock_nanosleep']);
    expect(line.endsWith('\topen')).toBe(true);
    const capture = new OffCpuCaptureReader();
    expect(capture.push(line)).toBe(true);
    expect(capture.finish().blocked[0]!.open).toBe(true);
  });

  test('bad lines are counted and quoted, never thrown', () => {
    const { records, reader } = read(['B\tnot\ta\tnumber\t1\t2\t3\tx', 'W\t1\t2', 'F\t1\t2\t3\t\t0\t/p', 'garbage', '@other[1]: 3']);
    expect(records).toEqual([]);
    expect(reader.badLines).toBe(5);
    expect(reader.badExamples).toHaveLength(3);
  });

  test('paths keep tabs and their full length; the CPU-wait sums and long waits are read', () => {
    const long = `/data/${'x'.repeat(5000)}\twith tab`;
    const { records } = read([`F\t10\t1\t2\tstatx\t0\t${long}`, '@cpuwait_ns[7, 8]: 1500', '@cpuwait_count[7, 8]: 3', 'W\t100\t20000100\t7\t8']);
    expect(records).toEqual([
      { kind: 'file', timeNs: 10, pid: 1, tid: 2, call: 'statx', result: 0, path: long },
      { kind: 'cpuwait-total', pid: 7, tid: 8, ns: 1500 },
      { kind: 'cpuwait-count', pid: 7, tid: 8, count: 3 },
      { kind: 'wait', startNs: 100, endNs: 20000100, pid: 7, tid: 8 },
    ]);
  });

  test('fuzz: random garbage between records never throws, and every well-formed record still comes out', () => {
    const random = prng(20261130);
    const pieces = ['B\t', 'k', 'u', '\t', ' ', '0x', '+12', 'F', 'W', '@cpuwait_ns[', ']: ', '\r', 'Lost ', '-', '9', 'é', '\\x00'];
    for (let round = 0; round < 200; round++) {
      const lines: string[] = [];
      let expected = 0;
      for (let index = 0; index < 20; index++) {
        if (random() < 0.3) {
          lines.push(...BLOCK);
          expected++;
        } else {
          let garbage = '';
          const length = Math.floor(random() * 8);
          for (let part = 0; part < length; part++) garbage += pieces[Math.floor(random() * pieces.length)];
          // Garbage must not be read as a frame of the block before it: begin it with a letter no record uses.
          lines.push(`Z${garbage}`);
        }
      }
      const { records } = read(lines);
      expect(records.filter((record) => record.kind === 'block').length).toBe(expected);
    }
  });
});

describe('capture lines', () => {
  test('a blocked interval round-trips into a BlockedInterval: seconds, root-first stacks, state letter and reason', () => {
    const { records } = read(BLOCK);
    const block = (records[0] as Extract<TracerRecord, { kind: 'block' }>).block;
    const line = formatBlockLine(block, ['clock_nanosleep', 'main']);
    expect(line.startsWith('# irisflame-offcpu B\t414293797963\t2000062244\t')).toBe(true);
    const reader = new OffCpuCaptureReader();
    expect(reader.push(line)).toBe(true);
    expect(reader.finish().blocked).toEqual([
      {
        start: 414.293797963, duration: 2.000062244, pid: 12980, tid: 12981, comm: 'sleep', state: 'S', syscall: 230, reason: 'sleep',
        kernelStack: ['entry_SYSCALL_64_after_hwframe', 'do_nanosleep', 'schedule', '__schedule'],
        userStack: ['main', 'clock_nanosleep'],
      },
    ]);
  });

  test('waits, sums, files, lost events and missing parts round-trip', () => {
    const reader = new OffCpuCaptureReader();
    const lines = [
      formatRecordLine({ kind: 'wait', startNs: 1_000_000_000, endNs: 1_020_000_000, pid: 7, tid: 8 })!,
      formatCpuWaitTotalLine(7, 8, 30_000_000, 4),
      formatRecordLine({ kind: 'file', timeNs: 2_000_000_000, pid: 7, tid: 8, call: 'openat', result: -2, path: '/data/IRIS/iris.lck' })!,
      formatRecordLine({ kind: 'lost', count: 3 })!,
      formatUnavailableLine('files', 'turned off (--no-files)'),
    ];
    for (const line of lines) expect(reader.push(line)).toBe(true);
    const capture = reader.finish();
    expect(capture.cpuWaits).toEqual([{ pid: 7, tid: 8, total: 0.03, count: 4, long: [{ start: 1, duration: 0.02 }] }]);
    expect(capture.files).toEqual([{ time: 2, pid: 7, tid: 8, call: 'openat', path: '/data/IRIS/iris.lck', result: -2, errno: 'ENOENT' }]);
    expect(capture.lost).toBe(3);
    expect(capture.filesUnavailable).toBe('turned off (--no-files)');
    expect(capture.offCpuUnavailable).toBeUndefined();
  });

  test('malformed capture lines are refused', () => {
    const reader = new OffCpuCaptureReader();
    for (const line of ['# irisflame-offcpu B\t1\t2', '# irisflame-offcpu B\t1\t-5\t1\t1\t1\t0\tx\t\t', '# irisflame-offcpu Q', '# irisflame-offcpu U\tcpu\tx']) {
      expect(reader.push(line)).toBe(false);
    }
    expect(reader.finish().blocked).toEqual([]);
  });
});

describe('reasons', () => {
  test('state D is disk whatever the syscall; otherwise the syscall decides', () => {
    expect(blockReason(2, 0)).toBe('disk');
    expect(blockReason(1, 202)).toBe('lock');
    expect(blockReason(1, 61)).toBe('child');
    expect(blockReason(1, 230)).toBe('sleep');
    expect(blockReason(1, 0)).toBe('io');
    expect(blockReason(1, 232)).toBe('poll');
    expect(blockReason(1, -1)).toBe('other');
    expect(blockReason(0x80, 59)).toBe('other');
  });

  test('state letters and errno names', () => {
    expect([0, 1, 2, 0x80, 0x100].map(stateLetter)).toEqual(['R', 'S', 'D', 'I', 'R']);
    expect(errnoName(-2)).toBe('ENOENT');
    expect(errnoName(3)).toBeUndefined();
    expect(errnoName(-9999)).toBe('errno 9999');
  });
});
