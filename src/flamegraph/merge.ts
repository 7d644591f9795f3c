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
import type { FoldedStacks, StackKey } from '../collapse/types.js';

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
export function orderStacks(stacks: FoldedStacks, before: FoldedStacks | undefined, options: OrderOptions): OrderedStacks {
  let keys: StackKey[] = [...stacks.keys()];
  if (before) for (const key of before.keys()) if (!stacks.has(key)) keys.push(key);
  const weightOf = (key: StackKey): number => stacks.get(key) ?? 0;
  const deltaOf = (key: StackKey): number => weightOf(key) - (before?.get(key) ?? 0);
  let original: StackKey[] | undefined;
  if (options.reverse) {
    original = keys;
    keys = keys.map(reverseStack);
  }
  let order = keys.map((_, index) => index);
  if (!options.flamechart) order = sortedIndexes(keys);
  const count = order.length;
  const ordered: StackKey[] = new Array(count);
  const weights = new Float64Array(count);
  const deltas = before ? new Float64Array(count) : undefined;
  let total = 0;
  let maxDelta = 1;
  for (let i = 0; i < count; i++) {
    const index = order[i]!;
    const sourceKey = original ? original[index]! : keys[index]!;
    ordered[i] = options.chain ? markWakers(keys[index]!) : keys[index]!;
    weights[i] = weightOf(sourceKey);
    total += weights[i]!;
    if (deltas) {
      deltas[i] = deltaOf(sourceKey);
      maxDelta = Math.max(maxDelta, Math.abs(deltas[i]!));
    }
  }
  return { keys: ordered, weights, deltas, total, maxDelta };
}

/** Indexes of `keys` in byte order (latin1 strings compare byte-wise, like Perl's `sort`). */
function sortedIndexes(keys: StackKey[]): number[] {
  const order = keys.map((_, index) => index);
  order.sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
  return order;
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
  // The open frames, by depth: the path from the root to the previous stack's leaf.
  const openName: string[] = [''];
  const openStart: number[] = [0];
  const openDelta: number[] = [0];
  const openChildWeight: number[] = [0];
  // Where each open frame's name ends in the previous key, to find the shared prefix by offsets.
  const openEnd: number[] = [0];
  const differential = stacks.deltas !== undefined;
  let depth = 0; // depth of the deepest open frame
  let previous = '';
  let time = 0;

  const close = (to: number): void => {
    for (; depth > to; depth--) {
      const width = time - openStart[depth]!;
      openChildWeight[depth - 1]! += width;
      if (width < minWeight) continue;
      frames.push({
        name: openName[depth]!,
        depth,
        start: openStart[depth]!,
        end: time,
        self: width - openChildWeight[depth]!,
        delta: differential ? openDelta[depth] : undefined,
      });
    }
  };

  for (let s = 0; s < stacks.keys.length; s++) {
    const key = stacks.keys[s]!;
    let shared = sharedDepth(previous, key, openEnd, depth);
    // A shared name that is empty and last in `key` is not a frame of it ("a;;" is just a).
    while (shared > 0 && openName[shared] === '' && isTrailing(key, openEnd[shared]!)) shared--;
    close(shared);
    const firstNew = depth + 1;
    let offset = shared === 0 ? 0 : openEnd[shared]! + 1;
    while (offset < key.length) {
      let end = key.indexOf(SEPARATOR, offset);
      if (end === -1) end = key.length;
      depth++;
      openName[depth] = key.slice(offset, end);
      openStart[depth] = time;
      openDelta[depth] = 0;
      openChildWeight[depth] = 0;
      openEnd[depth] = end;
      offset = end + 1;
    }
    // Perl's split drops trailing empty names: "a;b;;" is a;b.
    while (depth >= firstNew && openName[depth] === '' && isTrailing(key, openEnd[depth]!)) depth--;
    if (stacks.deltas) {
      // The delta goes to the stack's leaf only if this stack opened it (the root opens with stack 0).
      if (depth >= firstNew) openDelta[depth] = stacks.deltas[s]!;
      else if (s === 0) openDelta[0] = stacks.deltas[s]!;
    }
    previous = key;
    time += stacks.weights[s]!;
  }
  close(0);
  const rootWidth = time;
  frames.push({
    name: '',
    depth: 0,
    start: 0,
    end: time,
    self: rootWidth - openChildWeight[0]!,
    delta: differential ? openDelta[0] : undefined,
  });
  return frames;
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
  const limit = Math.min(previous.length, key.length);
  let common = 0;
  while (common < limit && previous.charCodeAt(common) === key.charCodeAt(common)) common++;
  let shared = 0;
  while (shared < depth) {
    const end = openEnd[shared + 1]!;
    if (end < common) {
      shared++;
      continue;
    }
    if (end === common && (end === key.length || key.charCodeAt(end) === SEPARATOR_CODE)) {
      // key's frame also ends here; but a trailing-empty key ("a;") has no frame after the separator.
      shared++;
    }
    break;
  }
  return shared;
}
