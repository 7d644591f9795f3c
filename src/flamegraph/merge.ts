/**
 * Folded stacks → frames. Stacks are put in order (sorted byte-wise, or the input's order for a flame
 * chart), then walked once: a frame opens where a stack stops sharing the previous stack's prefix and
 * closes where the next one stops sharing it. That is flamegraph.pl's `flow`, so every frame gets the
 * same start and end (in count units) as there, on the same input.
 *
 * The frames form a tree held flat: each has a depth and a [start, end) interval nested inside its
 * parent's. Frames are emitted when they close (children before parents); frames narrower than
 * `minWeight` are dropped at once, so a 200k-stack profile never materialises its invisible leaves.
 */
import { addPerlCounts, perlRoundTrip, subtractPerlCounts, type PerlCount } from '../collapse/perl-number.js';
import type { ExactCounts, FoldedStacks, StackKey } from '../collapse/types.js';

export interface Frame {
  /** The frame's name as in the stack key: a latin1 string of raw bytes (decode for display). */
  name: string;
  /** 0 for the root ("all"), 1 for the first frame of each stack, … */
  depth: number;
  /** Interval on the count axis; `end - start` is the frame's total weight. */
  start: number;
  end: number;
  /** Weight of stacks ending exactly at this frame. */
  self: number;
  /**
   * Differential graphs only: after − before, counted on the frame a stack ends at when that stack
   * opened it (flamegraph.pl's rule, so colours agree with it). Undefined for plain graphs.
   */
  delta: number | undefined;
  /**
   * Only when counts go past 2^53: the width flamegraph.pl prints in the title, which differs from
   * `end - start` there (Perl sums exactly to 2^64, and its end times pass through a `%.15g` string).
   */
  samples?: number;
}

/** Stacks in the order they are merged, with their weights. */
export interface OrderedStacks {
  keys: StackKey[];
  /** Weight of each key (for a differential graph, the "after" weight). */
  weights: Float64Array;
  /** Differential graphs: after − before per key. */
  deltas: Float64Array | undefined;
  /** Sum of the weights, added in merge order (as flamegraph.pl does, for identical rounding). */
  total: number;
  /** Largest |after − before|, at least 1 (the differential colour scale's end). */
  maxDelta: number;
  /** Only when counts go past 2^53: each key's weight as Perl holds it (exact integers to 2^64 - 1). */
  exactWeights?: PerlCount[];
}

export interface OrderOptions {
  /** Reverse each stack (leaf first) before ordering. */
  reverse: boolean;
  /** Keep the input's order (a flame chart) instead of sorting. */
  flamechart: boolean;
  /** Mark waker frames `_[w]` after each `--` separator (flamegraph.pl's `chain` palette hack). */
  chain: boolean;
}

const SEPARATOR = ';';
const SEPARATOR_CODE = 0x3b;

/** Put the stacks in merge order and compute their weights, total and differential deltas. */
export function orderStacks(
  stacks: FoldedStacks,
  before: FoldedStacks | undefined,
  options: OrderOptions,
  /** Exact sums past 2^53 of `stacks` (CollapseResult.exact), for titles as flamegraph.pl prints them. */
  exact?: ExactCounts,
): OrderedStacks {
  // Weights by the key that is merged (the reversed one with `reverse`), from one pass over the input.
  let weights: FoldedStacks = stacks;
  let befores: FoldedStacks | undefined = before;
  if (before) {
    weights = new Map(stacks);
    for (const key of before.keys()) if (!weights.has(key)) weights.set(key, 0);
  }
  if (options.reverse) {
    weights = reverseKeys(weights);
    befores = before && reverseKeys(before);
  }
  const keys = [...weights.keys()];
  // Plain `sort()` compares strings natively, faster than any comparator; latin1 keys sort byte-wise,
  // as Perl sorts UTF-8 text. (Perl sorts whole lines, count included: the orders differ only where a
  // key continues another with a byte below the space, i.e. a control character.)
  if (!options.flamechart) keys.sort();
  const count = keys.length;
  const weightOf = new Float64Array(count);
  const deltas = befores ? new Float64Array(count) : undefined;
  let total = 0;
  let maxDelta = 1;
  for (let i = 0; i < count; i++) {
    const weight = weights.get(keys[i]!)!;
    weightOf[i] = weight;
    total += weight;
    if (deltas) {
      const delta = weight - (befores!.get(keys[i]!) ?? 0);
      deltas[i] = delta;
      if (Math.abs(delta) > maxDelta) maxDelta = Math.abs(delta);
    }
  }
  const ordered = options.chain ? keys.map(markWakers) : keys;
  if (total <= Number.MAX_SAFE_INTEGER && !(exact && exact.size > 0)) return { keys: ordered, weights: weightOf, deltas, total, maxDelta };
  // Past 2^53, Perl's sums stay exact where doubles would not: carry each weight as Perl holds it.
  const exactWeights: PerlCount[] = keys.map((key, i) => (options.reverse ? undefined : exact?.get(key)) ?? weightOf[i]!);
  const exactTotal = exactWeights.reduce<PerlCount>((sum, weight) => addPerlCounts(sum, weight), 0);
  return { keys: ordered, weights: weightOf, deltas, total: Number(exactTotal), maxDelta, exactWeights };
}

/** The same weights under reversed keys; two keys that reverse alike add up, as lines would in Perl. */
function reverseKeys(stacks: FoldedStacks): FoldedStacks {
  const reversed: FoldedStacks = new Map();
  for (const [key, weight] of stacks) {
    const flipped = reverseStack(key);
    reversed.set(flipped, (reversed.get(flipped) ?? 0) + weight);
  }
  return reversed;
}

/** Perl's `join(";", reverse split(";", $stack))`: split drops trailing empty names. */
export function reverseStack(key: StackKey): StackKey {
  return splitFrames(key).reverse().join(SEPARATOR);
}

/** Perl's `split ";", $stack`: trailing empty fields are dropped, inner and leading ones kept. */
export function splitFrames(key: StackKey): string[] {
  const parts = key.split(SEPARATOR);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** flamegraph.pl's chain hack: frames after each `--` separator are wakers, annotated `_[w]`. */
function markWakers(key: StackKey): StackKey {
  const parts = key.split(';--;');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  const first = parts.shift() ?? '';
  const wakers = parts.map((part) => `${part.replaceAll(';', '_[w];')}_[w]`);
  return `${first};--;${wakers.join(';--;')}`;
}

/**
 * Merge ordered stacks into frames, dropping frames whose width (end − start) is below `minWeight`.
 * The root spans everything and is always kept; it is emitted last.
 */
export function mergeStacks(stacks: OrderedStacks, minWeight: number): Frame[] {
  const frames: Frame[] = [];
  const differential = stacks.deltas !== undefined;
  // A frame's name is sliced only if the frame is kept: most frames of a big profile are too narrow to draw.
  const exactWeights = stacks.exactWeights;
  const flow = new FrameFlow((key, nameStart, nameEnd, depth, start, end, self, delta, samples) => {
    if (depth > 0 && end - start < minWeight) return;
    const frame: Frame = { name: key.slice(nameStart, nameEnd), depth, start, end, self, delta: differential ? delta : undefined };
    if (samples !== undefined) frame.samples = samples;
    frames.push(frame);
  }, exactWeights !== undefined);
  const deltas = stacks.deltas;
  for (let s = 0; s < stacks.keys.length; s++) {
    flow.add(stacks.keys[s]!, stacks.weights[s]!, deltas ? deltas[s] : undefined, exactWeights?.[s]);
  }
  flow.finish();
  return frames;
}

/**
 * Receives each frame as it closes, children before parents, the root (depth 0, empty name) last. The
 * name is `key.slice(nameStart, nameEnd)`, left to the sink so that dropped frames cost no string.
 */
export type FrameSink = (
  key: string,
  nameStart: number,
  nameEnd: number,
  depth: number,
  start: number,
  end: number,
  self: number,
  delta: number,
  /** Counts past 2^53 only: the width flamegraph.pl prints in the title (see Frame.samples). */
  samples: number | undefined,
) => void;

/**
 * flamegraph.pl's flow over stacks given one at a time, in merge order. It keeps only the open frames
 * (the path from the root to the previous stack's leaf), so a caller can merge stacks as it reads them.
 */
export class FrameFlow {
  // The open frames, by depth; a name is kept as offsets into the key that opened it.
  private readonly openKey: string[] = [''];
  private readonly openNameStart: number[] = [0];
  private readonly openEnd: number[] = [0];
  private readonly openStart: number[] = [0];
  private readonly openDelta: number[] = [0];
  private readonly openChildWeight: number[] = [0];
  /** Depth of the deepest open frame. */
  private depth = 0;
  private previous = '';
  private time = 0;
  private stacks = 0;
  /** With `exact`: the time as Perl sums it, and each open frame's start as such. */
  private perlTime: PerlCount = 0;
  private readonly openPerlStart: PerlCount[] = [0];

  constructor(
    private readonly sink: FrameSink,
    /** Counts go past 2^53: keep Perl's exact times too, for the titles. */
    private readonly exact = false,
  ) {}

  /** The sum of the weights added so far, in order. */
  get total(): number {
    return this.time;
  }

  /** Add the next stack; `delta` (differential graphs) goes to its leaf if this stack opened it. */
  add(key: StackKey, weight: number, delta: number | undefined, exactWeight?: PerlCount): void {
    let shared = sharedDepth(this.previous, key, this.openEnd, this.depth);
    // A shared name that is empty and last in `key` is not a frame of it ("a;;" is just a).
    while (shared > 0 && this.isEmptyTrailing(shared, key)) shared--;
    this.close(shared);
    const firstNew = this.depth + 1;
    let depth = this.depth;
    let offset = shared === 0 ? 0 : this.openEnd[shared]! + 1;
    while (offset < key.length) {
      let end = key.indexOf(SEPARATOR, offset);
      if (end === -1) end = key.length;
      depth++;
      this.openKey[depth] = key;
      this.openNameStart[depth] = offset;
      this.openEnd[depth] = end;
      this.openStart[depth] = this.time;
      this.openDelta[depth] = 0;
      this.openChildWeight[depth] = 0;
      if (this.exact) this.openPerlStart[depth] = this.perlTime;
      offset = end + 1;
    }
    // Perl's split drops trailing empty names: "a;b;;" is a;b.
    while (depth >= firstNew && this.isEmptyTrailing(depth, key)) depth--;
    this.depth = depth;
    if (delta !== undefined) {
      // The root opens with the first stack.
      if (depth >= firstNew) this.openDelta[depth] = delta;
      else if (this.stacks === 0) this.openDelta[0] = delta;
    }
    this.stacks++;
    this.previous = key;
    this.time += weight;
    if (this.exact) this.perlTime = addPerlCounts(this.perlTime, exactWeight ?? weight);
  }

  /** Close every frame, the root last. */
  finish(): void {
    this.close(0);
    this.sink('', 0, 0, 0, 0, this.time, this.time - this.openChildWeight[0]!, this.openDelta[0]!, undefined);
  }

  private close(to: number): void {
    const time = this.time;
    // flamegraph.pl keys a closed frame by its end time as a string, read back for the title.
    const perlEnd = this.exact ? perlRoundTrip(this.perlTime) : 0;
    for (let depth = this.depth; depth > to; depth--) {
      const start = this.openStart[depth]!;
      const width = time - start;
      this.openChildWeight[depth - 1]! += width;
      const key = this.openKey[depth]!;
      const samples = this.exact ? Number(subtractPerlCounts(perlEnd, this.openPerlStart[depth]!)) : undefined;
      this.sink(key, this.openNameStart[depth]!, this.openEnd[depth]!, depth, start, time, width - this.openChildWeight[depth]!, this.openDelta[depth]!, samples);
    }
    if (this.depth > to) this.depth = to;
  }

  private isEmptyTrailing(depth: number, key: string): boolean {
    return this.openNameStart[depth] === this.openEnd[depth] && isTrailing(key, this.openEnd[depth]!);
  }
}

/** True when only separators follow `offset` in `key`. */
function isTrailing(key: string, offset: number): boolean {
  for (let i = offset; i < key.length; i++) if (key.charCodeAt(i) !== SEPARATOR_CODE) return false;
  return true;
}

/**
 * How many frames (not counting the root) `key` shares with `previous`, whose open frames end at
 * `openEnd[1..depth]`: a frame is shared when both keys agree up to its end and both have a separator
 * (or their end) right there.
 */
function sharedDepth(previous: string, key: string, openEnd: number[], depth: number): number {
  const common = commonPrefixLength(previous, key);
  // Frames whose name ends before the first difference are shared: binary search, since deep stacks
  // (thousands of frames) would make a walk from the root quadratic.
  let low = 0;
  let high = depth;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (openEnd[middle]! < common) low = middle;
    else high = middle - 1;
  }
  let shared = low;
  // The next frame may end exactly at the difference: shared when `key` has a separator (or ends) there.
  if (shared < depth) {
    const end = openEnd[shared + 1]!;
    if (end === common && (end === key.length || key.charCodeAt(end) === SEPARATOR_CODE)) shared++;
  }
  return shared;
}

/** Smallest block compared as a substring; below it, characters are compared one by one. */
const MIN_BLOCK = 16;

/**
 * Length of the common prefix of two keys. Sorted neighbours share hundreds of characters; comparing
 * galloping blocks as substrings (a native comparison) instead of char by char made this 4x faster on
 * the 200k-stack benchmark input (bench/render.mjs).
 */
export function commonPrefixLength(a: string, b: string): number {
  const limit = Math.min(a.length, b.length);
  let common = 0;
  let block = MIN_BLOCK;
  while (common + block <= limit && a.substring(common, common + block) === b.substring(common, common + block)) {
    common += block;
    block *= 2;
  }
  while (block > MIN_BLOCK) {
    block >>= 1;
    if (common + block <= limit && a.substring(common, common + block) === b.substring(common, common + block)) common += block;
  }
  while (common < limit && a.charCodeAt(common) === b.charCodeAt(common)) common++;
  return common;
}
