/**
 * Which processes' records in perf's pipe stream perf script can use, when it prints only some names
 * (`--comms`): the rest are dropped before perf script reads them (perf-pipe-filter.ts). A whole-node DWARF
 * perf carries every process's samples with 8 KiB of stack and every exec's mmap records; perf script parses
 * all of them and keeps a thread and its maps for each process it hears of, to print IRIS's samples only.
 *
 * Followed on the stream's own records, in the order they arrive: a COMM record naming one of the names
 * makes its process kept, and so do its children (FORK); a COMM of another name (perf synthesizes one per
 * running thread at its start, and the kernel emits one at each exec) makes it dropped. The kernel writes
 * each CPU's records to its own buffer, so a process's first records may reach the pipe before the FORK or
 * COMM that decides it: whatever is not known to be another program's is passed (perf script sorts by time
 * and filters by name as before), so the filter only ever drops what perf script would not print:
 * - a process never heard of: passed;
 * - a child forked by a dropped process, until its exec says what it runs ("tentative"): its samples and
 *   mmaps passed (the exec's may overtake its COMM), its fork not (perf script needs no thread for it); a child
 *   still sampled TENTATIVE_NS after its fork without an exec (a forking server's worker) is dropped, so an
 *   exec later than that may lose the few samples that overtake its COMM (tenths of a second at most);
 * - a kept process that exec'd another program: its samples and mmaps dropped from then on, its COMM, FORK
 *   and EXIT records passed (perf script knows the thread, and frees it at its exit);
 * - records that decide a process (COMM, FORK) are taken in the order of their times, not of arrival, where the
 *   stream gives times (sample_id_all: perf record's default): one older than the last decision for the pid is
 *   passed and changes nothing. Each CPU's buffer reaches the pipe on its own, and the kernel moves a process to
 *   another CPU at each exec: `nice bash -c 'exec PROG'`'s exec of PROG came before its exec of bash and was
 *   overruled by it (a burst never sampled), and under a fork storm a process's FORK, from the parent's CPU
 *   seconds behind, came after its exec and made it a tentative child dropped a second later (15 CPU s, 19
 *   samples). perf record always gives times; a stream without them is taken in arrival order.
 * Bytes only: the pid sits at a fixed offset of each record type, a sample's after the fields its
 * sample_type puts first (read from the stream's HEADER_ATTR records).
 *
 * `keepSample` (the DWARF sampler's per-process decision, dwarf-targets.ts) also drops the samples of
 * processes of the names that the main sampler takes (built with frame pointers): perf script would unwind
 * them (1-2.5 ms each) and the agent parse them (~0.4 ms) only to drop them. Samples only: their COMM,
 * MMAP, FORK and EXIT records still pass, so a later decision for the pid finds perf script's thread whole.
 */
/** Whether a sample of this (named, kept) process goes on: false only for a process known not to need it. */
export type PerfSampleFilter = (pid: number) => boolean;

export const PERF_RECORD_MMAP = 1;
export const PERF_RECORD_COMM = 3;
export const PERF_RECORD_EXIT = 4;
export const PERF_RECORD_FORK = 7;
export const PERF_RECORD_SAMPLE = 9;
export const PERF_RECORD_MMAP2 = 10;
/** PERF_RECORD_HEADER_ATTR: a perf_event_attr in a pipe stream (the file header holds them otherwise). */
export const PERF_RECORD_HEADER_ATTR = 64;
/** misc bit of a COMM record that an exec emitted (not a thread's rename). */
const PERF_RECORD_MISC_COMM_EXEC = 1 << 13;
/** sample_type bits laid out before the pid (perf_event.h: IDENTIFIER, then IP, then TID). */
const PERF_SAMPLE_IP = 1n << 0n;
const PERF_SAMPLE_TID = 1n << 1n;
const PERF_SAMPLE_TIME = 1n << 2n;
const PERF_SAMPLE_IDENTIFIER = 1n << 16n;
const PERF_SAMPLE_ID = 1n << 6n;
const PERF_SAMPLE_CPU = 1n << 7n;
const PERF_SAMPLE_STREAM_ID = 1n << 9n;
const RECORD_HEADER_BYTES = 8;
/** In a HEADER_ATTR record: the attr after the record header, its sample_type 24 bytes in. */
const ATTR_SAMPLE_TYPE_AT = RECORD_HEADER_BYTES + 24;
/** The attr's flags word (after type, size, config, sample_period, sample_type, read_format) and its sample_id_all bit. */
const ATTR_FLAGS_AT = RECORD_HEADER_BYTES + 40;
const ATTR_SAMPLE_ID_ALL = 1n << 18n;
/** The pid of MMAP, MMAP2, COMM, FORK and EXIT records: right after the header. */
const PID_AT = RECORD_HEADER_BYTES;
/** COMM: pid, tid, then the name (NUL-terminated, padded to 8 bytes). EXIT/FORK: pid, ppid, tid, ptid. */
const COMM_NAME_AT = RECORD_HEADER_BYTES + 8;
const PPID_AT = RECORD_HEADER_BYTES + 4;
const TID_AT = RECORD_HEADER_BYTES + 8;
/** FORK: pid, ppid, tid, ptid, then its time. */
const FORK_TIME_AT = RECORD_HEADER_BYTES + 16;
/**
 * How long after its fork a child of another program may go on without an exec and have its samples
 * passed: the records of the CPUs reach the pipe out of order by about the time perf record waits on the
 * pipe (the agent reads it every 100 ms), far less than this.
 */
const TENTATIVE_NS = 1e9;
/** The pid the kernel's own mmaps carry (perf's host machine): always passed. */
const KERNEL_PID = -1;
/** The idle task's samples (pid 0, "swapper"): never one of the names. */
const IDLE_PID = 0;

/** Processes followed at most, past which exited ones are forgotten at once (pid_max is 32768 by default). */
const MAX_FOLLOWED = 65_536;

/** A process's standing; a pid without one was never heard of (passed). */
const KEPT = 1;
const DROPPED = 2;
const TENTATIVE = 3;
/** Was kept, exec'd another program: perf script knows the thread. */
const KNOWN_OTHER = 4;

export class PerfPipeProcesses {
  /** Where a sample's pid sits (undefined: not known, or the attrs disagree: samples are all passed). */
  private samplePidAt: number | undefined;
  /** Where a sample's time sits (undefined: no time, tentative children's samples are all passed). */
  private sampleTimeAt: number | undefined;
  private attrs = 0;
  /** Tentative children's fork times (ns, perf's clock). */
  private readonly forkedAt = new Map<number, number>();
  /** The time (ns) of the COMM or FORK that last decided each pid's standing, where records carry times. */
  private readonly decidedAt = new Map<number, number>();
  /** Where a non-sample record's time sits, counted back from its end (its sample_id); undefined: no times. */
  private idTimeFromEnd: number | undefined;
  private readonly state = new Map<number, number>([[IDLE_PID, DROPPED]]);
  private readonly names: Buffer[];

  constructor(
    names: Iterable<string>,
    private readonly keepSample?: PerfSampleFilter,
  ) {
    this.names = [...names].map((name) => Buffer.from(name, 'latin1'));
  }

  /** Processes followed now (kept, dropped or tentative): bounded (MAX_FOLLOWED and the live ones). */
  get followed(): number {
    return this.state.size;
  }

  /** Whether the record of `type` and `size` at `at` goes on to perf script. */
  keep(buffer: Buffer, at: number, type: number, size: number): boolean {
    switch (type) {
      case PERF_RECORD_SAMPLE:
        if (this.samplePidAt === undefined || size < this.samplePidAt + 4) return true;
        return this.passesSample(buffer, at, size, buffer.readInt32LE(at + this.samplePidAt));
      case PERF_RECORD_MMAP:
      case PERF_RECORD_MMAP2: {
        if (size < PID_AT + 4) return true;
        const pid = buffer.readInt32LE(at + PID_AT);
        return pid === KERNEL_PID || this.passes(pid);
      }
      case PERF_RECORD_COMM:
        return size < COMM_NAME_AT ? true : this.onComm(buffer, at, size);
      case PERF_RECORD_FORK:
        return size < FORK_TIME_AT + 8 ? true : this.onFork(buffer.readInt32LE(at + PID_AT), buffer.readInt32LE(at + PPID_AT), readTime(buffer, at + FORK_TIME_AT));
      case PERF_RECORD_EXIT:
        return size < TID_AT + 4 ? true : this.onExit(buffer.readInt32LE(at + PID_AT), buffer.readInt32LE(at + TID_AT));
      case PERF_RECORD_HEADER_ATTR:
        this.onAttr(buffer, at, size);
        return true;
      default:
        return true;
    }
  }

  /** Samples and mmaps: all but those of processes known to run another program. */
  private passes(pid: number): boolean {
    const standing = this.state.get(pid);
    return standing !== DROPPED && standing !== KNOWN_OTHER;
  }

  /** A sample of a tentative child: passed within TENTATIVE_NS of its fork, then the child is dropped. */
  private passesSample(buffer: Buffer, at: number, size: number, pid: number): boolean {
    const standing = this.state.get(pid);
    if (standing === KEPT || standing === undefined) return this.keepSample === undefined || this.keepSample(pid);
    if (standing !== TENTATIVE) return standing !== DROPPED && standing !== KNOWN_OTHER;
    const forked = this.forkedAt.get(pid);
    if (this.sampleTimeAt === undefined || forked === undefined || size < this.sampleTimeAt + 8) return true;
    if (readTime(buffer, at + this.sampleTimeAt) - forked <= TENTATIVE_NS) return true;
    this.state.set(pid, DROPPED);
    this.forkedAt.delete(pid);
    return false;
  }

  private onAttr(buffer: Buffer, at: number, size: number): void {
    let pidAt: number | undefined;
    let timeAt: number | undefined;
    if (size >= ATTR_SAMPLE_TYPE_AT + 8) {
      const sampleType = buffer.readBigUInt64LE(at + ATTR_SAMPLE_TYPE_AT);
      if ((sampleType & PERF_SAMPLE_TID) !== 0n) {
        pidAt = RECORD_HEADER_BYTES + ((sampleType & PERF_SAMPLE_IDENTIFIER) !== 0n ? 8 : 0) + ((sampleType & PERF_SAMPLE_IP) !== 0n ? 8 : 0);
        timeAt = (sampleType & PERF_SAMPLE_TIME) !== 0n ? pidAt + 8 : undefined;
      }
    }
    // Several events: their samples are told apart by id; one layout for all, or no sample is dropped.
    const first = this.attrs++ === 0;
    this.samplePidAt = first || this.samplePidAt === pidAt ? pidAt : undefined;
    this.sampleTimeAt = first || this.sampleTimeAt === timeAt ? timeAt : undefined;
    const idTime = size >= ATTR_FLAGS_AT + 8 ? sampleIdTimeFromEnd(buffer.readBigUInt64LE(at + ATTR_SAMPLE_TYPE_AT), buffer.readBigUInt64LE(at + ATTR_FLAGS_AT)) : undefined;
    this.idTimeFromEnd = first || this.idTimeFromEnd === idTime ? idTime : undefined;
  }

  private onComm(buffer: Buffer, at: number, size: number): boolean {
    const pid = buffer.readInt32LE(at + PID_AT);
    const standing = this.state.get(pid);
    if (standing === TENTATIVE) this.forkedAt.delete(pid);
    const exec = (buffer.readUInt16LE(at + 4) & PERF_RECORD_MISC_COMM_EXEC) !== 0;
    const time = this.idTimeFromEnd === undefined || size < COMM_NAME_AT + this.idTimeFromEnd ? undefined : readTime(buffer, at + size - this.idTimeFromEnd);
    if (time !== undefined) {
      // Older than what decided the pid (an earlier exec read late): perf script orders it; nothing changes.
      if ((this.decidedAt.get(pid) ?? -1) > time) return true;
      this.decidedAt.set(pid, time);
    }
    if (this.named(buffer, at + COMM_NAME_AT, at + size)) {
      this.state.set(pid, KEPT);
      return true;
    }
    // A kept process's thread renamed: still kept (perf script filters that thread by its name).
    if (standing === KEPT) {
      if (exec) this.state.set(pid, KNOWN_OTHER);
      return true;
    }
    if (standing === KNOWN_OTHER) return true;
    this.state.set(pid, DROPPED);
    return false;
  }

  private onFork(pid: number, ppid: number, time: number): boolean {
    const parent = this.state.get(ppid);
    // A new thread: its process's standing.
    if (pid === ppid) return parent !== DROPPED && parent !== TENTATIVE;
    // Older than what decided the child (its exec, read first): its own fork, late; nothing changes.
    if ((this.decidedAt.get(pid) ?? -1) > time) return this.passes(pid);
    this.decidedAt.set(pid, time);
    this.forkedAt.delete(pid);
    if (parent === KEPT) {
      this.state.set(pid, KEPT);
      return true;
    }
    if (parent === undefined) {
      this.state.delete(pid);
      return true;
    }
    this.state.set(pid, TENTATIVE);
    this.forkedAt.set(pid, time);
    return false;
  }

  private onExit(pid: number, tid: number): boolean {
    const standing = this.state.get(pid);
    // Gone with its main thread. A dropped one stays known, as its samples still in another CPU's buffer
    // may come after its exit (its pid's next FORK says who has it next), unless there are too many.
    if (pid === tid && pid !== IDLE_PID && (standing !== DROPPED || this.state.size > MAX_FOLLOWED)) {
      this.state.delete(pid);
      this.forkedAt.delete(pid);
      this.decidedAt.delete(pid);
    }
    return standing !== DROPPED;
  }

  /** Whether the NUL-terminated name at `from` (before `end`) is one of the names. */
  private named(buffer: Buffer, from: number, end: number): boolean {
    for (const name of this.names) {
      const nul = from + name.length;
      if (nul >= end || buffer[nul] !== 0) continue;
      let i = 0;
      while (i < name.length && buffer[from + i] === name[i]) i++;
      if (i === name.length) return true;
    }
    return false;
  }
}

/**
 * Where the time of a non-sample record's sample_id sits, counted back from the record's end: after it come
 * ID, STREAM_ID, CPU and IDENTIFIER, 8 bytes each where sample_type has them. Undefined without
 * sample_id_all or without TIME.
 */
function sampleIdTimeFromEnd(sampleType: bigint, flags: bigint): number | undefined {
  if ((flags & ATTR_SAMPLE_ID_ALL) === 0n || (sampleType & PERF_SAMPLE_TIME) === 0n) return undefined;
  let after = 0;
  for (const bit of [PERF_SAMPLE_ID, PERF_SAMPLE_STREAM_ID, PERF_SAMPLE_CPU, PERF_SAMPLE_IDENTIFIER]) if ((sampleType & bit) !== 0n) after += 8;
  return after + 8;
}

/** A u64 time in ns as a number (exact to 2^53 ns, 104 days of uptime; past that, to a few ns). */
function readTime(buffer: Buffer, at: number): number {
  return buffer.readUInt32LE(at + 4) * 2 ** 32 + buffer.readUInt32LE(at);
}
