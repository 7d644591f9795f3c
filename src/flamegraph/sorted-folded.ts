/**
 * The fast path for the common case: a folded-stacks file whose stacks arrive already sorted (as every
 * collapser writes them), one count column. Each line is merged into the frame tree as it is read
 * (flamegraph.pl's flow on sorted input), so no stack key outlives its line: the general path keeps
 * every key in a Map (the input's size again, in fresh memory) and sorts them, which on a 104 MiB,
 * 200k-stack input cost more than the merge itself.
 *
 * Anything this path does not handle the way the general path would (unsorted or repeated stacks, two
 * columns, unrecognised lines, another format) makes it give up: `mergeSortedFolded` returns undefined
 * and the caller reads the input again the general way. The SVG is the same either way.
 */
import { decideFormat, DETECT_MAX_BYTES, type FormatChoice } from '../collapse/detect.js';
import { openInput, STDIN_NAME } from '../collapse/input.js';
import { FORMAT_DETECTORS } from '../collapse/pipeline.js';
import type { Frame } from './merge.js';
import { SortedFoldedFlow, type FrameSink } from './sorted-flow.js';

/** Every frame of the merged tree, in closing order (children before parents, the root last). */
export interface MergedFrames {
  /** Distinct frame names; frames refer to them by index. */
  names: string[];
  /** Number of frames (the root included). */
  count: number;
  /** The frames, `FRAME_BLOCK` to a block (the last one partly filled). */
  blocks: FrameBlock[];
  /** The sum of the counts, added in merge order. */
  total: number;
}

/** Frames in columns: a frame's name index, depth, [start, end) and self weight. */
export interface FrameBlock {
  nameIds: Int32Array;
  depths: Int32Array;
  starts: Float64Array;
  ends: Float64Array;
  selfs: Float64Array;
}

/** Frames per block. Fixed blocks, not one growing array: doubling copied (and faulted in) ~80 ms of 1.2 s. */
export const FRAME_BLOCK = 1 << 15;

/** Collects closed frames into typed-array blocks, interning names. */
class FrameStore implements FrameSink {
  private readonly ids = new Map<string, number>();
  readonly names: string[] = [];
  readonly blocks: FrameBlock[] = [];
  count = 0;
  private block: FrameBlock = newBlock();
  private used = FRAME_BLOCK;

  add(name: string, depth: number, start: number, end: number, self: number): void {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.ids.set(name, id);
    }
    if (this.used === FRAME_BLOCK) {
      this.block = newBlock();
      this.blocks.push(this.block);
      this.used = 0;
    }
    const i = this.used++;
    const block = this.block;
    block.nameIds[i] = id;
    block.depths[i] = depth;
    block.starts[i] = start;
    block.ends[i] = end;
    block.selfs[i] = self;
    this.count++;
  }
}

function newBlock(): FrameBlock {
  return {
    nameIds: new Int32Array(FRAME_BLOCK),
    depths: new Int32Array(FRAME_BLOCK),
    starts: new Float64Array(FRAME_BLOCK),
    ends: new Float64Array(FRAME_BLOCK),
    selfs: new Float64Array(FRAME_BLOCK),
  };
}

/**
 * Merge a sorted folded-stacks file (`--format` auto or folded) as it is read; undefined when the input
 * is stdin, not folded, not strictly sorted, differential, has a line the general parser would skip or
 * report, holds no stacks, sums past 2^53 (exact integers need the general path), or cannot be read (the
 * general path then reports why). With `kernel` (the collapse option), a stack with a bcc `-` delimiter
 * frame would be renamed: that gives up too.
 *
 * `minWeightAt(total)` is the narrowest frame drawn were `total` the sum of the counts (it must not
 * shrink as the total grows): frames narrower than that at the total so far are not kept. The default
 * keeps every frame.
 */
export async function mergeSortedFolded(
  path: string | undefined,
  format: FormatChoice,
  kernel: boolean,
  minWeightAt: (total: number) => number = () => 0,
): Promise<MergedFrames | undefined> {
  if (path === undefined || path === '' || path === STDIN_NAME) return undefined;
  const input = await openInput(path);
  const iterator = input.chunks[Symbol.asyncIterator]();
  const store = new FrameStore();
  const flow = new SortedFoldedFlow(store, minWeightAt, kernel);
  let ended = false;
  try {
    const head = await readHead(iterator);
    ended = head.ended;
    if (head.bytes.length === 0) return undefined;
    const decision = head.ended
      ? (decideFormat(head.bytes, false, input.displayName, format, FORMAT_DETECTORS) ??
        decideFormat(head.bytes, true, input.displayName, format, FORMAT_DETECTORS))
      : decideFormat(head.bytes, true, input.displayName, format, FORMAT_DETECTORS);
    if (decision?.format !== 'folded') return undefined;
    flow.push(head.bytes);
    while (!ended) {
      const next = await iterator.next();
      if (next.done) ended = true;
      else flow.push(next.value);
    }
    flow.finish();
    if (flow.stacks === 0) return undefined;
  } catch {
    // A line this path does not take, or bad input (binary, unreadable): the general path reads the
    // input again and reports any problem in its own words.
    return undefined;
  } finally {
    if (!ended) await iterator.return?.();
  }
  return { names: store.names, count: store.count, blocks: store.blocks, total: flow.total };
}

/** The frames at least `minWeight` wide (the root always), in closing order, as `mergeStacks` gives them. */
export function framesAtLeast(merged: MergedFrames, minWeight: number): Frame[] {
  const frames: Frame[] = [];
  for (let b = 0; b < merged.blocks.length; b++) {
    const { nameIds, depths, starts, ends, selfs } = merged.blocks[b]!;
    const used = Math.min(FRAME_BLOCK, merged.count - b * FRAME_BLOCK);
    for (let i = 0; i < used; i++) {
      const depth = depths[i]!;
      const start = starts[i]!;
      const end = ends[i]!;
      if (depth > 0 && end - start < minWeight) continue;
      frames.push({ name: merged.names[nameIds[i]!]!, depth, start, end, self: selfs[i]!, delta: undefined });
    }
  }
  return frames;
}

/** The first chunks, copied (the source reuses its buffers), up to what format detection looks at. */
async function readHead(iterator: AsyncIterator<Buffer>): Promise<{ bytes: Buffer; ended: boolean }> {
  const parts: Buffer[] = [];
  let length = 0;
  while (length < DETECT_MAX_BYTES) {
    const next = await iterator.next();
    if (next.done) return { bytes: Buffer.concat(parts), ended: true };
    parts.push(Buffer.from(next.value));
    length += next.value.length;
  }
  return { bytes: Buffer.concat(parts), ended: false };
}
