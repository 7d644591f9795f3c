/**
 * What a process did while it was not running, and which files it looked for: the events the off-CPU
 * and file tracer (bpftrace beside perf, `record --lifecycle`) captures. These types are the interface
 * between the tracer and capture reader on one side and the lifecycle view on the other.
 *
 * Times are seconds on CLOCK_MONOTONIC (bpftrace's `nsecs`; perf's too under `-k CLOCK_MONOTONIC`), so
 * they sit on the same axis as the CPU samples. Durations are seconds.
 * Facts behind the design (what the kernel allows here, traps, overheads): ../shared/reference/offcpu.md.
 */

/**
 * Why a task was off CPU, from its state at switch-out and the syscall it was in:
 * - `disk`: uninterruptible sleep (state D), almost always block IO;
 * - `lock`: futex (202) and other lock waits;
 * - `child`: wait4/waitid (61, 247), waiting for a child process;
 * - `sleep`: nanosleep/clock_nanosleep (35, 230), pause;
 * - `io`: read/write family (0, 1, 17, 18, 19, 20) in interruptible sleep: pipes, sockets, terminals;
 * - `poll`: poll/select/epoll (7, 23, 232, 270, 271, 281);
 * - `other`: anything else (signals, unknown syscalls, page faults outside a syscall).
 */
export const BLOCK_REASONS = ['disk', 'lock', 'child', 'sleep', 'io', 'poll', 'other'] as const;
export type BlockReason = (typeof BLOCK_REASONS)[number];

/** One interval a thread spent blocked (switched out in a sleeping state until woken and switched back in). */
export interface BlockedInterval {
  /** Switch-out time, seconds. */
  start: number;
  /** Seconds until the thread ran again. */
  duration: number;
  pid: number;
  tid: number;
  /** The thread's comm at switch-out. */
  comm: string;
  /** Kernel task state letter at switch-out: 'S', 'D', … */
  state: string;
  /** Syscall number it blocked in (x86-64), or -1 when not in a syscall / unknown. */
  syscall: number;
  reason: BlockReason;
  /** Kernel frames, root (outermost) first, as symbol names (`schedule`, `do_wait`, …). */
  kernelStack: string[];
  /** User frames, root first, where they unwound (often short: Debian's glibc has no frame pointers). */
  userStack: string[];
  /**
   * Still blocked when tracing stopped: the interval ends at the end of the capture, not at a switch-in
   * (a daemon asleep when the recording ended). Absent otherwise.
   */
  open?: true;
}

/**
 * Time a thread was runnable but waiting for a CPU (preempted or woken, not yet running). Short waits are
 * summed in the kernel, never streamed (streaming them perturbs the workload: offcpu.md); waits above the
 * tracer's threshold are also kept as intervals.
 */
export interface CpuWait {
  pid: number;
  tid: number;
  /** Total seconds spent runnable but not running, over the capture. */
  total: number;
  /** How many waits were summed. */
  count: number;
  /** The long ones, as intervals (seconds). */
  long: Array<{ start: number; duration: number }>;
}

/** One file lookup or open: the open/stat/access family, read at syscall exit. */
export interface FileEvent {
  /** Syscall exit time, seconds. */
  time: number;
  pid: number;
  tid: number;
  /** `openat`, `newfstatat`, `statx`, `access`, `faccessat`, `open`, `stat`, `lstat`, `openat2`. */
  call: string;
  path: string;
  /** The syscall's return: a file descriptor or 0 on success; negative errno on failure. */
  result: number;
  /** `ENOENT`, `EACCES`, … when the call failed. */
  errno: string | undefined;
}

/** Everything the tracer captured, as read back from a capture file. */
export interface OffCpuCapture {
  blocked: BlockedInterval[];
  cpuWaits: CpuWait[];
  files: FileEvent[];
  /** Events bpftrace reported lost ("Lost N events"). */
  lost: number;
  /** Why there is no off-CPU or file data (bpftrace missing, turned off by --no-off-cpu, …); undefined when present. */
  offCpuUnavailable: string | undefined;
  filesUnavailable: string | undefined;
}
