/**
 * Splitting pushed chunks into lines, shared by the text parsers. Chunks may end mid-line (or mid-UTF-8
 * sequence); the unfinished tail is kept until its newline arrives, as a list of parts joined once, so a
 * single 50 MB line costs one copy, not one per chunk.
 */

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** Receives one line without its `\n` (and without a `\r` before it: CRLF input is tolerated). */
export type LineHandler = (buffer: Buffer, start: number, end: number) => void;

export class LineSplitter {
  private pending: Buffer[] = [];

  constructor(private readonly onLine: LineHandler) {}

  push(chunk: Buffer): void {
    let start = 0;
    let newline = chunk.indexOf(NEWLINE);
    if (this.pending.length > 0) {
      if (newline === -1) {
        this.pending.push(Buffer.from(chunk));
        return;
      }
      this.pending.push(chunk.subarray(0, newline));
      const line = Buffer.concat(this.pending);
      this.pending = [];
      this.emit(line, 0, line.length);
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    while (newline !== -1) {
      this.emit(chunk, start, newline);
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    // Copied: the caller may reuse its buffer after push returns.
    if (start < chunk.length) this.pending.push(Buffer.from(chunk.subarray(start)));
  }

  /** Emit the last line when the input does not end with a newline. */
  finish(): void {
    if (this.pending.length === 0) return;
    const line = Buffer.concat(this.pending);
    this.pending = [];
    this.emit(line, 0, line.length);
  }

  private emit(buffer: Buffer, start: number, end: number): void {
    const trimmed = end > start && buffer[end - 1] === CARRIAGE_RETURN ? end - 1 : end;
    this.onLine(buffer, start, trimmed);
  }
}

/** Bytes Perl's `\s` matches in byte strings: tab, LF, VT, FF, CR, space. */
export function isPerlSpace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

export function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

/**
 * Receives whole lines in bulk: `buffer[from, to)` holds one or more complete lines (each ended by
 * `\n`, except possibly the last one at the end of input), and `text` is the same bytes as one latin1
 * string, so a parser can cut its keys out of it with `slice` instead of one decode per line.
 */
export type LineBlockHandler = (buffer: Buffer, from: number, to: number, text: string) => void;

/**
 * Like LineSplitter, but hands over each chunk's complete lines as one block: one decode per chunk and
 * no call per line. A line split across chunks is joined and handed over as a block of its own.
 */
export class LineBlockSplitter {
  private pending: Buffer[] = [];

  constructor(private readonly onBlock: LineBlockHandler) {}

  push(chunk: Buffer): void {
    let start = 0;
    if (this.pending.length > 0) {
      const newline = chunk.indexOf(NEWLINE);
      if (newline === -1) {
        this.pending.push(Buffer.from(chunk));
        return;
      }
      this.pending.push(chunk.subarray(0, newline + 1));
      this.emit(Buffer.concat(this.pending));
      this.pending = [];
      start = newline + 1;
    }
    const lastNewline = chunk.lastIndexOf(NEWLINE);
    while (start <= lastNewline) {
      const end = blockEnd(chunk, start, lastNewline);
      this.onBlock(chunk, start, end, chunk.toString('latin1', start, end));
      start = end;
    }
    // Copied: the caller may reuse its buffer after push returns.
    if (start < chunk.length) this.pending.push(Buffer.from(chunk.subarray(start)));
  }

  /** Hand over the last line when the input does not end with a newline. */
  finish(): void {
    if (this.pending.length === 0) return;
    this.emit(Buffer.concat(this.pending));
    this.pending = [];
  }

  private emit(block: Buffer): void {
    this.onBlock(block, 0, block.length, block.toString('latin1'));
  }
}

/**
 * Node turns a decode of more than ~1 MB into an external string, whose malloc'd memory V8 counts as
 * pressure: decoding 1 MiB chunks whole made full GCs run every few chunks (17 ms per chunk measured).
 * Blocks stay well under that size; a longer line is one block of its own.
 */
const MAX_BLOCK_BYTES = 256 * 1024;

/** End (after its `\n`) of the next block of whole lines from `start`, `lastNewline` being the chunk's last. */
function blockEnd(chunk: Buffer, start: number, lastNewline: number): number {
  if (lastNewline - start < MAX_BLOCK_BYTES) return lastNewline + 1;
  const newline = chunk.lastIndexOf(NEWLINE, start + MAX_BLOCK_BYTES - 1);
  return (newline >= start ? newline : chunk.indexOf(NEWLINE, start)) + 1;
}

/** End of the line starting at `start` in a block from LineBlockSplitter: its `\n`, or `to`. */
export function lineEnd(buffer: Buffer, start: number, to: number): number {
  const newline = buffer.indexOf(NEWLINE, start);
  return newline === -1 || newline >= to ? to : newline;
}

/** `end`, less a `\r` just before it: CRLF input is tolerated. */
export function withoutCarriageReturn(buffer: Buffer, start: number, end: number): number {
  return end > start && buffer[end - 1] === CARRIAGE_RETURN ? end - 1 : end;
}
