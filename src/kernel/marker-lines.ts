/**
 * Finding the few lines that matter in a big capture without splitting every line: each chunk is
 * searched for marker bytes (`PERF_RECORD_`, `# irisflame-`) with Buffer.indexOf, and only the lines
 * holding a marker are decoded. Chunks may split lines anywhere; the unfinished tail is carried over.
 */

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

export interface Marker {
  bytes: Buffer;
  /** Only lines that start with the marker count (for `#` comment lines). */
  atLineStart: boolean;
  onLine: (line: string) => void;
}

export class MarkerLines {
  private carry: Buffer = Buffer.alloc(0);

  constructor(private readonly markers: readonly Marker[]) {}

  push(chunk: Buffer): void {
    const lastNewline = chunk.lastIndexOf(NEWLINE);
    if (lastNewline === -1) {
      this.carry = this.carry.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.carry, chunk]);
      return;
    }
    const head = chunk.subarray(0, lastNewline + 1);
    this.scan(this.carry.length === 0 ? head : Buffer.concat([this.carry, head]));
    this.carry = Buffer.from(chunk.subarray(lastNewline + 1));
  }

  finish(): void {
    if (this.carry.length > 0) this.scan(Buffer.concat([this.carry, Buffer.from([NEWLINE])]));
    this.carry = Buffer.alloc(0);
  }

  private scan(bytes: Buffer): void {
    for (const marker of this.markers) {
      let from = 0;
      for (;;) {
        const hit = bytes.indexOf(marker.bytes, from);
        if (hit === -1) break;
        const lineStart = hit === 0 ? 0 : bytes.lastIndexOf(NEWLINE, hit - 1) + 1;
        let lineEnd = bytes.indexOf(NEWLINE, hit);
        if (lineEnd === -1) lineEnd = bytes.length;
        from = lineEnd + 1;
        if (marker.atLineStart && lineStart !== hit) continue;
        const end = lineEnd > lineStart && bytes[lineEnd - 1] === CARRIAGE_RETURN ? lineEnd - 1 : lineEnd;
        marker.onLine(bytes.toString('utf8', lineStart, end));
      }
    }
  }
}
