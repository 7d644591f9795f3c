// What the overhead benchmarks read from /proc, and their shared --name value flag.
import { readFileSync, readdirSync } from 'node:fs';

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

/** Reaped children's CPU of this process, seconds. */
export function childrenCpuSeconds() {
  const fields = statFields('self');
  return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS; // cutime, cstime
}

/** Every descendant of `root` with its command line and CPU so far. */
export function descendants(root) {
  const parentOf = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const fields = statFields(name);
    if (fields) parentOf.set(Number(name), { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS });
  }
  const found = [];
  for (const [pid, info] of parentOf) {
    let up = info.ppid;
    while (up !== undefined && up !== root && up > 1) up = parentOf.get(up)?.ppid;
    if (up !== root) continue;
    let command = '';
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').slice(0, 2).join(' ');
    } catch {}
    found.push({ pid, command, cpu: info.cpu });
  }
  return found;
}

/** "perf record", "perf script", "bpftrace", … from a command line. */
export function toolName(command) {
  const [program, sub] = command.split(' ');
  const base = program.split('/').pop();
  return base === 'perf' ? `perf ${sub}` : base;
}
