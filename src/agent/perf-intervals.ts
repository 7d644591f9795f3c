/**
 * The sampler's fallback where bpftrace is absent: `perf record -a -g --control fd:0 -o -` streams into one
 * long-running `perf script -i -`, whose samples are folded by the perf collapser and cut into one-second
 * intervals as they arrive. One perf script for the agent's lifetime: a `perf script` per second (over
 * `--switch-output` files) spent ~0.35 s of CPU each loading the kernel's and every binary's symbols, more
 * than the interval itself on a loaded host. A `ping` on perf's control fd every FLUSH_MS makes it hand its
 * samples over (a second of latency at most) instead of when its buffer fills, which at 19 Hz is minutes.
 *
 * perf cannot filter by process name in the kernel, so the whole node's samples reach user space and IRIS
 * scoping happens here, on the comm. The collapser is fed whole samples (split at perf script's blank lines), hands
 * each one over as it ends, and is replaced every COLLAPSER_LIFETIME_MS, so its tables hold a minute of stacks
 * however long the agent runs (one per interval cost ~1% of a core: a collapser takes 5-10 ms to make).
 *
 * The same pipeline, given `dwarfStackBytes`, is the DWARF sampler for processes built without frame pointers
 * (dwarf-sampler.ts): `perf record -a --call-graph dwarf,N`, `perf script --no-inline --comms NAMES`. perf script
 * unwinds a sample only when it prints it, so `--comms` keeps the unwinding (1-2.5 ms of CPU per sample) to
 * the sampled names; the other processes' samples cost their copy through the pipe only.
 */
import { createPerfCollapser } from '../collapse/perf.js';
import { resolvePerfCollapseOptions } from '../collapse/perf-options.js';
import { LineSplitter } from '../collapse/lines.js';
import type { Collapser } from '../collapse/types.js';
import { signalChild, spawnTracked, stderrText } from '../tools/children.js';
import { findExecutable } from '../tools/executables.js';
import { spawnSync } from 'node:child_process';
import { readInBatches } from '../tools/batched-read.js';
import { pipePerfStream } from './perf-pipe-filter.js';
import type { IntervalSample, IntervalSource, IntervalSourceOptions } from './bpftrace-intervals.js';

/** perf record fails fast (no permission, unknown event); alive after this long means sampling. */
const SETTLE_MS = 1_500;
const INTERVAL_MS = 1_000;
/**
 * How often perf record is told to hand over what its ring buffers hold (`ping` on its control fd: the
 * command wakes its poll, and each wake drains every ring). Without it perf hands data over when a ring is
 * half full (256 KiB of 512: minutes of an idle node at 19 Hz); with --no-buffering at every record, which
 * woke perf record and the agent's reading ~40 times a second on an idle 2-core node (perf record 0.16 s of
 * CPU a minute, the agent +0.4 s). The rings keep their full size, so a reader late by seconds loses nothing.
 */
const FLUSH_MS = 1_000;
const COLLAPSER_LIFETIME_MS = 60_000;
const COMM_BYTES = 15;
/**
 * perf script's output is read this long after the last read: line-buffered, it writes each line on its own
 * (≈10-25 per sample), and a wake-up per line would cost more than the parsing. Its pipe holds 64 KiB.
 */
const OUTPUT_BATCH_MS = 250;
const NEWLINE = Buffer.from('\n');

export interface PerfIntervalOptions extends IntervalSourceOptions {
  /** Unwind user stacks with DWARF from this many bytes of copied stack, instead of frame pointers. */
  dwarfStackBytes?: number;
  /** Who is starting, for the reason it could not: "the continuous sampler (perf)" by default. */
  label?: string;
  /** With `commNames`: whether a sample of a process of those names is wanted (dropped before perf script otherwise). */
  keepSample?: (pid: number) => boolean;
}

/** The running pipeline: `pid` is perf record's, `scriptPid` perf script's (the owner watches their memory). */
export interface PerfIntervalSource extends IntervalSource {
  readonly scriptPid: number | undefined;
  /** Samples the kernel dropped so far, perf record's ring buffers being full (PERF_RECORD_LOST). */
  readonly lostSamples: number;
}

export type PerfIntervalStart = { running: PerfIntervalSource; unavailable?: undefined } | { running?: undefined; unavailable: string };

export async function startPerfIntervals(options: PerfIntervalOptions): Promise<PerfIntervalStart> {
  const perf = findExecutable('perf');
  if (perf === undefined) return { unavailable: options.dwarfStackBytes === undefined ? 'neither bpftrace nor perf is installed' : 'perf is not installed' };
  const dwarf = options.dwarfStackBytes !== undefined;
  const callGraph = dwarf ? ['--call-graph', `dwarf,${options.dwarfStackBytes}`] : ['-g'];
  // perf script's inline lookups run addr2line per frame: with DWARF stacks, most of its time (record's perf.ts).
  // --comms: only the sampled names' samples are unwound (the fallback's -g stacks cost nothing to walk).
  const names = options.commNames === undefined ? undefined : new Set(options.commNames.map((name) => name.slice(0, COMM_BYTES)));
  const scriptFilter = dwarf ? ['--no-inline', ...(names === undefined ? [] : ['--comms', [...names].join(',')])] : [];
  const spawnOptions = { detached: true, parentDeathSignal: 'SIGKILL' as const };
  // Flushed on demand through a control fd (its stdin) where perf has one (5.9 and later), else --no-buffering.
  const control = perfRecordHasControl(perf);
  // --no-bpf-event: no BPF records (the KSYMBOL ones perf asks for anyway are filtered out below).
  const record = spawnTracked(
    perf,
    ['record', '-F', String(options.frequency), '-a', ...callGraph, ...(control ? ['--control', 'fd:0'] : ['--no-buffering']), '--no-bpf-event', '-q', '-o', '-'],
    { ...spawnOptions, stdin: control ? 'pipe' : 'ignore' },
  );
  let flushTimer: NodeJS.Timeout | undefined;
  if (control) {
    const commands = record.stdin as NodeJS.WritableStream;
    commands.on('error', () => undefined); // perf record gone: its exit says why
    flushTimer = setInterval(() => commands.write('ping\n'), FLUSH_MS);
  }
  // perf script's stderr is not kept: it runs for the agent's lifetime, and record's says why a start failed.
  // Line-buffered (stdbuf execs perf in its own place, same pid): perf script never flushes its stdout, and a
  // pipe's 4 KiB stdio buffer held an idle instance's samples for minutes (six or so whole stacks fill it).
  const scriptArgs = ['script', '-i', '-', '-F', '+pid', ...scriptFilter];
  const stdbuf = findExecutable('stdbuf');
  const script = spawnTracked(stdbuf ?? perf, stdbuf === undefined ? scriptArgs : ['-oL', perf, ...scriptArgs], { ...spawnOptions, stdin: 'pipe', stderr: 'ignore' });
  // Through the filter that drops the kernel-symbol records perf script 6.1 dies on (perf-pipe-filter.ts), and
  // the records of the processes not sampled (their samples are not printed, or not counted here).
  const filter = pipePerfStream(record.stdout as NodeJS.ReadableStream, script.stdin as NodeJS.WritableStream, names, { keepSample: options.keepSample });
  (script.stdin as NodeJS.WritableStream).on('error', () => undefined); // perf script gone first: record's exit says why

  let samples: IntervalSample[] = [];
  const newCollapser = (): Collapser =>
    createPerfCollapser(
      resolvePerfCollapseOptions({
        kernel: true,
        jit: true,
        samples: true,
        processFilter: names === undefined ? undefined : (comm) => names.has(comm),
        onSample: (sample) => samples.push({ comm: sample.comm, pid: sample.pid, stack: sample.stack, weight: sample.weight }),
      }),
    );
  // Made at the first sample: a collapser costs 5-10 ms to make on a loaded host.
  let collapser: Collapser | undefined;
  let collapserBorn = 0;
  /** The sample being read: its lines go to the collapser together, at its closing blank line, in one push (a push per line cost more). */
  let event: Buffer[] = [];
  const splitter = new LineSplitter((buffer, start, end) => {
    event.push(buffer.subarray(start, end), NEWLINE);
    if (start === end) {
      if (collapser === undefined) [collapser, collapserBorn] = [newCollapser(), Date.now()];
      collapser.push(Buffer.concat(event));
      event = [];
    }
  });
  const reading = readInBatches(script.stdout as NodeJS.ReadableStream, {
    onBatch: (chunks) => {
      for (const chunk of chunks) splitter.push(chunk);
      return OUTPUT_BATCH_MS;
    },
  }).done.then(() => splitter.finish());
  const tick = setInterval(() => {
    // Every sample pushed has been handed over (the collapser ends one at its blank line): nothing to finish.
    if (collapser !== undefined && Date.now() - collapserBorn >= COLLAPSER_LIFETIME_MS) {
      collapser.finish();
      collapser = undefined;
    }
    const done = samples;
    samples = [];
    options.onInterval(done, Date.now());
  }, INTERVAL_MS);

  const exited = Promise.all([record, script]).then(async ([recordDone]) => {
    clearInterval(tick);
    clearInterval(flushTimer);
    await reading;
    // The last part-second too: the DWARF sampler's perf may stop while the main sampler runs on.
    collapser?.finish();
    if (samples.length > 0) options.onInterval(samples, Date.now());
    return recordDone;
  });
  // Either one dying ends sampling: take the other down so the owner can start both again.
  void record.then(() => signalChild(script, 'SIGKILL'));
  void script.then(() => signalChild(record, 'SIGKILL'));

  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    exited.then(() => 'exited' as const),
    new Promise<'sampling'>((resolve) => (timer = setTimeout(() => resolve('sampling'), SETTLE_MS))),
  ]);
  clearTimeout(timer);
  if (outcome === 'exited') {
    const reason = stderrText(await record).split('\n').find((line) => line.trim() !== '') ?? 'perf record exited';
    return { unavailable: `${options.label ?? 'the continuous sampler (perf)'} could not start: ${reason.trim()}` };
  }
  return {
    running: {
      pid: record.pid,
      scriptPid: script.pid,
      get lostSamples() {
        return filter.lostSamples;
      },
      exited,
      async stop() {
        signalChild(record, 'SIGINT');
        await exited;
      },
      kill() {
        signalChild(record, 'SIGKILL');
        signalChild(script, 'SIGKILL');
      },
    },
  };
}

const controlSupport = new Map<string, boolean>();

/** Whether this perf's record takes `--control` (perf 5.9 and later): its option list says so (`-h`). */
function perfRecordHasControl(perf: string): boolean {
  let known = controlSupport.get(perf);
  if (known === undefined) {
    const usage = spawnSync(perf, ['record', '-h'], { encoding: 'utf8', timeout: 5_000 });
    known = `${usage.stdout ?? ''}${usage.stderr ?? ''}`.includes('--control');
    controlSupport.set(perf, known);
  }
  return known;
}
