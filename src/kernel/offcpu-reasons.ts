/**
 * Turning the tracer's raw numbers into what people read: a task state letter, the reason a task was
 * blocked (BLOCK_REASONS, offcpu-events.ts), errno names.
 */
import { constants } from 'node:os';
import type { BlockReason } from './offcpu-events.js';

/** `prev_state` bits as the kernel reports them (TASK_REPORT): one letter each, as ps shows them. */
const STATE_LETTERS: ReadonlyArray<[number, string]> = [
  [0x01, 'S'],
  [0x02, 'D'],
  [0x04, 'T'],
  [0x08, 't'],
  [0x10, 'X'],
  [0x20, 'Z'],
  [0x40, 'P'],
  [0x80, 'I'],
];

export function stateLetter(state: number): string {
  const low = state & 0xff;
  if (low === 0) return 'R';
  for (const [bit, letter] of STATE_LETTERS) if (low & bit) return letter;
  return '?';
}

const UNINTERRUPTIBLE = 0x02;

/** x86-64 syscall numbers by reason (arch/x86/entry/syscalls/syscall_64.tbl). */
const SYSCALL_REASONS: ReadonlyMap<number, BlockReason> = new Map<number, BlockReason>([
  [202, 'lock'], // futex
  [449, 'lock'], // futex_waitv
  [73, 'lock'], // flock
  [61, 'child'], // wait4
  [247, 'child'], // waitid
  [35, 'sleep'], // nanosleep
  [230, 'sleep'], // clock_nanosleep
  [34, 'sleep'], // pause
  [0, 'io'], // read
  [1, 'io'], // write
  [17, 'io'], // pread64
  [18, 'io'], // pwrite64
  [19, 'io'], // readv
  [20, 'io'], // writev
  [7, 'poll'], // poll
  [23, 'poll'], // select
  [232, 'poll'], // epoll_wait
  [270, 'poll'], // pselect6
  [271, 'poll'], // ppoll
  [281, 'poll'], // epoll_pwait
  [441, 'poll'], // epoll_pwait2
]);

/**
 * Why a task was blocked: uninterruptible sleep is (almost always) block IO whatever the syscall; otherwise
 * the syscall it sleeps in says what it waits for. -1 (no syscall: a page fault, a signal stop) is `other`.
 */
export function blockReason(state: number, syscall: number): BlockReason {
  if ((state & 0xff) === UNINTERRUPTIBLE) return 'disk';
  return SYSCALL_REASONS.get(syscall) ?? 'other';
}

const SYSCALL_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'read'], [1, 'write'], [2, 'open'], [3, 'close'], [4, 'stat'], [5, 'fstat'], [6, 'lstat'], [7, 'poll'],
  [17, 'pread64'], [18, 'pwrite64'], [19, 'readv'], [20, 'writev'], [23, 'select'], [34, 'pause'], [35, 'nanosleep'],
  [56, 'clone'], [57, 'fork'], [59, 'execve'], [61, 'wait4'], [62, 'kill'], [73, 'flock'], [74, 'fsync'],
  [75, 'fdatasync'], [202, 'futex'], [230, 'clock_nanosleep'], [231, 'exit_group'], [232, 'epoll_wait'],
  [247, 'waitid'], [257, 'openat'], [262, 'newfstatat'], [270, 'pselect6'], [271, 'ppoll'], [281, 'epoll_pwait'],
  [332, 'statx'], [435, 'clone3'], [441, 'epoll_pwait2'], [449, 'futex_waitv'],
]);

/** `wait4`, `futex`, … or `syscall 123`; `-` outside a syscall. */
export function syscallName(syscall: number): string {
  if (syscall < 0) return '-';
  return SYSCALL_NAMES.get(syscall) ?? `syscall ${syscall}`;
}

const ERRNO_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(constants.errno).map(([name, value]) => [value, name] as [number, string]),
);

/** `ENOENT` for -2; undefined for a success (0 or a descriptor). */
export function errnoName(result: number): string | undefined {
  if (result >= 0) return undefined;
  return ERRNO_NAMES.get(-result) ?? `errno ${-result}`;
}
