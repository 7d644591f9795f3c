/**
 * The per-sample facts `onSample` and `processFilter` need (command, ids, time, CPU). Read only when one of
 * them is set, so a plain collapse never makes these strings.
 */
import type { PerfSample } from './perf-options.js';
import type { EventLineParts } from './perf-lines.js';
import { CLOSE_BRACKET, COLON, DOT, IS_SPACE, OPEN_BRACKET, isDigit } from './perf-bytes.js';
import { parseDigits } from './perf-lines.js';

export class SampleDetails {
  comm = '';
  private pid: number | undefined;
  private tid = 0;
  private time: number | undefined;
  private cpu: number | undefined;

  /** From "java 24636/25607 [000] 94564.109216: 100 cycles:": comm, ids, then "[CPU]" and "TIME:" if present. */
  read(bytes: Buffer, event: EventLineParts, end: number): void {
    this.comm = bytes.toString('latin1', event.commStart, event.commEnd);
    this.pid = event.pidStart === -1 ? undefined : parseDigits(bytes, event.pidStart, event.pidEnd);
    this.tid = parseDigits(bytes, event.tidStart, event.tidEnd);
    this.cpu = undefined;
    this.time = undefined;
    let p = skipBlanks(bytes, event.idsEnd, end);
    if (bytes[p] === OPEN_BRACKET) {
      const cpuStart = p + 1;
      let q = cpuStart;
      while (q < end && isDigit(bytes[q]!)) q++;
      if (q > cpuStart && bytes[q] === CLOSE_BRACKET) {
        this.cpu = parseDigits(bytes, cpuStart, q);
        p = skipBlanks(bytes, q + 1, end);
      }
    }
    let q = p;
    while (q < end && (isDigit(bytes[q]!) || bytes[q] === DOT)) q++;
    if (q > p && bytes[q] === COLON) this.time = Number(bytes.toString('latin1', p, q));
  }

  sample(stack: string, weight: number): PerfSample {
    return { comm: this.comm, pid: this.pid, tid: this.tid, time: this.time, cpu: this.cpu, stack, weight };
  }
}

function skipBlanks(bytes: Buffer, from: number, end: number): number {
  while (from < end && IS_SPACE[bytes[from]!] === 1) from++;
  return from;
}
