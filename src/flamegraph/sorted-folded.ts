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
import { parseTrailingCount } from '../collapse/folded.js';
import { openInput, STDIN_NAME } from '../collapse/input.js';
import { isPerlSpace, LineSplitter } from '../collapse/lines.js';
import { FORMAT_DETECTORS } from '../collapse/pipeline.js';
import { FrameFlow, type Frame } from './merge.js';

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
/** Where the folded parser's kernel annotation would rename frames (bcc's `-d` delimiter frame). */
const BCC_DELIMITER = ';-';

/** Collects closed frames into typed-array blocks, interning names. */
class FrameStore {
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

/** Thrown from the line handler to stop reading: the general path must take over. */
const GIVE_UP = new Error('not the sorted folded fast path');

/**
 * Merge a sorted folded-stacks file (`--format` auto or folded) as it is read; undefined when the input
 * is stdin, not folded, not strictly sorted, differential, has a line the general parser would skip or
 * report, holds no stacks, or cannot be read (the general path then reports why). With `kernel` (the
 * collapse option), a stack with a bcc `-` delimiter frame would be renamed: that gives up too.
 */
export async function mergeSortedFolded(
  path: string | undefined,
  format: FormatChoice,
  kernel: boolean,
): Promise<MergedFrames | undefined> {
  if (path === undefined || path === '' || path === STDIN_NAME) return undefined;
  const input = await openInput(path);
  const iterator = input.chunks[Symbol.asyncIterator]();
  const store = new FrameStore();
  const flow = new FrameFlow((key, nameStart, nameEnd, depth, start, end, self) =>
    store.add(key.slice(nameStart, nameEnd), depth, start, end, self),
  );
  let previous: string | undefined;
  // The general parser looks for a second count column only on its first valid line.
  let firstLine = true;
  const splitter = new LineSplitter((buffer, start, end) => {
    const count = parseTrailingCount(buffer, start, end);
    if (count === undefined) {
      if (isBlank(buffer, start, end)) return;
      throw GIVE_UP;
    }
    if (count.stackEnd <= start) throw GIVE_UP;
    if (firstLine) {
      // Two columns (differential): the general path's business.
      if (parseTrailingCount(buffer, start, count.stackEnd) !== undefined) throw GIVE_UP;
      firstLine = false;
    }
    const key = latin1(buffer, start, count.stackEnd);
    // Strictly increasing: the order the general path sorts into, and no stack twice.
    if (previous !== undefined && !(key > previous)) throw GIVE_UP;
    if (kernel && key.includes(BCC_DELIMITER)) throw GIVE_UP;
    previous = key;
    flow.add(key, count.value, undefined);
  });
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
    splitter.push(head.bytes);
    while (!ended) {
      const next = await iterator.next();
      if (next.done) ended = true;
      else splitter.push(next.value);
    }
    splitter.finish();
  } catch {
    // A line this path does not take, or bad input (binary, unreadable): the general path reads the
    // input again and reports any problem in its own words.
    return undefined;
  } finally {
    if (!ended) await iterator.return?.();
  }
  if (previous === undefined) return undefined;
  flow.finish();
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

/** Buffer's own latin1 decoder, without `toString`'s argument checks (once per line). */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: (start: number, end: number) => string }).latin1Slice;
function latin1(buffer: Buffer, start: number, end: number): string {
  return latin1Slice ? latin1Slice.call(buffer, start, end) : buffer.toString('latin1', start, end);
}

function isBlank(buffer: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isPerlSpace(buffer[i]!)) return false;
  return true;
}
