/**
 * The warm off-CPU tracer's ring (src/kernel/offcpu-ring.ts): bpftrace's lines in, a window of capture
 * records out, bounded by age, count and bytes, and honest about when the tracer was down.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, test } from 'vitest';
import { OffCpuRing } from '../../src/kernel/offcpu-ring.js';
import { OffCpuCaptureReader, formatBlockLine } from '../../src/kernel/offcpu-lines.js';

const S = 1_000_000_000;

/** A blocked interval as the warm program prints it: B line, kernel frames, user frames, blank line. */
function block(ring: OffCpuRing, offNs: number, onNs: number, pid: number, syscall = 230): void {
  for (const line of [`B\t${offNs}\t${onNs}\t${pid}\t${pid}\t1\t${syscall}\tirisdb`, 'k', '        schedule+40', '        do_nanosleep+100', 'u', '        0x401000', '']) ring.push(line);
}

/** The window read back as a capture reads it. */
function read(ring: OffCpuRing, from: number, to: number) {
  const window = ring.take(from, to);
  const reader = new OffCpuCaptureReader();
  for (const b of window.trace.blocks) expect(reader.push(formatBlockLine(b, b.user))).toBe(true);
  for (const line of window.trace.lines) expect(reader.push(line), line).toBe(true);
  return { window, capture: reader.finish() };
}

describe('OffCpuRing', () => {
  test('a window holds the intervals that overlap it, cut to it, and the file lookups inside it', () => {
    const now = 100 * S;
    const ring = new OffCpuRing({ seconds: 30, maxRecords: 1000, maxBytes: 1 << 20 }, () => now);
    ring.up();
    block(ring, 10 * S, 11 * S, 7); // before the window
    block(ring, 19 * S, 21 * S, 7); // starts before it
    block(ring, 22 * S, 23 * S, 8); // inside
    block(ring, 29 * S, 31 * S, 8); // still going at its end
    ring.push(`F\t${22 * S}\t8\t8\tnewfstatat\t-2\t/data/IRIS/mgr/iris.key`);
    ring.push(`F\t${40 * S}\t8\t8\topenat\t3\t/data/IRIS/iris.cpf`);
    const { window, capture } = read(ring, 20 * S, 30 * S);
    expect(window.unavailable).toBeUndefined();
    expect(capture.blocked.map((b) => [b.start, b.duration, b.open ?? false])).toEqual([
      [20, 1, false],
      [22, 1, false],
      [29, 1, true],
    ]);
    expect(capture.blocked[0]!.kernelStack).toEqual(['do_nanosleep', 'schedule']); // root first
    expect(capture.files.map((f) => [f.path, f.errno])).toEqual([['/data/IRIS/mgr/iris.key', 'ENOENT']]);
  });

  test("CPU-wait sums printed inside the window are added up per thread; long waits are cut to it", () => {
    const ring = new OffCpuRing(undefined, () => 100 * S);
    ring.push(`C\t${5 * S}\t7\t7\t1000\t1`); // before
    ring.push(`C\t${21 * S}\t7\t7\t2000000\t3`);
    ring.push(`C\t${25 * S}\t7\t7\t3000000\t2`);
    ring.push(`C\t${26 * S}\t7\t9\t500\t1`);
    ring.push(`W\t${19 * S}\t${21 * S}\t7\t7`);
    const { capture } = read(ring, 20 * S, 30 * S);
    const byTid = new Map(capture.cpuWaits.map((wait) => [wait.tid, wait]));
    expect(byTid.get(7)).toMatchObject({ pid: 7, total: 0.005, count: 5, long: [{ start: 20, duration: 1 }] });
    expect(byTid.get(9)).toMatchObject({ pid: 7, total: 500 / S, count: 1 });
  });

  test('records age out after `seconds`, and the count and byte bounds hold, saying what was dropped', () => {
    let now = 0;
    const ring = new OffCpuRing({ seconds: 30, maxRecords: 50, maxBytes: 1 << 20 }, () => now);
    for (let second = 0; second < 100; second++) {
      now = second * S;
      block(ring, second * S, second * S + 1000, 7);
    }
    expect(ring.size.records).toBeLessThanOrEqual(31);
    expect(read(ring, 0, 100 * S).capture.blocked[0]!.start).toBeGreaterThanOrEqual(69);

    const small = new OffCpuRing({ seconds: 30, maxRecords: 10, maxBytes: 1 << 20 }, () => 50 * S);
    for (let i = 0; i < 25; i++) block(small, 40 * S + i, 40 * S + i + 1, 7);
    expect(small.size.records).toBe(10);
    expect(small.take(39 * S, 50 * S).notes.join(' ')).toMatch(/dropped: the agent keeps at most 10 records/);

    const bytes = new OffCpuRing({ seconds: 30, maxRecords: 1000, maxBytes: 8000 }, () => 50 * S);
    for (let i = 0; i < 100; i++) block(bytes, 40 * S + i, 40 * S + i + 1, 7);
    expect(bytes.size.bytes).toBeLessThanOrEqual(8000);
    expect(bytes.size.records).toBeGreaterThan(5);
  });

  test('a tracer down for the whole window makes it unavailable; down for part of it, a note says when', () => {
    let now = 10 * S;
    const ring = new OffCpuRing(undefined, () => now);
    ring.down('bpftrace exited (SIGKILL)');
    now = 15 * S;
    ring.up();
    block(ring, 16 * S, 17 * S, 7);
    expect(ring.take(11 * S, 14 * S).unavailable).toMatch(/down \(bpftrace exited \(SIGKILL\)\)/);
    const partly = ring.take(12 * S, 18 * S);
    expect(partly.unavailable).toBeUndefined();
    expect(partly.notes).toContainEqual(expect.stringMatching(/^no blocked intervals, CPU waits or file lookups from the start to 3\.000 s: the off-CPU tracer was down/));
    expect(partly.trace.blocks).toHaveLength(1);
    // A stack cut by the tracer's death does not swallow the next tracer's first line.
    ring.push(`B\t${17 * S}\t${18 * S}\t7\t7\t1\t230\tirisdb`);
    ring.push('k');
    now = 18 * S;
    ring.down('bpftrace exited (status 1)');
    ring.up();
    ring.push(`F\t${19 * S}\t8\t8\topenat\t3\t/x`);
    expect(ring.take(17 * S, 20 * S).trace.lines.some((line) => line.endsWith('/x'))).toBe(true);
  });

  test('the byte bound holds the heap the ring really keeps, frames and all, from lines cut out of big chunks', () => {
    // What the agent sees: bpftrace's output read in chunks and split into lines (bpftrace-process.ts), so each
    // line and frame may be a slice of its chunk. Before the bound counted real bytes, a ring "at 4 MiB" held ~8x that.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const heap = (): number => {
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    const maxBytes = 4 * 1024 * 1024;
    const before = heap();
    const ring = new OffCpuRing({ seconds: 30, maxRecords: 1_000_000, maxBytes }, () => 50 * S);
    let chunk: string[] = [];
    const flush = (): void => {
      for (const line of `${chunk.join('\n')}\n`.split('\n').slice(0, -1)) ring.push(line);
      chunk = [];
    };
    for (let i = 0; i < 40_000; i++) {
      const off = 40 * S + i * 1000;
      chunk.push(`B\t${off}\t${off + 500}\t${1000 + (i % 50)}\t${1000 + (i % 50)}\t1\t230\tirisdb`, 'k');
      for (let frame = 0; frame < 12; frame++) chunk.push(`        kernel_function_${frame}_${i % 7}+${frame * 4}`);
      chunk.push('u');
      for (let frame = 0; frame < 12; frame++) chunk.push(`        0x7f00${(i * 31 + frame).toString(16).padStart(8, '0')}`);
      chunk.push('');
      if (chunk.length > 2000) flush();
    }
    flush();
    const held = heap() - before;
    expect(ring.size.bytes).toBeLessThanOrEqual(maxBytes);
    expect(ring.size.records).toBeGreaterThan(1000);
    expect(held, `${(held / 2 ** 20).toFixed(1)} MiB held for ${ring.size.records} records`).toBeLessThan(1.5 * maxBytes);
    // The frames come back as they went in.
    const last = ring.take(0, 60 * S).trace.blocks.at(-1)!;
    expect(last.kernel).toHaveLength(12);
    expect(last.kernel[0]).toBe(`kernel_function_0_${39_999 % 7}`);
    expect(last.user[11]).toBe(`0x7f00${(39_999 * 31 + 11).toString(16).padStart(8, '0')}`);
  });

  test('a quiet tracer does not keep an old burst: expire() ages records out by the clock', () => {
    let now = 10 * S;
    const ring = new OffCpuRing({ seconds: 30, maxRecords: 1000, maxBytes: 1 << 20 }, () => now);
    for (let i = 0; i < 100; i++) block(ring, 10 * S + i, 10 * S + i + 1, 7);
    ring.expire();
    expect(ring.size.records).toBe(100);
    now = 41 * S; // nothing printed since
    ring.expire();
    expect(ring.size).toEqual({ records: 0, bytes: 0 });
  });
});
