/**
 * Reading a lifecycle capture: `perf script --show-task-events` output, optionally with irisflame's
 * `# irisflame-…` header (capture-file.ts). Samples are parsed by the perf collapser (one perf stack
 * parser in the project) through its `onSample` hook; this file only picks out the event lines, which it
 * finds by searching each chunk for two markers (marker-lines.ts) instead of splitting every line.
 */
import { createPerfCollapser } from '../collapse/perf.js';
import type { CollapseReport } from '../collapse/types.js';
import { ArgvIndex } from '../kernel/argv-index.js';
import { CAPTURE_MARKER, parseCaptureLine } from './capture-file.js';
import { parseSnoopLine } from '../kernel/exec-events.js';
import type { RecordedCommand, TaskEvent, TimelineReport } from './model.js';
import { emptyTimelineReport } from './model.js';
import { TASK_EVENT_MARKER, parseTaskEventLine } from './task-events.js';
import { MarkerLines } from '../kernel/marker-lines.js';
import { OffCpuCaptureReader } from '../kernel/offcpu-lines.js';
import type { OffCpuCapture } from '../kernel/offcpu-events.js';

/** A sample as read, before it is attributed to a process lane. */
export interface RawSample {
  time: number;
  /** Process id when perf printed one (`-F +pid`), else undefined (resolved from fork events later). */
  pid: number | undefined;
  tid: number;
  comm: string;
  stack: string;
}

/** Everything a capture holds, unassembled. */
export interface LifecycleCapture {
  events: TaskEvent[];
  argv: ArgvIndex;
  samples: RawSample[];
  command: RecordedCommand | undefined;
  report: TimelineReport;
  /** The perf collapser's own report (bad stack lines, skipped events). */
  collapse: CollapseReport | undefined;
  /** perf record's `-F`, when the snooper saw perf's own exec. */
  sampleFrequency?: number;
  /** Processes the snooper saw before perf's first event get lanes (capture-file.ts `leadFromSnooper`). */
  leadFromSnooper?: boolean;
  /** Blocked time, CPU waits and file events, when the capture has the off-CPU tracer's lines. */
  offCpu: OffCpuCapture | undefined;
}

const MAX_BAD_EXAMPLES = 3;

/** A push reader over a capture's bytes; chunks may split lines anywhere. */
export class LifecycleReader {
  private readonly capture: LifecycleCapture;
  private readonly collapser;
  private readonly lines = new MarkerLines([
    { bytes: Buffer.from(TASK_EVENT_MARKER, 'latin1'), atLineStart: false, onLine: (line) => this.onEventLine(line) },
    { bytes: Buffer.from(CAPTURE_MARKER, 'latin1'), atLineStart: true, onLine: (line) => this.onCaptureLine(line) },
  ]);
  private samplesWithoutTime = 0;
  private readonly offCpu = new OffCpuCaptureReader();

  constructor() {
    this.capture = {
      events: [],
      argv: new ArgvIndex(),
      samples: [],
      command: undefined,
      report: emptyTimelineReport(),
      collapse: undefined,
      offCpu: undefined,
    };
    const samples = this.capture.samples;
    this.collapser = createPerfCollapser({
      samples: true,
      // Annotate kernel and JIT frames (`_[k]`, `_[j]`), as `record` does, so the kind palette colours them.
      all: true,
      // The collapser skips the PERF_RECORD_ lines itself (perf-task-records.ts): only samples come here.
      onSample: (sample) => {
        if (sample.time === undefined) {
          this.samplesWithoutTime++;
          return;
        }
        samples.push({ time: sample.time, pid: sample.pid, tid: sample.tid, comm: sample.comm, stack: sample.stack });
      },
    });
  }

  push(chunk: Buffer): void {
    this.lines.push(chunk);
    this.collapser.push(chunk);
  }

  finish(): LifecycleCapture {
    this.lines.finish();
    const result = this.collapser.finish();
    this.capture.collapse = result.report;
    const report = this.capture.report;
    report.samples = this.capture.samples.length;
    if (this.samplesWithoutTime > 0) {
      report.notes.push(`${this.samplesWithoutTime} samples had no timestamp and are not on the timeline (record with perf script -F +time)`);
    }
    this.capture.samples.sort((a, b) => a.time - b.time);
    if (this.offCpu.seen) {
      this.capture.offCpu = this.offCpu.finish();
      clipOpenIntervals(this.capture);
      if (this.capture.offCpu.lost > 0) report.notes.push(`the off-CPU tracer lost ${this.capture.offCpu.lost} events`);
    }
    return this.capture;
  }

  // irisstop  8043 [000]   452.631236: PERF_RECORD_FORK(8044:8044):(8043:8043)
  private onEventLine(line: string): void {
    const parsed = parseTaskEventLine(line);
    const report = this.capture.report;
    if (parsed.kind === 'event') {
      this.capture.events.push(parsed.event);
      report.taskEvents++;
    } else if (parsed.kind === 'lost') {
      report.lostEvents += parsed.count;
    } else if (parsed.kind === 'bad') {
      this.badLine(line);
    }
  }

  // # irisflame-snoop E	568541922730	9115	9114	62	./irisdb\x00-s/data/IRIS/mgr/\x00-cV\x00	irisdb
  private onCaptureLine(line: string): void {
    const parsed = parseCaptureLine(line);
    const report = this.capture.report;
    switch (parsed.kind) {
      case 'snoop': {
        const snoop = parseSnoopLine(parsed.text);
        if (snoop.kind === 'exec') {
          this.capture.argv.addExec(snoop.exec);
          report.snoopedExecs++;
          this.capture.sampleFrequency ??= perfRecordFrequency(snoop.exec.argv);
        } else if (snoop.kind === 'exit') this.capture.argv.addExit(snoop.exit);
        else if (snoop.kind === 'bad') this.badLine(line);
        break;
      }
      case 'command':
        this.capture.command = parsed.command;
        break;
      case 'lost':
        report.lostEvents += parsed.count;
        break;
      case 'note':
        report.notes.push(parsed.text);
        break;
      case 'offcpu':
        if (!this.offCpu.push(parsed.text)) this.badLine(line);
        break;
      case 'header':
        if (parsed.frequency !== undefined) this.capture.sampleFrequency = parsed.frequency;
        if (parsed.lead === 'snoop') this.capture.leadFromSnooper = true;
        break;
      case 'bad':
        this.badLine(line);
        break;
    }
  }

  private badLine(line: string): void {
    const report = this.capture.report;
    report.badLines++;
    if (report.badLineExamples.length < MAX_BAD_EXAMPLES) report.badLineExamples.push(line);
  }
}

/** `perf record … -F 99 …` (or `-F99`, `--freq=99`): the sampling frequency, else undefined. */
export function perfRecordFrequency(argv: readonly string[]): number | undefined {
  const program = argv[0]?.slice(argv[0].lastIndexOf('/') + 1);
  if (program !== 'perf' || argv[1] !== 'record') return undefined;
  for (let index = 2; index < argv.length && argv[index] !== '--'; index++) {
    const argument = argv[index]!;
    const value = argument === '-F' || argument === '--freq' ? argv[index + 1] : /^(?:-F|--freq=)(\d+)$/.exec(argument)?.[1];
    if (value !== undefined && /^\d+$/.test(value)) return Number(value);
  }
  return undefined;
}

/** Read a whole capture from chunks. */
export async function readLifecycleCapture(chunks: AsyncIterable<Buffer>): Promise<LifecycleCapture> {
  const reader = new LifecycleReader();
  for await (const chunk of chunks) reader.push(chunk);
  return reader.finish();
}

/**
 * The tracer stops when perf is told to stop, a moment after perf's last sample or event: intervals past
 * the capture's end (still blocked at the stop, or woken just then) are cut there, so that a lane's totals
 * stay within its span.
 */
function clipOpenIntervals(capture: LifecycleCapture): void {
  let end = capture.samples.length > 0 ? capture.samples[capture.samples.length - 1]!.time : Number.NEGATIVE_INFINITY;
  for (const event of capture.events) if (event.time > end) end = event.time;
  if (!Number.isFinite(end)) return;
  for (const block of capture.offCpu?.blocked ?? []) {
    if (block.start + block.duration > end) block.duration = Math.max(0, end - block.start);
  }
}
