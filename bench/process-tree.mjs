// CPU of a process and everything it started, two ways, for the agent's benches:
//
// - processTree(pid): from /proc, utime + stime + cutime + cstime of the process and of every live descendant
//   (walked through the ppid links of all of /proc at the moment of the call). A descendant that has exited and
//   been reaped is in its parent's cutime/cstime (the kernel adds a child's total, its own reaped children
//   included, when the parent waits for it; node waits for its perf and bpftrace); one exited but not yet reaped
//   is a zombie still listed with its times. So two calls give the tree's CPU between them exactly, except for a
//   descendant that outlives its parent (reparented to init: it leaves the tree), which the agent does not do.
// - cpuGroup(name): a cgroup whose CPU counter (cgroup v1 cpuacct.usage, or v2 cpu.stat usage_usec) counts
//   every process started in it, daemons that detach (setsid, reparented to init) and exited ones included.
//   Used for the simulated IRIS, whose control process and daemons outlive the `iris` command that starts
//   them, and as a cross-check of processTree on the agent. Undefined where no cgroup can be made.
import { mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { CLOCK_TICKS, statFields } from './proc-stat.mjs';

/** Every process's ppid, from one pass over /proc. */
function parentLinks() {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const fields = statFields(name);
    if (fields === undefined) continue;
    const ppid = Number(fields[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(name));
  }
  return children;
}

function rssMiB(pid) {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'latin1').split('\n').find((l) => l.startsWith('VmRSS:'));
    return line === undefined ? 0 : Number(line.split(/\s+/)[1]) / 1024; // kernel threads and zombies have none
  } catch {
    return 0;
  }
}

/**
 * What a member of an agent's tree is: a bpftrace by its program (the exec snooper, the warm off-CPU tracer that
 * carries it with --lifecycle, the profile sampler), perf by its subcommand, anything else by its comm.
 */
export function memberRole(pid, name) {
  if (name !== 'bpftrace' && name !== 'perf') return name;
  let argv = [];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
  } catch {
    return name;
  }
  if (name === 'perf') return `perf ${argv[1] ?? ''}`.trim();
  const program = argv.slice(1).join(' ');
  if (program.includes('sched_switch')) return 'bpftrace warm tracer';
  if (program.includes('profile:hz')) return 'bpftrace sampler';
  if (program.includes('sched_process_exec')) return 'bpftrace exec snooper';
  return name;
}

function comm(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/**
 * The tree under `pid` now: `cpu` seconds (as the header says), `self` the root's own utime + stime, `members` (pid, comm, role and cpu,
 * cutime included, of the root and its live descendants), `byRole` the same seconds by role (memberRole), `rss` MiB of the root alone and
 * of the whole tree. undefined once the root is gone.
 */
export function processTree(pid) {
  const links = parentLinks();
  const members = [];
  const queue = [pid];
  let cpu = 0;
  let self = 0;
  /** CPU by role (memberRole; the root is `node`), exited and reaped ones under `exited descendants`. */
  const byRole = {};
  while (queue.length > 0) {
    const next = queue.shift();
    const fields = statFields(next);
    if (fields === undefined) {
      if (next === pid) return undefined;
      continue;
    }
    const own = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    const reaped = (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
    cpu += own + reaped;
    if (next === pid) self = own;
    const name = comm(next);
    const role = next === pid ? 'node' : memberRole(next, name);
    byRole[role] = (byRole[role] ?? 0) + own;
    byRole['exited descendants'] = (byRole['exited descendants'] ?? 0) + reaped;
    members.push({ pid: next, comm: name, role, cpu: own + reaped });
    queue.push(...(links.get(next) ?? []));
  }
  return { cpu, self, members, byRole, rss: rssMiB(pid), treeRss: members.reduce((sum, member) => sum + rssMiB(member.pid), 0) };
}

/** Where a cgroup with a CPU counter can be made: v1 cpuacct, else the v2 hierarchy (root or hybrid). */
function cgroupRoot() {
  const candidates = [
    { dir: '/sys/fs/cgroup/cpuacct', file: 'cpuacct.usage', toSeconds: (text) => Number(text) / 1e9 },
    { dir: '/sys/fs/cgroup', file: 'cpu.stat', v2: true },
    { dir: '/sys/fs/cgroup/unified', file: 'cpu.stat', v2: true },
  ];
  for (const candidate of candidates) {
    if (candidate.v2 && !existsSync(join(candidate.dir, 'cgroup.controllers'))) continue;
    if (!candidate.v2 && !existsSync(join(candidate.dir, candidate.file))) continue;
    return {
      ...candidate,
      toSeconds: candidate.toSeconds ?? ((text) => Number(/^usage_usec (\d+)/m.exec(text)?.[1] ?? NaN) / 1e6),
    };
  }
  return undefined;
}

/**
 * A fresh cgroup named `name` (under the first hierarchy that has a CPU counter), or undefined with the reason
 * in `why` when none can be made (not root, read-only /sys/fs/cgroup, a container without one).
 * `wrap(command, args)` gives the spawn arguments that run `command` inside it (its pid joins the group before
 * exec, so every process it starts is counted). `remove()` moves what is left to the parent group and deletes it.
 */
export function cpuGroup(name) {
  const root = cgroupRoot();
  if (root === undefined) return { why: 'no cgroup hierarchy with a CPU counter' };
  const dir = join(root.dir, name);
  try {
    mkdirSync(dir);
    // A v2 group reads usage from cpu.stat at once; v1 cpuacct from cpuacct.usage.
    const seconds = () => root.toSeconds(readFileSync(join(dir, root.file), 'utf8'));
    if (!Number.isFinite(seconds())) throw new Error(`${join(dir, root.file)} has no usage`);
    return {
      dir,
      seconds,
      wrap: (command, args) => ['/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', join(dir, 'cgroup.procs'), command, ...args]],
      /** pids still in the group (the caller kills them before remove()). */
      pids: () => readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number),
      remove() {
        try {
          for (const pid of this.pids()) writeFileSync(join(root.dir, 'cgroup.procs'), String(pid));
          rmdirSync(dir);
        } catch {
          // a straggler that exits meanwhile, or a group already gone: nothing to keep
        }
      },
    };
  } catch (error) {
    try {
      rmdirSync(dir);
    } catch {
      // never made
    }
    return { why: `cannot make a cgroup in ${root.dir}: ${error.code ?? error.message}` };
  }
}

/**
 * Which descendants of `pid` that were not there at the start spent the CPU: sampled every `everyMs`, the last
 * value seen per process, summed by name (`perf record` and `perf script` apart). A lower bound per process: CPU
 * spent after the last sample before it exited is missed (the tree's total, from cutime, has it).
 */
export function watchNewDescendants(pid, everyMs = 200) {
  const present = new Set(processTree(pid)?.members.map((member) => member.pid) ?? []);
  const last = new Map();
  const label = (member) => {
    if (member.comm !== 'perf') return member.comm;
    try {
      return `perf ${readFileSync(`/proc/${member.pid}/cmdline`, 'latin1').split('\0')[1] ?? ''}`.trim();
    } catch {
      return 'perf';
    }
  };
  const sample = () => {
    for (const member of processTree(pid)?.members ?? []) {
      if (present.has(member.pid)) continue;
      const known = last.get(member.pid);
      last.set(member.pid, { label: known?.label ?? label(member), cpu: member.cpu });
    }
  };
  const timer = setInterval(sample, everyMs);
  return () => {
    clearInterval(timer);
    sample();
    const byLabel = new Map();
    for (const { label: name, cpu } of last.values()) byLabel.set(name, (byLabel.get(name) ?? 0) + cpu);
    return byLabel;
  };
}
