/**
 * The flight recorder's records on disk: the contract between the part that records them (store.ts,
 * recorder) and the part that serves them (catalog.ts, routes). One record is two files in the data dir:
 *
 *     DATA_DIR/ID.lifecycle.txt.gz   an ordinary lifecycle capture (`irisflame timeline FILE` opens it)
 *     DATA_DIR/ID.json               this metadata, written last (a capture without it is not listed)
 *
 * Both are written atomically (src/atomic-output.ts). ID matches RECORD_ID_PATTERN, so an id taken from a
 * URL can never name a path outside the data dir.
 */

/** What happened to the instance. */
export type LifecycleKind = 'start' | 'stop' | 'restart' | 'crash';
export const LIFECYCLE_KINDS: readonly LifecycleKind[] = ['start', 'stop', 'restart', 'crash'];

/**
 * Why the recording ended: the instance settled (up with its daemons, or down, and the command exited);
 * the `--lifecycle-max-seconds` bound; the agent was stopping (SIGTERM; the record is partial); a tracer
 * failed mid-record (partial; what was captured is kept).
 */
export type EndedBy = 'settled' | 'bound' | 'agent-stopping' | 'tracer-failed';

/** `20261206T031200.123Z-IRIS-restart` plus a short suffix when needed: letters, digits, `.`, `_`, `-`. */
export const RECORD_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The critical path's reasons, as the lifecycle view names them (src/timeline/command-path.ts). */
export const CRITICAL_PATH_REASONS = ['running', 'cpu-wait', 'disk', 'lock', 'child', 'sleep', 'io', 'poll', 'other'] as const;
export type CriticalPathReason = (typeof CRITICAL_PATH_REASONS)[number];

export interface CriticalPathSummary {
  seconds: number;
  /** Seconds by reason; reasons with no time are left out. */
  by_reason: Partial<Record<CriticalPathReason, number>>;
  processes: number;
  /** The terminal's line: `critical path of iris restart IRIS: 2.269 s = running 853.4 ms · …`. */
  summary: string;
}

export interface LifecycleRecordMeta {
  id: string;
  iris_instance: string;
  install_dir?: string;
  kind: LifecycleKind;
  /** RFC 3339, UTC, milliseconds: when the lifecycle began (for a crash, the death; the capture starts earlier). */
  started_at: string;
  /** The command's wall time (start/stop/restart), or for a crash from the death to the last process gone. */
  duration_seconds: number;
  ended_by: EndedBy;
  /** True when the capture is incomplete (agent stopping, tracer failed, no CPU samples); `notes` say what is missing. */
  partial: boolean;
  /** The command that began it, e.g. `iris restart IRIS`; absent for a crash or an unattributed start. */
  command?: string;
  /** undefined when none could be computed (no off-CPU data); `notes` say why. */
  critical_path?: CriticalPathSummary;
  /** Crash only: how the control process died, where the kernel told. */
  signal?: string;
  exit_code?: number;
  /** Crash only: the instance's processes still alive at the death. */
  alive_at_death?: Array<{ pid: number; comm: string; label: string }>;
  /** Seconds of rolling window recorded before the death (crash only). */
  pre_window_seconds?: number;
  /** CPU samples per second used for the window; 0 when it has none (`notes` say why). */
  sampling_hz: number;
  /** `ID.lifecycle.txt.gz`, beside this file. */
  capture_file: string;
  capture_bytes: number;
  /** Anything the operator should know about the record: what was not seen, why it is partial. */
  notes: string[];
}

export const metaFileName = (id: string): string => `${id}.json`;
export const captureFileName = (id: string): string => `${id}.lifecycle.txt.gz`;
