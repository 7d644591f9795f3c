/**
 * perf and bpftrace explain failures in paragraphs; a person needs one line and a remedy. These turn a
 * tool's stderr into that line, keeping the tool's own words where they are already the point.
 */

export interface DistilledError {
  message: string;
  hint?: string;
}

/** bpftrace prints this on every run where it cannot raise the memlock limit, loading fine regardless. */
const BPFTRACE_MEMLOCK_NOISE = /couldn't set RLIMIT_MEMLOCK/;

/**
 * `ERROR: failed to look up stack id -17 (pid -1): -2`: the probe's get_stackid() met a hash collision in
 * the stack map (EEXIST) and that stack was not stored; the sample is counted without it.
 */
const BPFTRACE_STACK_COLLISION = /failed to look up stack id -17\b/;

/** stderr lines of bpftrace worth showing: everything but the memlock warning, in plain words. */
export function bpftraceStderrLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line !== '' && !BPFTRACE_MEMLOCK_NOISE.test(line))
    .map((line) =>
      BPFTRACE_STACK_COLLISION.test(line) ? 'a stack was lost to a collision in the kernel stack map (its sample is kept, without it)' : line,
    );
}

/**
 * perf record's stderr when it failed, as one line. Examples it must handle:
 *   Error:\nAccess to performance monitoring and observability operations is limited.\n… perf_event_paranoid setting is 2:
 *   Error:\nThe sys_perf_event_open() syscall returned with 22 (Invalid argument) for event (msr/tsc/).
 *   Couldn't create thread/CPU maps: No such process
 */
export function distillPerfError(stderr: string): DistilledError {
  const paranoid = /perf_event_paranoid setting is (-?\d+)/.exec(stderr);
  if (paranoid) {
    return {
      message: `perf may not sample the whole system: kernel.perf_event_paranoid is ${paranoid[1]}`,
      hint: 'run as root, or lower it: sysctl -w kernel.perf_event_paranoid=-1',
    };
  }
  const syscall = /sys_perf_event_open\(\) syscall returned with (\d+) \(([^)]*)\) for event \(([^)]*)\)/.exec(stderr);
  if (syscall) {
    return {
      message: `perf cannot open the ${syscall[3]} event: ${syscall[2]} (errno ${syscall[1]})`,
      hint: 'dmesg | grep -i perf may say why; in a VM or container the PMU is often unavailable, try --backend bpftrace',
    };
  }
  if (/thread\/CPU maps: No such process/.test(stderr)) {
    return {
      message: 'perf cannot attach: no such process',
      hint: 'check the --pid values: each must be a running process id',
    };
  }
  const lines = meaningfulLines(stderr).filter((line) => !line.startsWith('[ perf record:'));
  return { message: `perf record failed: ${lines[0] ?? 'no message (it exited early)'}` };
}

/** perf script's stderr when it failed, as one line. */
export function distillPerfScriptError(stderr: string): DistilledError {
  const lines = meaningfulLines(stderr);
  return { message: `perf script failed: ${lines[0] ?? 'no message'}` };
}

/**
 * bpftrace's stderr when it failed, as one line. Examples:
 *   ERROR: bpftrace currently only supports running as the root user.
 *   ERROR: Unknown error -1: couldn't set RLIMIT_MEMLOCK …   (noise; skipped)
 */
export function distillBpftraceError(stderr: string): DistilledError {
  const lines = bpftraceStderrLines(stderr);
  const first = lines.find((line) => /ERROR/.test(line)) ?? lines[0];
  if (first === undefined) {
    return { message: 'bpftrace exited before it started sampling', hint: 'run bpftrace -l profile:* to check it works here' };
  }
  const text = first.replace(/^.*?ERROR:\s*/, '');
  if (/root user/.test(text)) return { message: `bpftrace: ${text}`, hint: 'run irisflame as root (sudo)' };
  if (/RLIMIT|memlock|Operation not permitted/i.test(text)) {
    return { message: `bpftrace: ${text}`, hint: 'raise the locked-memory limit (ulimit -l unlimited) or run as root' };
  }
  return { message: `bpftrace: ${text}` };
}

function meaningfulLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && line !== 'Error:' && !/^Warning:?$/.test(line));
}
