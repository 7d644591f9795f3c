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
import { signalChild, spawnTracked, stderrText } from '../tools/children.js';
import { bpftraceStderrLines, distillBpftraceError } from './tool-errors.js';
import { demangleNames } from './demangle.js';
import { UserSymbolizer } from './user-symbols.js';

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
/** How often new processes' maps are read while sampling; shorter-lived processes may stay unnamed. */
const MAPS_SNAPSHOT_MS = 1000;

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

/** A predicate matching processes by name, in the kernel: `comm == "irisdb" || …`. */
export function commCondition(names: readonly string[]): string {
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
export const ENTRY_END = /, ([^,]*), (\d+)\]: (\d+)\s*$/;

export function startBpftraceRecording(plan: RecordPlan, seconds: number | undefined): Recording {
  const env: Record<string, string> = {
    BPFTRACE_MAP_KEYS_MAX: process.env.BPFTRACE_MAP_KEYS_MAX ?? String(bpftraceMapKeys(plan.frequency, seconds)),
  };
  // User frames are named by us (user-symbols.ts says why), unless the caller chose bpftrace's own way.
  const ownSymbols = process.env.BPFTRACE_NO_USER_SYMBOLS === undefined && process.env.BPFTRACE_CACHE_USER_SYMBOLS === undefined;
  if (ownSymbols) env.BPFTRACE_NO_USER_SYMBOLS = '1';
  // -B none: our progress lines must arrive when printed, not when a 4 KiB buffer fills.
  const child = spawnTracked('bpftrace', ['-B', 'none', '-e', bpftraceProgram(plan)], {
    detached: true,
    parentDeathSignal: 'SIGKILL',
    env,
  });
  const collapser = createBpftraceCollapser({ all: true, processFilter: plan.processFilter });
  const symbolizer = ownSymbols ? new UserSymbolizer() : undefined;
  let samplesSoFar: number | undefined;
  let bytes = 0;
  let mapTotal = 0;
  const pids = new Set<string>();
  let onReady: (() => void) | undefined;
  const sawReady = new Promise<void>((resolve) => (onReady = resolve));
  /** Lines of the entry being read: its pid comes on its last line, after the frames to name with it. */
  let entryLines: string[] = [];
  /** bpftrace's output with user frames named; small (one entry per unique stack), collapsed at the end. */
  const named: string[] = [];

  const splitter = new LineSplitter((buffer, start, end) => {
    const line = buffer.toString('latin1', start, end);
    if (line === READY_LINE) return onReady?.();
    if (line.startsWith(`${COUNTER}: `)) {
      samplesSoFar = Number(line.slice(COUNTER.length + 2));
      return;
    }
    entryLines.push(line);
    const entryEnd = ENTRY_END.exec(line);
    if (entryEnd === null) return;
    mapTotal += Number(entryEnd[3]);
    if (plan.processFilter === undefined || plan.processFilter(entryEnd[1]!, [])) pids.add(entryEnd[2]!);
    for (const entryLine of entryLines) named.push(symbolizer ? nameUserFrame(entryLine, Number(entryEnd[2]), symbolizer) : entryLine);
    entryLines = [];
  });

  const pump = (async () => {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      splitter.push(chunk);
    }
    splitter.finish();
    named.push(...entryLines);
    const demangled = await demangleNames(named.map(frameSymbol).filter((name): name is string => name !== undefined));
    for (const line of named) collapser.push(Buffer.from(`${demangle(line, demangled)}\n`, 'latin1'));
  })();

  // Snapshot process maps while sampling; see UserSymbolizer.snapshotNewProcesses.
  const snapshot = (): void => symbolizer?.snapshotNewProcesses(plan.pids.length > 0 ? plan.pids : undefined);
  const snapshots = setInterval(snapshot, MAPS_SNAPSHOT_MS);
  snapshots.unref();
  void child.finally(() => clearInterval(snapshots));
  void sawReady.then(snapshot);

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
    const notes = countRepeats(bpftraceStderrLines(stderr)).map((line) => `bpftrace: ${line}`);
    if (symbolizer && symbolizer.unresolved > 0) {
      notes.push(`${symbolizer.unresolved} of ${symbolizer.resolved + symbolizer.unresolved} user frames left unnamed (exited processes, stripped or JIT code)`);
    }
    const lost = lostSamplesNote(samplesSoFar, mapTotal);
    if (lost) notes.push(lost);
    return { collapse, processIds: pids.size, bytesToUserSpace: bytes, transfers: [{ what: 'bpftrace output', bytes }], notes };
  })();
  result.catch(() => undefined);

  return {
    ready,
    stop() {
      stopRequested = true;
      snapshot();
      clearInterval(snapshots);
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

/** `    0x55d5c667e040`: a user frame bpftrace left unnamed (BPFTRACE_NO_USER_SYMBOLS). */
const ADDRESS_FRAME = /^(\s+)0x([0-9a-f]+)$/;
/** `    HashBlock+12`: a named frame, its symbol before the offset. */
const NAMED_FRAME = /^\s+(\S+)\+\d+$/;

/** A frame line of process `pid` with its address named, when the symbolizer can; other lines unchanged. */
export function nameUserFrame(line: string, pid: number, symbolizer: UserSymbolizer): string {
  const frame = ADDRESS_FRAME.exec(line);
  if (frame === null) return line;
  const name = symbolizer.resolve(pid, Number.parseInt(frame[2]!, 16));
  return name === undefined ? line : `${frame[1]}${name}`;
}

function frameSymbol(line: string): string | undefined {
  return NAMED_FRAME.exec(line)?.[1];
}

function demangle(line: string, demangled: Map<string, string>): string {
  if (demangled.size === 0) return line;
  const symbol = frameSymbol(line);
  const readable = symbol === undefined ? undefined : demangled.get(symbol);
  return readable === undefined ? line : line.replace(symbol!, readable);
}

/** "same line (3 times)" instead of three lines: bpftrace repeats per-entry errors. */
function countRepeats(lines: string[]): string[] {
  const counts = new Map<string, number>();
  for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1);
  return [...counts].map(([line, count]) => (count === 1 ? line : `${line} (${count} times)`));
}

/** Samples the probe took but the stack map could not hold (it was full): say so, with the remedy. */
function lostSamplesNote(taken: number | undefined, inMap: number): string | undefined {
  if (taken === undefined || taken <= inMap) return undefined;
  const lost = taken - inMap;
  return `bpftrace: ${lost} of ${taken} samples lost because its stack map was full (set BPFTRACE_MAP_KEYS_MAX higher, e.g. 65536)`;
}
