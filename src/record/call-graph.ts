/**
 * How perf unwinds user stacks when the user did not say (`--call-graph auto`, the default): look at the
 * executables of the processes of interest (see frame-pointers.ts) and choose DWARF unwinding when any of
 * them is built without frame pointers, frame pointers (cheap, small perf.data) otherwise.
 *
 * Which executables: the command's (`-- CMD`), `--pid`'s, IRIS's under the install dir (`--iris`), and for a
 * whole-system recording those of the running processes, checked within a time budget.
 */
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { listPids } from '../kernel/proc.js';
import { checkFramePointersOf, type FramePointerCheck } from './frame-pointers.js';
import type { PerfCallGraph, RecordOptions } from './options.js';

/**
 * Bytes of user stack perf copies per sample with DWARF unwinding. 8 KiB reaches `main` in the programs
 * measured (the simulated IRIS's deepest chain, Debian's tools) at a tenth of perf's 64 KiB default in
 * perf.data and in perf script's time (docs/record.md, "Frame pointers").
 */
export const DWARF_STACK_BYTES = 8192;

export interface CallGraphChoice {
  mode: PerfCallGraph;
  /** With dwarf: bytes of stack copied per sample. */
  stackBytes?: number;
  /** One line for the summary: what was chosen and why. */
  reason: string;
}

/** What `--call-graph` forces, or what the binaries of interest call for with `auto`. */
export function chooseCallGraph(record: RecordOptions, commandPath: string | undefined): CallGraphChoice {
  if (record.callGraph === 'fp') return { mode: 'fp', reason: 'frame pointers (--call-graph fp)' };
  const stackBytes = record.dwarfStackBytes ?? DWARF_STACK_BYTES;
  if (record.callGraph === 'dwarf') {
    return { mode: 'dwarf', stackBytes, reason: `dwarf (${kib(stackBytes)} stacks, --call-graph dwarf)` };
  }
  const checks = checkFramePointersOf(executablesOfInterest(record, commandPath));
  const without = checks.filter((check) => check.framePointers === false);
  if (without.length === 0) return { mode: 'fp', reason: `frame pointers: ${describeWith(checks)}` };
  return {
    mode: 'dwarf',
    stackBytes: DWARF_STACK_BYTES,
    reason: `dwarf (${kib(DWARF_STACK_BYTES)} stacks): ${names(without)} built without frame pointers`,
  };
}

function executablesOfInterest(record: RecordOptions, commandPath: string | undefined): string[] {
  const paths: string[] = [];
  if (commandPath !== undefined) paths.push(commandPath);
  for (const pid of record.pids) paths.push(...exeOf(pid));
  if (record.iris) paths.push(...irisExecutables(record.irisDir));
  // Whole system: every running program may end up in the graph.
  if (commandPath === undefined && record.pids.length === 0 && !record.iris) {
    for (const pid of listPids()) paths.push(...exeOf(pid));
  }
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

function names(checks: FramePointerCheck[]): string {
  const shown = [...new Set(checks.map((check) => basename(check.path)))];
  const rest = shown.length - NAMES_SHOWN;
  return shown.slice(0, NAMES_SHOWN).join(', ') + (rest > 0 ? ` and ${rest} more` : '');
}

function describeWith(checks: FramePointerCheck[]): string {
  const known = checks.filter((check) => check.framePointers === true);
  if (known.length === 0) return 'no executable built without them found';
  return `${names(known)} built with them`;
}

function kib(bytes: number): string {
  return `${Math.round(bytes / 1024)} KiB`;
}
