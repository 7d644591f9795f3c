/**
 * The bpftrace backend: a `profile:hz:F` probe counts `@[kstack, ustack, comm, pid]` in a kernel map, so
 * only unique stacks cross to user space, once, when bpftrace prints its maps on SIGINT. That output goes
 * through the bpftrace collapser. Two lines of our own ride along on stdout and are taken out first:
 * `irisflame: sampling` from BEGIN (probes are attached: sampling is on) and `@irisflame_samples: N`
 * every second (the live sample count, printed once more at exit as the total).
 */
import { cpus } from 'node:os';
import { createBpftraceCollapser } from '../collapse/bpftrace.js';
import { LineSplitter } from '../collapse/lines.js';
import { RecordError } from '../errors.js';
import type { Recording, RecordingResult, RecordPlan } from './backend.js';
import { signalChild, spawnTracked, stderrText } from './children.js';
import { bpftraceStderrLines, distillBpftraceError } from './tool-errors.js';

const READY_LINE = 'irisflame: sampling';
const COUNTER = '@irisflame_samples';
/** bpftrace 0.17's own default; fine for a few seconds, too small for a busy host over a minute. */
const MIN_MAP_KEYS = 4096;
/**
 * The stack map is preallocated at twice this many entries of ~1 KiB (127 frames), so 16384 keys cost
 * ~34 MB of kernel memory. Overflow is detected and reported (see `lostSamplesNote`).
 */
const MAX_MAP_KEYS = 16384;
const START_TIMEOUT_MS = 30_000;

/** The bpftrace program for a plan; exported so tests and docs can show it. */
export function bpftraceProgram(plan: Pick<RecordPlan, 'frequency' | 'pids' | 'kernelCommNames'>): string {
  const conditions: string[] = [];
  if (plan.pids.length > 0) conditions.push(plan.pids.map((pid) => `pid == ${pid}`).join(' || '));
  if (plan.kernelCommNames !== undefined) conditions.push(commCondition(plan.kernelCommNames));
  const predicate = conditions.length === 0 ? '' : ` /${conditions.map((c) => `(${c})`).join(' && ')}/`;
  return [
    `BEGIN { printf("${READY_LINE}\\n"); }`,
    `profile:hz:${plan.frequency}${predicate} { @[kstack, ustack, comm, pid] = count(); ${COUNTER} = count(); }`,
    `interval:s:1 { print(${COUNTER}); }`,
    '',
  ].join('\n');
}

/** The kernel keeps 15 bytes of a process name (TASK_COMM_LEN 16, with the NUL). */
const COMM_BYTES = 15;

function commCondition(names: readonly string[]): string {
  const truncated = [...new Set(names.map((name) => Buffer.from(name).subarray(0, COMM_BYTES).toString('latin1')))];
  // Names come from our own IRIS list, never from input; quotes are refused all the same.
  return truncated
    .filter((name) => !/["\\]/.test(name))
    .map((name) => `comm == "${name}"`)
    .join(' || ');
}

/** Map size for the expected number of samples (unique stacks are at most that many). */
export function bpftraceMapKeys(frequency: number, seconds: number | undefined, cpuCount: number = cpus().length): number {
  if (seconds === undefined) return MAX_MAP_KEYS;
  const expected = frequency * seconds * cpuCount;
  let keys = MIN_MAP_KEYS;
  while (keys < expected && keys < MAX_MAP_KEYS) keys *= 2;
  return keys;
}

/** `, bash, 6618]: 1` or `@[, , swapper/0, 0]: 172`: the end of an entry, with comm, pid and count. */
const ENTRY_END = /, ([^,]*), (\d+)\]: (\d+)\s*$/;

export function startBpftraceRecording(plan: RecordPlan, seconds: number | undefined): Recording {
  const env: Record<string, string> = {
    BPFTRACE_MAP_KEYS_MAX: process.env.BPFTRACE_MAP_KEYS_MAX ?? String(bpftraceMapKeys(plan.frequency, seconds)),
  };
  // bpftrace caches user symbols per executable, which is wrong under ASLR once two processes share one;
  // uncached, it re-reads symbol tables per frame (minutes on a busy host). One pid: caching is exact.
  if (plan.pids.length === 1 && process.env.BPFTRACE_CACHE_USER_SYMBOLS === undefined) env.BPFTRACE_CACHE_USER_SYMBOLS = '1';
  // -B none: our progress lines must arrive when printed, not when a 4 KiB buffer fills.
  const child = spawnTracked('bpftrace', ['-B', 'none', '-e', bpftraceProgram(plan)], {
    detached: true,
    parentDeathSignal: 'SIGKILL',
    env,
  });
  const collapser = createBpftraceCollapser({ all: true, processFilter: plan.processFilter });
  let samplesSoFar: number | undefined;
  let bytes = 0;
  let mapTotal = 0;
  const pids = new Set<string>();
  let onReady: (() => void) | undefined;
  const sawReady = new Promise<void>((resolve) => (onReady = resolve));

  const splitter = new LineSplitter((buffer, start, end) => {
    const line = buffer.toString('latin1', start, end);
    if (line === READY_LINE) return onReady?.();
    if (line.startsWith(`${COUNTER}: `)) {
      samplesSoFar = Number(line.slice(COUNTER.length + 2));
      return;
    }
    const entryEnd = ENTRY_END.exec(line);
    if (entryEnd) {
      mapTotal += Number(entryEnd[3]);
      if (plan.processFilter === undefined || plan.processFilter(entryEnd[1]!, [])) pids.add(entryEnd[2]!);
    }
    collapser.push(Buffer.from(`${line}\n`, 'latin1'));
  });

  const pump = (async () => {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      splitter.push(chunk);
    }
    splitter.finish();
  })();

  let stopRequested = false;
  let killed = false;
  const ready = (async () => {
    let timer: NodeJS.Timeout | undefined;
    const failed = child.then((done) => {
      if (stopRequested) return;
      const distilled = distillBpftraceError(stderrText(done));
      throw new RecordError('RECORD', distilled.message, { hint: distilled.hint });
    });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RecordError('RECORD', `bpftrace did not start sampling within ${START_TIMEOUT_MS / 1000} s`)),
        START_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([sawReady, failed, timeout]);
    } finally {
      clearTimeout(timer);
      failed.catch(() => undefined);
    }
  })();

  const result = (async (): Promise<RecordingResult> => {
    const done = await child;
    await pump;
    if (killed) throw new RecordError('RECORD', 'recording aborted');
    const stderr = stderrText(done);
    if (done.exitCode !== 0 && mapTotal === 0) {
      const distilled = distillBpftraceError(stderr);
      throw new RecordError('RECORD', distilled.message, { hint: distilled.hint });
    }
    const collapse = collapser.finish();
    const notes = bpftraceStderrLines(stderr).map((line) => `bpftrace: ${line}`);
    const lost = lostSamplesNote(samplesSoFar, mapTotal);
    if (lost) notes.push(lost);
    return { collapse, processIds: pids.size, bytesToUserSpace: bytes, notes };
  })();
  result.catch(() => undefined);

  return {
    ready,
    stop() {
      stopRequested = true;
      signalChild(child, 'SIGINT');
    },
    result,
    progress() {
      return { samples: samplesSoFar };
    },
    kill() {
      killed = true;
      signalChild(child, 'SIGKILL');
    },
  };
}

/** Samples the probe took but the stack map could not hold (it was full): say so, with the remedy. */
function lostSamplesNote(taken: number | undefined, inMap: number): string | undefined {
  if (taken === undefined || taken <= inMap) return undefined;
  const lost = taken - inMap;
  return `bpftrace: ${lost} of ${taken} samples lost because its stack map was full (set BPFTRACE_MAP_KEYS_MAX higher, e.g. 65536)`;
}
