/**
 * The warm tracer's arming (src/kernel/offcpu-program.ts `warm`): while unarmed it keeps blocked intervals and
 * long CPU waits in the kernel and prints none; an arming prints them (`@rN[tid, off]` maps, their `@rkN` stacks,
 * `@wN[tid, start]` waits, then `D`)
 * before it prints each new interval as it ends. The fixture is real bpftrace 0.17 output, recorded on the
 * project's machine around one arming: two daemons of an idle simulated IRIS instance, unarmed for 7 s.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readTracerLines } from './tracer-lines-support.js';
import { type TracedBlock, type TracerRecord } from '../../src/kernel/offcpu-lines.js';
import { KEPT_END_LINE, WARM_GENERATION_SECONDS, offCpuProgram } from '../../src/kernel/offcpu-program.js';
import { OffCpuRing } from '../../src/kernel/offcpu-ring.js';
import { WarmOffCpuStream } from '../../src/kernel/offcpu-tracer.js';
import { REPO_ROOT } from '../support/cli.js';

const FIXTURE = readFileSync(join(REPO_ROOT, 'fixtures/kernel/offcpu/warm-arming.bpftrace.txt'), 'utf8');
const [HEADER, ...LINES] = FIXTURE.trimEnd().split('\n');
/** When the recording armed the tracer (CLOCK_MONOTONIC ns), from the fixture's first line. */
const ARMED_NS = Number(/armed at (\d+)/.exec(HEADER!)![1]);
const S = 1e9;

const read = readTracerLines;

const blocksOf = (records: TracerRecord[]): TracedBlock[] => records.flatMap((record) => (record.kind === 'block' ? [record.block] : []));

describe('the warm tracer, armed after a quiet spell', () => {
  const printedAt = LINES.findIndex((line) => line.startsWith(`${KEPT_END_LINE}\t`));
  const keptLines = LINES.slice(0, printedAt + 1);
  const kept = LINES.filter((line) => /^@r\d\[/.test(line)).length;

  test('the kept intervals come back whole: times, reason, comm and kernel stack, oldest first', () => {
    expect(printedAt).toBeGreaterThan(0);
    const { records, reader } = read(keptLines);
    expect(reader.badLines).toBe(0);
    const blocks = blocksOf(records);
    expect(blocks.length).toBe(kept);
    expect(blocks.length).toBeGreaterThan(20);
    for (const block of blocks) {
      expect(block).toMatchObject({ state: 1, syscall: 230, comm: 'irisdb', user: [] });
      expect(block.pid).toBe(block.tid);
      expect(block.onNs).toBeGreaterThan(block.offNs);
      expect(block.onNs).toBeLessThan(ARMED_NS);
      expect(block.kernel.slice(0, 3)).toEqual(['__schedule', 'schedule', 'do_nanosleep']);
    }
    expect(blocks.map((block) => block.offNs)).toEqual([...blocks.map((block) => block.offNs)].sort((a, b) => a - b));
    // Unarmed for 7 s with 5 s generations: what the kernel kept reaches back more than one generation.
    expect(ARMED_NS - blocks[0]!.offNs).toBeGreaterThan(WARM_GENERATION_SECONDS * S);
  });

  test('nothing is lost or repeated at the arming: each thread\'s intervals follow on from the kept ones', () => {
    const { records } = read(LINES);
    const byTid = new Map<number, TracedBlock[]>();
    for (const block of blocksOf(records)) byTid.set(block.tid, [...(byTid.get(block.tid) ?? []), block]);
    expect(byTid.size).toBe(2);
    for (const blocks of byTid.values()) {
      const printedLive = blocks.filter((block) => block.onNs > ARMED_NS);
      expect(printedLive.length).toBeGreaterThan(2);
      blocks.sort((a, b) => a.offNs - b.offNs);
      for (let i = 1; i < blocks.length; i++) {
        // A daemon sleeps 200 ms, works a few ms, sleeps again: never two intervals at once, never a long gap.
        expect(blocks[i]!.offNs).toBeGreaterThanOrEqual(blocks[i - 1]!.onNs);
        expect(blocks[i]!.offNs - blocks[i - 1]!.onNs).toBeLessThan(0.15 * S);
      }
    }
  });

  test('a second printing of the same kept intervals (two armings at once) is not repeated', () => {
    const twice = [...keptLines, ...keptLines];
    expect(blocksOf(read(twice).records).length).toBe(kept);
  });

  test('kept intervals with no D line (output cut) still come out at the end', () => {
    expect(blocksOf(read(keptLines.slice(0, -1)).records).length).toBe(kept);
  });

  test('in the ring, a window that starts a second before the arming holds the kept intervals of that second', () => {
    const ring = new OffCpuRing({ seconds: 30, maxRecords: 100_000, maxBytes: 1 << 24 }, () => ARMED_NS + 2 * S);
    const stream = new WarmOffCpuStream(ring); // takes the sync line (`S`) out, as the agent does
    for (const line of LINES) stream.onLine(line);
    const window = ring.take(ARMED_NS - S, ARMED_NS + 2 * S);
    const before = window.trace.blocks.filter((block) => block.offNs < ARMED_NS);
    // Two daemons sleeping 200 ms at a time: about five intervals each overlap the second before.
    expect(before.length).toBeGreaterThanOrEqual(8);
    expect(window.trace.badLines).toBe(0);
    expect(window.notes.some((note) => note.includes('unarmed'))).toBe(false);
  });

  test('a window reaching back past what the kernel kept (a crash\'s 30 s) says where its blocked intervals begin', () => {
    const ring = new OffCpuRing({ seconds: 30, maxRecords: 100_000, maxBytes: 1 << 24 }, () => ARMED_NS + 2 * S);
    const stream = new WarmOffCpuStream(ring);
    for (const line of LINES) stream.onLine(line);
    const window = ring.take(ARMED_NS - 30 * S, ARMED_NS + 2 * S);
    const oldest = Math.min(...window.trace.blocks.map((block) => block.offNs));
    const note = window.notes.find((text) => text.includes('the warm tracer was unarmed'));
    expect(note).toBe(
      `no blocked intervals from the start to ${((oldest - (ARMED_NS - 30 * S)) / S).toFixed(3)} s: the warm tracer was unarmed (nothing under way), ` +
        `and its arming at ${(30 + (Number(/^D\t(\d+)/m.exec(FIXTURE)![1]) - ARMED_NS) / S).toFixed(3)} s printed those it had kept in the kernel, ` +
        `the last one to two generations of ${WARM_GENERATION_SECONDS} s`,
    );
  });
});

describe('long CPU waits kept while unarmed', () => {
  // Real output too: four busy loops on the 2 CPUs followed for 6 s unarmed, then armed; cut to two of them.
  const WAITS = readFileSync(join(REPO_ROOT, 'fixtures/kernel/offcpu/warm-arming-waits.bpftrace.txt'), 'utf8').trimEnd().split('\n');
  const armedNs = Number(/armed at (\d+)/.exec(WAITS[0]!)![1]);
  const lines = WAITS.slice(1);
  const waitsOf = (records: TracerRecord[]) => records.flatMap((record) => (record.kind === 'wait' ? [record] : []));

  test('come back as waits at the arming (none printed before it), then each is printed as it ends', () => {
    const { records, reader } = read(lines.filter((line) => line !== 'S'));
    expect(reader.badLines).toBe(0);
    const waits = waitsOf(records);
    const kept = waits.filter((wait) => wait.endNs < armedNs);
    expect(kept.length).toBe(lines.filter((line) => /^@w\d\[/.test(line)).length);
    expect(kept.length).toBeGreaterThan(100);
    expect(new Set(kept.map((wait) => wait.tid)).size).toBe(2);
    for (const wait of waits) {
      expect(wait.pid).toBe(wait.tid);
      expect(wait.endNs - wait.startNs).toBeGreaterThan(10_000_000); // DEFAULT_LONG_CPU_WAIT_NS
    }
    expect(waits.filter((wait) => wait.endNs > armedNs).length).toBe(lines.filter((line) => line.startsWith('W\t')).length);
    // Printed twice (two armings at once): not repeated.
    const printing = lines.slice(0, lines.findIndex((line) => line.startsWith('D\t')) + 1);
    expect(waitsOf(read([...printing, ...printing]).records).length).toBe(kept.length);
  });
});

describe('the warm tracer, armed earlier in the window too', () => {
  test('the note starts where the intervals printed before (armed) end, not at the window start', () => {
    const ring = new OffCpuRing({ seconds: 60, maxRecords: 100_000, maxBytes: 1 << 24 }, () => ARMED_NS + 2 * S);
    const stream = new WarmOffCpuStream(ring);
    // An interval printed live 25 s before the arming (another lifecycle had armed the tracer then).
    const earlierOff = ARMED_NS - 25 * S;
    for (const line of [`B\t${earlierOff}\t${earlierOff + 0.2 * S}\t23456\t23456\t1\t230\tirisdb`, 'k', '        schedule+35', 'u', '']) stream.onLine(line);
    for (const line of LINES) stream.onLine(line);
    const from = ARMED_NS - 30 * S;
    const note = ring.take(from, ARMED_NS + 2 * S).notes.find((text) => text.includes('the warm tracer was unarmed'));
    expect(note).toMatch(new RegExp(`^no blocked intervals from ${((earlierOff + 0.2 * S - from) / S).toFixed(3)} s to \\d+\\.\\d{3} s: `));
  });
});

describe('the warm program', () => {
  const program = offCpuProgram({ offCpu: true, files: true, names: ['irisdb', 'iris'], syncPid: 4242, warm: true });

  test('prints a blocked interval only while armed; keeps it in the generation map otherwise', () => {
    expect(program).toMatch(/if \(nsecs < @arm\[0\]\) \{[^}]*\{[^}]*\}\s*printf\("B\\t/);
    for (const generation of [0, 1, 2]) {
      expect(program).toContain(`@r${generation}[$next, $off.0] = (nsecs, $off.1, $off.2, $off.3, args->next_comm);`);
      expect(program).toContain(`@w${generation}[$next, $queued.0] = (nsecs, $queued.1);`);
    }
  });

  test('arms at the agent\'s getegid only: not at an exec (an `iris list` costs nothing), not at an exit', () => {
    const armings = program.match(/@arm\[0\] = nsecs \+ \d+;/g) ?? [];
    expect(armings.length).toBe(1);
    expect(program).toMatch(/sched_process_exec [^\n]*\{\n  @follow\[pid\] = 1;\n\}/);
    expect(program).toMatch(/sys_enter_getegid \/pid == 4242\//);
    expect(program).not.toMatch(/sched_process_exit[^}]*@arm/);
    expect(program).toContain(`interval:s:${WARM_GENERATION_SECONDS} {`);
  });

  test('the recording tracer (not warm) is unchanged: every interval printed, no arming', () => {
    const recording = offCpuProgram({ offCpu: true, files: true, names: ['irisdb'], syncPid: 4242 });
    expect(recording).not.toContain('@arm');
    expect(recording).not.toContain('@r0');
    expect(recording).toContain('printf("B\\t');
  });
});
