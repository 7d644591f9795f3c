/**
 * The two hash tables behind the perf parser's speed. Both use open addressing over typed arrays, so a
 * lookup allocates nothing; strings are made only when a key is seen for the first time.
 *
 * - `ByteTable`: byte ranges → dense ids (frame lines, process names). Keys are copied into one arena.
 * - `StackTable`: sequences of ids (process name, then frames root first) → summed weight. (Their
 *   folded-stack keys are written by perf-keys.ts.)
 */

/** Start small: many inputs have a few hundred distinct stacks; tables double as they fill. */
const INITIAL_SLOTS = 1 << 12;
const INITIAL_ARENA_BYTES = 1 << 16;
/** Grow at half full: probe chains stay short, and the slot array is cheap next to the keys. */
const MAX_LOAD_NUMERATOR = 1;
const MAX_LOAD_DENOMINATOR = 2;
const EMPTY_SLOT = -1;
const WORD_BYTES = 4;

// About the self-assignments in constructors: V8 compiles code that reads a field as if the field never
// changes until it is written a second time; a table growing mid-run would then throw away the optimized
// parser and leave it interpreted until recompiled. Fields replaced on growth are written twice up front.

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Linear probing: `id` goes into the first empty slot from its hash on. */
function placeInSlots(slots: Int32Array, id: number, hash: number): void {
  const mask = slots.length - 1;
  let slot = hash & mask;
  while (slots[slot] !== EMPTY_SLOT) slot = (slot + 1) & mask;
  slots[slot] = id;
}

/** A slot array of `length` holding ids 0..size-1 again, placed by their stored hashes. */
function rehashedSlots(length: number, hashes: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const slots = new Int32Array(length).fill(EMPTY_SLOT);
  for (let id = 0; id < size; id++) placeInSlots(slots, id, hashes[id]!);
  return slots;
}

function growInt32(array: Int32Array<ArrayBuffer>, minimum: number): Int32Array<ArrayBuffer> {
  let size = array.length;
  while (size < minimum) size *= 2;
  if (size === array.length) return array;
  const grown = new Int32Array(size);
  grown.set(array);
  return grown;
}

export class ByteTable {
  private slots = new Int32Array(INITIAL_SLOTS).fill(EMPTY_SLOT);
  private hashes = new Int32Array(INITIAL_SLOTS);
  private starts = new Int32Array(INITIAL_SLOTS);
  private lengths = new Int32Array(INITIAL_SLOTS);
  private arena: Buffer = Buffer.allocUnsafe(INITIAL_ARENA_BYTES);
  /** Compares read four bytes at a time through DataViews, which allow any alignment. */
  private arenaView = viewOf(this.arena);
  private arenaUsed = 0;
  size = 0;

  constructor() {
    this.slots = this.slots; // (see the note on self-assignments above)
    this.hashes = this.hashes;
    this.starts = this.starts;
    this.lengths = this.lengths;
    this.arena = this.arena;
    this.arenaView = this.arenaView;
  }

  /** The id of `bytes[start, end)`, or -1 when it has not been added. */
  find(bytes: Uint8Array, start: number, end: number, hash: number): number {
    const mask = this.slots.length - 1;
    const length = end - start;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const id = this.slots[slot]!;
      if (id === EMPTY_SLOT) return -1;
      if (this.hashes[id] === hash && this.lengths[id] === length && this.equals(id, bytes, start, length)) return id;
    }
  }

  /** Add a key known to be absent; its id is the number of keys added before it. */
  add(bytes: Uint8Array, start: number, end: number, hash: number): number {
    const id = this.size++;
    const length = end - start;
    if (id >= this.hashes.length) {
      this.hashes = growInt32(this.hashes, id + 1);
      this.starts = growInt32(this.starts, id + 1);
      this.lengths = growInt32(this.lengths, id + 1);
    }
    if (this.arenaUsed + length > this.arena.length) {
      let size = this.arena.length * 2;
      while (size < this.arenaUsed + length) size *= 2;
      const grown = Buffer.allocUnsafe(size);
      this.arena.copy(grown, 0, 0, this.arenaUsed);
      this.arena = grown;
      this.arenaView = viewOf(grown);
    }
    this.arena.set(bytes.subarray(start, end), this.arenaUsed);
    this.hashes[id] = hash;
    this.starts[id] = this.arenaUsed;
    this.lengths[id] = length;
    this.arenaUsed += length;
    if (this.size * MAX_LOAD_DENOMINATOR > this.slots.length * MAX_LOAD_NUMERATOR) this.rehash();
    else this.place(id, hash);
    return id;
  }

  lengthOf(id: number): number {
    return this.lengths[id]!;
  }

  /** Whether key `id` is exactly `bytes[start, end)`; `view` is a DataView over `bytes`. */
  matches(id: number, bytes: Uint8Array, view: DataView, start: number, end: number): boolean {
    const length = end - start;
    if (this.lengths[id] !== length) return false;
    const arenaView = this.arenaView;
    const at = this.starts[id]!;
    let i = 0;
    for (; i + WORD_BYTES <= length; i += WORD_BYTES) {
      if (arenaView.getInt32(at + i) !== view.getInt32(start + i)) return false;
    }
    const arena = this.arena;
    for (; i < length; i++) if (arena[at + i] !== bytes[start + i]) return false;
    return true;
  }

  private equals(id: number, bytes: Uint8Array, start: number, length: number): boolean {
    const arena = this.arena;
    let at = this.starts[id]!;
    for (let i = start, end = start + length; i < end; i++, at++) if (arena[at] !== bytes[i]) return false;
    return true;
  }

  private place(id: number, hash: number): void {
    placeInSlots(this.slots, id, hash);
  }

  private rehash(): void {
    this.slots = rehashedSlots(this.slots.length * 2, this.hashes, this.size);
  }
}

export class StackTable {
  private slots = new Int32Array(INITIAL_SLOTS).fill(EMPTY_SLOT);
  private hashes = new Int32Array(INITIAL_SLOTS);
  private starts = new Int32Array(INITIAL_SLOTS);
  private lengths = new Int32Array(INITIAL_SLOTS);
  private weights = new Float64Array(INITIAL_SLOTS);
  private ids = new Int32Array(INITIAL_ARENA_BYTES);
  private idsUsed = 0;
  size = 0;

  constructor() {
    this.slots = this.slots; // (see the note on self-assignments above)
    this.hashes = this.hashes;
    this.starts = this.starts;
    this.lengths = this.lengths;
    this.weights = this.weights;
    this.ids = this.ids;
  }

  /** Hash of the stack last looked up and not found, for `insertMissing`. */
  private missingHash = 0;

  /**
   * Add `weight` to the stack `head; frames[count-1]; …; frames[0]` (frames are kept leaf first while
   * parsing, so they are read backwards here) and return its id, or -1 when the stack is new: then
   * call `insertMissing`. Ids are 0, 1, 2, … in order of first sight.
   */
  addSample(head: number, frames: Int32Array, count: number, weight: number): number {
    let hash = Math.imul(head ^ 0x9e3779b9, 0x01000193);
    for (let i = count - 1; i >= 0; i--) hash = Math.imul(hash ^ frames[i]!, 0x01000193);
    const mask = this.slots.length - 1;
    const length = count + 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const id = this.slots[slot]!;
      if (id === EMPTY_SLOT) break;
      if (this.hashes[id] === hash && this.lengths[id] === length && this.equals(id, head, frames, count)) {
        this.weights[id] += weight;
        return id;
      }
    }
    this.missingHash = hash;
    return -1;
  }

  insertMissing(head: number, frames: Int32Array, count: number, weight: number): number {
    return this.insert(this.missingHash, head, frames, count, weight);
  }

  weightOf(id: number): number {
    return this.weights[id]!;
  }

  private equals(id: number, head: number, frames: Int32Array, count: number): boolean {
    const ids = this.ids;
    let at = this.starts[id]!;
    if (ids[at++] !== head) return false;
    for (let i = count - 1; i >= 0; i--, at++) if (ids[at] !== frames[i]) return false;
    return true;
  }

  private insert(hash: number, head: number, frames: Int32Array, count: number, weight: number): number {
    const id = this.size++;
    if (id >= this.hashes.length) {
      this.hashes = growInt32(this.hashes, id + 1);
      this.starts = growInt32(this.starts, id + 1);
      this.lengths = growInt32(this.lengths, id + 1);
      const weights = new Float64Array(this.hashes.length);
      weights.set(this.weights);
      this.weights = weights;
    }
    this.ids = growInt32(this.ids, this.idsUsed + count + 1);
    const start = this.idsUsed;
    this.ids[start] = head;
    for (let i = count - 1, at = start + 1; i >= 0; i--, at++) this.ids[at] = frames[i]!;
    this.idsUsed += count + 1;
    this.hashes[id] = hash;
    this.starts[id] = start;
    this.lengths[id] = count + 1;
    this.weights[id] = weight;
    if (this.size * MAX_LOAD_DENOMINATOR > this.slots.length * MAX_LOAD_NUMERATOR) this.rehash();
    else this.place(id, hash);
    return id;
  }

  private place(id: number, hash: number): void {
    placeInSlots(this.slots, id, hash);
  }

  private rehash(): void {
    this.slots = rehashedSlots(this.slots.length * 2, this.hashes, this.size);
  }
}
