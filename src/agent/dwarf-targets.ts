/**
 * Which of the sampled processes need DWARF unwinding: those whose executable is built without frame
 * pointers (`--call-graph auto`, the default), or every sampled process (`--call-graph dwarf`). Their
 * frame-pointer stacks end a frame or two above the leaf, so their samples are taken from the node's DWARF
 * perf instead of the main sampler (dwarf-sampler.ts). The executable check is record's
 * (src/record/frame-pointers.ts), done once per file: a node runs the same few binaries in many processes,
 * and IRIS starts jobs all day. Decided once per process (pid and start time), when it is first seen: in an
 * exec event, a /proc listing, or a sample.
 */
import { readlinkSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { checkFramePointers } from '../record/frame-pointers.js';
import type { ScannedProcess } from './instances.js';

export const AGENT_CALL_GRAPHS = ['auto', 'fp', 'dwarf'] as const;
export type AgentCallGraph = (typeof AGENT_CALL_GRAPHS)[number];

/** Names of the agent's own tools: never unwound with DWARF (perf would unwind itself). */
const OWN_TOOLS = new Set(['perf', 'bpftrace']);
/**
 * Time for checking new executables per second (the check reads the symbol table: a 100 MB binary takes
 * seconds on a loaded host); a process whose file is left unchecked stays with frame pointers until a later
 * look has time for it, so the event loop never stalls.
 */
const CHECK_BUDGET_MS_PER_SECOND = 50;
/** File identities checked: bounded so a node that keeps building new binaries cannot grow it forever. */
const MAX_CACHED_FILES = 4096;
/** Processes remembered: bounded (the /proc listing prunes the exited ones every scan). */
const MAX_DECIDED_PROCESSES = 65_536;

/** A process's answer: the executable's name when it needs DWARF, undefined when frame pointers do. */
interface Decision {
  program: string | undefined;
  /** Its start time when known (from a listing): tells a pid reused by another process apart. */
  startTime: number | undefined;
}

export class DwarfTargets {
  private decisions = new Map<number, Decision>();
  /** `dev:ino:size:mtime` of each executable checked → built without frame pointers. */
  private readonly withoutFramePointers = new Map<string, boolean>();
  private budgetSecond = 0;
  private budgetSpentMs = 0;

  constructor(
    private readonly mode: AgentCallGraph,
    /** Process names unwound with DWARF when they need it; undefined: every process (`--all --call-graph dwarf`). */
    private readonly commNames: ReadonlySet<string> | undefined,
  ) {}

  /** Whether processes named `comm` are candidates at all. */
  samples(comm: string): boolean {
    return this.commNames === undefined || this.commNames.has(comm);
  }

  /** `pid` exec'd: same pid and start time, maybe another program; decide again. */
  forget(pid: number): void {
    this.decisions.delete(pid);
  }

  /**
   * Whether `pid` (named `comm`) needs DWARF: decided at its first look and remembered; false while its
   * executable waits for a check (out of time this second) or cannot be read (gone, a kernel thread).
   */
  needsDwarf(pid: number, comm: string): boolean {
    if (this.mode === 'fp') return false;
    return this.decidedDwarf(pid) ?? this.decide(pid, comm, undefined)?.program !== undefined;
  }

  /** What was decided for `pid` (true: DWARF), without deciding: undefined when not decided yet. */
  decidedDwarf(pid: number): boolean | undefined {
    const known = this.decisions.get(pid);
    return known === undefined ? undefined : known.program !== undefined;
  }

  /**
   * Every process now (a /proc listing): forget the exited ones (and pids now naming another process),
   * decide the new sampled ones while this second's time for checks lasts. Returns how many were left
   * undecided for lack of time.
   */
  noteListing(listing: Iterable<Pick<ScannedProcess, 'pid' | 'comm' | 'startTime'>>): number {
    if (this.mode === 'fp') return 0;
    const kept = new Map<number, Decision>();
    let undecided = 0;
    for (const process of listing) {
      let decision = this.decisions.get(process.pid);
      if (decision !== undefined && decision.startTime !== undefined && !sameStart(decision.startTime, process.startTime)) decision = undefined;
      if (decision !== undefined) decision.startTime ??= process.startTime;
      else decision = this.decide(process.pid, process.comm, process.startTime);
      if (decision === undefined) undecided++;
      else kept.set(process.pid, decision);
    }
    this.decisions = kept;
    return undecided;
  }

  /** The processes known to need DWARF now: their count and their executables' names. */
  targets(): { processes: number; programs: string[] } {
    let processes = 0;
    const programs = new Set<string>();
    for (const decision of this.decisions.values()) {
      if (decision.program === undefined) continue;
      processes++;
      programs.add(decision.program);
    }
    return { processes, programs: [...programs].sort() };
  }

  /** Decide and remember; undefined when there was no time to check its executable (looked at again later). */
  private decide(pid: number, comm: string, startTime: number | undefined): Decision | undefined {
    let program: string | undefined;
    if (pid !== globalThis.process.pid && !OWN_TOOLS.has(comm) && this.samples(comm)) {
      const answer = this.checkExecutable(pid);
      if (answer === LATER) return undefined;
      program = answer;
    }
    const decision = { program, startTime };
    if (this.decisions.size >= MAX_DECIDED_PROCESSES) this.decisions.clear();
    this.decisions.set(pid, decision);
    return decision;
  }

  /** The executable's name when the process needs DWARF, undefined when frame pointers do (or it is gone). */
  private checkExecutable(pid: number): string | undefined | typeof LATER {
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
      const second = Math.floor(Date.now() / 1000);
      if (second !== this.budgetSecond) [this.budgetSecond, this.budgetSpentMs] = [second, 0];
      if (this.budgetSpentMs >= CHECK_BUDGET_MS_PER_SECOND) return LATER;
      const began = Date.now();
      // Unknown (stripped of everything, not x86-64) counts as "with": dwarf costs more and may do no better.
      without = checkFramePointers(exe).framePointers === false;
      this.budgetSpentMs += Date.now() - began;
      if (this.withoutFramePointers.size >= MAX_CACHED_FILES) this.withoutFramePointers.clear();
      this.withoutFramePointers.set(identity, without);
    }
    if (!without && this.mode === 'auto') return undefined;
    return programName(pid);
  }
}

/** checkExecutable's answer when this second's time for checking files is spent. */
const LATER = Symbol('later');

/** Start times from two reads of /proc (10 ms ticks, clock offsets measured apart) match within this. */
function sameStart(a: number, b: number): boolean {
  return Math.abs(a - b) < 0.05;
}

/** The executable's file name (what the log lists), or the pid when it cannot be read. */
function programName(pid: number): string {
  try {
    return basename(readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, ''));
  } catch {
    return String(pid);
  }
}
