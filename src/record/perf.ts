/**
 * The perf backend: `perf record -F HZ -a -g` into a temporary perf.data, then `perf script` streamed
 * straight into the perf collapser (no intermediate text file; a minute of a busy host is ~100 MB of text).
 *
 * Extension point (for `--lifecycle` and the like): pass a `PerfRecordExtension`.
 * - `recordArgs` are appended to perf record (extra events: `-e sched:sched_process_exec`, `--switch-events`).
 *   With extra events, set `collapse.eventFilter` to the sampling event so they stay out of the graph.
 * - `scriptArgs` are appended to perf script (e.g. `-F +time` or `--show-task-events`).
 * - `onSample` sees every kept sample (comm, pid, tid, time, cpu, stack, weight) as it is counted.
 * - `onScriptChunk` sees perf script's raw bytes before the collapser does (for non-sample lines).
 * - `onStop` runs when sampling is told to stop (a tracer beside perf stops at the same moment).
 * - `collapse` overrides collapse options (anything but `processFilter`, which the plan owns).
 */
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createPerfCollapser } from '../collapse/perf.js';
import type { PerfCollapseOptions, PerfSample } from '../collapse/perf-options.js';
import { RecordError } from '../errors.js';
import type { Recording, RecordingResult, RecordPlan } from './backend.js';
import { signalChild, spawnTracked, stderrText } from '../tools/children.js';
import { openPerfControl } from './perf-control.js';
import { distillPerfError, distillPerfScriptError } from './tool-errors.js';

export interface PerfRecordExtension {
  recordArgs?: string[];
  scriptArgs?: string[];
  collapse?: Partial<Omit<PerfCollapseOptions, 'processFilter'>>;
  onSample?: (sample: PerfSample) => void;
  onScriptChunk?: (chunk: Buffer) => void;
  onStop?: () => void;
  /** perf is sampling (its events are enabled). */
  onReady?: () => void;
}

/** perf record exits 130 after SIGINT (our "stop"), having written perf.data properly. */
const EXIT_AFTER_SIGINT = 130;
/** Enough for the event to open and the first synthesis of a busy host; perf exits early on failure anyway. */
const ENABLE_TIMEOUT_MS = 30_000;
const POLL_MS = 50;
const SETTLE_MS = 200;

/** The perf record command line for a plan; exported so tests and docs can show it. */
export function perfRecordArgs(
  plan: RecordPlan,
  dataPath: string,
  control: string | undefined,
  extension?: PerfRecordExtension,
): string[] {
  const args = ['record', '-F', String(plan.frequency)];
  const dwarf = plan.dwarfStackBytes === undefined ? 'dwarf' : `dwarf,${plan.dwarfStackBytes}`;
  args.push(...(plan.callGraph === 'dwarf' ? ['--call-graph', dwarf] : ['-g']));
  args.push(...(plan.pids.length > 0 ? ['-p', plan.pids.join(',')] : ['-a']));
  args.push('-o', dataPath);
  if (control !== undefined) args.push('--control', control, '-D', '-1');
  // Build ids matter only for reading perf.data elsewhere later; collecting them delays the stop by seconds.
  if (!plan.keepPerfData) args.push('--no-buildid');
  args.push(...(extension?.recordArgs ?? []));
  return args;
}

export function startPerfRecording(plan: RecordPlan, extension: PerfRecordExtension = {}): Recording {
  const dataPath = join(plan.workDir, 'perf.data');
  let stopRequested = false;
  let killed = false;
  let recorder: ReturnType<typeof spawnTracked> | undefined;
  let script: ReturnType<typeof spawnTracked> | undefined;

  const started = (async () => {
    const control = (await perfSupportsControl()) ? await openPerfControl(plan.workDir) : undefined;
    recorder = spawnTracked('perf', perfRecordArgs(plan, dataPath, control?.argument, extension), {
      detached: true,
      parentDeathSignal: 'SIGKILL',
    });
    return { control, recorder };
  })();

  const ready = started.then(async ({ control, recorder: child }) => {
    const exitedEarly = child.then((done) => {
      if (stopRequested) return; // stopped (Ctrl-C) before it got going: an empty recording, not a failure
      const distilled = distillPerfError(stderrText(done));
      throw new RecordError('RECORD', distilled.message, { hint: distilled.hint });
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RecordError('RECORD', `perf did not start sampling within ${ENABLE_TIMEOUT_MS / 1000} s`)),
        ENABLE_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([control ? control.enable() : dataFileStarted(dataPath, child), exitedEarly, timeout]);
    } finally {
      clearTimeout(timer);
      exitedEarly.catch(() => undefined);
    }
    extension?.onReady?.();
    if (stopRequested) signalChild(child, 'SIGINT');
  });

  const result = (async (): Promise<RecordingResult> => {
    const { control, recorder: child } = await started;
    const done = await child;
    control?.close();
    const sampled = await ready.then(
      () => true,
      () => false,
    );
    const stderr = stderrText(done);
    // perf exits 130 after our SIGINT; and 255, silently, when a --pid recording caught no sample at all.
    const recordedCleanly = done.exitCode === 0 || done.exitCode === EXIT_AFTER_SIGINT || done.signal === 'SIGINT';
    if (killed) throw new RecordError('RECORD', 'recording aborted');
    if (!hasData(dataPath) || (!recordedCleanly && !(sampled && stderr.trim() === ''))) {
      const distilled = distillPerfError(stderr);
      throw new RecordError('RECORD', distilled.message, { hint: distilled.hint });
    }
    return collapsePerfData(dataPath, plan, extension, (child2) => {
      script = child2;
      if (killed) signalChild(child2, 'SIGKILL');
    });
  })();
  // The session reads `ready` first; an early failure surfaces there and must not also be unhandled here.
  result.catch(() => undefined);

  return {
    ready: ready.then(() => undefined),
    stop() {
      stopRequested = true;
      if (recorder) signalChild(recorder, 'SIGINT');
      extension.onStop?.();
    },
    result,
    progress() {
      return { bytes: sizeOf(dataPath) };
    },
    kill() {
      killed = true;
      if (recorder) signalChild(recorder, 'SIGKILL');
      if (script) signalChild(script, 'SIGKILL');
    },
  };
}

async function collapsePerfData(
  dataPath: string,
  plan: RecordPlan,
  extension: PerfRecordExtension,
  onSpawn: (child: ReturnType<typeof spawnTracked>) => void,
): Promise<RecordingResult> {
  const pids = new Set<number>();
  const userOnSample = extension.onSample;
  const collapser = createPerfCollapser({
    // Counts are samples (not periods), and frames are annotated by kind so the graph colours them.
    samples: true,
    all: true,
    ...extension.collapse,
    processFilter: plan.processFilter,
    onSample: (sample) => {
      if (sample.pid !== undefined) pids.add(sample.pid);
      else pids.add(sample.tid);
      userOnSample?.(sample);
    },
  });
  // -F +pid: "comm pid/tid" instead of a lone tid, so processes are counted as processes, not threads.
  // With DWARF stacks perf script would ask addr2line about inlining at every frame: minutes on a big binary.
  const inline = plan.callGraph === 'dwarf' ? ['--no-inline'] : [];
  const child = spawnTracked('perf', ['script', '-i', dataPath, '-F', '+pid', ...inline, ...(extension.scriptArgs ?? [])], {
    detached: true,
    parentDeathSignal: 'SIGKILL',
  });
  onSpawn(child);
  let bytes = 0;
  const onChunk = extension.onScriptChunk;
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    onChunk?.(chunk);
    collapser.push(chunk);
  }
  const done = await child;
  const stderr = stderrText(done);
  if (done.exitCode !== 0 && bytes === 0) {
    const distilled = distillPerfScriptError(stderr);
    throw new RecordError('RECORD', distilled.message, { hint: distilled.hint });
  }
  const collapse = collapser.finish();
  return {
    collapse,
    processIds: pids.size,
    bytesToUserSpace: (sizeOf(dataPath) ?? 0) + bytes,
    transfers: [
      { what: 'perf.data', bytes: sizeOf(dataPath) ?? 0 },
      { what: 'perf script output', bytes },
    ],
    notes: perfScriptNotes(stderr),
    perfDataPath: dataPath,
  };
}

/** perf script's warnings worth a line in the summary, e.g. "Processed 1234 events and lost 5 chunks!". */
function perfScriptNotes(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /lost|unordered|skipped/i.test(line))
    .map((line) => `perf: ${line}`);
}

/**
 * perf before 5.9 has no --control: there, sampling counts as on once perf has written perf.data's
 * header (it opens its events first), plus a moment for it to enable them. Close, not exact.
 */
async function dataFileStarted(path: string, child: Promise<unknown>): Promise<void> {
  let exited = false;
  void child.finally(() => (exited = true));
  while (!exited && !hasData(path)) await sleep(POLL_MS);
  await sleep(SETTLE_MS);
}

let controlSupport: Promise<boolean> | undefined;

/** Whether this perf knows --control (perf ≥ 5.9); its short usage lists every option. */
function perfSupportsControl(): Promise<boolean> {
  controlSupport ??= (async () => {
    const usage = await spawnTracked('perf', ['record', '-h'], { bufferStderr: true });
    return stderrText(usage).includes('--control');
  })();
  return controlSupport;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function hasData(path: string): boolean {
  return (sizeOf(path) ?? 0) > 0;
}

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

/** Remove perf.data early when it is not kept (it can be large and /tmp small). */
export function removePerfData(path: string): void {
  rmSync(path, { force: true });
}
