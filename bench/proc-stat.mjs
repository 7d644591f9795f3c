// What the overhead benchmarks read from /proc, and their shared --name value flag.
import { readFileSync } from 'node:fs';

/** USER_HZ: /proc reports CPU time in 1/100 s on Linux. */
export const CLOCK_TICKS = 100;

/** `--name value` from the command line, else `fallback`. */
export function arg(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
}

/** Fields of /proc/PID/stat after the ")" that ends the comm (which may hold spaces); undefined once gone. */
export function statFields(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
