/**
 * Reading /proc for the agent: the periodic scan (pid, ppid, comm, start time of every process), and
 * argv/executable of the few processes worth tracking. Start times come in clock ticks since boot
 * (CLOCK_BOOTTIME); the tracker works on CLOCK_MONOTONIC, bpftrace's `nsecs`, so they are converted with
 * the offset between the two clocks measured once (it only grows while the host is suspended).
 */
import { closeSync, openSync, readFileSync, readlinkSync, readSync } from 'node:fs';
import { posix } from 'node:path';
import { listPids } from '../kernel/proc.js';
import type { ProcessDetails, ScannedProcess } from './instances.js';

/** USER_HZ: the unit of /proc/PID/stat's times, 100 on every Linux ABI Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;
/** Field 22 of /proc/PID/stat, counted after the `)` that ends comm (fields 3 onwards). */
const STARTTIME_FIELD_AFTER_COMM = 22 - 3;
const PPID_FIELD_AFTER_COMM = 4 - 3;

/** CLOCK_MONOTONIC now, seconds (Node's hrtime is that clock). */
export function monotonicSeconds(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

/** CLOCK_BOOTTIME minus CLOCK_MONOTONIC, seconds (0 on a host never suspended). */
export function bootToMonotonicOffset(): number {
  try {
    const uptime = Number(readFileSync('/proc/uptime', 'latin1').split(' ')[0]);
    const offset = uptime - monotonicSeconds();
    // /proc/uptime has 10 ms resolution; below that the clocks are the same.
    return Number.isFinite(offset) && offset > 0.02 ? offset : 0;
  } catch {
    return 0;
  }
}

/** One buffer for every stat read: a scan reads hundreds of them and keeps none. */
const statBuffer = Buffer.alloc(4096);
const CLOSE_PAREN = 0x29;
const SPACE = 0x20;

/** One process's stat line, or undefined when it is gone or unreadable. */
export function readProcStat(pid: number, bootOffset: number): ScannedProcess | undefined {
  let length: number;
  let fd: number | undefined;
  try {
    fd = openSync(`/proc/${pid}/stat`, 'r');
    length = readSync(fd, statBuffer, 0, statBuffer.length, 0);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  // `1234 (comm with) spaces) S 1 …`: comm may hold anything, so find the last `)`.
  const open = statBuffer.indexOf('(');
  const close = statBuffer.lastIndexOf(CLOSE_PAREN, length - 1);
  if (open === -1 || close === -1 || close < open) return undefined;
  let ppid = NaN;
  let ticks = NaN;
  let field = 0;
  let start = close + 2;
  for (let index = start; index <= length && field <= STARTTIME_FIELD_AFTER_COMM; index++) {
    if (index < length && statBuffer[index] !== SPACE) continue;
    if (field === PPID_FIELD_AFTER_COMM) ppid = Number(statBuffer.toString('latin1', start, index));
    if (field === STARTTIME_FIELD_AFTER_COMM) ticks = Number(statBuffer.toString('latin1', start, index));
    field++;
    start = index + 1;
  }
  if (!Number.isFinite(ppid) || !Number.isFinite(ticks)) return undefined;
  return { pid, ppid, comm: statBuffer.toString('utf8', open + 1, close), startTime: ticks / CLOCK_TICKS_PER_SECOND - bootOffset };
}

/** Every process (thread group) on the host. */
export function listProcesses(bootOffset: number): ScannedProcess[] {
  const listing: ScannedProcess[] = [];
  for (const pid of listPids()) {
    const stat = readProcStat(pid, bootOffset);
    if (stat !== undefined) listing.push(stat);
  }
  return listing;
}

/** argv (from /proc/PID/cmdline) and the executable (resolved like the kernel did), or undefined when gone. */
export function readProcessDetails(pid: number): ProcessDetails | undefined {
  let cmdline: Buffer;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`);
  } catch {
    return undefined;
  }
  const argv = cmdline.length === 0 ? [] : cmdline.toString('utf8').replace(/\0$/, '').split('\0');
  return { argv, executable: readExecutable(pid, argv[0]) };
}

/**
 * The binary a process runs: /proc/PID/exe; failing that (a kernel thread, a process gone), argv[0]
 * resolved against its working directory (IRIS starts `./irisdb` from its bin directory).
 */
export function readExecutable(pid: number, argv0: string | undefined): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
  } catch {
    // fall through
  }
  if (argv0 === undefined || argv0 === '') return undefined;
  if (argv0.startsWith('/')) return argv0;
  if (!argv0.includes('/')) return undefined;
  try {
    return posix.resolve(readlinkSync(`/proc/${pid}/cwd`), argv0);
  } catch {
    return undefined;
  }
}
