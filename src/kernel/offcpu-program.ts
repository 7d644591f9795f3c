/**
 * The off-CPU and file tracer's bpftrace program, generated for one recording: which processes to follow
 * is decided in the kernel, so unfollowed tasks cost one map lookup per context switch and print nothing.
 *
 * Why it looks like this (measured on kernel 6.18, bpftrace 0.17: ../shared/reference/offcpu.md):
 * - No kprobes, no kfunc: everything comes from tracepoints. At `sched_switch` the task leaving is the
 *   current one, so its kernel and user stacks are taken there and kept per tid; the blocked interval is
 *   printed when that tid is switched back in (one line per interval, ~110 per simulated restart).
 * - The syscall a task blocked in is `orig_ax` in the user registers saved at the top of its kernel stack
 *   (x86-64, 16 KiB kernel stacks, `struct pt_regs` is 168 bytes): cheap, and it is what splits blocked time
 *   into child wait, futex, sleep, read/write, poll.
 * - Waits for a CPU (switched out runnable) are summed per tid in the kernel and printed at END; only waits
 *   above `longCpuWaitNs` are streamed. Streaming every one wakes bpftrace, which preempts the traced job,
 *   which makes another wait: thousands of lines and context switches per restart.
 * - File paths are read at syscall exit from the pointer saved at entry: at entry the page holding the path
 *   may not be resident, and BPF cannot fault it in. glibc's fstat (newfstatat/statx with AT_EMPTY_PATH) is a
 *   third of all stat calls and names no file: dropped in the kernel.
 * - User stacks are printed as raw addresses (BPFTRACE_NO_USER_SYMBOLS): bpftrace would read each new
 *   process's symbol tables while the restart runs, and could not name frames of processes already gone;
 *   the recorder names them afterwards from perf's MMAP2 events (user-frames.ts).
 *
 * Output lines (tab-separated; a blocked interval's stacks follow it, one frame a line, indented):
 *
 *     B  off_ns  on_ns  pid  tid  state  syscall  comm      then "k", kernel frames, "u", user frames
 *     W  start_ns  end_ns  pid  tid                          a wait for a CPU above the threshold
 *     F  time_ns  pid  tid  call  result  path               a file lookup, at syscall exit
 *     T  now_ns, then @off[tid]: (off_ns, pid, state, syscall, comm) and @kstack/@ustack[tid] maps:
 *        at END, the threads still blocked, whose intervals end at the stop; @runnable[tid]: (since_ns, pid),
 *        the threads still waiting for a CPU
 *     R                                                      every probe attached (BEGIN)
 *     S                                                      a sync line (see `syncPid`)
 *     @cpuwait_ns[pid, tid]: N   @cpuwait_count[pid, tid]: N  at END
 *     C  time_ns  pid  tid  ns  count                        `warm` only: a thread's CPU waits since its last C line
 *     @rN[tid, off_ns]: (on_ns, pid, state, syscall, comm)   `warm` only, printed by an arming: kept intervals,
 *     @rkN[tid, off_ns]: then kernel frames                  with their kernel stacks, long CPU waits
 *     @wN[tid, start_ns]: (end_ns, pid)                      (`W`); then `D  time_ns`
 *
 * `warm` (the agent's long-running tracer) takes no user stacks: bpftrace's stack map never frees an entry and
 * raw user addresses differ in every process (ASLR), so within minutes new stacks collided with old ones and
 * their intervals were dropped (measured: 259 of 23,112 in 20 simulated restarts; kernel stacks repeat and fit).
 * Nothing stops it, and the CPU-wait sums cannot wait for END, nor
 * be printed and cleared by a probe (print() of a map is answered later, in user space, after a clear()).
 * So each followed thread keeps its own sum in a plain map and prints it (`C`) when it next blocks (beside
 * the `B` line that is printed anyway) and when it exits: a window of the stream holds the waits of the
 * threads that blocked or exited in it, since their previous block.
 *
 * `warm` prints a blocked interval only while armed: unarmed, an idle instance's daemons (the simulated one's
 * wake every 200 ms) made bpftrace and the agent wake for every interval, ~60 a second, which cost an idle
 * agent 3.85% of a core instead of 1.06% (docs/agent.md, "Cost"). Only the agent's getegid() (the flight recorder,
 * when a record begins and every 200 ms while one is under way) arms it, for WARM_ARM_NS, so other IRIS
 * processes starting and ending (jobs, `irisdb` run by hand, `iris list` from a monitoring script) cost nothing
 * more. An exec of `iris` used to arm it in the kernel too: each `iris list` then printed the 30-35 s kept
 * (+1.6 points of a core with one every 10 s); the kept maps already hold what happened before the agent reads
 * a lifecycle command's exec. Unarmed, each interval goes
 * into the current generation's map, in the kernel; a timer starts a new generation every
 * WARM_GENERATION_SECONDS and clears the oldest map. An arming from unarmed prints all the maps and clears
 * them (print() and clear() are done in order by bpftrace's user space), so a record that begins at an exec
 * or a death, and its window a second before, still has every blocked interval of the last 30-35 s (WARM_GENERATIONS)
 * (a crash record arms it when the agent reads the death: the dead process's kept intervals stay in the maps).
 * Long CPU waits (`W`) are kept and printed the same way; CPU-wait sums (`C`) go out with an armed block or an
 * exit; file lookups (`F`) are printed armed or not (rare while idle). The maps hold at most BPFTRACE_MAP_KEYS_MAX (4096) intervals each: beyond ~800 a second of
 * followed threads unarmed, a generation's later intervals are not kept.
 */
/** True until the first sync line (`syncPid`): every probe but the sync's own checks it. */
export const STOP_GUARD = '@stop[0] == 0';

/** Printed by BEGIN, after every probe is attached (see bpftrace-process.ts `readyLine`). */
export const READY_LINE = 'R';

/** x86-64: THREAD_SIZE is 16 KiB and `struct pt_regs` (21 registers) sits at its top; orig_ax is register 15. */
const KERNEL_STACK_BYTES = 16384;
const PT_REGS_BYTES = 168;

/** Waits for a CPU longer than this are kept as intervals (10 ms: a scheduler tick or more, worth seeing). */
export const DEFAULT_LONG_CPU_WAIT_NS = 10_000_000;

/** The `prev_state` bits of a task that is exiting (EXIT_DEAD 0x10, EXIT_ZOMBIE 0x20): not a block. */
const EXITING_STATES = 0x30;
/** Only the low byte is the reported state; 0x100 marks a preempted (still runnable) task on older kernels. */
const STATE_MASK = 0xff;
/** `AT_EMPTY_PATH`: the call is about the descriptor, not a path (glibc's fstat). */
const AT_EMPTY_PATH = 0x1000;

/** The file calls traced: tracepoint name → the name shown (the kernel's `newstat` is `stat` to users). */
export const FILE_CALLS: ReadonlyArray<{ tracepoint: string; call: string; emptyPathFlag?: string }> = [
  { tracepoint: 'openat', call: 'openat' },
  { tracepoint: 'openat2', call: 'openat2' },
  { tracepoint: 'open', call: 'open' },
  { tracepoint: 'newfstatat', call: 'newfstatat', emptyPathFlag: 'flag' },
  { tracepoint: 'statx', call: 'statx', emptyPathFlag: 'flags' },
  { tracepoint: 'newstat', call: 'stat' },
  { tracepoint: 'newlstat', call: 'lstat' },
  { tracepoint: 'access', call: 'access' },
  { tracepoint: 'faccessat', call: 'faccessat' },
  { tracepoint: 'faccessat2', call: 'faccessat2' },
];

export interface OffCpuProgramOptions {
  /** Record blocked intervals and CPU waits. */
  offCpu: boolean;
  /** Record file lookups. */
  files: boolean;
  /**
   * Program names (comm, at most 15 bytes: longer ones can never match) followed from their exec on, with
   * their descendants: IRIS's programs (src/iris/processes.ts; the caller passes them, kernel/ knows no IRIS).
   */
  names: readonly string[];
  /** Processes followed from the start (IRIS processes already running). */
  pids?: readonly number[];
  /** The recorded command: followed when a child of `parentPid` execs under the comm `comm`. */
  command?: { parentPid: number; comm: string };
  /** Waits for a CPU longer than this (ns) are streamed as intervals; the rest are only summed. */
  longCpuWaitNs?: number;
  /** Also print the exec snooper's lines (one bpftrace process instead of two). */
  withExecSnooper?: string;
  /**
   * The recorder's pid: its getppid() calls print a sync line (`S`). Seeing that line means bpftrace has read
   * what the kernel wrote before it, so stopping then loses nothing (SIGINT drops unread events: the last
   * intervals of a restart, which end as it ends). The first one also stops tracing, at the moment perf is
   * told to stop, so blocked time and CPU waits cover the span the samples do.
   */
  syncPid?: number;
  /**
   * Run until killed (the agent): no stop at the first sync (every sync just prints `S`), and CPU-wait sums
   * streamed per thread (`C` lines) instead of printed at END.
   */
  warm?: boolean;
}

/**
 * `warm`: how long an arming keeps the tracer printing every blocked interval (ns). Each arm call of the agent (`getegid` from `syncPid`, every 200 ms while a record is under way)
 * pushes the end this far ahead.
 */
export const WARM_ARM_NS = 3_000_000_000;
/**
 * `warm`, unarmed: blocked intervals are kept in the kernel, one map per generation of this many seconds
 * (WARM_GENERATIONS in turn); an arming prints what the maps hold.
 */
export const WARM_GENERATION_SECONDS = 5;
/**
 * Maps in turn: the current one, the one cleared for the next turn, and the rest kept, so an arming reaches back
 * (WARM_GENERATIONS - 2) to (WARM_GENERATIONS - 1) generations: 30-35 s, the crash post-mortem's ~30 s (issue 14).
 */
export const WARM_GENERATIONS = 8;
/**
 * The kept intervals' maps (values: on_ns, pid, state, syscall, comm), their kernel stacks, and the long CPU waits
 * (`@wN[tid, start_ns]: (end_ns, pid)`), per generation.
 */
const KEPT = Array.from({ length: WARM_GENERATIONS }, (_, generation) => ({ intervals: `@r${generation}`, stacks: `@rk${generation}`, waits: `@w${generation}` }));
/** Printed after the kept intervals, when an arming has printed them (`D  time_ns`). */
export const KEPT_END_LINE = 'D';

/** The kernel's comm for an executable path: its base name, cut to 15 bytes. */
export function commOf(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return Buffer.from(base, 'utf8').subarray(0, 15).toString('utf8');
}

/** A bpftrace string literal (comm values are names, but a command name could hold anything). */
function literal(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[^\x20-\x7e]/g, '')}"`;
}

export function offCpuProgram(options: OffCpuProgramOptions): string {
  const names = options.names.filter((name) => Buffer.byteLength(name) <= 15);
  const pids = (options.pids ?? []).filter((pid) => Number.isInteger(pid) && pid > 0);
  const threshold = Math.max(0, Math.round(options.longCpuWaitNs ?? DEFAULT_LONG_CPU_WAIT_NS));
  const execMatch = names.map((name) => `comm == ${literal(name)}`);
  if (options.command !== undefined) {
    execMatch.push(`(curtask->real_parent->tgid == ${options.command.parentPid} && comm == ${literal(options.command.comm)})`);
  }
  const warm = options.warm === true;
  // `cond && GUARD`, or just `cond` when nothing ever stops the program (warm).
  const guarded = (condition: string): string => (warm ? condition : `${condition} && ${STOP_GUARD}`);
  const parts: string[] = [];
  // @follow must exist even when empty, so BEGIN always writes (and deletes) a dummy key.
  // BEGIN runs once every probe is attached: its `R` line tells the recorder it may start the workload.
  const warmState = warm && options.offCpu ? '  @arm[0] = 0;\n  @gen[0] = 0;\n' : '';
  parts.push(`BEGIN {\n  @stop[0] = 0;\n${warmState}  @follow[0] = 0;\n${pids.map((pid) => `  @follow[${pid}] = 1;\n`).join('')}  delete(@follow[0]);\n  printf("${READY_LINE}\\n");\n}`);
  // warm: what arms the tracer (module comment); an arming from unarmed first prints the intervals kept meanwhile.
  const keeping = warm && options.offCpu;
  const arm = (indent: string): string =>
    keeping
      ? `${indent}if (nsecs >= @arm[0]) {\n` +
        KEPT.map(({ intervals, stacks, waits }) => `${indent}  print(${intervals});\n${indent}  print(${stacks});\n${indent}  print(${waits});\n`).join('') +
        KEPT.map(({ intervals, stacks, waits }) => `${indent}  clear(${intervals});\n${indent}  clear(${stacks});\n${indent}  clear(${waits});\n`).join('') +
        `${indent}  printf("${KEPT_END_LINE}\\t%llu\\n", nsecs);\n${indent}}\n${indent}@arm[0] = nsecs + ${WARM_ARM_NS};\n`
      : '';
  if (execMatch.length > 0) parts.push(`tracepoint:sched:sched_process_exec /${guarded(`(${execMatch.join(' || ')})`)}/ {\n  @follow[pid] = 1;\n}`);
  // Runs in the parent: `pid` is its process, whichever thread forked; child_pid is the new task's id.
  // A new task waits for a CPU from its creation to its first run (tens of ms on a busy host). Its process id
  // is not in the tracepoint: the child's own id is right for a process; a thread's first wait is filed under
  // its own id, which the reader puts right by its later records.
  const newTaskWaits = options.offCpu ? '\n  @runnable[args->child_pid] = (nsecs, (uint64)args->child_pid);' : '';
  parts.push(`tracepoint:sched:sched_process_fork /${guarded('@follow[pid]')}/ {\n  @follow[args->child_pid] = 1;${newTaskWaits}\n}`);

  // warm: the thread's CPU waits not printed yet go out with its exit.
  const flushWaits = (pidExpr: string, tidExpr: string, indent: string): string =>
    `${indent}if (@cwcount[${tidExpr}] != 0) {\n` +
    `${indent}  printf("C\\t%llu\\t%d\\t%d\\t%llu\\t%llu\\n", nsecs, ${pidExpr}, ${tidExpr}, @cwns[${tidExpr}], @cwcount[${tidExpr}]);\n` +
    `${indent}  delete(@cwns[${tidExpr}]);\n${indent}  delete(@cwcount[${tidExpr}]);\n${indent}}\n`;
  const exitCleanup = options.offCpu
    ? `${warm ? flushWaits('pid', 'tid', '  ') : ''}  delete(@off[tid]);\n  delete(@kstack[tid]);\n${warm ? '' : '  delete(@ustack[tid]);\n'}  delete(@runnable[tid]);\n`
    : '';
  parts.push(`tracepoint:sched:sched_process_exit /${guarded('@follow[pid]')}/ {\n${exitCleanup}  if (pid == tid) { delete(@follow[pid]); }\n}`);

  if (options.offCpu) {
    const printBlock = (indent: string): string =>
      `${indent}printf("B\\t%llu\\t%llu\\t%d\\t%d\\t%d\\t%d\\t%s\\nk%s${warm ? 'u' : 'u%s'}\\n", $off.0, nsecs, $off.1, $next, $off.2, $off.3, args->next_comm, @kstack[$next]${warm ? '' : ', @ustack[$next]'});\n`;
    // warm: printed while armed; kept in the kernel (this generation's map) while not.
    const keep = KEPT.map(
      ({ intervals, stacks }, generation) =>
        `${generation === 0 ? '      if' : ' else if'} ($generation == ${generation}) {\n` +
        `        ${intervals}[$next, $off.0] = (nsecs, $off.1, $off.2, $off.3, args->next_comm);\n` +
        `        ${stacks}[$next, $off.0] = @kstack[$next];\n      }`,
    ).join('');
    const warmBlock =
      `    if (nsecs < @arm[0]) {\n${flushWaits('$off.1', '$next', '      ')}${printBlock('      ')}    } else {\n` +
      `      $generation = @gen[0];\n${keep}\n    }\n`;
    const printLongWait = 'printf("W\\t%llu\\t%llu\\t%d\\t%d\\n", $queued.0, nsecs, $queued.1, $next);';
    const keepWait = KEPT.map(
      ({ waits }, generation) => `${generation === 0 ? '        if' : ' else if'} ($generation == ${generation}) { ${waits}[$next, $queued.0] = (nsecs, $queued.1); }`,
    ).join('');
    const warmLongWait =
      `      if ($wait > ${threshold}) {\n        if (nsecs < @arm[0]) { ${printLongWait} }\n` +
      `        else {\n          $generation = @gen[0];\n  ${keepWait}\n        }\n      }\n`;
    const waitSums = warm
      ? '      @cwns[$next] = @cwns[$next] + $wait;\n      @cwcount[$next] = @cwcount[$next] + 1;'
      : '      @cpuwait_ns[$queued.1, $next] = sum($wait);\n      @cpuwait_count[$queued.1, $next] = count();';
    parts.push(`tracepoint:sched:sched_switch${warm ? '' : ` /${STOP_GUARD}/`} {
  if (@follow[pid]) {
    $state = args->prev_state & ${STATE_MASK};
    if ($state == 0) {
      @runnable[tid] = (nsecs, pid);
    } else if (($state & ${EXITING_STATES}) == 0) {
      $regs = (struct pt_regs *)((uint64)curtask->stack + ${KERNEL_STACK_BYTES - PT_REGS_BYTES});
      @off[tid] = (nsecs, pid, $state, $regs->orig_ax, comm);
      @kstack[tid] = kstack;${warm ? '' : '\n      @ustack[tid] = ustack;'}
    }
  }
  $next = args->next_pid;
  $off = @off[$next];
  if ($off.0 != 0) {
${warm ? warmBlock : printBlock('    ')}    delete(@off[$next]);
    delete(@kstack[$next]);${warm ? '' : '\n    delete(@ustack[$next]);'}
  } else {
    $queued = @runnable[$next];
    if ($queued.0 != 0) {
      $wait = nsecs - $queued.0;
${waitSums}
${warm ? warmLongWait : `      if ($wait > ${threshold}) { ${printLongWait} }\n`}      delete(@runnable[$next]);
    }
  }
}`);
  }

  if (options.files) {
    for (const { tracepoint, call, emptyPathFlag } of FILE_CALLS) {
      const following = guarded('@follow[pid]');
      const filter = emptyPathFlag === undefined ? following : `${following} && !(args->${emptyPathFlag} & ${AT_EMPTY_PATH})`;
      parts.push(`tracepoint:syscalls:sys_enter_${tracepoint} /${filter}/ {\n  @path[tid] = (uint64)args->filename;\n}`);
      parts.push(
        `tracepoint:syscalls:sys_exit_${tracepoint} /@path[tid]/ {\n` +
          `  printf("F\\t%llu\\t%d\\t%d\\t${call}\\t%d\\t%s\\n", nsecs, pid, tid, args->ret, str(@path[tid]));\n` +
          `  delete(@path[tid]);\n}`,
      );
    }
  }

  // The first sync is the stop: from then on nothing is traced, and what is still blocked ends there.
  if (options.syncPid !== undefined) {
    const stop = warm ? '' : '  if (@stop[0] == 0) { @stop[0] = nsecs; }\n';
    parts.push(`tracepoint:syscalls:sys_enter_getppid /pid == ${options.syncPid}/ {\n${stop}  printf("S\\n");\n}`);
  }
  if (keeping && options.syncPid !== undefined) {
    parts.push(`tracepoint:syscalls:sys_enter_getegid /pid == ${options.syncPid}/ {\n${arm('  ')}}`);
  }
  // warm: a new generation; the map of two generations ago is cleared (printed or not, it is too old), before it is
  // written again a generation from now (clear() is done by bpftrace's user space, after the probe).
  if (keeping) {
    const turns = KEPT.map((_, generation) => {
      const stale = KEPT[(generation + 2) % KEPT.length]!;
      return `  ${generation === 0 ? '' : 'else '}if ($generation == ${generation}) { clear(${stale.intervals}); clear(${stale.stacks}); clear(${stale.waits}); @gen[0] = ${(generation + 1) % KEPT.length}; }\n`;
    }).join('');
    parts.push(`interval:s:${WARM_GENERATION_SECONDS} {\n  $generation = @gen[0];\n${turns}}`);
  }
  if (options.withExecSnooper !== undefined) parts.push(options.withExecSnooper.trim());
  // At the end: the stop time (`T`). bpftrace then prints every map left: the threads still blocked
  // (@off, @kstack, @ustack) and still waiting for a CPU (@runnable), whose intervals end at T, and the
  // CPU-wait sums. Not print() here: it is answered after END has run, and a clear() in END would have
  // emptied the map by then. The other maps are cleared so that they are not printed.
  const stopTime = options.offCpu ? '  printf("T\\t%llu\\n", @stop[0] != 0 ? @stop[0] : nsecs);\n' : '';
  // @stop stays: cleared, it would read 0 and wake every probe until bpftrace detaches them. It is printed
  // (`@stop[0]: T`) and ignored.
  const internal = [
    '@follow',
    ...(options.files ? ['@path'] : []),
    ...(keeping ? ['@cwns', '@cwcount', '@arm', '@gen', ...KEPT.flatMap(({ intervals, stacks, waits }) => [intervals, stacks, waits])] : []),
  ];
  parts.push(`END {\n${stopTime}${internal.map((map) => `  clear(${map});\n`).join('')}}`);
  return parts.join('\n') + '\n';
}
