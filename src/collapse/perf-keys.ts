/**
 * Where folded-stack keys are made. A busy capture has tens of thousands of distinct stacks, a kilobyte
 * each; made one by one, those strings are young objects that the garbage collector copies twice before
 * they settle. Here their bytes are written into large blocks instead, each block becomes one string
 * when full (a large object, never copied), and each key is a slice of its block.
 */

/** One block holds about a thousand typical keys; a longer key gets a block of its own size. */
const KEY_BLOCK_BYTES = 1 << 20;
const INITIAL_KEYS = 1 << 12;

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
   * Store the next key. It arrives as a freshly joined string that dies at once (cheap for the garbage
   * collector, unlike a string kept for the whole run); its bytes go into the current block.
   */
  add(key: string): number {
    if (this.used + key.length > this.block.length) this.seal(key.length);
    const start = this.used;
    this.used += this.block.write(key, start, 'latin1');
    const id = this.size++;
    if (id >= this.blockOf.length) this.growIndex();
    this.blockOf[id] = this.sealed.length;
    this.startOf[id] = start;
    this.endOf[id] = this.used;
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
    // The bytes now live in the string, so the block is reused: fresh memory costs a page fault per 4 KiB.
    if (nextLength > this.block.length) this.block = Buffer.allocUnsafe(Math.max(KEY_BLOCK_BYTES, nextLength));
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
