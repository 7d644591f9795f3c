import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { OffCpuCaptureReader, TracerLineReader, formatBlockLine, formatCpuWaitTotalLine, formatRecordLine, formatUnavailableLine } from '../../src/kernel/offcpu-lines.js';
import type { TracedBlock } from '../../src/kernel/offcpu-lines.js';
import { CAPTURE_HEADER, formatCaptureHeader, parseCaptureLine } from '../../src/timeline/capture-file.js';
import { readLifecycleCapture } from '../../src/timeline/read.js';
import { readTimeline } from '../../src/timeline/render.js';
import { REPO_ROOT } from '../support/cli.js';

const OLD_CAPTURE = join(REPO_ROOT, 'fixtures/timeline/perf/simulated-restart.txt.gz');
const NEW_CAPTURE = join(REPO_ROOT, 'fixtures/timeline/offcpu/simulated-restart.lifecycle.txt.gz');
const RAW = readFileSync(join(REPO_ROOT, 'fixtures/kernel/offcpu/simulated-restart.bpftrace.txt'), 'utf8');

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

describe('lifecycle captures with off-CPU data', () => {
  test('a version 1 capture (no off-CPU lines) still loads, without off-CPU data and without bad lines', async () => {
    expect(gunzipSync(readFileSync(OLD_CAPTURE)).toString('latin1').startsWith('# irisflame-lifecycle 1 ')).toBe(true);
    const timeline = await readTimeline(OLD_CAPTURE, { iris: true });
    expect(timeline.processes.map((lane) => lane.label)).toContain('irisstop quietly restart');
    expect(timeline.offCpu).toBeUndefined();
    expect(timeline.report.badLines).toBe(0);
  });

  test('the recorded simulated IRIS restart reads back with blocked time, CPU waits and file events', async () => {
    const timeline = await readTimeline(NEW_CAPTURE, { iris: true });
    expect(timeline.report.badLines).toBe(0);
    const offCpu = timeline.offCpu!;
    expect(offCpu.offCpuUnavailable).toBeUndefined();
    expect(offCpu.filesUnavailable).toBeUndefined();
    const iris = timeline.processes.find((lane) => lane.label === 'iris restart IRIS')!;
    const waited = offCpu.blocked.filter((block) => block.pid === iris.pid && block.reason === 'child').reduce((sum, block) => sum + block.duration, 0);
    // iris does nothing but wait for irisstop: almost all of its life is in wait4.
    expect(waited / (iris.end! - iris.start)).toBeGreaterThan(0.9);
    expect(offCpu.blocked.every((block) => block.kernelStack[block.kernelStack.length - 1] === '__schedule')).toBe(true);
    expect(offCpu.files.some((file) => file.path.endsWith('/iris.cpf'))).toBe(true);
    expect(offCpu.cpuWaits.length).toBeGreaterThan(0);
  });

  test('a capture written with off-CPU lines reads back the same records, beside the snooper and perf lines', async () => {
    const blocks: TracedBlock[] = [];
    const lines: string[] = [];
    const reader = new TracerLineReader((record) => {
      if (record.kind === 'block') blocks.push(record.block);
      else if (record.kind === 'cpuwait-total') lines.push(formatCpuWaitTotalLine(record.pid, record.tid, record.ns, 1));
      else if (record.kind !== 'cpuwait-count') lines.push(formatRecordLine(record)!);
    });
    for (const line of RAW.split('\n')) reader.push(line);
    reader.finish();
    const offCpuLines = [
      formatUnavailableLine('files', 'turned off (--no-files)'),
      ...blocks.map((block) => formatBlockLine(block, block.user.map((_, index) => `frame${index}`))),
      ...lines,
    ];
    const header = formatCaptureHeader({
      command: { argv: ['iris', 'restart', 'IRIS'], exitCode: 0 },
      lostChunks: 0,
      notes: [],
      snoopLines: ['E\t1000000000\t10\t1\t9\tiris\\x00restart\\x00\tiris'],
      offCpuLines,
    });
    expect(header.startsWith(`${CAPTURE_HEADER}2 clock=monotonic\n`)).toBe(true);
    // After every traced interval: the reader cuts intervals at the capture's last event.
    const perf = 'iris 10/10 [000] 99999.500000: PERF_RECORD_COMM exec: iris:10/10\n';
    const capture = await readLifecycleCapture(once(Buffer.from(header + perf)));
    expect(capture.report.badLines).toBe(0);
    expect(capture.report.snoopedExecs).toBe(1);

    const direct = new OffCpuCaptureReader();
    for (const line of offCpuLines) direct.push(line);
    const expected = direct.finish();
    expect(capture.offCpu).toEqual(expected);
    expect(capture.offCpu!.blocked).toHaveLength(blocks.length);
    expect(capture.offCpu!.filesUnavailable).toBe('turned off (--no-files)');
    expect(capture.offCpu!.files.length).toBe(RAW.split('\n').filter((line) => line.startsWith('F\t')).length);
  });

  test('header lines: both versions are headers; a broken off-CPU line is a bad line, not a failure', async () => {
    expect(parseCaptureLine('# irisflame-lifecycle 1 clock=monotonic')).toEqual({ kind: 'header', version: 1, clock: 'monotonic' });
    expect(parseCaptureLine('# irisflame-lifecycle 2 clock=monotonic')).toEqual({ kind: 'header', version: 2, clock: 'monotonic' });
    const capture = await readLifecycleCapture(once(Buffer.from('# irisflame-lifecycle 2 clock=monotonic\n# irisflame-offcpu B\tbroken\r\n')));
    expect(capture.report.badLines).toBe(1);
    expect(capture.offCpu?.blocked).toEqual([]);
  });
});
