/**
 * The off-CPU tracer's text, both ways: reading bpftrace's output as it streams (offcpu-program.ts prints a
 * blocked interval over several lines, its stacks one frame a line), and the one-line records kept in a
 * lifecycle capture (`# irisflame-offcpu …`, capture-file.ts), which is where times become seconds and
 * numbers become reasons (offcpu-reasons.ts).
 */
import type { BlockedInterval, CpuWait, FileEvent, OffCpuCapture } from './offcpu-events.js';
import { blockReason, errnoName, stateLetter } from './offcpu-reasons.js';
import { DEFAULT_LONG_CPU_WAIT_NS } from './offcpu-program.js';

/** A blocked interval as traced: times in ns, stacks as printed (kernel leaf first, user raw addresses). */
export interface TracedBlock {
  offNs: number;
  onNs: number;
  pid: number;
  tid: number;
  state: number;
  syscall: number;
  comm: string;
  /** Leaf first, offsets stripped: `__schedule`, `schedule`, `do_wait`, … */
  kernel: string[];
  /** Leaf first, as printed: `0x7f23e63c724a` (or names, when bpftrace symbolised them). */
  user: string[];
  /** Still blocked at the end of tracing: `onNs` is the stop time. */
  open?: true;
}

export type TracerRecord =
  | { kind: 'block'; block: TracedBlock }
  | { kind: 'wait'; startNs: number; endNs: number; pid: number; tid: number }
  | { kind: 'file'; timeNs: number; pid: number; tid: number; call: string; result: number; path: string }
  | { kind: 'cpuwait-total'; pid: number; tid: number; ns: number }
  | { kind: 'cpuwait-count'; pid: number; tid: number; count: number }
  /** The warm tracer's per-thread CPU waits since its previous such record (offcpu-program.ts `warm`). */
  | { kind: 'cpuwait-delta'; timeNs: number; pid: number; tid: number; ns: number; count: number }
  | { kind: 'lost'; count: number }
  /**
   * The warm tracer was armed at `timeNs` and printed the intervals it had kept, the oldest blocked from
   * `keptFromNs` (`timeNs` when it kept none): before that, while it was unarmed, nothing is known.
   */
  | { kind: 'armed'; timeNs: number; keptFromNs: number };

const LOST_LINE = /^Lost (\d+) events/;
// @off[30412]: (2406078850639, 30412, 1, 230, irisdb)
const PENDING_LINE = /^@off\[(\d+)\]: \((\d+), (\d+), (\d+), (-?\d+), (.*)\)\s*$/;
// @kstack[30412]:   (then one frame a line, indented, and a blank line)
// @runnable[30412]: (2406078850639, 30412)
const PENDING_RUNNABLE_LINE = /^@runnable\[(\d+)\]: \((\d+), (\d+)\)\s*$/;
const PENDING_STACK_LINE = /^@(kstack|ustack)\[(\d+)\]:\s*$/;
// The warm tracer's kept intervals, printed by an arming (offcpu-program.ts `warm`), then `D  time_ns`:
// @r0[30412, 2406078850639]: (2406278911002, 30412, 1, 230, irisdb)
// @rk0[30412, 2406078850639]:   (then the kernel frames, as @kstack's)
const KEPT_LINE = /^@r\d+\[(\d+), (\d+)\]: \((\d+), (\d+), (\d+), (-?\d+), (.*)\)\s*$/;
const KEPT_STACK_LINE = /^@rk\d+\[(\d+), (\d+)\]:\s*$/;
// @w0[30412, 2406078850639]: (2406098850639, 30412)   (a long CPU wait: tid, start; end, pid)
const KEPT_WAIT_LINE = /^@w\d+\[(\d+), (\d+)\]: \((\d+), (\d+)\)\s*$/;
const CPU_WAIT_LINE = /^@cpuwait_(ns|count)\[(\d+), (\d+)\]: (\d+)\s*$/;
/** `        __schedule+1560` → `__schedule`; `0x7f23e63c724a` stays. */
const FRAME_OFFSET = /\+\d+$/;

function integers(fields: readonly string[]): number[] | undefined {
  const values = fields.map((field) => (/^-?\d+$/.test(field) ? Number(field) : Number.NaN));
  return values.some((value) => Number.isNaN(value)) ? undefined : values;
}

/**
 * Assembles bpftrace's output lines into records. A blocked interval is a `B` line, a `k` line, kernel
 * frames, a `u` line, user frames and a blank line; anything that breaks that shape (a lost line in the
 * middle, a cut output) ends the interval where it stands, so one bad line never swallows the next record.
 */
export class TracerLineReader {
  private block: TracedBlock | undefined;
  private stack: 'kernel' | 'user' | undefined;
  /** END's report of threads still blocked, by tid; `pendingStack` is the frame list being read. */
  private readonly pending = new Map<number, TracedBlock>();
  private readonly runnable: Array<{ tid: number; pid: number; sinceNs: number }> = [];
  private pendingStack: string[] | undefined;
  private endNs: number | undefined;
  /** Kept intervals being printed (by `tid/off_ns`), until the `D` line; the keys of the previous printing. */
  private kept = new Map<string, TracedBlock>();
  private keptWaits = new Map<string, Extract<TracerRecord, { kind: 'wait' }>>();
  private keptBefore = new Set<string>();
  /** Lines that were none of the above (counted; the first few kept for the report). */
  badLines = 0;
  readonly badExamples: string[] = [];

  constructor(private readonly onRecord: (record: TracerRecord) => void) {}

  push(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (this.pendingStack !== undefined) {
      if (line.startsWith(' ') || line.startsWith('\t')) return void this.pendingStack.push(line.trim().replace(FRAME_OFFSET, ''));
      this.pendingStack = undefined;
      if (line === '') return;
    }
    if (this.block !== undefined) {
      if (line === 'k') return void (this.stack = 'kernel');
      // `k%su%s` with an empty kernel stack (bpftrace could not store it: a full or colliding stack map).
      if (line === 'ku') return void (this.stack = 'user');
      if (line === 'u') return void (this.stack = 'user');
      if (this.stack !== undefined && (line.startsWith(' ') || line.startsWith('\t'))) {
        const frame = line.trim();
        if (this.stack === 'kernel') this.block.kernel.push(frame.replace(FRAME_OFFSET, ''));
        else this.block.user.push(frame);
        return;
      }
      this.flush();
      if (line === '') return;
    }
    this.readLine(line);
  }

  /** The end of the stream: a pending interval is kept with the frames it has; threads still blocked end at `T`. */
  finish(): void {
    this.flush();
    this.flushKept();
    if (this.endNs === undefined) return;
    for (const block of this.pending.values()) {
      if (block.offNs === 0 || block.offNs > this.endNs) continue; // stacks without an @off entry: not blocked
      this.onRecord({ kind: 'block', block: { ...block, onNs: this.endNs, open: true } });
    }
    this.pending.clear();
    // Waiting for a CPU when tracing stopped: that wait ends at the stop too.
    for (const { tid, pid, sinceNs } of this.runnable) {
      if (sinceNs > this.endNs) continue;
      this.onRecord({ kind: 'cpuwait-total', pid, tid, ns: this.endNs - sinceNs });
      this.onRecord({ kind: 'cpuwait-count', pid, tid, count: 1 });
      if (this.endNs - sinceNs > DEFAULT_LONG_CPU_WAIT_NS) this.onRecord({ kind: 'wait', startNs: sinceNs, endNs: this.endNs, pid, tid });
    }
    this.runnable.length = 0;
  }

  private pendingOf(tid: number): TracedBlock {
    let block = this.pending.get(tid);
    if (block === undefined) {
      block = { offNs: 0, onNs: 0, pid: tid, tid, state: 0, syscall: -1, comm: '', kernel: [], user: [] };
      this.pending.set(tid, block);
    }
    return block;
  }

  private keptOf(tid: number, offNs: number): TracedBlock {
    const key = `${tid}/${offNs}`;
    let block = this.kept.get(key);
    if (block === undefined) {
      block = { offNs, onNs: 0, pid: tid, tid, state: 0, syscall: -1, comm: '', kernel: [], user: [] };
      this.kept.set(key, block);
    }
    return block;
  }

  /**
   * The kept intervals printed so far, as blocked intervals, oldest first. Two armings at once (two CPUs) may
   * print the same ones twice: those of the previous printing are not repeated.
   */
  private flushKept(armedNs?: number): void {
    if (armedNs !== undefined) {
      let keptFromNs = armedNs;
      for (const block of this.kept.values()) if (block.offNs < keptFromNs) keptFromNs = block.offNs;
      this.onRecord({ kind: 'armed', timeNs: armedNs, keptFromNs });
    }
    if (this.kept.size === 0 && this.keptWaits.size === 0) return;
    const blocks = [...this.kept].filter(([key, block]) => block.onNs >= block.offNs && block.onNs !== 0 && !this.keptBefore.has(key));
    const waits = [...this.keptWaits].filter(([key]) => !this.keptBefore.has(key));
    this.keptBefore = new Set([...this.kept.keys(), ...this.keptWaits.keys()]);
    this.kept = new Map();
    this.keptWaits = new Map();
    blocks.sort((a, b) => a[1].offNs - b[1].offNs);
    for (const [, block] of blocks) this.onRecord({ kind: 'block', block });
    for (const [, wait] of waits) this.onRecord(wait);
  }

  private flush(): void {
    if (this.block !== undefined) this.onRecord({ kind: 'block', block: this.block });
    this.block = undefined;
    this.stack = undefined;
  }

  // B	414293797963	416293860207	12980	12980	1	230	sleep
  // W	508724021126	508750573125	15285	15285
  // F	507342554605	15270	15270	access	-2	/tmp/simtest/data/IRIS/iris.cpf
  // C	508750573125	15285	15285	2318211	12
  // @cpuwait_ns[15270, 15270]: 2318211
  // Lost 12 events
  private readLine(line: string): void {
    if (line === '') return;
    const fields = line.split('\t');
    switch (fields[0]) {
      case 'B': {
        const numbers = fields.length >= 8 ? integers(fields.slice(1, 7)) : undefined;
        if (numbers === undefined) return this.bad(line);
        const [offNs, onNs, pid, tid, state, syscall] = numbers as [number, number, number, number, number, number];
        this.block = { offNs, onNs, pid, tid, state, syscall, comm: fields.slice(7).join('\t'), kernel: [], user: [] };
        return;
      }
      case 'W': {
        const numbers = fields.length === 5 ? integers(fields.slice(1)) : undefined;
        if (numbers === undefined) return this.bad(line);
        const [startNs, endNs, pid, tid] = numbers as [number, number, number, number];
        return this.onRecord({ kind: 'wait', startNs, endNs, pid, tid });
      }
      case 'F': {
        const numbers = fields.length >= 7 ? integers([fields[1]!, fields[2]!, fields[3]!, fields[5]!]) : undefined;
        if (numbers === undefined || fields[4] === '') return this.bad(line);
        const [timeNs, pid, tid, result] = numbers as [number, number, number, number];
        return this.onRecord({ kind: 'file', timeNs, pid, tid, call: fields[4]!, result, path: fields.slice(6).join('\t') });
      }
      case 'C': {
        const numbers = fields.length === 6 ? integers(fields.slice(1)) : undefined;
        if (numbers === undefined) return this.bad(line);
        const [timeNs, pid, tid, ns, count] = numbers as [number, number, number, number, number];
        return this.onRecord({ kind: 'cpuwait-delta', timeNs, pid, tid, ns, count });
      }
    }
    if (fields[0] === 'D' && fields.length === 2 && /^\d+$/.test(fields[1]!)) return this.flushKept(Number(fields[1]));
    if (fields[0] === 'T' && fields.length === 2 && /^\d+$/.test(fields[1]!)) return void (this.endNs = Number(fields[1]));
    const pending = PENDING_LINE.exec(line);
    if (pending !== null) {
      const block = this.pendingOf(Number(pending[1]));
      Object.assign(block, { offNs: Number(pending[2]), pid: Number(pending[3]), state: Number(pending[4]), syscall: Number(pending[5]), comm: pending[6]! });
      return;
    }
    const kept = KEPT_LINE.exec(line);
    if (kept !== null) {
      const block = this.keptOf(Number(kept[1]), Number(kept[2]));
      Object.assign(block, { onNs: Number(kept[3]), pid: Number(kept[4]), state: Number(kept[5]), syscall: Number(kept[6]), comm: kept[7]! });
      return;
    }
    const keptWait = KEPT_WAIT_LINE.exec(line);
    if (keptWait !== null) {
      const [tid, startNs, endNs, pid] = keptWait.slice(1, 5).map(Number) as [number, number, number, number];
      return void this.keptWaits.set(`w${tid}/${startNs}`, { kind: 'wait', startNs, endNs, pid, tid });
    }
    const keptStack = KEPT_STACK_LINE.exec(line);
    if (keptStack !== null) return void (this.pendingStack = this.keptOf(Number(keptStack[1]), Number(keptStack[2])).kernel);
    const runnable = PENDING_RUNNABLE_LINE.exec(line);
    if (runnable !== null) return void this.runnable.push({ tid: Number(runnable[1]), sinceNs: Number(runnable[2]), pid: Number(runnable[3]) });
    const stack = PENDING_STACK_LINE.exec(line);
    if (stack !== null) {
      const block = this.pendingOf(Number(stack[2]));
      this.pendingStack = stack[1] === 'kstack' ? block.kernel : block.user;
      return;
    }
    if (line.startsWith('@stop[')) return; // printed at exit, the same moment as T
    const wait = CPU_WAIT_LINE.exec(line);
    if (wait !== null) {
      const [pid, tid, value] = [Number(wait[2]), Number(wait[3]), Number(wait[4])];
      return this.onRecord(wait[1] === 'ns' ? { kind: 'cpuwait-total', pid, tid, ns: value } : { kind: 'cpuwait-count', pid, tid, count: value });
    }
    const lost = LOST_LINE.exec(line);
    if (lost !== null) return this.onRecord({ kind: 'lost', count: Number(lost[1]) });
    this.bad(line);
  }

  private bad(line: string): void {
    this.badLines++;
    if (this.badExamples.length < 3) this.badExamples.push(line.slice(0, 200));
  }
}

/** Prefix of the tracer's records inside a lifecycle capture (a `#` line: perf-script readers skip it). */
export const OFFCPU_LINE_PREFIX = '# irisflame-offcpu ';

const NANOS = 1e9;

/** Frames are joined as folded stacks are; a `;` or tab inside a name would split it, so it becomes `_`. */
function joinFrames(frames: readonly string[]): string {
  return frames.map((frame) => frame.replace(/[;\t\r\n]/g, '_')).join(';');
}

function clean(text: string): string {
  return text.replace(/[\t\r\n]/g, ' ');
}

/**
 * A blocked interval as a capture line; `user` are the resolved user frames, leaf first (user-frames.ts).
 *
 *     # irisflame-offcpu B	off_ns	duration_ns	pid	tid	state	syscall	comm	kernel frames root first	user frames root first[	open]
 *
 * `open`: still blocked when tracing stopped.
 */
export function formatBlockLine(block: TracedBlock, user: readonly string[]): string {
  const kernel = [...block.kernel].reverse();
  const userRootFirst = [...user].reverse();
  return (
    `${OFFCPU_LINE_PREFIX}B\t${block.offNs}\t${block.onNs - block.offNs}\t${block.pid}\t${block.tid}\t${block.state}\t` +
    `${block.syscall}\t${clean(block.comm)}\t${joinFrames(kernel)}\t${joinFrames(userRootFirst)}${block.open ? '\topen' : ''}`
  );
}

/** The other records, one line each; undefined for records that are summed first (cpuwait parts). */
export function formatRecordLine(record: Exclude<TracerRecord, { kind: 'block' }>): string | undefined {
  switch (record.kind) {
    case 'wait':
      return `${OFFCPU_LINE_PREFIX}W\t${record.startNs}\t${record.endNs - record.startNs}\t${record.pid}\t${record.tid}`;
    case 'file':
      return `${OFFCPU_LINE_PREFIX}F\t${record.timeNs}\t${record.pid}\t${record.tid}\t${record.call}\t${record.result}\t${clean(record.path)}`;
    case 'lost':
      return `${OFFCPU_LINE_PREFIX}L\t${record.count}`;
    default:
      return undefined;
  }
}

export function formatCpuWaitTotalLine(pid: number, tid: number, ns: number, count: number): string {
  return `${OFFCPU_LINE_PREFIX}C\t${pid}\t${tid}\t${ns}\t${count}`;
}

/** Why a part is missing: `off-cpu` or `files`, then the reason. */
export function formatUnavailableLine(part: 'off-cpu' | 'files', reason: string): string {
  return `${OFFCPU_LINE_PREFIX}U\t${part}\t${clean(reason)}`;
}

/** Builds an OffCpuCapture from capture lines (with or without the prefix). */
export class OffCpuCaptureReader {
  private readonly capture: OffCpuCapture = {
    blocked: [],
    cpuWaits: [],
    files: [],
    lost: 0,
    offCpuUnavailable: undefined,
    filesUnavailable: undefined,
  };
  private readonly waitsByTid = new Map<number, CpuWait>();
  /** Whether any off-CPU line was seen (a capture without them has no OffCpuCapture at all). */
  seen = false;

  /** Reads one line; false when it is not a well-formed record. */
  push(raw: string): boolean {
    const line = raw.startsWith(OFFCPU_LINE_PREFIX) ? raw.slice(OFFCPU_LINE_PREFIX.length) : raw;
    const fields = (line.endsWith('\r') ? line.slice(0, -1) : line).split('\t');
    this.seen = true;
    switch (fields[0]) {
      case 'B':
        return fields.length === 10 || (fields.length === 11 && fields[10] === 'open') ? this.onBlock(fields) : false;
      case 'W': {
        const numbers = fields.length === 5 ? integers(fields.slice(1)) : undefined;
        if (numbers === undefined) return false;
        const [start, duration, pid, tid] = numbers as [number, number, number, number];
        this.waitOf(pid, tid).long.push({ start: start / NANOS, duration: duration / NANOS });
        return true;
      }
      case 'C': {
        const numbers = fields.length === 5 ? integers(fields.slice(1)) : undefined;
        if (numbers === undefined) return false;
        const [pid, tid, ns, count] = numbers as [number, number, number, number];
        const wait = this.waitOf(pid, tid);
        wait.total += ns / NANOS;
        wait.count += count;
        return true;
      }
      case 'F':
        return fields.length >= 7 ? this.onFile(fields) : false;
      case 'L': {
        const numbers = fields.length === 2 ? integers(fields.slice(1)) : undefined;
        if (numbers === undefined) return false;
        this.capture.lost += numbers[0]!;
        return true;
      }
      case 'U':
        if (fields.length < 3) return false;
        if (fields[1] === 'off-cpu') this.capture.offCpuUnavailable = fields.slice(2).join(' ');
        else if (fields[1] === 'files') this.capture.filesUnavailable = fields.slice(2).join(' ');
        else return false;
        return true;
    }
    return false;
  }

  finish(): OffCpuCapture {
    this.capture.blocked.sort((a, b) => a.start - b.start);
    this.capture.files.sort((a, b) => a.time - b.time);
    this.capture.cpuWaits = [...this.waitsByTid.values()].sort((a, b) => a.pid - b.pid || a.tid - b.tid);
    for (const wait of this.capture.cpuWaits) wait.long.sort((a, b) => a.start - b.start);
    return this.capture;
  }

  private onBlock(fields: string[]): boolean {
    const numbers = integers(fields.slice(1, 7));
    if (numbers === undefined) return false;
    const [off, duration, pid, tid, state, syscall] = numbers as [number, number, number, number, number, number];
    if (duration < 0) return false;
    const interval: BlockedInterval = {
      start: off / NANOS,
      duration: duration / NANOS,
      pid,
      tid,
      comm: fields[7]!,
      state: stateLetter(state),
      syscall,
      reason: blockReason(state, syscall),
      kernelStack: fields[8] === '' ? [] : fields[8]!.split(';'),
      userStack: fields[9] === '' ? [] : fields[9]!.split(';'),
    };
    if (fields[10] === 'open') interval.open = true;
    this.capture.blocked.push(interval);
    return true;
  }

  private onFile(fields: string[]): boolean {
    const numbers = integers([fields[1]!, fields[2]!, fields[3]!, fields[5]!]);
    if (numbers === undefined || fields[4] === '') return false;
    const [time, pid, tid, result] = numbers as [number, number, number, number];
    const event: FileEvent = { time: time / NANOS, pid, tid, call: fields[4]!, path: fields.slice(6).join('\t'), result, errno: errnoName(result) };
    this.capture.files.push(event);
    return true;
  }

  private waitOf(pid: number, tid: number): CpuWait {
    let wait = this.waitsByTid.get(tid);
    if (wait === undefined) {
      wait = { pid, tid, total: 0, count: 0, long: [] };
      this.waitsByTid.set(tid, wait);
    } else if (wait.pid === tid && pid !== tid) {
      // A thread's wait from creation is filed under its own id (offcpu-program.ts): its process is this one.
      wait.pid = pid;
    }
    return wait;
  }
}
