/**
 * flamegraph.pl's flow (see merge.ts) run on the bytes of a sorted folded file, as they are read: no
 * string per line, no string per frame except for the frames that may be drawn.
 *
 * Three things make it fast on 200k deep stacks (bench/render.mjs):
 * - The previous line's bytes are kept in one scratch buffer and compared with the next line four
 *   bytes at a time (DataView reads, unaligned): sorted neighbours share most of their bytes, and this
 *   comparison also proves the order (strictly increasing, so no stack twice).
 * - A frame that closes narrower than the narrowest frame the graph could draw is dropped on the spot,
 *   without a name. The final threshold depends on the total, known only at the end; the threshold of
 *   the total so far is never larger (every scale grows with the total), so what is dropped early would
 *   have been dropped anyway, and the few kept too many are pruned again at the end (framesAtLeast).
 * - Only the bytes after the shared prefix are scanned for separators and copied.
 *
 * Anything unusual (a line the general parser would skip or note, two count columns, a stack out of
 * order, a count too large for exact doubles) throws GIVE_UP: the caller reads the input the general way.
 */
import { CountReader, isBlank } from '../collapse/folded.js';

/** Thrown to stop reading: the general path must take over. */
export const GIVE_UP = new Error('not the sorted folded fast path');

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const SEPARATOR = 0x3b;
/** A frame starting with `-` after a separator: bcc's `-d` delimiter, renamed with kernel annotations. */
const DASH = 0x2d;
/** Sums stay exact in doubles up to here; beyond, Perl's integer arithmetic needs the general path. */
const EXACT_LIMIT = Number.MAX_SAFE_INTEGER;
/** The threshold is updated each time the total has grown by this factor: rarely, and nearly as tight. */
const THRESHOLD_STEP = 1.03;
/** A native comparison costs a call: below this many bytes the word loop is as quick. */
const MIN_GUESS_BYTES = 64;
const MAX_GUESS_CREDIT = 8;
/** First size of the scratch line and of the open-frame arrays; both double as needed. */
const INITIAL_LINE_BYTES = 4096;
const INITIAL_DEPTH = 256;

/** Receives each kept frame as it closes, children before parents; the root (depth 0, name "") last. */
export interface FrameSink {
  add(name: string, depth: number, start: number, end: number, self: number): void;
}

export class SortedFoldedFlow {
  /** The previous stack's bytes, `[0, previousLength)`; a view for word-wise comparison. */
  private previous = Buffer.allocUnsafe(INITIAL_LINE_BYTES);
  private previousView = viewOf(this.previous);
  private previousLength = 0;
  /** The open frames by depth (1..depth): name offsets in the stack, start time, children's total width. */
  private nameStarts = new Int32Array(INITIAL_DEPTH);
  private nameEnds = new Int32Array(INITIAL_DEPTH);
  private starts = new Float64Array(INITIAL_DEPTH);
  private childWeights = new Float64Array(INITIAL_DEPTH);
  private depth = 0;
  private time = 0;
  /** Frames narrower than this are dropped as they close: the threshold of a total reached so far. */
  private threshold = 0;
  /** The threshold is worked out again once the total reaches this (a stale one only keeps more frames). */
  private thresholdDue = 0;
  private lines = 0;
  /** Whether the one-call guess in commonPrefix pays: up on hits, down on misses. */
  private guessCredit = 1;
  private readonly count = new CountReader();
  /** An unfinished line carried over to the next chunk. */
  private carry: Buffer[] = [];

  constructor(
    private readonly sink: FrameSink,
    /** The narrowest frame drawn were `total` the whole; must not decrease as `total` grows. */
    private readonly minWeightAt: (total: number) => number,
    /** Kernel annotations are on: a bcc-delimited stack would be renamed, so it gives up. */
    private readonly kernel: boolean,
  ) {}

  /** The sum of the counts so far, in order (as the general path adds them). */
  get total(): number {
    return this.time;
  }

  /** Stacks merged so far. */
  get stacks(): number {
    return this.lines;
  }

  /** The next bytes of the file; `chunk` may be reused by the caller once this returns. */
  push(chunk: Buffer): void {
    let start = 0;
    let newline = chunk.indexOf(NEWLINE);
    if (this.carry.length > 0) {
      if (newline === -1) {
        this.carry.push(Buffer.from(chunk));
        return;
      }
      this.carry.push(chunk.subarray(0, newline));
      const line = Buffer.concat(this.carry);
      this.carry = [];
      this.line(line, viewOf(line), 0, line.length);
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    const view = viewOf(chunk);
    while (newline !== -1) {
      this.line(chunk, view, start, newline);
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) this.carry.push(Buffer.from(chunk.subarray(start)));
  }

  /** The input ended: the last line (if it had no newline), then every frame closes, the root last. */
  finish(): void {
    if (this.carry.length > 0) {
      const line = Buffer.concat(this.carry);
      this.carry = [];
      this.line(line, viewOf(line), 0, line.length);
    }
    this.close(0);
    this.sink.add('', 0, 0, this.time, this.time - this.childWeights[0]!);
  }

  /** One line, `bytes[start, end)` without its newline: "java;Thread.run;Foo.bar 12". */
  private line(bytes: Buffer, view: DataView, start: number, lineEnd: number): void {
    const end = lineEnd > start && bytes[lineEnd - 1] === CARRIAGE_RETURN ? lineEnd - 1 : lineEnd;
    const count = this.count;
    const stackEnd = count.read(bytes, start, end);
    if (stackEnd === -1) {
      if (isBlank(bytes, start, end)) return;
      throw GIVE_UP;
    }
    const weight = count.value;
    if (stackEnd <= start || !(weight <= EXACT_LIMIT)) throw GIVE_UP;
    // The general parser looks for a second count column (a differential file) on its first line only.
    if (this.lines === 0 && count.read(bytes, start, stackEnd) !== -1) throw GIVE_UP;
    const length = stackEnd - start;
    const common = this.commonPrefix(bytes, view, start, length);
    // Strictly after the previous stack, byte-wise: the order the general path sorts into.
    if (common === length) throw GIVE_UP;
    if (common < this.previousLength && bytes[start + common]! < this.previous[common]!) throw GIVE_UP;

    let shared = this.sharedDepth(bytes, start, length, common);
    // A shared name that is empty and last in the stack is not a frame of it ("a;;" is just a).
    while (shared > 0 && this.isEmptyTrailing(shared, bytes, start, length)) shared--;
    this.close(shared);
    this.open(bytes, start, shared, common, length);
    this.previousLength = length;
    this.lines++;
    const time = this.time + weight;
    if (!(time <= EXACT_LIMIT)) throw GIVE_UP;
    this.time = time;
    if (time >= this.thresholdDue) {
      this.threshold = this.minWeightAt(time);
      this.thresholdDue = time * THRESHOLD_STEP;
    }
  }

  /**
   * Bytes this stack shares with the previous one. Where stacks mostly differ only in their last frame
   * (shallow profiles), one native comparison of everything before the previous stack's last frame
   * settles most of it; the rest is compared four bytes at a time.
   */
  private commonPrefix(bytes: Buffer, view: DataView, start: number, length: number): number {
    const limit = length < this.previousLength ? length : this.previousLength;
    const previous = this.previous;
    const previousView = this.previousView;
    let common = 0;
    const guess = this.nameStarts[this.depth]!;
    if (this.guessCredit > 0 && guess > MIN_GUESS_BYTES && guess <= limit) {
      if (bytes.compare(previous, 0, guess, start, start + guess) === 0) {
        common = guess;
        if (this.guessCredit < MAX_GUESS_CREDIT) this.guessCredit++;
      } else {
        this.guessCredit -= MAX_GUESS_CREDIT;
      }
    } else if (this.guessCredit <= 0 && ++this.guessCredit > 0) {
      // Retried now and then, so a profile whose shape changes along the file gets it back.
      this.guessCredit = 1;
    }
    while (common + 4 <= limit && view.getInt32(start + common) === previousView.getInt32(common)) common += 4;
    while (common < limit && bytes[start + common] === previous[common]) common++;
    return common;
  }

  /**
   * Open frames (not counting the root) this stack shares with the previous one: those ending before the
   * first difference (binary search: deep stacks would make a walk from the root quadratic), and the next
   * one if it ends right at the difference and this stack has a separator (or its end) there.
   */
  private sharedDepth(bytes: Buffer, start: number, length: number, common: number): number {
    const nameEnds = this.nameEnds;
    let low = 0;
    let high = this.depth;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (nameEnds[middle]! < common) low = middle;
      else high = middle - 1;
    }
    if (low < this.depth) {
      const end = nameEnds[low + 1]!;
      if (end === common && (end === length || bytes[start + end] === SEPARATOR)) low++;
    }
    return low;
  }

  /** Close the open frames deeper than `to`, keeping those at least `threshold` wide. */
  private close(to: number): void {
    const time = this.time;
    const { starts, childWeights, nameStarts, nameEnds } = this;
    for (let depth = this.depth; depth > to; depth--) {
      const start = starts[depth]!;
      const width = time - start;
      childWeights[depth - 1]! += width;
      if (width >= this.threshold) {
        const name = latin1(this.previous, nameStarts[depth]!, nameEnds[depth]!);
        this.sink.add(name, depth, start, time, width - childWeights[depth]!);
      }
    }
    if (this.depth > to) this.depth = to;
  }

  /**
   * Open a frame for each name after the `shared` ones, copying the stack's bytes over the previous
   * stack's as they are scanned (those before `common` are the same already); drop trailing empty names
   * as Perl's split does.
   */
  private open(bytes: Buffer, start: number, shared: number, common: number, length: number): void {
    if (length > this.previous.length) this.growPrevious(length, common);
    const previous = this.previous;
    const firstNew = shared + 1;
    let depth = shared;
    let offset = shared === 0 ? 0 : this.nameEnds[shared]! + 1;
    // The separator closing the last shared name, when the previous stack ended right before it.
    if (common < offset) previous[common] = bytes[start + common]!;
    const time = this.time;
    while (offset < length) {
      let end = offset;
      for (; end < length; end++) {
        const byte = bytes[start + end]!;
        previous[end] = byte;
        if (byte === SEPARATOR) break;
      }
      if (this.kernel && offset > 0 && bytes[start + offset] === DASH) throw GIVE_UP;
      depth++;
      if (depth === this.nameEnds.length) this.growDepth();
      this.nameStarts[depth] = offset;
      this.nameEnds[depth] = end;
      this.starts[depth] = time;
      this.childWeights[depth] = 0;
      offset = end + 1;
    }
    while (depth >= firstNew && this.isEmptyTrailing(depth, bytes, start, length)) depth--;
    this.depth = depth;
  }

  private growPrevious(length: number, common: number): void {
    let size = this.previous.length * 2;
    while (size < length) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.previous.copy(grown, 0, 0, common);
    this.previous = grown;
    this.previousView = viewOf(grown);
  }

  /** The frame at `depth` has an empty name followed only by separators up to the stack's end. */
  private isEmptyTrailing(depth: number, bytes: Buffer, start: number, length: number): boolean {
    const end = this.nameEnds[depth]!;
    if (this.nameStarts[depth] !== end) return false;
    for (let i = end; i < length; i++) if (bytes[start + i] !== SEPARATOR) return false;
    return true;
  }

  private growDepth(): void {
    const size = this.nameEnds.length * 2;
    const grown = <T extends Int32Array | Float64Array>(old: T, fresh: T): T => {
      fresh.set(old);
      return fresh;
    };
    this.nameStarts = grown(this.nameStarts, new Int32Array(size));
    this.nameEnds = grown(this.nameEnds, new Int32Array(size));
    this.starts = grown(this.starts, new Float64Array(size));
    this.childWeights = grown(this.childWeights, new Float64Array(size));
  }
}

function viewOf(buffer: Buffer): DataView {
  return new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** Buffer's own latin1 decoder, without `toString`'s argument checks. */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: (start: number, end: number) => string }).latin1Slice;
function latin1(buffer: Buffer, start: number, end: number): string {
  return latin1Slice ? latin1Slice.call(buffer, start, end) : buffer.toString('latin1', start, end);
}
