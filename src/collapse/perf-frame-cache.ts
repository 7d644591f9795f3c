/**
 * Memory of what each distinct frame line became. A busy capture repeats the same few thousand frame
 * lines millions of times ("  ffffffff8103ce3b native_safe_halt ([kernel.kallsyms])"), so the parser
 * tidies a line once and afterwards only hashes its bytes and copies the frame ids it yielded.
 */
import { ByteTable } from './perf-tables.js';

const INITIAL_LINES = 1 << 12;
const INITIAL_IDS = 1 << 14;
/**
 * Guesses by address: the same address almost always prints the same frame line again, so checking the
 * line last seen at this address costs one pass over its bytes instead of two (hash, then compare).
 * 64 Ki slots: a busy system capture has a few tens of thousands of distinct addresses.
 */
const GUESS_SLOTS = 1 << 16;

/** Frame names ↔ dense ids: two stacks are equal exactly when their id sequences are. */
export class FrameNameTable {
  private readonly idByName = new Map<string, number>();
  readonly names: string[] = [];

  idOf(name: string): number {
    let id = this.idByName.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.idByName.set(name, id);
    }
    return id;
  }
}

export class FrameLineCache {
  /** Keyed by the line's bytes after the address (with `--addrs`, from the address on). */
  readonly lines = new ByteTable();
  private firstIds = new Int32Array(INITIAL_LINES);
  private idCounts = new Int32Array(INITIAL_LINES);
  /** Frame ids of all lines, each line's leaf first (the order the parser collects a sample in). */
  ids = new Int32Array(INITIAL_IDS);
  private idsUsed = 0;
  /** Line id + 1 last seen at an address (hashed to a slot); 0 when none. */
  readonly guesses = new Int32Array(GUESS_SLOTS);
  readonly guessMask = GUESS_SLOTS - 1;
  /** The module path of each line, for `processFilter`. */
  readonly modules: string[] = [];

  constructor() {
    // Replaced when they grow: written twice now so V8 does not compile them as constants
    // (see the note in perf-tables.ts).
    this.firstIds = this.firstIds;
    this.idCounts = this.idCounts;
    this.ids = this.ids;
  }

  add(bytes: Uint8Array, start: number, end: number, hash: number, leafFirstIds: readonly number[], module: string): number {
    const line = this.lines.add(bytes, start, end, hash);
    if (line >= this.firstIds.length) {
      this.firstIds = grow(this.firstIds, line + 1);
      this.idCounts = grow(this.idCounts, line + 1);
    }
    this.ids = grow(this.ids, this.idsUsed + leafFirstIds.length);
    this.firstIds[line] = this.idsUsed;
    this.idCounts[line] = leafFirstIds.length;
    for (const id of leafFirstIds) this.ids[this.idsUsed++] = id;
    this.modules.push(module);
    return line;
  }

  firstIdOf(line: number): number {
    return this.firstIds[line]!;
  }

  idCountOf(line: number): number {
    return this.idCounts[line]!;
  }
}

export function grow(array: Int32Array<ArrayBuffer>, minimum: number): Int32Array<ArrayBuffer> {
  if (minimum <= array.length) return array;
  let size = array.length * 2;
  while (size < minimum) size *= 2;
  const grown = new Int32Array(size);
  grown.set(array);
  return grown;
}
