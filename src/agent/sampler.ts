/**
 * The agent's continuous CPU sampler: one bpftrace (or, where bpftrace cannot run, perf) process sampling at
 * a low rate for as long as the agent runs, its per-second output kept in a ring of buckets that every
 * profile request and every push reads from. One sampler serves any number of concurrent requests.
 *
 * If the sampling process dies it is started again after a pause that doubles on each failure in a row
 * (1 s up to 30 s), and `restarts` counts it for the agent's metrics.
 */
import { RecordError, UsageError } from '../errors.js';
import type { ProfileSample } from '../export/pprof.js';
import { DEFAULT_IRIS_DIR, IRIS_PROCESS_NAMES } from '../iris/processes.js';
import { findExecutable } from '../tools/executables.js';
import { startBpftraceIntervals, type IntervalSample, type IntervalSource } from './bpftrace-intervals.js';
import { startPerfIntervals } from './perf-intervals.js';
import { DwarfSampler, type DwarfState } from './dwarf-sampler.js';
import type { AgentCallGraph } from './dwarf-targets.js';
import type { DescribeProcess } from './agent.js';
import type { ScannedProcess } from './instances.js';
import { ProcessInfoCache } from './process-info.js';
import { SampleRing } from './sample-ring.js';

export type SamplerBackend = 'auto' | 'bpftrace' | 'perf';

export interface SamplerOptions {
  /**
   * Samples per second per CPU. 19, as Parca Agent and Alloy: a prime, so it does not run in lockstep
   * with 10 ms periodic work, and low enough to cost well under 1% of a core.
   * @default 19
   */
  frequency: number;
  /**
   * Sample every process on the node instead of InterSystems IRIS's only.
   * @default false
   */
  all: boolean;
  /**
   * IRIS install directory, for naming routines from argv.
   * @default "/usr/irissys"
   */
  irisDir: string;
  /**
   * Seconds of samples kept: the longest window a request can ask for, plus slack for the wait.
   * @default 310
   */
  retainSeconds: number;
  /**
   * bpftrace (aggregates in the kernel) or perf; `auto` takes bpftrace when it runs, perf otherwise.
   * @default "auto"
   */
  backend: SamplerBackend;
  /**
   * How user stacks are unwound: `fp` frame pointers for every process (bpftrace's and perf -g's way);
   * `dwarf` the samples of a second, whole-node perf with DWARF unwinding for every sampled process; `auto`
   * that perf's samples only for the processes whose executables are built without frame pointers
   * (dwarf-sampler.ts).
   * @default "auto"
   */
  callGraph: AgentCallGraph;
  /** The processes unwound with DWARF changed: for the agent's log, metrics and /healthz. */
  onDwarfChange?: (state: DwarfState) => void;
  /** The DWARF sampler's perf runs (again), died, or was stopped as unneeded: for the agent's tracer metrics. */
  onDwarfUp?: (restarted: boolean, why?: string) => void;
  onDwarfDown?: (reason: string) => void;
  onDwarfIdle?: () => void;
  /** The agent's process lookup (instance, routine); /proc is read when absent. */
  describe?: DescribeProcess;
  /** Sampling runs (again, when `restarted`): for the agent's health metrics and log. */
  onUp?: (restarted: boolean) => void;
  /** Sampling stopped or could not start, and why; it is retried. */
  onDown?: (reason: string) => void;
}

export const DEFAULT_SAMPLER_OPTIONS: Readonly<SamplerOptions> = Object.freeze({
  frequency: 19,
  all: false,
  irisDir: DEFAULT_IRIS_DIR,
  retainSeconds: 310,
  backend: 'auto' as SamplerBackend,
  callGraph: 'auto' as AgentCallGraph,
});

const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;
/** A run this long counts as healthy: the next failure starts the backoff from the beginning again. */
const HEALTHY_RUN_MS = 60_000;


export class ContinuousSampler {
  readonly options: SamplerOptions;
  readonly ring: SampleRing;
  /** Times the sampling process was started again after dying. */
  restarts = 0;
  /** The backend in use once started. */
  backend: 'bpftrace' | 'perf' | undefined;
  /** Why the last start failed, while restarting. */
  lastError: string | undefined;
  private source: IntervalSource | undefined;
  private stopping = false;
  private lastIntervalEnd: number | undefined;
  private readonly processes: ProcessInfoCache;
  private restartTimer: NodeJS.Timeout | undefined;
  private nextBackoffMs = FIRST_BACKOFF_MS;
  /** The DWARF sampler for processes without frame pointers (not with `callGraph: 'fp'`). */
  readonly dwarf: DwarfSampler | undefined;

  constructor(options: Partial<SamplerOptions> = {}) {
    const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
    this.options = { ...DEFAULT_SAMPLER_OPTIONS, ...defined };
    if (!Number.isInteger(this.options.frequency) || this.options.frequency < 1 || this.options.frequency > 1000) {
      throw new UsageError(`--frequency must be a whole number of Hz from 1 to 1000 (got ${String(this.options.frequency)})`);
    }
    this.ring = new SampleRing(this.options.retainSeconds);
    this.processes = new ProcessInfoCache(this.options.describe, this.options.irisDir);
    if (this.options.callGraph !== 'fp') {
      this.dwarf = new DwarfSampler({
        frequency: this.options.frequency,
        mode: this.options.callGraph,
        // With --all, auto still unwinds IRIS's processes only: perf script unwinding every program without
        // frame pointers (most of a distribution) costs 1-2.5 ms per sample; --call-graph dwarf asks for it.
        commNames: this.options.all && this.options.callGraph === 'dwarf' ? undefined : IRIS_PROCESS_NAMES,
        onChange: this.options.onDwarfChange,
        onUp: this.options.onDwarfUp,
        onDown: this.options.onDwarfDown,
        onIdle: this.options.onDwarfIdle,
      });
    }
  }

  /** Start sampling; throws RecordError when no backend can run (the reason is its message). */
  async start(): Promise<void> {
    const reason = await this.launch(false);
    if (reason !== undefined) throw new RecordError('RECORD', reason, { hint: 'run as root with bpftrace or perf installed' });
    this.dwarf?.start();
  }

  /**
   * Start sampling, or, when it cannot start now, say why and keep trying with backoff: for the agent,
   * which serves metrics whether or not profiles can be taken.
   */
  async startInBackground(): Promise<string | undefined> {
    const reason = await this.launch(false);
    if (reason !== undefined) this.retry(FIRST_BACKOFF_MS);
    if (!this.stopping) this.dwarf?.start();
    return reason;
  }

  /**
   * The agent saw `pid` exec as `comm`: if it is a process this sampler samples, let the sampler read its
   * maps now, so its frames are named even if it exits within the second (IRIS starts and stops are
   * full of such processes).
   */
  noteExec(pid: number, comm: string): void {
    if (!this.options.all && !IRIS_PROCESS_NAMES.has(comm)) return;
    this.source?.noteExec?.(pid);
    this.dwarf?.noteExec(pid);
  }

  /** The agent listed /proc (its periodic scan): the DWARF sampler looks at the sampled processes in it. */
  noteProcesses(listing: readonly ScannedProcess[]): void {
    this.dwarf?.noteProcesses(listing);
  }

  /** The sampling process's pid while it runs (for tests and the agent's log). */
  get processId(): number | undefined {
    return this.source?.pid;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    await Promise.all([this.source?.stop(), this.dwarf?.stop()]);
  }

  /** Start the sampling process once; the reason when it cannot. Watches it and restarts it if it dies. */
  private async launch(restart: boolean): Promise<string | undefined> {
    this.backend ??= chooseBackend(this.options.backend);
    const commNames = this.options.all ? undefined : [...IRIS_PROCESS_NAMES];
    const onInterval = (samples: IntervalSample[], endMs: number): void => this.onInterval(samples, endMs);
    const sourceOptions = { frequency: this.options.frequency, commNames, onInterval };
    let started =
      this.backend === 'perf' ? await startPerfIntervals(sourceOptions) : await startBpftraceIntervals(sourceOptions);
    // `auto` means bpftrace if it runs: installed but unable to attach, perf gets its turn.
    if (started.unavailable !== undefined && this.options.backend === 'auto' && this.backend === 'bpftrace' && findExecutable('perf') !== undefined) {
      const perf = await startPerfIntervals(sourceOptions);
      if (perf.unavailable === undefined) {
        this.backend = 'perf';
        started = perf;
      }
    }
    if (started.unavailable !== undefined) {
      this.lastError = started.unavailable;
      this.options.onDown?.(started.unavailable);
      return started.unavailable;
    }
    const source = started.running;
    if (this.stopping) {
      await source.stop();
      return undefined;
    }
    this.source = source;
    this.lastIntervalEnd = Date.now();
    this.lastError = undefined;
    this.options.onUp?.(restart);
    const startedAt = Date.now();
    void source.exited.then(() => {
      if (this.stopping) return;
      this.source = undefined;
      this.options.onDown?.(`the sampler (${this.backend}) exited`);
      this.retry(Date.now() - startedAt > HEALTHY_RUN_MS ? FIRST_BACKOFF_MS : this.nextBackoffMs);
    });
    return undefined;
  }

  /** Try again after `delayMs`, doubling the pause (up to 30 s) while attempts keep failing. */
  private retry(delayMs: number): void {
    this.nextBackoffMs = Math.min(delayMs * 2, MAX_BACKOFF_MS);
    this.restartTimer = setTimeout(async () => {
      if (this.stopping) return;
      this.restarts++;
      const reason = await this.launch(true);
      if (reason !== undefined && !this.stopping) this.retry(this.nextBackoffMs);
    }, delayMs);
    this.restartTimer.unref();
  }

  private onInterval(samples: IntervalSample[], endMs: number): void {
    const startMs = this.lastIntervalEnd ?? endMs - 1000;
    this.lastIntervalEnd = endMs;
    const bucket: ProfileSample[] = [];
    // Processes the DWARF sampler owns: its whole stacks replace the main sampler's cut ones, never both.
    const dwarf = this.dwarf;
    const merged = dwarf === undefined ? samples : [...samples.filter((sample) => sample.pid === undefined || !dwarf.owns(sample.pid, sample.comm)), ...dwarf.take()];
    for (const sample of merged) {
      const separator = sample.stack.indexOf(';');
      const frames = separator === -1 ? [] : sample.stack.slice(separator + 1).split(';');
      const profileSample: ProfileSample = { frames, comm: sample.comm, count: sample.weight };
      if (sample.pid !== undefined) {
        profileSample.pid = sample.pid;
        const info = this.processes.lookup(sample.pid, sample.comm);
        if (info.binary !== undefined) profileSample.binary = info.binary;
        if (info.instance !== undefined) profileSample.irisInstance = info.instance;
        if (info.routine !== undefined) profileSample.routine = info.routine;
      }
      bucket.push(profileSample);
    }
    this.ring.add({ startMs, endMs, samples: bucket });
  }
}

function chooseBackend(choice: SamplerBackend): 'bpftrace' | 'perf' {
  if (choice !== 'auto') return choice;
  return findExecutable('bpftrace') !== undefined || findExecutable('perf') === undefined ? 'bpftrace' : 'perf';
}
