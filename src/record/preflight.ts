/**
 * Checks made before anything is started, each problem one line with its remedy. Facts about the host
 * are gathered once (`probeHost`) and judged by a pure function (`checkPreflight`), so tests can present
 * any host: not root, a paranoid kernel, no perf.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { RecordError } from '../errors.js';
import { findExecutable } from '../tools/executables.js';
import type { BackendChoice } from './options.js';

export interface HostFacts {
  euid: number;
  /** CAP_PERFMON or CAP_SYS_ADMIN in the effective set: root's perf powers without being root. */
  canMonitorSystem: boolean;
  perfPath: string | undefined;
  bpftracePath: string | undefined;
  /** kernel.perf_event_paranoid, when readable. */
  perfEventParanoid: number | undefined;
  /** kernel.kptr_restrict, when readable. */
  kptrRestrict: number | undefined;
  /** Whether /proc/kallsyms shows real addresses to us (it shows zeros when restricted). */
  kallsymsReadable: boolean;
}

export interface PreflightRequest {
  backend: BackendChoice;
  pids: number[];
  /** The command after `--`, if any. */
  command: string[];
}

export interface PreflightProblem {
  message: string;
  hint: string;
}

export interface PreflightVerdict {
  errors: PreflightProblem[];
  warnings: PreflightProblem[];
  /** Path the command after `--` resolves to. */
  commandPath?: string;
}

const KALLSYMS_PEEK_BYTES = 4096;
const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;

export function probeHost(path: string = process.env.PATH ?? ''): HostFacts {
  return {
    euid: process.geteuid?.() ?? -1,
    canMonitorSystem: hasMonitoringCapability(),
    perfPath: findExecutable('perf', path),
    bpftracePath: findExecutable('bpftrace', path),
    perfEventParanoid: readSysctlNumber('/proc/sys/kernel/perf_event_paranoid'),
    kptrRestrict: readSysctlNumber('/proc/sys/kernel/kptr_restrict'),
    kallsymsReadable: kallsymsShowsAddresses(),
  };
}

export const INSTALL_PERF = 'install it: apt-get install linux-perf (Debian), linux-tools-$(uname -r) (Ubuntu), dnf install perf (Fedora/RHEL)';
export const INSTALL_BPFTRACE = 'install it: apt-get install bpftrace (Debian/Ubuntu), dnf install bpftrace (Fedora/RHEL)';

export function checkPreflight(
  facts: HostFacts,
  request: PreflightRequest,
  findCommand: (name: string) => string | undefined = (name) => findExecutable(name),
  processExists: (pid: number) => boolean = (pid) => existsSync(`/proc/${pid}`),
): PreflightVerdict {
  const errors: PreflightProblem[] = [];
  const warnings: PreflightProblem[] = [];
  const root = facts.euid === 0;

  if (request.backend === 'perf' && facts.perfPath === undefined) {
    errors.push({ message: 'perf is not installed (not found in PATH)', hint: `${INSTALL_PERF}; or use --backend bpftrace` });
  }
  if (request.backend === 'bpftrace' && facts.bpftracePath === undefined) {
    errors.push({ message: 'bpftrace is not installed (not found in PATH)', hint: `${INSTALL_BPFTRACE}; or use --backend perf` });
  }
  if (request.backend === 'auto' && facts.perfPath === undefined && facts.bpftracePath === undefined) {
    errors.push({ message: 'neither perf nor bpftrace is installed', hint: 'apt-get install linux-perf (or bpftrace)' });
  }
  const perfWillRun = request.backend === 'perf' || (request.backend === 'auto' && facts.perfPath !== undefined);
  const bpftraceWillRun = request.backend === 'bpftrace' || (request.backend === 'auto' && facts.perfPath === undefined);

  if (perfWillRun && !root && !facts.canMonitorSystem && facts.perfEventParanoid !== undefined) {
    // System-wide sampling needs paranoid <= 0; one's own processes with kernel stacks need <= 1.
    const needed = request.pids.length > 0 ? 1 : 0;
    if (facts.perfEventParanoid > needed) {
      errors.push({
        message: `kernel.perf_event_paranoid is ${facts.perfEventParanoid}: too high for ${request.pids.length > 0 ? '--pid' : 'system-wide'} sampling without root`,
        hint: `run as root, or: sudo sysctl -w kernel.perf_event_paranoid=${needed === 0 ? -1 : 1}`,
      });
    }
  }
  if (bpftraceWillRun && facts.bpftracePath !== undefined && !root) {
    errors.push({ message: 'bpftrace needs root', hint: 'run irisflame with sudo, or use --backend perf' });
  }
  if (!facts.kallsymsReadable) {
    warnings.push({
      message: `kernel symbols are hidden${facts.kptrRestrict !== undefined ? ` (kernel.kptr_restrict=${facts.kptrRestrict})` : ''}: kernel frames will show as hex addresses`,
      hint: root ? 'sudo sysctl -w kernel.kptr_restrict=0' : 'run as root, or: sudo sysctl -w kernel.kptr_restrict=0',
    });
  }

  const missing = request.pids.filter((pid) => !processExists(pid));
  if (missing.length > 0) {
    errors.push({
      message: `no such process: ${missing.join(', ')} (--pid)`,
      hint: 'give ids of running processes (ps -e, pgrep NAME)',
    });
  }

  let commandPath: string | undefined;
  if (request.command.length > 0) {
    const name = request.command[0]!;
    commandPath = findCommand(name);
    if (commandPath === undefined) {
      errors.push({
        message: `command not found: ${name}`,
        hint: name.includes('/') ? 'check the path exists and is executable' : 'check the spelling, or give its full path',
      });
    }
  }
  return { errors, warnings, commandPath };
}

/** Throw the first error as a PREFLIGHT RecordError (one line and its remedy); return the warnings. */
export function enforcePreflight(verdict: PreflightVerdict): PreflightProblem[] {
  const [first, ...rest] = verdict.errors;
  if (first !== undefined) {
    const more = rest.length > 0 ? ` (and ${rest.length} more: ${rest.map((problem) => problem.message).join('; ')})` : '';
    throw new RecordError('PREFLIGHT', `${first.message}${more}`, { hint: first.hint });
  }
  return verdict.warnings;
}

function readSysctlNumber(path: string): number | undefined {
  try {
    const value = Number.parseInt(readFileSync(path, 'latin1').trim(), 10);
    return Number.isNaN(value) ? undefined : value;
  } catch {
    return undefined;
  }
}

/** Restricted kallsyms reads as all-zero addresses; unreadable counts as restricted. */
function kallsymsShowsAddresses(): boolean {
  try {
    // Only the first lines: the whole file is megabytes.
    const fd = openSync('/proc/kallsyms', 'r');
    const buffer = Buffer.alloc(KALLSYMS_PEEK_BYTES);
    let length: number;
    try {
      length = readSync(fd, buffer, 0, buffer.length, null);
    } finally {
      closeSync(fd);
    }
    return buffer
      .toString('latin1', 0, length)
      .split('\n')
      .slice(0, 20)
      .some((line) => /^[0-9a-f]+ /.test(line) && !/^0+ /.test(line));
  } catch {
    return false;
  }
}

function hasMonitoringCapability(): boolean {
  try {
    const status = readFileSync('/proc/self/status', 'latin1');
    const match = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
    if (!match) return false;
    const caps = BigInt(`0x${match[1]}`);
    return ((caps >> CAP_PERFMON) & 1n) === 1n || ((caps >> CAP_SYS_ADMIN) & 1n) === 1n;
  } catch {
    return false;
  }
}
