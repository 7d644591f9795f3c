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
