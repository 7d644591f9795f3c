/**
 * Which of the sampled processes need DWARF unwinding: those whose executable is built without frame
 * pointers (`--call-graph auto`, the default), or every sampled process (`--call-graph dwarf`). Their
 * frame-pointer stacks end a frame or two above the leaf, so the sampler gives them to a perf with
 * `--call-graph dwarf` (dwarf-sampler.ts). The executable check is record's (src/record/frame-pointers.ts),
 * done once per file: a node runs the same few binaries in many processes, and IRIS starts jobs all day.
 */
import { readlinkSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { checkFramePointers } from '../record/frame-pointers.js';
import type { ScannedProcess } from './instances.js';

export const AGENT_CALL_GRAPHS = ['auto', 'fp', 'dwarf'] as const;
export type AgentCallGraph = (typeof AGENT_CALL_GRAPHS)[number];

/** A process to unwind with DWARF; `startTime` tells a pid reused by another process apart. */
export interface DwarfTarget {
  pid: number;
  startTime: number;
  /** The executable's file name, for the log. */
  program: string;
}

export interface DwarfTargetChoice {
  targets: DwarfTarget[];
  /** Targets left to frame pointers because there were more than `maxTargets`. */
  overflow: number;
  /** Processes whose executables were not checked yet (the look's time ran out). */
  unchecked: number;
}

/** Processes given to one perf: its per-thread events and file descriptors grow with them. */
export const MAX_DWARF_TARGETS = 512;
/** Names of the agent's own tools: never sampled through perf -p (perf would sample itself). */
const OWN_TOOLS = new Set(['perf', 'bpftrace']);
/**
 * Time for checking new executables per look (the check reads the symbol table: a 100 MB binary takes
 * seconds on a loaded host); the ones left over are checked at the next look, so the event loop never stalls.
 */
const CHECK_BUDGET_MS = 50;
/** File identities checked: bounded so a node that keeps building new binaries cannot grow it forever. */
const MAX_CACHED_FILES = 4096;

/** needsDwarf's answer when the look's time for checking files is spent. */
const LATER = Symbol('later');

export class DwarfTargetFinder {
  /** The last answer per process, reused while its start time is the same (one stat of its exe per process). */
  private decided = new Map<number, { startTime: number; program: string | undefined }>();
  /** `dev:ino:size:mtime` of each executable checked → built without frame pointers. */
  private readonly withoutFramePointers = new Map<string, boolean>();

  constructor(
    private readonly mode: AgentCallGraph,
    /** Process names the sampler samples; undefined: every process (`--all`). */
    private readonly commNames: ReadonlySet<string> | undefined,
    private readonly maxTargets = MAX_DWARF_TARGETS,
  ) {}

  /** Whether the sampler samples processes named `comm`. */
  samples(comm: string): boolean {
    return this.commNames === undefined || this.commNames.has(comm);
  }

  /** `pid` exec'd: same pid and start time, maybe another program; decide again. */
  forget(pid: number): void {
    this.decided.delete(pid);
  }

  /** Of `processes` (a /proc listing), the sampled ones that need DWARF (none with `fp`). */
  find(processes: Iterable<Pick<ScannedProcess, 'pid' | 'comm' | 'startTime'>>): DwarfTargetChoice {
    if (this.mode === 'fp') return { targets: [], overflow: 0, unchecked: 0 };
    const targets: DwarfTarget[] = [];
    let overflow = 0;
    let unchecked = 0;
    const decided = new Map<number, { startTime: number; program: string | undefined }>();
    const deadline = Date.now() + CHECK_BUDGET_MS;
    for (const process of processes) {
      if (process.pid === globalThis.process.pid || OWN_TOOLS.has(process.comm)) continue;
      if (!this.samples(process.comm)) continue;
      const earlier = this.decided.get(process.pid);
      // An exec keeps the pid and start time but changes the program: noteExec forgets the pid first.
      const known = earlier !== undefined && Math.abs(earlier.startTime - process.startTime) < 0.05;
      const program = known ? earlier.program : this.needsDwarf(process.pid, deadline);
      if (program === LATER) {
        unchecked++; // out of time: not decided, looked at again next time
        continue;
      }
      decided.set(process.pid, { startTime: process.startTime, program });
      if (program === undefined) continue;
      if (targets.length >= this.maxTargets) overflow++;
      else targets.push({ pid: process.pid, startTime: process.startTime, program });
    }
    this.decided = decided;
    return { targets, overflow, unchecked };
  }

  /** The executable's name when the process needs DWARF, undefined when frame pointers do (or it is gone). */
  private needsDwarf(pid: number, deadline: number): string | undefined | typeof LATER {
    // /proc/PID/exe opens the very file the process runs, even when replaced or deleted since.
    const exe = `/proc/${pid}/exe`;
    let identity: string;
    try {
      const stat = statSync(exe);
      identity = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    } catch {
      return undefined; // kernel thread, or gone
    }
    let without = this.withoutFramePointers.get(identity);
    if (without === undefined) {
      if (Date.now() > deadline) return LATER;
      // Unknown (stripped of everything, not x86-64) counts as "with": dwarf costs more and may do no better.
      without = checkFramePointers(exe).framePointers === false;
      if (this.withoutFramePointers.size >= MAX_CACHED_FILES) this.withoutFramePointers.clear();
      this.withoutFramePointers.set(identity, without);
    }
    if (!without && this.mode === 'auto') return undefined;
    return programName(pid);
  }
}

/** The executable's file name (what the log lists), or the pid when it cannot be read. */
function programName(pid: number): string {
  try {
    return basename(readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, ''));
  } catch {
    return String(pid);
  }
}
