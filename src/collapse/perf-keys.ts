/**
 * Where folded-stack keys are made. A busy capture has tens of thousands of distinct stacks, a kilobyte
 * each; made one by one, those strings are young objects that the garbage collector copies twice before
 * they settle. Here their bytes are written into large blocks instead, each block becomes one string
 * when full (a large object, never copied), and each key is a slice of its block.
 */

/** One block holds about a thousand typical keys; a longer key gets a block of its own size. */
const KEY_BLOCK_BYTES = 1 << 20;
const INITIAL_KEYS = 1 << 12;
const SEMICOLON = 0x3b;

export class StackKeyArena {
  /** Finished blocks, as latin1 strings. */
  private readonly sealed: string[] = [];
  private block = Buffer.allocUnsafe(KEY_BLOCK_BYTES);
  private used = 0;
  private blockOf = new Int32Array(INITIAL_KEYS);
  private startOf = new Int32Array(INITIAL_KEYS);
  private endOf = new Int32Array(INITIAL_KEYS);
  /** Number of keys written; key ids are 0, 1, 2, … in writing order. */
  size = 0;

  constructor() {
    // Replaced when they grow (see the note on self-assignments in perf-tables.ts).
    this.block = this.block;
    this.blockOf = this.blockOf;
    this.startOf = this.startOf;
    this.endOf = this.endOf;
  }

  /**
   * Write the next key: `head;name;name;…`, names taken from `nameBytes` at `nameStarts`/`nameEnds`
   * for ids `frames[count-1]` down to `frames[0]` (the parser keeps frames leaf first).
   */
  add(
    head: string,
    frames: Int32Array,
    count: number,
    nameBytes: Uint8Array,
    nameStarts: Int32Array,
    nameEnds: Int32Array,
  ): number {
    let length = head.length;
    for (let i = 0; i < count; i++) length += 1 + nameEnds[frames[i]!]! - nameStarts[frames[i]!]!;
    if (this.used + length > this.block.length) this.seal(length);
    const block = this.block;
    let at = this.used;
    at += block.write(head, at, 'latin1');
    for (let i = count - 1; i >= 0; i--) {
      block[at++] = SEMICOLON;
      const frame = frames[i]!;
      for (let b = nameStarts[frame]!, end = nameEnds[frame]!; b < end; b++) block[at++] = nameBytes[b]!;
    }
    const id = this.size++;
    if (id >= this.blockOf.length) this.growIndex();
    this.blockOf[id] = this.sealed.length;
    this.startOf[id] = this.used;
    this.endOf[id] = at;
    this.used = at;
    return id;
  }

  /** Key `id` as a string. Cheap (a slice) once its block is sealed; a copy before that. */
  keyOf(id: number): string {
    const block = this.blockOf[id]!;
    if (block < this.sealed.length) return this.sealed[block]!.slice(this.startOf[id], this.endOf[id]);
    return this.block.toString('latin1', this.startOf[id], this.endOf[id]);
  }

  /** Seal the block being written, so every key is a slice. */
  sealAll(): void {
    if (this.used > 0) this.seal(0);
  }

  private seal(nextLength: number): void {
    this.sealed.push(this.block.toString('latin1', 0, this.used));
    this.block = Buffer.allocUnsafe(Math.max(KEY_BLOCK_BYTES, nextLength));
    this.used = 0;
  }

  private growIndex(): void {
    const size = this.blockOf.length * 2;
    const grow = (array: Int32Array): Int32Array<ArrayBuffer> => {
      const grown = new Int32Array(size);
      grown.set(array);
      return grown;
    };
    this.blockOf = grow(this.blockOf);
    this.startOf = grow(this.startOf);
    this.endOf = grow(this.endOf);
  }
}
