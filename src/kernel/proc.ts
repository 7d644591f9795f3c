/** The processes the kernel lists in /proc (the one place that reads the listing), and their CPU time. */
import { readdirSync, readFileSync } from 'node:fs';

/** Pids of every process now (thread group leaders); empty where /proc cannot be read. */
export function listPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

/** USER_HZ: the unit of /proc/PID/stat's CPU times, 100 on every Linux ABI Node runs on. */
export const CLOCK_TICKS_PER_SECOND = 100;
const UTIME_FIELD_AFTER_COMM = 14 - 3;

/** CPU time a process has used so far (user + system, all its threads), in clock ticks; undefined once gone. */
export function processCpuTicks(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // `1234 (comm with) spaces) S 1 …`: comm may hold anything, so count fields after the last `)`.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[UTIME_FIELD_AFTER_COMM]) + Number(fields[UTIME_FIELD_AFTER_COMM + 1]);
  return Number.isFinite(ticks) ? ticks : undefined;
}
