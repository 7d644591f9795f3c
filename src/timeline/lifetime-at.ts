/**
 * Which lifetime of a pid was alive at a time: pids are reused, so an event (a blocked interval, a file
 * lookup, a long CPU wait) belongs to the lifetime of its pid that spans it. One lookup for the critical
 * path and the page's off-CPU data.
 */

export interface Lifetime {
  pid: number;
  start: number;
  /** undefined while still running at the end of the recording. */
  end: number | undefined;
}

/** A task's last event and its exit are stamped a wake-up apart (as build.ts allows a sample after exit). */
export const LIFETIME_SLACK = 0.001;

/** `find(pid, time)`: index of the lifetime of `pid` alive at `time` (the latest that started), else -1. */
export function lifetimeFinder(lifetimes: readonly Lifetime[], slack: number = LIFETIME_SLACK): (pid: number, time: number) => number {
  const byPid = new Map<number, number[]>();
  lifetimes.forEach((lifetime, index) => {
    const list = byPid.get(lifetime.pid);
    if (list) list.push(index);
    else byPid.set(lifetime.pid, [index]);
  });
  return (pid, time) => {
    const list = byPid.get(pid);
    if (list === undefined) return -1;
    for (let k = list.length - 1; k >= 0; k--) {
      const lifetime = lifetimes[list[k]!]!;
      if (lifetime.start - slack <= time && (lifetime.end === undefined || time <= lifetime.end + slack)) return list[k]!;
    }
    return -1;
  };
}
