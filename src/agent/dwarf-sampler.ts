/**
 * The sampler's second perf, for the processes whose stacks frame pointers cannot walk (dwarf-targets.ts):
 * ONE long-running `perf record -a -F HZ --call-graph dwarf,8192` into `perf script --no-inline --comms
 * NAMES` for the whole node, started when the first such process is seen and kept for as long as any is
 * around. Every process is in it from its exec on, so process churn never restarts it (a perf -p per set
 * of processes did: each start reloaded symbols, 0.2-0.5 s of CPU, and missed processes younger than the
 * restart gap). perf script unwinds the sampled names' samples only (perf-intervals.ts).
 *
 * Each sample is counted once: for a process that needs DWARF, this sampler's (whole) samples are kept and
 * the main sampler (bpftrace) drops its own (cut) ones; for every other process the reverse. Which is which
 * is one per-process decision (dwarf-targets.ts) read by both sides, and only while perf runs: while it is
 * down (died, restarting) the main sampler counts everything, as with `--call-graph fp`.
 *
 * If perf dies it is started again after a pause that doubles on each failure in a row (1 s up to 30 s);
 * if perf record + perf script grow past MAX_RSS_MIB (perf script keeps every process it saw) a fresh pair
 * replaces them. Both are counted (`starts`, `restarts`) for the agent's tracer metrics.
 */
import { readFileSync } from 'node:fs';
import type { IntervalSample } from './bpftrace-intervals.js';
import { DwarfTargets, type AgentCallGraph } from './dwarf-targets.js';
import { startPerfIntervals, type PerfIntervalSource } from './perf-intervals.js';
import type { ScannedProcess } from './instances.js';
import { bootToMonotonicOffset, listProcesses, readProcStat } from './proc.js';
// Bytes of user stack copied per sample: record's choice, which reaches `main` in the programs measured.
import { DWARF_STACK_BYTES } from '../record/call-graph.js';

/**
 * Looking at the processes: at each of the agent's /proc scans (noteProcesses), or this often when nobody
 * hands it a listing. A listing of /proc took ~40 ms on a loaded 2-core host, so the agent's is reused.
 */
const SCAN_MS = 10_000;
const MAX_EXEC_LOOKS_PER_SECOND = 200;
/** First restart after 1 s, doubling to 30 s; a perf that ran a minute starts over at 1 s. */
const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;
const HEALTHY_RUN_MS = 60_000;
/** perf is stopped when no process has needed DWARF for this long (IRIS stopped), and started again when one does. */
const IDLE_STOP_MS = 300_000;
/** perf record + perf script resident memory past which a fresh pair replaces them; checked this often. */
const MAX_RSS_MIB = 256;
const RSS_CHECK_MS = 10_000;
/** Longest wait for a new perf script's first samples before it takes over anyway (a node without IRIS activity). */
const FLOW_WAIT_MS = 10_000;
/** perf gets this long to flush and exit on SIGINT when the agent stops before it is killed. */
const STOP_GRACE_MS = 800;
/** Samples kept for the main sampler while it is not taking them (restarting): bounded. */
const MAX_PENDING_SAMPLES = 100_000;

export interface DwarfSamplerOptions {
  frequency: number;
  mode: AgentCallGraph;
  /** Process names unwound with DWARF when they need it; undefined: every process (`--all --call-graph dwarf`). */
  commNames: ReadonlySet<string> | undefined;
  /** perf record + perf script resident MiB past which a fresh pair replaces them (default MAX_RSS_MIB). */
  maxRssMiB?: number;
  /** What is unwound how changed (for the log and /healthz). */
  onChange?: (state: DwarfState) => void;
  /** perf runs (again, when `restarted`, and why when not after a death): for the agent's tracer metrics and log. */
  onUp?: (restarted: boolean, why?: string) => void;
  /** perf died or could not start, and why; it is retried. */
  onDown?: (reason: string) => void;
  /** perf was stopped because no process needs it (or the agent stops): not a failure. */
  onIdle?: () => void;
}

export interface DwarfState {
  /** Processes perf unwinds with DWARF now (0 while perf is not running). */
  processes: number;
  /** Their executables' names. */
  programs: string[];
  /** Why perf is not running, when it should. */
  error: string | undefined;
}

export class DwarfSampler {
  /** Times perf was started (the first start included). */
  starts = 0;
  /** Times perf was started again after dying or outgrowing its memory bound. */
  restarts = 0;
  lastError: string | undefined;
  /** Samples lost by the perfs replaced or stopped so far (the running one's are added by `lostSamples`). */
  private lostBefore = 0;
  private readonly targets: DwarfTargets;
  private source: PerfIntervalSource | undefined;
  private launching = false;
  private rotating = false;
  /** A perf started and waiting for its first samples (stop() kills it). */
  private starting: PerfIntervalSource | undefined;
  private pending: IntervalSample[] = [];
  private stopping = false;
  private started = false;
  /** Whether someone hands in /proc listings (the agent's scan); else the sampler lists /proc itself. */
  private listed = false;
  private scanTimer: NodeJS.Timeout | undefined;
  private rssTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private backoffMs = FIRST_BACKOFF_MS;
  /** Whether the next start is a restart (after a death, a failed start or the memory bound). */
  private restartNext = false;
  /** Date.now() when a process last needed DWARF. */
  private lastNeededMs = Number.NEGATIVE_INFINITY;
  private readonly bootOffset = bootToMonotonicOffset();
  private execSecond = 0;
  private execsThisSecond = 0;
  private lastState = '';

  constructor(private readonly options: DwarfSamplerOptions) {
    this.targets = new DwarfTargets(options.mode, options.commNames);
  }

  /** Look at the processes now and every few seconds; perf starts once one needs DWARF. */
  start(): void {
    if (this.options.mode === 'fp' || this.started || this.stopping) return;
    this.started = true;
    this.scanTimer = setInterval(() => {
      if (!this.listed) this.noteProcesses(listProcesses(this.bootOffset), false);
    }, SCAN_MS);
    this.scanTimer.unref();
    this.rssTimer = setInterval(() => void this.checkMemory(), RSS_CHECK_MS);
    this.rssTimer.unref();
    if (!this.listed) this.noteProcesses(listProcesses(this.bootOffset), false);
    else this.review();
  }

  /** Every process now (the agent's periodic /proc scan): decide the new ones, forget the exited ones. */
  noteProcesses(listing: readonly Pick<ScannedProcess, 'pid' | 'comm' | 'startTime'>[], fromAgent = true): void {
    if (this.options.mode === 'fp' || this.stopping) return;
    if (fromAgent) this.listed = true;
    this.targets.noteListing(listing);
    if (this.started) this.review();
  }

  /** A sampled process just exec'd: decide it now, so perf's samples of it are kept from the start. */
  noteExec(pid: number): void {
    if (this.options.mode === 'fp' || this.stopping) return;
    // An exec storm (with --all) must not become a /proc storm: the next listing catches the rest.
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.execSecond) [this.execSecond, this.execsThisSecond] = [second, 0];
    if (++this.execsThisSecond > MAX_EXEC_LOOKS_PER_SECOND) return;
    this.targets.forget(pid);
    const stat = readProcStat(pid, this.bootOffset);
    if (stat !== undefined && this.targets.needsDwarf(pid, stat.comm)) this.needed();
  }

  /**
   * Whether `pid`'s samples come from this sampler: it needs DWARF and perf runs. The main sampler drops
   * its own samples of those processes; this one drops the rest.
   */
  owns(pid: number, comm: string): boolean {
    if (this.options.mode === 'fp' || !this.targets.needsDwarf(pid, comm)) return false;
    this.needed();
    return this.source !== undefined;
  }

  /** The samples perf delivered since the last call; the main sampler adds them to its interval. */
  take(): IntervalSample[] {
    const taken = this.pending;
    this.pending = [];
    return taken;
  }

  get state(): DwarfState {
    const { processes, programs } = this.targets.targets();
    const running = this.source !== undefined;
    return { processes: running ? processes : 0, programs: running ? programs : [], error: processes > 0 && !running ? this.lastError : undefined };
  }

  /** Samples the kernel dropped because the DWARF perf's ring buffers were full, since the agent started. */
  get lostSamples(): number {
    return this.lostBefore + (this.source?.lostSamples ?? 0);
  }

  /** perf record's pid while it runs (for tests and the bench). */
  get processId(): number | undefined {
    return this.source?.pid;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.scanTimer);
    clearInterval(this.rssTimer);
    clearTimeout(this.retryTimer);
    this.starting?.kill();
    const source = this.source;
    this.source = undefined;
    if (source === undefined) return;
    const grace = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), STOP_GRACE_MS).unref());
    if ((await Promise.race([source.stop().then(() => 'done' as const), grace])) === 'late') source.kill();
    this.options.onIdle?.();
  }

  /** After a listing: start perf if a process needs it, stop it if none has for IDLE_STOP_MS; report changes. */
  private review(): void {
    if (this.targets.targets().processes > 0) this.needed();
    else if (this.source !== undefined && Date.now() - this.lastNeededMs > IDLE_STOP_MS) void this.stopIdle();
    this.report();
  }

  /** A process needs DWARF now: perf must run (started unless it runs, is starting or waits to retry). */
  private needed(): void {
    this.lastNeededMs = Date.now();
    if (!this.started || this.stopping || this.source !== undefined || this.launching || this.retryTimer !== undefined) return;
    void this.launch();
  }

  /**
   * Start perf record + perf script; their samples are delivered only while they are `this.source`. Resolves
   * once perf script prints samples (or after FLOW_WAIT_MS, or when perf exits): perf script spends its
   * first seconds loading symbols, and the samples of that time would reach the buckets seconds late, after
   * the main sampler stopped counting those processes. Until then the main sampler (or the perf being
   * replaced) goes on counting them, and what perf script prints before is dropped, never counted twice.
   */
  private async spawnSource(): Promise<PerfIntervalSource | string> {
    let mine: PerfIntervalSource | undefined;
    let flowing: () => void = () => undefined;
    const flows = new Promise<void>((resolve) => (flowing = resolve));
    const started = await startPerfIntervals({
      frequency: this.options.frequency,
      commNames: this.options.commNames === undefined ? undefined : [...this.options.commNames],
      dwarfStackBytes: DWARF_STACK_BYTES,
      label: 'the DWARF sampler (perf --call-graph dwarf)',
      // The named processes that frame pointers walk (the main sampler's) are dropped before perf script
      // unwinds them; undecided ones pass (deliver() decides them).
      keepSample: (pid) => this.targets.decidedDwarf(pid) !== false,
      onInterval: (samples) => {
        if (mine !== undefined && this.source === mine) this.deliver(samples);
        else if (samples.length > 0) flowing();
      },
    });
    if (started.unavailable !== undefined) return started.unavailable;
    mine = started.running;
    this.starting = mine;
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([
      flows.then(() => false),
      mine.exited.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), FLOW_WAIT_MS))),
    ]);
    clearTimeout(timer);
    this.starting = undefined;
    if (exited) return 'the DWARF sampler (perf --call-graph dwarf) exited as it started';
    return mine;
  }

  private async launch(): Promise<void> {
    this.launching = true;
    const restarted = this.restartNext;
    let started: PerfIntervalSource | string;
    try {
      started = await this.spawnSource();
    } finally {
      this.launching = false;
    }
    if (typeof started === 'string') {
      if (this.stopping) return;
      this.lastError = started;
      this.options.onDown?.(started);
      this.report();
      this.restartNext = true;
      this.retry();
      return;
    }
    if (this.stopping) {
      started.kill();
      return;
    }
    this.adopt(started, restarted);
  }

  /** `source` is the DWARF sampler from now on: count it, report it, start it again if it dies. */
  private adopt(source: PerfIntervalSource, restarted: boolean, why?: string): void {
    if (this.source !== undefined) this.lostBefore += this.source.lostSamples;
    this.source = source;
    this.starts++;
    if (restarted) this.restarts++;
    this.restartNext = false;
    this.lastError = undefined;
    this.options.onUp?.(restarted, why);
    this.report();
    const startedAt = Date.now();
    void source.exited.then(() => {
      if (this.source !== source) return; // stopped on purpose (counted then)
      this.lostBefore += source.lostSamples;
      this.source = undefined;
      if (this.stopping) return;
      if (Date.now() - startedAt >= HEALTHY_RUN_MS) this.backoffMs = FIRST_BACKOFF_MS;
      this.lastError = 'the DWARF sampler (perf) exited';
      this.options.onDown?.(this.lastError);
      this.report();
      this.restartNext = true;
      this.retry();
    });
  }

  /** Start perf again after the backoff, if a process still needs it then. */
  private retry(): void {
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.stopping) return;
      if (this.targets.targets().processes > 0 || Date.now() - this.lastNeededMs < IDLE_STOP_MS) this.needed();
    }, delay);
    this.retryTimer.unref();
  }

  /** No process has needed DWARF for a while: stop perf until one does (not a failure). */
  private async stopIdle(): Promise<void> {
    const source = this.source;
    this.lostBefore += source?.lostSamples ?? 0;
    this.source = undefined;
    await source?.stop();
    this.restartNext = false;
    this.options.onIdle?.();
    this.report();
  }

  /**
   * perf script keeps every process it has seen (≈40 KiB per exec on the node, measured) and every binary's
   * unwind tables: past the bound, a fresh perf takes over once it samples, then the old one stops, so no
   * second goes without DWARF stacks (counted as a restart; samples are taken from one of the two at a time).
   */
  private async checkMemory(): Promise<void> {
    const old = this.source;
    if (old === undefined || this.rotating || this.stopping) return;
    const rss = residentMiB(old.pid) + residentMiB(old.scriptPid);
    const bound = this.options.maxRssMiB ?? MAX_RSS_MIB;
    if (rss <= bound) return;
    this.rotating = true;
    try {
      const fresh = await this.spawnSource();
      if (typeof fresh === 'string') return; // the old one goes on; tried again at the next check
      if (this.stopping || this.source !== old) {
        fresh.kill();
        return;
      }
      this.adopt(fresh, true, `perf record + perf script grew to ${Math.round(rss)} MiB, over ${bound}`);
      const grace = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), STOP_GRACE_MS).unref());
      if ((await Promise.race([old.stop().then(() => 'done' as const), grace])) === 'late') old.kill();
    } finally {
      this.rotating = false;
    }
  }

  private deliver(samples: IntervalSample[]): void {
    for (const sample of samples) {
      if (this.pending.length >= MAX_PENDING_SAMPLES) return;
      if (sample.pid !== undefined && this.owns(sample.pid, sample.comm)) this.pending.push(sample);
    }
  }

  /** Tell the owner when what is unwound how changed (the programs, running or not, the error), not every count. */
  private report(): void {
    const state = this.state;
    const key = JSON.stringify([state.processes > 0, state.programs, state.error]);
    if (key === this.lastState) return;
    this.lastState = key;
    this.options.onChange?.(state);
  }
}

/** VmRSS of a process in MiB, 0 when it is gone. */
function residentMiB(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'latin1').split('\n').find((l) => l.startsWith('VmRSS:'));
    return line === undefined ? 0 : Number(line.split(/\s+/)[1]) / 1024;
  } catch {
    return 0;
  }
}
