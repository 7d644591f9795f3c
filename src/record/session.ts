/**
 * One `irisflame record` run, start to finish: preflight, sample for a time or for a command's lifetime,
 * stop early on request, then write the folded stacks and the SVG and summarise. The CLI drives it through
 * `stop()` (first Ctrl-C) and `abort()` (second Ctrl-C, SIGTERM); it prints through `log`, never itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeProcessFilter } from '../collapse/filter.js';
import { IrisflameError, RecordError } from '../errors.js';
import { IRIS_PROCESS_NAMES } from '../iris/processes.js';
import type { FlamegraphOptions } from '../flamegraph/options.js';
import type { Recording, RecordingResult, RecordPlan } from './backend.js';
import { startBpftraceRecording } from './bpftrace.js';
import { inChildScope, killAll, signalChild, spawnTracked, type ChildScope } from '../tools/children.js';
import { outputPaths, recordingSubtitle, recordingTitle, type OutputPaths } from './naming.js';
import { checkOutputWritable, writeRecordingFiles } from './outputs.js';
import { resolveRecordOptions, type BackendName, type RecordOptions } from './options.js';
import { startPerfRecording, type PerfRecordExtension } from './perf.js';
import { checkPreflight, enforcePreflight, probeHost, type HostFacts } from './preflight.js';
import { showProgress } from './progress.js';
import { chooseCallGraph, dwarfDataBound, type CallGraphChoice } from './call-graph.js';
import { CUT_SHARE_WORTH_SAYING, cutStacks, cutStacksLine, formatSummary, summarize, type RecordingSummary } from './summary.js';

export interface RecordSessionOptions {
  record: Partial<RecordOptions>;
  /** Passed through to the renderer; title and subtitle default to what was recorded and when. */
  flamegraph: Partial<FlamegraphOptions>;
  /** One line for stderr (warnings, the summary). */
  log: (line: string) => void;
  /** Where the progress line goes (only if it is a terminal). */
  progressStream?: NodeJS.WriteStream;
  /** Extra perf arguments and a per-sample hook (see src/record/perf.ts). */
  perfExtension?: PerfRecordExtension;
  /** IRIS's binaries decide `--call-graph auto` even though `record.iris` is off (samples unfiltered). */
  irisCallGraph?: boolean;
}

export interface RecordSessionResult {
  /** 0, or the command's exit status with `-- COMMAND`. */
  exitCode: number;
  paths: OutputPaths;
  summary: RecordingSummary;
  backend: BackendName;
  /** What crossed from the kernel and through the collapser (see RecordingResult.transfers). */
  transfers: RecordingResult['transfers'];
}

export interface RecordSession {
  /** Stop sampling now and write what was collected (first Ctrl-C). */
  stop(): void;
  /** Kill everything, delete temporary files, write nothing (second Ctrl-C, SIGTERM). */
  abort(): void;
  readonly done: Promise<RecordSessionResult>;
}

/** "recording the whole system with perf at 99 Hz for 60 s; Ctrl-C stops early". */
function startLine(backend: BackendName, record: RecordOptions, seconds: number | undefined): string {
  const filters = [
    ...(record.iris ? ['IRIS processes'] : []),
    ...(record.comm !== undefined ? [`processes matching /${record.comm}/`] : []),
  ];
  const scope = record.pids.length > 0 ? `pid ${record.pids.join(', ')}` : 'the whole system';
  const what = filters.length > 0 ? `${scope}, keeping ${filters.join(' and ')},` : scope;
  const until = seconds === undefined ? `while ${record.command[0]} runs` : `for ${seconds} s`;
  return `recording ${what} with ${backend} at ${record.frequency} Hz ${until}; Ctrl-C stops early`;
}

const LOW_COUNT_NOTE = /stack count is low/;

/** Exit status of a command killed by a signal, as shells report it. */
const SIGNAL_EXIT_BASE = 128;

export function startRecordSession(options: RecordSessionOptions): RecordSession {
  /** What this session started: its ends kill these, not another session's or the agent's tracers. */
  const scope: ChildScope = new Set();
  let stopRequested = false;
  let aborted = false;
  let onStop: (() => void) | undefined;
  let recording: Recording | undefined;
  let workDir: string | undefined;
  let abortReject: ((error: Error) => void) | undefined;
  const abortPromise = new Promise<never>((_, reject) => (abortReject = reject));
  abortPromise.catch(() => undefined);

  const cleanUp = (): void => {
    if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
  };

  const run = async (): Promise<RecordSessionResult> => {
    const record = resolveRecordOptions(options.record);
    const facts = probeHost();
    const verdict = checkPreflight(facts, { backend: record.backend, pids: record.pids, command: record.command });
    for (const warning of enforcePreflight(verdict)) options.log(`warning: ${warning.message} (${warning.hint})`);
    warnAboutIgnoredOptions(record, options.log);
    const processFilter = makeProcessFilter({ comm: record.comm, iris: record.iris, irisDir: record.irisDir });
    const start = new Date();
    const paths = outputPaths(record.output, start);
    await checkOutputWritable(paths);

    // Decided here, not by callers (`--lifecycle` builds on this session): every mode gets whole stacks.
    const callGraph: CallGraphChoice | undefined =
      record.backend === 'bpftrace' ? undefined : await chooseCallGraph(record, verdict.commandPath, record.iris || options.irisCallGraph === true);
    workDir = mkdtempSync(join(tmpdir(), 'irisflame-record-'));
    const plan: RecordPlan = {
      frequency: record.frequency,
      pids: record.pids,
      callGraph: callGraph?.mode ?? 'fp',
      dwarfStackBytes: callGraph?.stackBytes,
      maxDataBytes: callGraph?.mode === 'dwarf' ? dwarfDataBound(workDir) : undefined,
      workDir,
      processFilter,
      keepPerfData: record.keepPerfData,
      kernelCommNames: record.iris ? [...IRIS_PROCESS_NAMES] : undefined,
    };
    const seconds = record.command.length > 0 ? undefined : record.seconds;
    // An abort during start-up (Ctrl-C twice while perf synthesises) must win over the start-up failure it causes.
    const started = await Promise.race([
      startBackend(record.backend, facts, plan, seconds, options, (r) => (recording = r)),
      abortPromise,
    ]);
    const backend = started.backend;
    if (aborted) throw abortedError();

    const startedAt = Date.now();
    options.log(startLine(backend, record, seconds));
    if (backend === 'perf' && callGraph !== undefined) options.log(`call graph: ${callGraph.reason}`);
    const progress = showProgress(options.progressStream ?? process.stderr, {
      seconds,
      startedAt,
      read: () => recording?.progress() ?? {},
    });
    let exitCode = 0;
    try {
      const stopped = new Promise<void>((resolve) => {
        onStop = resolve;
        if (stopRequested) resolve();
      });
      if (record.command.length > 0) {
        exitCode = await runCommand(verdict.commandPath!, record.command.slice(1), stopped);
      } else {
        // perf stops of itself at its perf.data bound: the graph is written then, not at the end of the time.
        const ended = recording!.ended ?? new Promise<void>(() => undefined);
        await untilStoppedOr(Promise.race([stopped, ended]), record.seconds * 1000);
      }
    } finally {
      progress.stop();
      recording!.stop();
    }
    if (options.progressStream?.isTTY) options.log(`stopped sampling; ${backend} is resolving symbols…`);
    const recordedSeconds = (Date.now() - startedAt) / 1000;
    const result = await Promise.race([recording!.result, abortPromise]);
    if (result.collapse.stacks.size === 0) throw noSamplesError(record);

    const flamegraph: Partial<FlamegraphOptions> = { ...options.flamegraph };
    flamegraph.title ||= recordingTitle({ ...record, backend, seconds: recordedSeconds });
    flamegraph.subtitle ||= recordingSubtitle(start);
    // Cut stacks misattribute time silently (a deep chain shows as its leaf): the graph itself says so.
    const cut = cutStacks(result.collapse.stacks);
    if (cut.share >= CUT_SHARE_WORTH_SAYING) {
      flamegraph.subtitle = `${flamegraph.subtitle} · ${cutStacksLine(cut)}`;
      flamegraph.notes = [flamegraph.notes, cutStacksLine(cut)].filter(Boolean).join('; ');
    }
    if (aborted) throw abortedError();
    const { files, warnings } = await writeRecordingFiles(paths, result, flamegraph, record.keepPerfData);
    // A second Ctrl-C that lands while the files were being written still means "nothing written".
    if (aborted) {
      for (const file of files) rmSync(file, { force: true });
      throw abortedError();
    }
    cleanUp();

    const summary = summarize(result.collapse.stacks, recordedSeconds, result.processIds);
    // The renderer's "stack count is low" hint suits files given to it; here the summary states the count.
    const notes = [...result.notes, ...collapseNotes(result), ...warnings].filter((note) => !LOW_COUNT_NOTE.test(note));
    if (stopRequested && record.command.length === 0) notes.unshift('stopped early (Ctrl-C)');
    const lines = formatSummary(summary, {
      backend,
      frequency: record.frequency,
      irisRequested: record.iris,
      files,
      notes,
      callGraph: backend === 'perf' ? callGraph?.reason : 'frame pointers (bpftrace walks nothing else)',
      cutStacks: cut,
      cutHint: cutHint(backend, plan.callGraph),
    });
    for (const line of lines) options.log(line);
    return { exitCode, paths, summary, backend, transfers: result.transfers };
  };

  const done = inChildScope(scope, run).finally(() => {
    killAll('SIGKILL', scope);
    cleanUp();
  });

  return {
    stop() {
      stopRequested = true;
      onStop?.();
      recording?.stop();
    },
    abort() {
      aborted = true;
      recording?.kill();
      killAll('SIGKILL', scope);
      cleanUp();
      abortReject?.(abortedError());
    },
    done,
  };
}

interface StartedBackend {
  backend: BackendName;
  recording: Recording;
}

/** Start the chosen backend and wait until it samples; `auto` falls back from perf to bpftrace. */
async function startBackend(
  choice: RecordOptions['backend'],
  facts: HostFacts,
  plan: RecordPlan,
  seconds: number | undefined,
  options: RecordSessionOptions,
  publish: (recording: Recording) => void,
): Promise<StartedBackend> {
  const first: BackendName = choice === 'bpftrace' || (choice === 'auto' && facts.perfPath === undefined) ? 'bpftrace' : 'perf';
  const launch = async (backend: BackendName): Promise<StartedBackend> => {
    const recording =
      backend === 'perf' ? startPerfRecording(plan, options.perfExtension) : startBpftraceRecording(plan, seconds);
    publish(recording);
    await recording.ready;
    return { backend, recording };
  };
  try {
    return await launch(first);
  } catch (error) {
    const canFallBack = choice === 'auto' && first === 'perf' && facts.bpftracePath !== undefined && facts.euid === 0;
    if (!canFallBack || !(error instanceof IrisflameError)) throw error;
    options.log(`note: ${error.message}; using bpftrace instead`);
    return launch('bpftrace');
  }
}

/** Run the user's command in our process group (the terminal's Ctrl-C reaches it as usual). */
async function runCommand(path: string, args: string[], stopped: Promise<void>): Promise<number> {
  const child = spawnTracked(path, args, {
    stdin: 'inherit',
    stdout: 'inherit',
    stderr: 'inherit',
    parentDeathSignal: 'SIGTERM',
  });
  // Stopping the recording early ends the command too: it must not outlive irisflame.
  void stopped.then(() => signalChild(child, 'SIGTERM'));
  const done = await child;
  if (typeof done.exitCode === 'number') return done.exitCode;
  const signal = done.signal ? signalNumber(done.signal) : undefined;
  return signal === undefined ? 1 : SIGNAL_EXIT_BASE + signal;
}

function signalNumber(name: string): number | undefined {
  return (constants.signals as Record<string, number | undefined>)[name];
}

function warnAboutIgnoredOptions(record: RecordOptions, log: (line: string) => void): void {
  if (record.backend !== 'bpftrace') return;
  if (record.callGraph === 'dwarf') log('warning: --call-graph applies to perf only; bpftrace walks frame pointers');
  if (record.keepPerfData) log('warning: --keep-perf-data applies to perf only; bpftrace writes no perf.data');
}

function cutHint(backend: BackendName, callGraph: RecordPlan['callGraph']): string {
  if (backend === 'bpftrace') return 'bpftrace walks frame pointers only; --backend perf unwinds programs without them';
  if (callGraph === 'fp') return 'programs without frame pointers? --call-graph dwarf unwinds them';
  return 'stacks deeper than the copy perf takes, JIT code, or code without unwind tables';
}

function collapseNotes(result: RecordingResult): string[] {
  const report = result.collapse.report;
  const notes = [...report.notes];
  if (report.badLines > 0) notes.push(`${report.badLines} unrecognised lines skipped (e.g. ${report.badLineExamples[0] ?? '?'})`);
  return notes;
}

function noSamplesError(record: RecordOptions): RecordError {
  const filtered = record.pids.length > 0 || record.comm !== undefined || record.iris;
  return new RecordError('NO_STACKS', 'no samples were collected', {
    hint: filtered
      ? 'nothing matched --pid/--comm/--iris: check the processes were running and on CPU, or drop the filter'
      : 'the recording was too short or the system idle; record longer (--seconds)',
  });
}

function abortedError(): RecordError {
  return new RecordError('RECORD', 'recording aborted; nothing written, temporary files removed');
}

/** Wait `ms`, or less when stopped; the timer must not outlive an early stop (it would hold the process). */
async function untilStoppedOr(stopped: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([stopped, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
