/**
 * The exec snooper: a bpftrace program run beside `perf record` to get what perf's task events lack,
 * the full argv of every exec and the exit status of every process.
 *
 * Why these probes (measured on this machine, kernel 6.18, bpftrace 0.17):
 * - `syscalls:sys_enter_execve` with `join(args->argv)` read many arguments as empty strings: the
 *   caller's argv strings were not paged in, and BPF cannot fault them in. It also fires for failed
 *   attempts (a shell trying each PATH entry).
 * - `sched:sched_process_exec` fires once per successful exec, in the new image, whose argv the kernel has
 *   just copied onto the new stack (so it is resident): reading `mm->arg_start..arg_end` there gave the
 *   complete argv of every process of the simulated IRIS restart.
 * - `sched:sched_process_exit` with `task->exit_code` gives the wait(2) status (768 = exit 3, 9 = SIGKILL).
 * /proc/PID/cmdline, read by a poller after the exec, misses processes that live a few milliseconds.
 */
export interface SnoopedExec {
  /** Seconds on the snooper's clock (CLOCK_MONOTONIC; perf's too when recorded with `-k CLOCK_MONOTONIC`). */
  time: number;
  pid: number;
  ppid: number;
  comm: string;
  argv: string[];
  /** The kernel's argv was longer than the snooper could copy: the last argument is cut short. */
  truncated: boolean;
}

export interface SnoopedExit {
  time: number;
  pid: number;
  /** Raw wait(2) status: exit code << 8, or the terminating signal in the low 7 bits. */
  status: number;
}


/**
 * Longest argv copied, bytes. bpftrace caps `buf()` at BPFTRACE_STRLEN, whose ceiling is 200 in 0.17;
 * longer argvs are cut and flagged `truncated` (the routine is usually near the end, so it may be lost).
 */
export const SNOOPER_ARGV_BYTES = 200;

/**
 * The bpftrace program. Fields are separated by tabs; `%r` escapes tabs and NULs inside argv. `guard` is an
 * extra condition on both probes, for a program that carries them (the off-CPU tracer stops them with its own).
 */
export function execSnooperProgram(guard?: string): string {
  const and = guard === undefined ? '' : ` && ${guard}`;
  return `
tracepoint:sched:sched_process_exec${guard === undefined ? '' : ` /${guard}/`} {
  $start = curtask->mm->arg_start;
  $length = curtask->mm->arg_end - $start;
  printf("E\\t%llu\\t%d\\t%d\\t%d\\t%r\\t%s\\n", nsecs, pid, curtask->real_parent->tgid, $length, buf(uptr($start), $length), comm);
}
tracepoint:sched:sched_process_exit /pid == tid${and}/ {
  printf("X\\t%llu\\t%d\\t%d\\n", nsecs, pid, curtask->exit_code);
}
`;
}

export const EXEC_SNOOPER_PROGRAM = execSnooperProgram();

/** Prefix of snooper lines inside an irisflame lifecycle file (a `#` line, so perf script readers skip it). */
export const SNOOP_LINE_PREFIX = '# irisflame-snoop ';

export type SnoopLine = { kind: 'exec'; exec: SnoopedExec } | { kind: 'exit'; exit: SnoopedExit } | { kind: 'bad' } | { kind: 'other' };

const NANOS_PER_SECOND = 1e9;

/** Read one line of the snooper's output (with or without SNOOP_LINE_PREFIX). */
export function parseSnoopLine(raw: string): SnoopLine {
  const line = raw.startsWith(SNOOP_LINE_PREFIX) ? raw.slice(SNOOP_LINE_PREFIX.length) : raw;
  const fields = line.split('\t');
  if (fields[0] === 'E' && fields.length >= 7) {
    const [, nanos, pid, ppid, length, escapedArgv] = fields;
    const comm = fields.slice(6).join('\t');
    const bytes = unescapeBpftraceBuffer(escapedArgv!);
    const numbers = [nanos, pid, ppid, length].map(Number);
    if (numbers.some((value) => !Number.isFinite(value))) return { kind: 'bad' };
    return {
      kind: 'exec',
      exec: {
        time: numbers[0]! / NANOS_PER_SECOND,
        pid: numbers[1]!,
        ppid: numbers[2]!,
        comm,
        argv: splitArgv(bytes),
        truncated: bytes.length < numbers[3]!,
      },
    };
  }
  if (fields[0] === 'X' && fields.length >= 4) {
    const numbers = fields.slice(1, 4).map(Number);
    if (numbers.some((value) => !Number.isFinite(value))) return { kind: 'bad' };
    return { kind: 'exit', exit: { time: numbers[0]! / NANOS_PER_SECOND, pid: numbers[1]!, status: numbers[2]! } };
  }
  // bpftrace's own chatter ("Attaching 2 probes...") and blank lines.
  if (line.trim() === '' || line.startsWith('Attaching ')) return { kind: 'other' };
  return { kind: 'bad' };
}

const BACKSLASH = 0x5c;
const LOWER_X = 0x78;

/** Undo bpftrace's `%r`: `\xHH` becomes byte HH, everything else is itself. */
export function unescapeBpftraceBuffer(text: string): Buffer {
  const input = Buffer.from(text, 'utf8');
  const output = Buffer.alloc(input.length);
  let length = 0;
  for (let index = 0; index < input.length; index++) {
    const byte = input[index]!;
    if (byte === BACKSLASH && input[index + 1] === LOWER_X && index + 3 < input.length) {
      const value = Number.parseInt(input.toString('latin1', index + 2, index + 4), 16);
      if (!Number.isNaN(value)) {
        output[length++] = value;
        index += 3;
        continue;
      }
    }
    output[length++] = byte;
  }
  return output.subarray(0, length);
}

/** argv as the kernel lays it out: NUL-terminated strings end to end. */
function splitArgv(bytes: Buffer): string[] {
  const argv: string[] = [];
  let start = 0;
  for (let index = 0; index < bytes.length; index++) {
    if (bytes[index] === 0) {
      argv.push(bytes.toString('utf8', start, index));
      start = index + 1;
    }
  }
  if (start < bytes.length) argv.push(bytes.toString('utf8', start));
  return argv;
}

/** What a wait(2) status means, for people: `exit 0`, `exit 3`, `killed by signal 9`. */
export function describeExitStatus(status: number): string {
  const signal = status & 0x7f;
  if (signal !== 0) return `killed by signal ${signal}`;
  return `exit ${(status >> 8) & 0xff}`;
}
