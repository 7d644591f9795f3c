/**
 * The warm off-CPU tracer's recent past: the records of a long-running tracer (offcpu-program.ts `warm`)
 * kept for the last few seconds, bounded by age, count and bytes, so that a recording begun at a trigger
 * (the agent's flight recorder) takes the blocked intervals, CPU waits and file lookups from before it, and
 * a crash record has what happened before the death. Times are bpftrace's `nsecs` (CLOCK_MONOTONIC).
 *
 * Also kept: when the tracer was down, so a window that overlaps such a gap says its waits are missing.
 * While nothing happens the tracer keeps blocked intervals in the kernel and prints none (unarmed): they reach
 * the ring when something arms it, printed late: entries are in arrival order, so such an interval ages out
 * behind the newer ones printed before it (the count and byte bounds hold regardless).
 */
import { TracerLineReader, formatCpuWaitTotalLine, formatRecordLine, type TracedBlock, type TracerRecord } from './offcpu-lines.js';
import type { OffCpuTrace } from './offcpu-tracer.js';
import { WARM_GENERATION_SECONDS } from './offcpu-program.js';

export interface OffCpuRingLimits {
  /** Records older than this (by the time they end) are dropped. */
  seconds: number;
  /** At most this many records… */
  maxRecords: number;
  /** …and about this many bytes of JavaScript heap for them (sizeOf: what an entry really costs, not its text). */
  maxBytes: number;
}

/**
 * 16 MiB of heap. The bound used to count the records' text: filled, the ring held ~8x that in heap (a record's
 * frames are one string each, ~100 bytes of headers and slices apiece), ~135 MiB for 16 MiB counted, more than
 * the agent's whole 120 MB target. Entries now keep their frames joined (see Entry) and count their real cost.
 */
export const DEFAULT_RING_LIMITS: OffCpuRingLimits = { seconds: 30, maxRecords: 100_000, maxBytes: 16 * 1024 * 1024 };

/** What a window of the ring holds. */
export interface OffCpuWindow {
  trace: OffCpuTrace;
  /** The tracer was down for the whole window: why. */
  unavailable: string | undefined;
  /** One line each about what the window misses (tracer down for part of it, records dropped by the bounds). */
  notes: string[];
}

interface Entry {
  /** When the record ends (ns): what ages it out and places it in a window. */
  endNs: number;
  bytes: number;
  /** A block's frames are kept in `frames` (its arrays emptied) and rebuilt when a window takes it. */
  record: TracerRecord;
  /**
   * A block's kernel frames, then its user frames, one flat string (FRAME_JOINER between frames, KERNEL_USER
   * between the two stacks): one string instead of one per frame, and a copy, so the slices of bpftrace's
   * output chunk the frames were cut from do not keep the chunk alive.
   */
  frames?: string;
}

/** Frames come from lines, so they hold no newline; a form feed is as unlikely and marks the stack boundary. */
const FRAME_JOINER = '\n';
const KERNEL_USER = '\f';

interface Gap {
  fromNs: number;
  toNs: number | undefined;
  reason: string;
}

const NANOS = 1e9;
const MAX_GAPS = 64;

/** CLOCK_MONOTONIC in ns, bpftrace's `nsecs` clock (Node's hrtime reads the same clock on Linux). */
export function monotonicNs(): number {
  return Number(process.hrtime.bigint());
}

export class OffCpuRing {
  private entries: Entry[] = [];
  private head = 0;
  private bytes = 0;
  private readonly gaps: Gap[] = [];
  /** The warm tracer's armings from unarmed: how far back what it had kept reached (see `take`'s notes). */
  private readonly armings: Array<{ timeNs: number; keptFromNs: number }> = [];
  /** The oldest time a record was dropped for count or bytes (not age): windows reaching back there miss some. */
  private droppedUntilNs = 0;
  private reader: TracerLineReader;
  /** Lines earlier readers could not read (counted, a few kept). */
  private badLines = 0;
  private readonly badExamples: string[] = [];
  private badReported = 0;

  constructor(
    private readonly limits: OffCpuRingLimits = DEFAULT_RING_LIMITS,
    private readonly now: () => number = monotonicNs,
  ) {
    this.reader = this.newReader();
  }

  /** One line of the tracer's output (a blocked interval spans several). */
  push(line: string): void {
    this.reader.push(line);
  }

  /** The tracer stopped (died, could not start): records end here until `up()`. */
  down(reason: string): void {
    this.reader.finish();
    // A new reader for the next tracer (a cut interval must not swallow its first line); its counts are kept.
    this.badLines += this.reader.badLines;
    for (const example of this.reader.badExamples) if (this.badExamples.length < 3) this.badExamples.push(example);
    this.reader = this.newReader();
    const last = this.gaps[this.gaps.length - 1];
    if (last !== undefined && last.toNs === undefined) return;
    this.gaps.push({ fromNs: this.now(), toNs: undefined, reason });
    if (this.gaps.length > MAX_GAPS) this.gaps.shift();
  }

  up(): void {
    const last = this.gaps[this.gaps.length - 1];
    if (last !== undefined && last.toNs === undefined) last.toNs = this.now();
  }

  /** Records held now (tests, metrics). */
  get size(): { records: number; bytes: number } {
    return { records: this.entries.length - this.head, bytes: this.bytes };
  }

  /**
   * What the tracer saw between fromNs and toNs: blocked intervals and long CPU waits that overlap it, cut to
   * it (an interval still going on at toNs ends there, `open`); file lookups inside it; CPU-wait sums printed
   * inside it (a thread's sum is printed when it next blocks or exits: offcpu-program.ts `warm`).
   */
  take(fromNs: number, toNs: number): OffCpuWindow {
    // Unreadable lines since the previous window (each record's log says how many; not the same ones again).
    const bad = this.badLines + this.reader.badLines;
    const trace: OffCpuTrace = { blocks: [], lines: [], snoopLines: [], lost: 0, badLines: bad - this.badReported, badExamples: [...this.badExamples, ...this.reader.badExamples].slice(0, 3) };
    this.badReported = bad;
    const waits = new Map<string, { pid: number; tid: number; ns: number; count: number }>();
    for (let index = this.head; index < this.entries.length; index++) {
      const { record, frames } = this.entries[index]!;
      switch (record.kind) {
        case 'block': {
          const block = frames === undefined ? record.block : withFrames(record.block, frames);
          if (block.onNs < fromNs || block.offNs > toNs) continue;
          const cut: TracedBlock = { ...block, offNs: Math.max(block.offNs, fromNs), onNs: Math.min(block.onNs, toNs) };
          if (block.onNs > toNs) cut.open = true;
          trace.blocks.push(cut);
          continue;
        }
        case 'wait': {
          if (record.endNs < fromNs || record.startNs > toNs) continue;
          const line = formatRecordLine({ ...record, startNs: Math.max(record.startNs, fromNs), endNs: Math.min(record.endNs, toNs) });
          if (line !== undefined) trace.lines.push(line);
          continue;
        }
        case 'file': {
          if (record.timeNs < fromNs || record.timeNs > toNs) continue;
          const line = formatRecordLine(record);
          if (line !== undefined) trace.lines.push(line);
          continue;
        }
        case 'cpuwait-delta': {
          if (record.timeNs < fromNs || record.timeNs > toNs) continue;
          const key = `${record.pid}/${record.tid}`;
          const sum = waits.get(key) ?? { pid: record.pid, tid: record.tid, ns: 0, count: 0 };
          sum.ns += record.ns;
          sum.count += record.count;
          waits.set(key, sum);
          continue;
        }
        case 'lost': {
          if (this.entries[index]!.endNs < fromNs || this.entries[index]!.endNs > toNs) continue;
          trace.lost += record.count;
          const line = formatRecordLine(record);
          if (line !== undefined) trace.lines.push(line);
          continue;
        }
        default:
          continue; // END's sums and counts: a warm tracer prints none
      }
    }
    for (const wait of waits.values()) trace.lines.push(formatCpuWaitTotalLine(wait.pid, wait.tid, wait.ns, wait.count));

    const notes: string[] = [
      'CPU-wait sums are those each thread printed inside this window (when it blocked while the tracer was armed, or exited), each covering its waits since it last printed one',
    ];
    let unavailable: string | undefined;
    const seconds = (ns: number): string => `${((ns - fromNs) / NANOS).toFixed(3)} s`;
    for (const gap of this.gaps) {
      const gapEnd = gap.toNs ?? Number.POSITIVE_INFINITY;
      if (gapEnd < fromNs || gap.fromNs > toNs) continue;
      if (gap.fromNs <= fromNs && gapEnd >= toNs) unavailable = `the off-CPU tracer was down (${gap.reason})`;
      else {
        const to = gap.toNs === undefined || gap.toNs > toNs ? 'the end' : seconds(gap.toNs);
        notes.push(`no blocked intervals, CPU waits or file lookups from ${gap.fromNs <= fromNs ? 'the start' : seconds(gap.fromNs)} to ${to}: the off-CPU tracer was down (${gap.reason})`);
      }
    }
    // Unarmed, the tracer prints nothing; an arming prints what it kept, from one to two generations back.
    // A window reaching back past that (a crash's pre-window) has no blocked intervals there, back to the last
    // one printed before (armed earlier in the window) or to its start.
    const arming = this.armings.find((armed) => armed.timeNs >= fromNs && armed.timeNs <= toNs);
    if (arming !== undefined && arming.keptFromNs > fromNs) {
      let printedUntil = fromNs;
      for (const block of trace.blocks) if (block.onNs < arming.keptFromNs && block.onNs > printedUntil) printedUntil = block.onNs;
      notes.push(
        `no blocked intervals from ${printedUntil === fromNs ? 'the start' : seconds(printedUntil)} to ${seconds(arming.keptFromNs)}: the warm tracer was unarmed (nothing under way), ` +
          `and its arming at ${seconds(arming.timeNs)} printed those it had kept in the kernel, the last one to two generations of ${WARM_GENERATION_SECONDS} s`,
      );
    }
    if (this.droppedUntilNs >= fromNs) notes.push(`off-CPU records before ${seconds(this.droppedUntilNs)} were dropped: the agent keeps at most ${this.limits.maxRecords} records / ${this.limits.maxBytes} bytes`);
    const oldest = this.entries[this.head];
    if (oldest !== undefined && oldest.endNs > fromNs && this.droppedUntilNs < fromNs && fromNs < this.now() - this.limits.seconds * NANOS) {
      notes.push(`off-CPU records are kept for ${this.limits.seconds} s: the window's first ${((this.now() - this.limits.seconds * NANOS - fromNs) / NANOS).toFixed(1)} s has none`);
    }
    return { trace, unavailable, notes };
  }

  private newReader(): TracerLineReader {
    return new TracerLineReader((record) => this.add(record));
  }

  private add(record: TracerRecord): void {
    if (record.kind === 'armed') {
      this.armings.push({ timeNs: record.timeNs, keptFromNs: record.keptFromNs });
      if (this.armings.length > MAX_GAPS) this.armings.shift();
      return;
    }
    const endNs = endOf(record) ?? this.latestNs();
    const entry: Entry = record.kind === 'block' ? compactBlock(record.block, endNs) : { endNs, bytes: sizeOf(record), record };
    this.entries.push(entry);
    this.bytes += entry.bytes;
    this.evict(endNs - this.limits.seconds * NANOS);
  }

  /**
   * Drop what is older than `seconds` now, even if the tracer prints nothing new: after a burst (a recorded
   * restart) a quiet tracer would otherwise keep the burst, up to maxBytes, for as long as it stays quiet.
   * The agent calls this every few seconds (the flight recorder's RING_EXPIRE_MS).
   */
  expire(): void {
    this.evict(this.now() - this.limits.seconds * NANOS);
  }

  private evict(oldest: number): void {
    while (this.head < this.entries.length) {
      const first = this.entries[this.head]!;
      const over = this.entries.length - this.head > this.limits.maxRecords || this.bytes > this.limits.maxBytes;
      if (!over && first.endNs >= oldest) break;
      if (over) this.droppedUntilNs = Math.max(this.droppedUntilNs, first.endNs);
      this.bytes -= first.bytes;
      this.head++;
    }
    // Compact now and then: the array is a queue (emptied at once, so a quiet ring holds nothing it dropped).
    if (this.head === this.entries.length) {
      this.entries = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  private latestNs(): number {
    return this.entries[this.entries.length - 1]?.endNs ?? this.now();
  }
}

function endOf(record: TracerRecord): number | undefined {
  switch (record.kind) {
    case 'block':
      return record.block.onNs;
    case 'wait':
      return record.endNs;
    case 'file':
    case 'cpuwait-delta':
      return record.timeNs;
    default:
      return undefined;
  }
}

/**
 * About the heap a record's entry holds: the entry, the record and its numbers (measured with V8 on x64, Node 20: a
 * block's ~570 bytes, a wait's or a sum's ~150; test/kernel/offcpu-ring.test.ts checks the bound against the
 * heap a filled ring holds) plus its strings, at up to two bytes a character (V8 stores a string with any
 * character past U+00FF in two).
 */
const BLOCK_OVERHEAD = 640;
const ENTRY_OVERHEAD = 160;
const STRING_HEADER = 24;
function sizeOf(record: TracerRecord): number {
  if (record.kind === 'file') return ENTRY_OVERHEAD + STRING_HEADER * 2 + 2 * (record.path.length + record.call.length);
  return ENTRY_OVERHEAD;
}

/** A block's entry with its frames in one flat string (Entry.frames) and its comm copied out of its line. */
function compactBlock(block: TracedBlock, endNs: number): Entry {
  const frames = flatCopy(`${block.kernel.join(FRAME_JOINER)}${KERNEL_USER}${block.user.join(FRAME_JOINER)}`);
  const comm = flatCopy(block.comm);
  const record: TracerRecord = { kind: 'block', block: { ...block, comm, kernel: [], user: [] } };
  return { endNs, bytes: BLOCK_OVERHEAD + 2 * STRING_HEADER + 2 * (frames.length + comm.length), record, frames };
}

function withFrames(block: TracedBlock, frames: string): TracedBlock {
  const [kernel = '', user = ''] = frames.split(KERNEL_USER);
  return { ...block, kernel: kernel === '' ? [] : kernel.split(FRAME_JOINER), user: user === '' ? [] : user.split(FRAME_JOINER) };
}

/**
 * A copy that shares no memory with `text`: V8 may keep a substring (slice, split, trim) or a concatenation
 * as a view into its parent, which then lives as long as the view (here: bpftrace's whole output chunk); a
 * UTF-8 round trip through a Buffer always builds a new flat string. For strings kept long (rings).
 */
export function flatCopy(text: string): string {
  return text.length === 0 ? '' : Buffer.from(text, 'utf8').toString('utf8');
}
