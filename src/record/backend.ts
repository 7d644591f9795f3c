/**
 * What every recording backend (perf, bpftrace) offers the session: start sampling, say when it is on,
 * stop on request, and hand back collapsed stacks. The session owns time, signals, progress and output;
 * a backend owns only its tools and their bytes.
 */
import type { CollapseResult, ProcessFilter } from '../collapse/types.js';
import type { PerfCallGraph } from './options.js';

/** What to sample, as a backend needs it. */
export interface RecordPlan {
  frequency: number;
  /** Only these processes; empty for the whole system. */
  pids: number[];
  callGraph: PerfCallGraph;
  /** With dwarf: bytes of user stack copied per sample (perf's default, 64 KiB, when unset). */
  dwarfStackBytes?: number;
  /** A bound on perf.data (perf `--max-size`): perf stops sampling when it is reached. Unset: none. */
  maxDataBytes?: number;
  /** A private temporary directory for the backend's files; the session deletes it. */
  workDir: string;
  /** perf.data will be kept: worth perf's build-id pass at the end (skipped otherwise, it costs seconds). */
  keepPerfData: boolean;
  /**
   * Process names a backend may filter on in the kernel, before any stack is walked (bpftrace: `--iris`).
   * Only a pre-filter: `processFilter` still decides. Undefined means no pre-filter.
   */
  kernelCommNames?: readonly string[];
  /** Keeps a sample or not (`--comm`, `--iris`); applied while collapsing. */
  processFilter?: ProcessFilter;
}

/** What a backend can tell about a running recording, for the progress line. */
export interface RecordingProgress {
  /** Samples taken so far, where the backend can count them live. */
  samples?: number;
  /** Bytes written so far (perf.data), where that is all it can tell. */
  bytes?: number;
}

export interface RecordingResult {
  collapse: CollapseResult;
  /** Distinct process ids seen in kept samples. */
  processIds: number;
  /** Bytes the sampler moved from the kernel to user space, then through our collapser (sum of `transfers`). */
  bytesToUserSpace: number;
  /** The same, stage by stage: perf.data and perf script's text, or bpftrace's printed map. */
  transfers: { what: string; bytes: number }[];
  /** One-line remarks for the summary (lost samples, a full map, symbol trouble). */
  notes: string[];
  /** perf.data, when the backend wrote one and the caller asked to keep it. */
  perfDataPath?: string;
}

export interface Recording {
  /** Resolves when sampling is on; rejects (RecordError) when the sampler could not start. */
  readonly ready: Promise<void>;
  /** Stop sampling; the result follows. Safe to call more than once, and before `ready`. */
  stop(): void;
  /** The collapsed stacks, once the sampler has stopped and its output has been read. */
  readonly result: Promise<RecordingResult>;
  /** Settles when the sampler exits of itself, without stop() (perf at its perf.data bound, or a failure). */
  readonly ended?: Promise<void>;
  progress(): RecordingProgress;
  /** Kill the tools now (second Ctrl-C, errors); `result` then rejects or resolves with what it had. */
  kill(): void;
}
