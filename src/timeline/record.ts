/**
 * `irisflame record --lifecycle`: one run that samples stacks (the ordinary perf recording, through its
 * extension point) and, beside it, captures what ran: perf's task events (fork, exec, exit, with the
 * samples' clock) plus the exec snooper's argv and exit statuses. It writes three files:
 *
 *     NAME.svg                 the lifecycle view (timeline + range-selectable flame graph)
 *     NAME.lifecycle.txt.gz    the capture, for `irisflame timeline` later or elsewhere
 *
 * The ordinary session's own flame graph is written to a temporary directory and dropped, with its
 * summary: it runs unfiltered (see below) and NAME.svg is taken by the lifecycle page, whose default view
 * is that same flame graph.
 *
 * perf runs with `-k CLOCK_MONOTONIC`, the clock bpftrace's `nsecs` reads, so argv and samples line up.
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { once } from 'node:events';
import { writeFileAtomically } from '../atomic-output.js';
import { IrisflameError, UsageError } from '../errors.js';
import { outputPaths } from '../record/naming.js';
import { resolveRecordOptions } from '../record/options.js';
import { startRecordSession, type RecordSession, type RecordSessionOptions, type RecordSessionResult } from '../record/session.js';
import { summarize } from '../record/summary.js';
import { formatCaptureHeader } from './capture-file.js';
import type { TimelineOptions } from './options.js';
import { readTimeline, writeTimelineSvg } from './render.js';
import { startExecSnooper, type RunningSnooper } from '../kernel/exec-snooper.js';
import { lostChunksInPerfStderr } from './task-events.js';
import { IRIS_PROCESS_NAMES } from '../iris/processes.js';
import { MarkerLines } from '../kernel/marker-lines.js';
import { formatBlockLine, formatUnavailableLine } from '../kernel/offcpu-lines.js';
import { commOf } from '../kernel/offcpu-program.js';
import { runningProcessesNamed, startOffCpuTracer, type OffCpuTrace, type RunningOffCpuTracer } from '../kernel/offcpu-tracer.js';
import type { OffCpuWindow } from '../kernel/offcpu-ring.js';
import { MMAP_EVENT_MARKER, UserFrameNamer } from './user-frames.js';
import { commandCriticalPath, describeCommandPath } from './command-path.js';
import type { RecordedCommand, Timeline } from './model.js';

export interface LifecycleSessionOptions extends RecordSessionOptions {
  /** How the lifecycle SVG is drawn; `iris`, `irisDir` and the title follow the record options unless set. */
  timeline?: Partial<TimelineOptions>;
  /** Trace blocked time and waits for a CPU of the followed processes (bpftrace). Default true. */
  offCpu?: boolean;
  /** Trace the followed processes' file lookups (open/stat/access family). Default true. */
  files?: boolean;
  /**
   * The agent's flight recorder drives the same capture without a command of its own:
   * - `execLines`: exec/exit lines (exec-events.ts format) from the caller's own snooper, read at the end,
   *   instead of starting a second snooper;
   * - `followPids`: processes the off-CPU tracer follows from the start (with their descendants), beside IRIS's;
   * - `capturePath`: write the capture there and no SVG; `recordedCommand`, `notes`: for the capture's header;
   * - `onTimeline`: the timeline read back from the capture (its critical path); `onTracerDied`: bpftrace exited
   *   before it was stopped (the capture keeps what it had);
   * - `offCpuWindow`: blocked intervals, CPU waits and file lookups from the caller's warm tracer (kernel/
   *   offcpu-ring.ts), read once sampling is over, instead of starting a bpftrace of its own;
   * - `withoutSamples`: start no perf (why, for the capture's notes); `onNoSamples`: perf is not sampling (not
   *   started, failed to start, collected nothing). Either way the capture is still written once stopped, with the
   *   exec/exit lines and the warm window, an empty CPU-sample part and a note saying why.
   */
  agent?: {
    execLines: () => string[];
    followPids: readonly number[];
    capturePath: string;
    recordedCommand?: RecordedCommand;
    notes?: () => string[];
    onTimeline?: (timeline: Timeline) => void;
    onTracerDied?: (reason: string) => void;
    offCpuWindow?: () => Promise<OffCpuWindow>;
    withoutSamples?: string;
    onNoSamples?: (reason: string) => void;
  };
}

/** What perf record and perf script need for a lifecycle capture. */
export const LIFECYCLE_PERF_RECORD_ARGS = ['-k', 'CLOCK_MONOTONIC'];
export const LIFECYCLE_PERF_SCRIPT_ARGS = ['--show-task-events', '--show-lost-events', '-F', '+pid'];
/** With the off-CPU tracer: perf's memory maps name its raw user frames afterwards (user-frames.ts). */
export const OFFCPU_PERF_SCRIPT_ARGS = ['--show-mmap-events'];

/** The flight recorder's perf samples at least this long (perf needs a moment to have any sample at all). */
const AGENT_MIN_SAMPLING_MS = 1_000;

/** The file names of a lifecycle run, from `-o NAME.svg` (or irisflame's dated default). */
export function lifecyclePaths(output: string | undefined, now: Date): { svg: string; capture: string } {
  const svg = outputPaths(output, now).svg;
  const base = svg.endsWith('.svg') ? svg.slice(0, -'.svg'.length) : svg;
  return { svg: resolve(svg), capture: `${base}.lifecycle.txt.gz` };
}

/** The session's lines worth passing on once sampling is over: warnings and notes, not its summary. */
const PASSED_ON_AFTER_SAMPLING = /^(warning|note|irisflame)/;

/** Start a lifecycle recording; the same controls as an ordinary record session (stop, abort, done). */
export function startLifecycleSession(options: LifecycleSessionOptions): RecordSession {
  const record = resolveRecordOptions(options.record);
  if (record.backend === 'bpftrace') {
    const error = new UsageError('--lifecycle records with perf (task events and per-sample times); drop --backend bpftrace');
    return { stop: () => undefined, abort: () => undefined, done: Promise.reject(error) };
  }
  const agent = options.agent;
  const paths = agent === undefined ? lifecyclePaths(record.output, new Date()) : { svg: undefined, capture: agent.capturePath };
  const workDir = mkdtempSync(join(tmpdir(), 'irisflame-lifecycle-'));
  const scriptPath = join(workDir, 'perf-script.txt');
  let scriptOut: WriteStream | undefined;
  let snooper: RunningSnooper | undefined;
  let tracer: RunningOffCpuTracer | undefined;
  let session: RecordSession | undefined;
  let aborted = false;
  let stopRequested = false;
  // The flight recorder's record ends when it calls stop(); a capture without samples is written then.
  let stopped = (): void => undefined;
  const untilStopped = new Promise<void>((resolve) => (stopped = resolve));
  let lostChunks = 0;
  let scriptStarted = false;
  let stopTracer = (): Promise<OffCpuTrace> | undefined => tracer?.stop();
  // The flight recorder's stop is held until perf has sampled a while: a lifecycle that settled while perf was
  // starting would otherwise leave no samples ("no samples were collected") and no record.
  let perfReadyAt: number | undefined;
  let stopTimer: NodeJS.Timeout | undefined;
  const stopSoon = (): void => {
    if (perfReadyAt === undefined || stopTimer !== undefined) return;
    stopTimer = setTimeout(() => session?.stop(), Math.max(0, AGENT_MIN_SAMPLING_MS - (Date.now() - perfReadyAt)));
  };

  const traceOffCpu = options.offCpu ?? true;
  const traceFiles = options.files ?? true;
  const namer = new UserFrameNamer();
  const perfLines = new MarkerLines([
    { bytes: Buffer.from(MMAP_EVENT_MARKER, 'latin1'), atLineStart: false, onLine: (line) => namer.onPerfLine(line) },
    { bytes: Buffer.from('PERF_RECORD_FORK', 'latin1'), atLineStart: false, onLine: (line) => namer.onPerfLine(line) },
  ]);
  let tracerUnavailable: string | undefined;
  const warmWindow = agent?.offCpuWindow;

  const run = async (): Promise<RecordSessionResult> => {
    if ((traceOffCpu || traceFiles) && warmWindow === undefined) {
      // One bpftrace for both the tracer and the exec snooper: a second one costs seconds of CPU to start.
      tracer = await startOffCpuTracer({
        offCpu: traceOffCpu,
        files: traceFiles,
        names: [...IRIS_PROCESS_NAMES],
        command: record.command.length > 0 ? { parentPid: process.pid, comm: commOf(record.command[0]!) } : undefined,
        pids: agent === undefined ? undefined : [...new Set([...runningProcessesNamed([...IRIS_PROCESS_NAMES]), ...agent.followPids])],
        withExecSnooper: agent === undefined,
      });
      let stopping = false;
      const died = tracer.process?.exited;
      stopTracer = () => {
        stopping = true;
        return tracer?.stop();
      };
      void died?.then((exit) => {
        if (!stopping) agent?.onTracerDied?.(`bpftrace exited while recording (${exit.signal ?? `status ${exit.exitCode}`})`);
      });
      if (tracer.unavailable !== undefined) {
        tracerUnavailable = tracer.unavailable;
        options.log(`warning: ${tracer.unavailable}; no off-CPU time or file events, only what perf records`);
        tracer = undefined;
      }
    }
    if (tracer === undefined && agent === undefined) {
      snooper = await startExecSnooper();
      if (snooper.unavailable !== undefined) options.log(`warning: ${snooper.unavailable}; the timeline will show process names without argv`);
    }
    if (aborted) throw abortedError();
    // perf's memory maps name the tracer's raw user frames (the agent's warm tracer takes none: offcpu-program.ts).
    const offCpuFrames = traceOffCpu && tracer !== undefined;
    scriptOut = createWriteStream(scriptPath);
    // A failed session destroys it in `finally` while perf script's last chunks may still be written: not an
    // uncaught error (the agent runs many sessions and must outlive a failed one); the session's error says why.
    scriptOut.on('error', () => undefined);
    let noSamples = agent?.withoutSamples;
    let result: RecordSessionResult | undefined;
    if (noSamples === undefined) {
      session = startRecordSession({
        ...options,
        // No --iris/--comm filter in the session: it would fail with "no samples" when IRIS barely ran (a stop that
        // fails at once), and the timeline must still be written. The timeline applies --iris itself.
        record: { ...options.record, output: join(workDir, 'flamegraph.svg'), backend: 'perf', open: false, iris: false, comm: undefined },
        // Unfiltered, but with --iris IRIS's binaries still choose the unwinding (IRIS may start only later).
        irisCallGraph: options.record.iris === true,
        log: (line) => {
          lostChunks = Math.max(lostChunks, lostChunksInPerfStderr(line));
          if (!scriptStarted || PASSED_ON_AFTER_SAMPLING.test(line)) options.log(line);
        },
        perfExtension: {
          ...options.perfExtension,
          recordArgs: [...(options.perfExtension?.recordArgs ?? []), ...LIFECYCLE_PERF_RECORD_ARGS],
          scriptArgs: [
            ...(options.perfExtension?.scriptArgs ?? []),
            ...LIFECYCLE_PERF_SCRIPT_ARGS,
            ...(offCpuFrames ? OFFCPU_PERF_SCRIPT_ARGS : []),
          ],
          onReady: () => {
            perfReadyAt = Date.now();
            if (stopRequested && agent !== undefined) stopSoon();
            options.perfExtension?.onReady?.();
          },
          // The tracer stops when sampling does: its CPU-wait sums then cover the same span as the samples.
          onStop: () => {
            void stopTracer();
            options.perfExtension?.onStop?.();
          },
          onScriptChunk: (chunk) => {
            // perf script starts once sampling has stopped: the snooper's job is done too.
            scriptStarted = true;
            void snooper?.stop();
            void stopTracer();
            if (offCpuFrames) perfLines.push(chunk);
            scriptOut!.write(chunk);
            options.perfExtension?.onScriptChunk?.(chunk);
          },
        },
      });
      // Stopped while the tracer was starting: sample no more (the flight recorder: once perf has sampled a while).
      if (stopRequested && agent === undefined) setTimeout(() => session?.stop(), 0);
      try {
        result = await session.done;
      } catch (error) {
        // `record --lifecycle` fails as it did; the flight recorder keeps what its own tracers collected.
        if (agent === undefined || aborted) throw error;
        noSamples = `perf failed: ${(error as Error).message.split('\n')[0]}`;
      }
    }
    if (noSamples !== undefined) {
      agent?.onNoSamples?.(noSamples);
      // The lifecycle goes on without perf: its exec/exit events and warm window are taken when the record ends.
      await untilStopped;
      if (aborted) throw abortedError();
    }
    let trace = tracer === undefined ? undefined : await stopTracer();
    const warm = warmWindow === undefined ? undefined : await warmWindow();
    if (warm !== undefined) {
      trace = warm.unavailable === undefined ? warm.trace : undefined;
      tracerUnavailable = warm.unavailable;
    }
    const snoopLines = agent !== undefined ? agent.execLines() : (trace?.snoopLines ?? (await snooper!.stop()));
    await new Promise<void>((done, fail) => scriptOut!.end((error?: Error | null) => (error ? fail(error) : done())));
    perfLines.finish();

    const notes = [
      ...(snooper?.unavailable === undefined ? [] : [snooper.unavailable]),
      ...(warm?.notes ?? []),
      ...(agent?.notes?.() ?? []),
      ...(noSamples === undefined ? [] : [`no CPU samples: ${noSamples}`]),
    ];
    const offCpuLines = offCpuCaptureLines(trace, namer, { offCpu: traceOffCpu, files: traceFiles, unavailable: tracerUnavailable });
    if (trace !== undefined) {
      if (trace.badLines > 0) options.log(`warning: ${trace.badLines} unreadable lines from the off-CPU tracer (e.g. ${trace.badExamples[0] ?? '?'})`);
      const files = trace.lines.filter((line) => line.includes(' F\t')).length;
      options.log(
        `off-CPU: ${traceOffCpu ? `${trace.blocks.length} blocked intervals` : 'off'}, ${traceFiles ? `${files} file events` : 'files off'}` +
          `${trace.lost > 0 ? `, ${trace.lost} events lost` : ''}`,
      );
    }
    const header = formatCaptureHeader({
      command: agent !== undefined ? agent.recordedCommand : record.command.length > 0 ? { argv: record.command, exitCode: result!.exitCode } : undefined,
      lostChunks,
      notes,
      snoopLines,
      offCpuLines,
      frequency: record.frequency,
      leadFromSnooper: agent !== undefined,
    });
    await writeCapture(paths.capture, header, scriptPath);
    const timelineOptions: Partial<TimelineOptions> = {
      iris: record.iris,
      irisDir: record.irisDir,
      title: options.flamegraph.title ?? 'Process lifecycle',
      ...options.timeline,
    };
    let timeline: Timeline;
    try {
      timeline = await readTimeline(paths.capture, timelineOptions);
    } catch (error) {
      // Without samples a capture may hold nothing for lanes (no exec seen): kept all the same, no critical path.
      if (agent !== undefined && noSamples !== undefined) return sampleLessResult();
      throw error;
    }
    agent?.onTimeline?.(timeline);
    if (paths.svg === undefined || result === undefined) return result ?? sampleLessResult();
    await writeTimelineSvg(timeline, paths.svg, timelineOptions);
    options.log(
      `lifecycle: ${timeline.processes.length} processes, ${timeline.report.samples} samples, ` +
        `${timeline.report.snoopedExecs} execs with argv${timeline.report.lostEvents > 0 ? `, ${timeline.report.lostEvents} events lost` : ''}`,
    );
    if (timeline.offCpu !== undefined) options.log(describeCommandPath(timeline, commandCriticalPath(timeline)));
    options.log(`  ${paths.svg}`);
    options.log(`  ${paths.capture}`);
    return { ...result, paths: { ...result.paths, svg: paths.svg } };
  };

  const done = run().finally(() => {
    clearTimeout(stopTimer);
    snooper?.kill();
    tracer?.kill();
    scriptOut?.destroy();
    rmSync(workDir, { recursive: true, force: true });
  });

  return {
    stop() {
      stopRequested = true;
      stopped();
      if (agent !== undefined) return stopSoon();
      session?.stop();
      void snooper?.stop();
      void stopTracer();
    },
    abort() {
      aborted = true;
      stopped();
      session?.abort();
      snooper?.kill();
      tracer?.kill();
    },
    done,
  };
}

function abortedError(): IrisflameError {
  return new IrisflameError('RECORD', 'recording aborted; nothing written');
}

/** What a flight-recorder session without CPU samples resolves to (its caller reads the capture, not this). */
function sampleLessResult(): RecordSessionResult {
  return { exitCode: 0, paths: { svg: '', folded: '', perfData: '' }, summary: summarize(new Map(), 0, 0), backend: 'perf', transfers: [] };
}

/**
 * The off-CPU part of the capture header: blocked intervals with their user frames named (perf's maps are
 * complete only once perf script has run), the tracer's other records, and why a part is missing.
 */
function offCpuCaptureLines(
  trace: OffCpuTrace | undefined,
  namer: UserFrameNamer,
  parts: { offCpu: boolean; files: boolean; unavailable: string | undefined },
): string[] {
  const lines: string[] = [];
  const missing = parts.unavailable ?? 'bpftrace did not run';
  if (!parts.offCpu) lines.push(formatUnavailableLine('off-cpu', 'turned off (--no-off-cpu)'));
  else if (trace === undefined) lines.push(formatUnavailableLine('off-cpu', missing));
  if (!parts.files) lines.push(formatUnavailableLine('files', 'turned off (--no-files)'));
  else if (trace === undefined) lines.push(formatUnavailableLine('files', missing));
  if (trace === undefined) return lines;
  for (const block of trace.blocks) lines.push(formatBlockLine(block, namer.name(block.pid, block.offNs / 1e9, block.user)));
  lines.push(...trace.lines);
  return lines;
}

/** Header then perf script's text, gzipped, written all or nothing (writeFileAtomically's temp + rename). */
async function writeCapture(path: string, header: string, scriptPath: string): Promise<void> {
  async function* content(): AsyncGenerator<Buffer> {
    yield Buffer.from(header);
    for await (const chunk of createReadStream(scriptPath)) yield chunk as Buffer;
  }
  try {
    await writeFileAtomically(
      path,
      async () => undefined,
      (_, out) =>
        pipeline(Readable.from(content()), createGzip(), async (gzipped: AsyncIterable<Buffer>) => {
          for await (const chunk of gzipped) if (!out.write(chunk)) await once(out, 'drain');
        }),
    );
  } catch (error) {
    if (error instanceof IrisflameError) throw error;
    throw new IrisflameError('OUTPUT', `cannot write ${path}: ${(error as Error).message}`, { cause: error });
  }
}
