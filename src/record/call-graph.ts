/**
 * How perf unwinds user stacks when the user did not say (`--call-graph auto`, the default): look at the
 * executables of the processes of interest (see frame-pointers.ts) and choose DWARF unwinding when any of
 * them is built without frame pointers, frame pointers (cheap, small perf.data) otherwise.
 *
 * Which executables: the command's (`-- CMD`), `--pid`'s, IRIS's under the install dir (`--iris`). For a
 * whole-system recording, only those of the processes busy on CPU at the start (a short /proc CPU-time
 * delta): on a stock Debian or RHEL host nearly every program lacks frame pointers, so checking all of them
 * would always pick DWARF, ~20x the perf.data and several times the perf script time, even when only a
 * program with frame pointers (or nothing) is busy. What is idle costs little either way: DWARF copies a
 * stack only for samples taken in a process (docs/record.md, "Frame pointers").
 */
import { readdirSync, readlinkSync, statSync, statfsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CLOCK_TICKS_PER_SECOND, listPids, processCpuTicks } from '../kernel/proc.js';
import { checkFramePointersOf, type FramePointerCheck } from './frame-pointers.js';
import type { PerfCallGraph, RecordOptions } from './options.js';

/**
 * Bytes of user stack perf copies per sample with DWARF unwinding. 8 KiB reaches `main` in the programs
 * measured (the simulated IRIS's deepest chain, Debian's tools) at an eighth of perf's 64 KiB default in
 * perf.data and in perf script's time (docs/record.md, "Frame pointers").
 */
export const DWARF_STACK_BYTES = 8192;
/**
 * The most perf.data a DWARF recording may write (perf `--max-size`; perf then stops and the summary says
 * so). 1 GiB of zstd-compressed stack copies is ~5 GiB raw: about 50 min of 2 busy CPUs at 99 Hz, or 3 min
 * of 32, and several minutes of perf script. Half the free space of the temporary directory if less.
 */
export const DWARF_MAX_DATA_BYTES = 1024 * 1024 * 1024;

export function dwarfDataBound(dir: string): number {
  try {
    const space = statfsSync(dir);
    return Math.min(DWARF_MAX_DATA_BYTES, Math.floor((space.bavail * space.bsize) / 2));
  } catch {
    return DWARF_MAX_DATA_BYTES;
  }
}

/** How long a whole-system `auto` watches CPU time before choosing: long enough for 10 ms ticks to add up. */
export const BUSY_WINDOW_MS = 500;
/** A process counts as busy from this share of one CPU over the window (5 ticks in 500 ms). */
export const BUSY_CPU_SHARE = 0.1;
/** A few busy programs, but big ones (Node's symbol table alone takes ~0.3-1 s to read on a loaded host). */
const BUSY_CHECK_BUDGET_MS = 2000;

export interface CallGraphChoice {
  mode: PerfCallGraph;
  /** With dwarf: bytes of stack copied per sample. */
  stackBytes?: number;
  /** One line for the summary: what was chosen, why, and how to force the other. */
  reason: string;
}

/** A program on CPU at the start of a whole-system recording. */
export interface BusyProgram {
  exe: string;
  /** Share of one CPU its processes used over the window (1 = a whole CPU). */
  cpu: number;
}

/**
 * What `--call-graph` forces, or what the binaries of interest call for with `auto`. `irisPrograms`: IRIS's
 * binaries are of interest (`--iris`; `--lifecycle --iris`, which records unfiltered, passes it itself: IRIS
 * is not busy yet when a restart is recorded from before its start).
 */
export async function chooseCallGraph(
  record: RecordOptions,
  commandPath: string | undefined,
  irisPrograms = record.iris,
): Promise<CallGraphChoice> {
  const stackBytes = record.dwarfStackBytes ?? DWARF_STACK_BYTES;
  if (record.callGraph === 'fp') return { mode: 'fp', reason: 'frame pointers (--call-graph fp)' };
  if (record.callGraph === 'dwarf') {
    return { mode: 'dwarf', stackBytes, reason: `dwarf (${kib(stackBytes)} stacks, --call-graph dwarf)` };
  }
  if (commandPath === undefined && record.pids.length === 0 && !irisPrograms) {
    return chooseForBusy(await busyPrograms(BUSY_WINDOW_MS), stackBytes);
  }
  const checks = checkFramePointersOf(executablesOfInterest(record, commandPath, irisPrograms));
  const without = checks.filter((check) => check.framePointers === false);
  if (without.length === 0) return { mode: 'fp', reason: `frame pointers: ${describeWith(checks)}; ${FORCE_DWARF}` };
  return {
    mode: 'dwarf',
    stackBytes,
    reason: `dwarf (${kib(stackBytes)} stacks): ${names(without.map((check) => check.path))} built without frame pointers; ${FORCE_FP}`,
  };
}

const FORCE_FP = '--call-graph fp: smaller and faster, stacks cut';
const FORCE_DWARF = '--call-graph dwarf forces DWARF unwinding';

/**
 * Runtimes whose JIT code a frame-pointer walk gets through (V8 keeps the frame-pointer chain) and DWARF
 * unwinding does not (no unwind tables for generated code): measured, node's stacks were 85% whole with fp
 * and 33% with dwarf. Named by executable; a JIT we do not know counts by its frame-pointer check alone.
 */
const JIT_RUNTIMES = new Set(['node', 'nodejs', 'java', 'dotnet', 'deno', 'bun', 'chromium', 'chrome']);

/**
 * Whole system: DWARF when busy programs without frame pointers use at least as much CPU as busy JIT
 * runtimes (whose JIT frames only fp unwinds), fp otherwise; the reason lists them busiest first with their
 * CPU, so the user sees what the choice rests on.
 */
export function chooseForBusy(busy: BusyProgram[], stackBytes = DWARF_STACK_BYTES): CallGraphChoice {
  const byExe = new Map(busy.map((program) => [program.exe, program.cpu]));
  const busiestFirst = [...busy].sort((a, b) => b.cpu - a.cpu).map((program) => program.exe);
  const isJit = (path: string): boolean => JIT_RUNTIMES.has(basename(path));
  // JIT runtimes are decided by name: no need to read their (big: Node ~100 MB) files within the budget.
  const jit = busiestFirst.filter(isJit);
  const checks = checkFramePointersOf(busiestFirst.filter((path) => !isJit(path)), BUSY_CHECK_BUDGET_MS);
  const cpuOf = (paths: string[]): number => paths.reduce((sum, path) => sum + (byExe.get(path) ?? 0), 0);
  const shown = (paths: string[]): string => names(paths, (path) => `${basename(path)} ${Math.round(100 * (byExe.get(path) ?? 0))}%`);
  const without = checks.filter((check) => check.framePointers === false).map((check) => check.path);
  if (without.length > 0 && cpuOf(without) >= cpuOf(jit)) {
    const outweighs = jit.length > 0 ? `, more than JIT runtimes whose JIT frames only fp unwinds (${shown(jit)})` : '';
    return {
      mode: 'dwarf',
      stackBytes,
      reason: `dwarf (${kib(stackBytes)} stacks): busy without frame pointers: ${shown(without)} of a CPU${outweighs}; ${FORCE_FP}`,
    };
  }
  if (without.length > 0) {
    return {
      mode: 'fp',
      reason:
        `frame pointers: busy JIT runtimes (${shown(jit)} of a CPU), whose JIT frames only fp unwinds, outweigh busy programs ` +
        `without frame pointers (${shown(without)}); --call-graph dwarf to unwind those instead`,
    };
  }
  const withFp = [...jit, ...checks.filter((check) => check.framePointers === true).map((check) => check.path)];
  const why =
    busy.length === 0
      ? 'nothing busy at the start'
      : withFp.length > 0
        ? `busy programs have them (${shown(withFp)} of a CPU)`
        : 'no busy program found without them';
  return { mode: 'fp', reason: `frame pointers: ${why}; ${FORCE_DWARF} if a program without them gets busy later` };
}

/**
 * Programs (by executable) whose processes used at least BUSY_CPU_SHARE of a CPU over `windowMs`, from
 * /proc/PID/stat's CPU times read before and after. irisflame itself and kernel threads (no executable)
 * are left out.
 */
export async function busyPrograms(windowMs: number): Promise<BusyProgram[]> {
  const before = new Map<number, number>();
  for (const pid of listPids()) {
    const ticks = processCpuTicks(pid);
    if (ticks !== undefined) before.set(pid, ticks);
  }
  const started = Date.now();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const seconds = (Date.now() - started) / 1000;
  const byExe = new Map<string, number>();
  for (const [pid, first] of before) {
    if (pid === process.pid) continue;
    const last = processCpuTicks(pid);
    if (last === undefined) continue;
    const cpu = (last - first) / CLOCK_TICKS_PER_SECOND / seconds;
    if (cpu <= 0) continue;
    for (const exe of exeOf(pid)) byExe.set(exe, (byExe.get(exe) ?? 0) + cpu);
  }
  return [...byExe]
    .filter(([, cpu]) => cpu >= BUSY_CPU_SHARE)
    .map(([exe, cpu]) => ({ exe, cpu }))
    .sort((a, b) => b.cpu - a.cpu);
}

function executablesOfInterest(record: RecordOptions, commandPath: string | undefined, irisPrograms: boolean): string[] {
  const paths: string[] = [];
  if (commandPath !== undefined) paths.push(commandPath);
  for (const pid of record.pids) paths.push(...exeOf(pid));
  if (irisPrograms) paths.push(...irisExecutables(record.irisDir));
  return paths;
}

function exeOf(pid: number): string[] {
  try {
    return [readlinkSync(`/proc/${pid}/exe`)];
  } catch {
    return []; // kernel threads have none; a process may be gone
  }
}

/** The files in IRIS's bin directories (bin/, httpd/bin/); the check skips whatever is not ELF. */
function irisExecutables(irisDir: string): string[] {
  const found: string[] = [];
  for (const dir of [join(irisDir, 'bin'), join(irisDir, 'httpd', 'bin')]) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const path = join(dir, name);
      try {
        if (statSync(path).isFile()) found.push(path);
      } catch {
        // gone meanwhile
      }
    }
  }
  return found;
}

const NAMES_SHOWN = 5;

function names(paths: string[], label = (path: string) => basename(path)): string {
  const shown = [...new Set(paths.map(label))];
  const rest = shown.length - NAMES_SHOWN;
  return shown.slice(0, NAMES_SHOWN).join(', ') + (rest > 0 ? ` and ${rest} more` : '');
}

function describeWith(checks: FramePointerCheck[]): string {
  const known = checks.filter((check) => check.framePointers === true);
  if (known.length === 0) return 'no executable built without them found';
  return `${names(known.map((check) => check.path))} built with them`;
}

function kib(bytes: number): string {
  return `${Math.round(bytes / 1024)} KiB`;
}
