/**
 * The sampler's second perf, for the processes whose stacks frame pointers cannot walk (dwarf-targets.ts):
 * `perf record -F HZ -p PIDS --call-graph dwarf,8192` into `perf script --no-inline`. Only those processes'
 * samples carry 8 KiB of stack each and get unwound in perf script; the rest of the node stays with the main
 * sampler (bpftrace counting in the kernel), which drops the samples of the processes this one `owns`, so
 * none is counted twice. A whole-node `perf -a --call-graph dwarf` was measured at ~9% of a core on this
 * 2-core test host, losing samples, against ~1.6% for one busy process here (docs/agent-profiles.md).
 *
 * perf -p takes a fixed list of processes, so a new process that needs DWARF means starting perf again: at
 * most once per RESTART_GAP_MS, for processes at least MIN_AGE_SECONDS old, so an IRIS starting many jobs
 * costs a restart per 15 s, not one per job. Until a process is taken over, the main sampler keeps counting it (with a
 * cut stack), so it is never unsampled for long; while perf restarts, nothing is owned and the same holds.
 */
import type { IntervalSample, IntervalSource } from './bpftrace-intervals.js';
import { DwarfTargetFinder, type AgentCallGraph, type DwarfTarget } from './dwarf-targets.js';
import { startPerfIntervals } from './perf-intervals.js';
import type { ScannedProcess } from './instances.js';
import { bootToMonotonicOffset, listProcesses, monotonicSeconds, readProcStat } from './proc.js';
// Bytes of user stack copied per sample: record's choice, which reaches `main` in the programs measured.
import { DWARF_STACK_BYTES } from '../record/call-graph.js';


/**
 * Looking for new processes that need DWARF: at each of the agent's /proc scans (noteProcesses), or this
 * often when nobody hands it a listing, and soon after an exec of a sampled name. A listing of /proc took
 * ~40 ms on this loaded 2-core host, so the agent's own scan is reused rather than repeated.
 */
const SCAN_MS = 10_000;
const EXEC_SETTLE_MS = 1_000;
const MAX_EXEC_LOOKS_PER_SECOND = 200;
/** Executables left unchecked by a look (its time ran out) are checked this soon after. */
const UNCHECKED_RETRY_MS = 500;
/**
 * Shortest time between two starts of perf: a start and stop cost 0.2-0.5 s of CPU on this loaded 2-core
 * host (perf record's start-up, perf script loading symbols, the spawn), so a new process every few seconds
 * costs at most one of those per 15 s (bench/agent-dwarf.mjs measures it).
 */
const RESTART_GAP_MS = 15_000;
/** A failed start (a target exited meanwhile: perf -p refuses a missing pid) is retried after this, doubling. */
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 30_000;
/**
 * Processes younger than this are left to the main sampler: IRIS's start-up helpers live a fraction of a
 * second, and a restart of perf for a process that is gone before perf samples much of it buys nothing.
 */
const MIN_AGE_SECONDS = 5;
/** Samples kept for the main sampler while it is not delivering (restarting): bounded. */
const MAX_PENDING_SAMPLES = 100_000;

export interface DwarfSamplerOptions {
  frequency: number;
  mode: AgentCallGraph;
  /** Process names sampled; undefined: every process (`--all`). */
  commNames: ReadonlySet<string> | undefined;
  /** The set of processes unwound with DWARF changed (for the log and /healthz). */
  onChange?: (state: DwarfState) => void;
}

export interface DwarfState {
  /** Processes perf unwinds with DWARF now. */
  processes: number;
  /** Their executables' names. */
  programs: string[];
  /** Processes that need DWARF but were left to frame pointers (over MAX_DWARF_TARGETS). */
  overflow: number;
  /** Why perf is not running, when it should. */
  error: string | undefined;
}

export class DwarfSampler {
  /** Times perf was started (the first start included): each one is a moment of cut stacks. */
  starts = 0;
  lastError: string | undefined;
  private readonly finder: DwarfTargetFinder;
  private owned = new Map<number, DwarfTarget>();
  private overflow = 0;
  private source: IntervalSource | undefined;
  private pending: IntervalSample[] = [];
  private busy = false;
  private again = false;
  private stopping = false;
  private lastStartMs = Number.NEGATIVE_INFINITY;
  private retryMs = FIRST_RETRY_MS;
  private scanTimer: NodeJS.Timeout | undefined;
  private soonTimer: NodeJS.Timeout | undefined;
  private readonly bootOffset = bootToMonotonicOffset();
  /** Sampled processes seen (listing and exec events) since the last look: the only ones looked at. */
  private candidates = new Map<number, Pick<ScannedProcess, 'pid' | 'comm' | 'startTime'>>();
  /** Whether someone hands in /proc listings (the agent's scan); else the sampler lists /proc itself. */
  private listed = false;
  private started = false;
  private execSecond = 0;
  private execsThisSecond = 0;

  constructor(private readonly options: DwarfSamplerOptions) {
    this.finder = new DwarfTargetFinder(options.mode, options.commNames);
  }

  /** Look for processes now and every few seconds. */
  start(): void {
    if (this.options.mode === 'fp' || this.started) return;
    this.started = true;
    this.scanTimer = setInterval(() => {
      if (!this.listed) this.noteProcesses(listProcesses(this.bootOffset), false);
    }, SCAN_MS);
    this.scanTimer.unref();
    if (!this.listed) this.noteProcesses(listProcesses(this.bootOffset), false);
    else void this.reconcile();
  }

  /** Every process now (the agent's periodic /proc scan): look at the sampled ones. */
  noteProcesses(listing: readonly Pick<ScannedProcess, 'pid' | 'comm' | 'startTime'>[], fromAgent = true): void {
    if (this.options.mode === 'fp' || this.stopping) return;
    if (fromAgent) this.listed = true;
    this.candidates = new Map();
    for (const process of listing) if (this.finder.samples(process.comm)) this.candidates.set(process.pid, process);
    if (this.started) void this.reconcile();
  }

  /** A sampled process just started: look again shortly (many execs in a burst make one look). */
  noteExec(pid: number): void {
    if (this.options.mode === 'fp' || this.stopping) return;
    // An exec storm (with --all) must not become a /proc storm: the next listing catches the rest.
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.execSecond) [this.execSecond, this.execsThisSecond] = [second, 0];
    if (++this.execsThisSecond > MAX_EXEC_LOOKS_PER_SECOND) return;
    this.finder.forget(pid);
    const stat = readProcStat(pid, this.bootOffset);
    if (stat !== undefined && this.finder.samples(stat.comm)) this.candidates.set(pid, stat);
    this.soon(EXEC_SETTLE_MS);
  }

  /** Whether `pid`'s samples come from this sampler (the main sampler drops its own for them). */
  owns(pid: number): boolean {
    return this.owned.has(pid);
  }

  /** The samples perf delivered since the last call; the main sampler adds them to its interval. */
  take(): IntervalSample[] {
    const taken = this.pending;
    this.pending = [];
    return taken;
  }

  get state(): DwarfState {
    return { processes: this.owned.size, programs: [...new Set([...this.owned.values()].map((target) => target.program))].sort(), overflow: this.overflow, error: this.lastError };
  }

  get processId(): number | undefined {
    return this.source?.pid;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.scanTimer);
    clearTimeout(this.soonTimer);
    this.owned = new Map();
    await this.source?.stop();
  }

  private soon(delayMs: number): void {
    if (!this.started || this.stopping || this.options.mode === 'fp' || this.soonTimer !== undefined) return;
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined;
      void this.reconcile();
    }, delayMs);
    this.soonTimer.unref();
  }

  /** Compare the processes that need DWARF with those perf has; start perf again when some are new. */
  private async reconcile(): Promise<void> {
    if (this.stopping) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      const changed = this.forgetExited();
      const choice = this.finder.find(this.candidates.values());
      this.overflow = choice.overflow;
      if (choice.unchecked > 0) this.soon(UNCHECKED_RETRY_MS);
      const now = monotonicSeconds();
      const settled = choice.targets.filter((target) => now - target.startTime >= MIN_AGE_SECONDS || this.owned.has(target.pid));
      const young = settled.length < choice.targets.length;
      if (young) this.soon(MIN_AGE_SECONDS * 1000);
      const fresh = settled.filter((target) => {
        const owned = this.owned.get(target.pid);
        return owned === undefined || !sameStart(owned.startTime, target.startTime);
      });
      if (fresh.length === 0) {
        if (this.owned.size === 0 && this.source !== undefined) await this.stopSource();
        if (changed) this.options.onChange?.(this.state);
        return;
      }
      const wait = this.lastStartMs + RESTART_GAP_MS - Date.now();
      if (wait > 0) {
        if (changed) this.options.onChange?.(this.state);
        this.soon(wait);
        return;
      }
      // perf -p refuses a pid that is gone: only the live ones (read now, just before perf starts).
      await this.restart(settled.filter((target) => {
        const stat = this.owned.has(target.pid) ? target : readProcStat(target.pid, this.bootOffset);
        const alive = stat !== undefined && sameStart(stat.startTime, target.startTime);
        if (!alive) this.candidates.delete(target.pid);
        return alive;
      }));
    } finally {
      this.busy = false;
      if (this.again && !this.stopping) {
        this.again = false;
        this.soon(0);
      }
    }
  }

  /** Drop owned processes that exited (or whose pid now names another process); true if any did. */
  private forgetExited(): boolean {
    let changed = false;
    for (const [pid, target] of this.owned) {
      const stat = readProcStat(pid, this.bootOffset);
      if (stat === undefined || !sameStart(stat.startTime, target.startTime)) {
        this.owned.delete(pid);
        changed = true;
      }
    }
    return changed;
  }

  private async stopSource(): Promise<void> {
    const source = this.source;
    this.source = undefined;
    // Still owned until perf has stopped: it samples them up to its exit (and flushes those samples).
    await source?.stop();
    this.owned = new Map();
  }

  private async restart(targets: DwarfTarget[]): Promise<void> {
    await this.stopSource();
    this.lastStartMs = Date.now();
    this.starts++;
    // Owned from the spawn on: perf samples them from then, and the main sampler must stop counting them.
    this.owned = new Map(targets.map((target) => [target.pid, target]));
    // Children they fork inherit perf's events, but are not owned: the main sampler counts those.
    const mine = new Set(this.owned.keys());
    const started = await startPerfIntervals({
      frequency: this.options.frequency,
      commNames: this.options.commNames === undefined ? undefined : [...this.options.commNames],
      pids: targets.map((target) => target.pid),
      dwarfStackBytes: DWARF_STACK_BYTES,
      label: 'the DWARF sampler (perf --call-graph dwarf)',
      onInterval: (samples) => this.deliver(samples.filter((sample) => sample.pid !== undefined && mine.has(sample.pid))),
    });
    if (started.unavailable !== undefined || this.stopping) {
      await started.running?.stop();
      this.owned = new Map();
      if (this.stopping) return;
      this.lastError = started.unavailable;
      this.options.onChange?.(this.state);
      // Usually a target exited between the scan and perf's start: look again soon, then less often.
      this.lastStartMs = Number.NEGATIVE_INFINITY;
      this.soon(this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
      return;
    }
    const source = started.running;
    this.source = source;
    this.lastError = undefined;
    this.retryMs = FIRST_RETRY_MS;
    this.options.onChange?.(this.state);
    void source.exited.then(() => {
      if (this.source !== source) return; // stopped on purpose
      // perf -p ends by itself when every target has exited: the main sampler takes over whatever is left.
      this.source = undefined;
      this.owned = new Map();
      if (!this.stopping) {
        this.options.onChange?.(this.state);
        this.soon(0);
      }
    });
  }

  private deliver(samples: IntervalSample[]): void {
    if (this.pending.length + samples.length > MAX_PENDING_SAMPLES) return;
    for (const sample of samples) this.pending.push(sample);
  }
}

/** Start times from two reads of /proc (10 ms ticks, clock offsets measured apart) match within this. */
function sameStart(a: number, b: number): boolean {
  return Math.abs(a - b) < 0.05;
}
