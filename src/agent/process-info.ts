/**
 * What a profile sample says about its process beyond comm and pid: the IRIS instance and routine, and the
 * executable (for the profile's mappings). The agent's instance tracker knows instances and routines from
 * the exec events it follows and is passed in as `describe`; without it, /proc is read while the process
 * lives (its argv names the routine). Looked up when a sampling interval ends, while the sampled processes
 * mostly still run; kept a few seconds per pid, in a bounded table.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { labelProcess } from '../iris/lifecycle.js';
import { DEFAULT_IRIS_DIR } from '../iris/processes.js';
import type { DescribeProcess } from './agent.js';


export interface ProcessInfo {
  instance?: string;
  routine?: string;
  /** Executable path (`/usr/irissys/bin/irisdb`), when readable. */
  binary?: string;
}

/** A pid's facts are reused this long: a process that execs again is seen afresh soon after. */
const TTL_MS = 5_000;
/** Table size past which it is emptied: bounded memory on a host with many short-lived processes. */
const MAX_ENTRIES = 8_192;

export class ProcessInfoCache {
  private readonly entries = new Map<number, { info: ProcessInfo; at: number }>();

  constructor(
    private readonly describe: DescribeProcess | undefined,
    private readonly irisDir: string = DEFAULT_IRIS_DIR,
    private readonly now: () => number = Date.now,
  ) {}

  lookup(pid: number, comm: string): ProcessInfo {
    const now = this.now();
    const cached = this.entries.get(pid);
    if (cached !== undefined && now - cached.at < TTL_MS) return cached.info;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    const info = this.read(pid, comm);
    this.entries.set(pid, { info, at: now });
    return info;
  }

  private read(pid: number, comm: string): ProcessInfo {
    const info: ProcessInfo = {};
    const binary = readExe(pid);
    if (binary !== undefined) info.binary = binary;
    const described = this.describe?.(pid);
    if (described !== undefined) {
      if (described.instance !== undefined) info.instance = described.instance;
      if (described.routine !== undefined) info.routine = described.routine;
      return info;
    }
    const argv = readArgv(pid);
    const routine = argv === undefined ? undefined : labelProcess(argv, comm, this.irisDir).routine;
    if (routine !== undefined) info.routine = routine;
    return info;
  }
}

function readExe(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
  } catch {
    return undefined; // exited, or a kernel thread
  }
}

function readArgv(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (text === '') return undefined;
    return text.replace(/\0$/, '').split('\0');
  } catch {
    return undefined;
  }
}
