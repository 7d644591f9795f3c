/**
 * Which argv a process was running at a given moment, from the exec snooper's records.
 *
 * irisflame records perf with `-k CLOCK_MONOTONIC`, the clock bpftrace's `nsecs` reads, so the
 * snooper's times and perf's sample times compare directly: a sample of pid P at time t belongs to the
 * last exec of P at or before t. A pid can exec more than once (`sh -c` may exec its command) and pids
 * are reused, which is why the lookup is by time and not by pid alone.
 */
import type { SnoopedExec, SnoopedExit } from './exec-events.js';

/**
 * Slack when comparing snooper and perf times, seconds. The exec tracepoint fires a few microseconds
 * before the new image can be sampled; 1 ms absorbs that without reaching back to an older exec.
 */
export const CLOCK_SLACK_SECONDS = 0.001;

export class ArgvIndex {
  private readonly execsByPid = new Map<number, SnoopedExec[]>();
  private readonly exitsByPid = new Map<number, SnoopedExit[]>();
  private sorted = true;
  private execCount = 0;

  addExec(exec: SnoopedExec): void {
    const list = this.execsByPid.get(exec.pid);
    if (list === undefined) this.execsByPid.set(exec.pid, [exec]);
    else {
      if (list[list.length - 1]!.time > exec.time) this.sorted = false;
      list.push(exec);
    }
    this.execCount++;
  }

  addExit(exit: SnoopedExit): void {
    const list = this.exitsByPid.get(exit.pid);
    if (list === undefined) this.exitsByPid.set(exit.pid, [exit]);
    else list.push(exit);
  }

  get size(): number {
    return this.execCount;
  }

  /** The exec of `pid` in force at `time`, if the snooper saw one. */
  execAt(pid: number, time: number): SnoopedExec | undefined {
    const list = this.execsByPid.get(pid);
    if (list === undefined) return undefined;
    this.sortOnce();
    let found: SnoopedExec | undefined;
    for (const exec of list) {
      if (exec.time <= time + CLOCK_SLACK_SECONDS) found = exec;
      else break;
    }
    return found;
  }

  /** Execs of `pid` within [from, to] (seconds), in time order. */
  execsBetween(pid: number, from: number, to: number): SnoopedExec[] {
    const list = this.execsByPid.get(pid);
    if (list === undefined) return [];
    this.sortOnce();
    return list.filter((exec) => exec.time >= from - CLOCK_SLACK_SECONDS && exec.time <= to + CLOCK_SLACK_SECONDS);
  }

  /** The exit of `pid` nearest to `time` (or the first after `from` when time is unknown). */
  exitNear(pid: number, time: number | undefined, from: number): SnoopedExit | undefined {
    const list = this.exitsByPid.get(pid);
    if (list === undefined) return undefined;
    let best: SnoopedExit | undefined;
    for (const exit of list) {
      if (exit.time < from - CLOCK_SLACK_SECONDS) continue;
      if (time === undefined) return exit;
      if (best === undefined || Math.abs(exit.time - time) < Math.abs(best.time - time)) best = exit;
    }
    return best;
  }

  /** Every exec, in time order (for processes perf's events missed). */
  allExecs(): SnoopedExec[] {
    const all: SnoopedExec[] = [];
    for (const list of this.execsByPid.values()) all.push(...list);
    return all.sort((a, b) => a.time - b.time);
  }

  /** Every exit, in time order. */
  allExits(): SnoopedExit[] {
    const all: SnoopedExit[] = [];
    for (const list of this.exitsByPid.values()) all.push(...list);
    return all.sort((a, b) => a.time - b.time);
  }

  private sortOnce(): void {
    if (this.sorted) return;
    for (const list of this.execsByPid.values()) list.sort((a, b) => a.time - b.time);
    this.sorted = true;
  }
}
