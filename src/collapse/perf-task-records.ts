/**
 * perf's non-sample records, as `perf script --show-task-events --show-lost-events` prints them: the usual
 * `comm pid [cpu] time:` prefix, then `PERF_RECORD_…` instead of an event name and a call chain:
 *
 *     irisstop  8043/8043 [000]   452.631236: PERF_RECORD_FORK(8044:8044):(8043:8043)
 *     irisdb    8044/8044 [000]   452.632720: PERF_RECORD_COMM exec: irisdb:8044/8044
 *     irisdb    8044/8044 [001]   452.760847: PERF_RECORD_EXIT(8044:8044):(8043:8043)
 *     swapper      0/0    [000]   670.374230: PERF_RECORD_LOST lost 86
 *
 * They are not samples (the Perl lets the next event line overwrite them): the collapser skips them,
 * counting lost events for a note. Only event lines are checked, once each, so the frame hot path is untouched.
 */
import { COLON, IS_SPACE, isDigit } from './perf-bytes.js';
import { indexOfByte, parseDigits } from './perf-lines.js';

const RECORD_MARKER = Buffer.from('PERF_RECORD_', 'latin1');
const LOST_RECORD = Buffer.from('PERF_RECORD_LOST', 'latin1');
const LOST_WORD = Buffer.from(' lost ', 'latin1');

/**
 * Where `PERF_RECORD_` starts on this event line, or -1 for a sample. `idsEnd` is just after the pid/tid
 * field; the record follows the first colon after it (the timestamp's) and its blanks.
 */
export function taskRecordAt(bytes: Uint8Array, idsEnd: number, end: number): number {
  const colon = indexOfByte(bytes, COLON, idsEnd, end);
  if (colon === -1) return -1;
  let p = colon + 1;
  while (p < end && IS_SPACE[bytes[p]!] === 1) p++;
  return startsWithAt(bytes, p, end, RECORD_MARKER) ? p : -1;
}

/** Counts the records skipped; lost events become a report note. */
export class TaskRecords {
  private records = 0;
  private lost = 0;

  /** A record line from `start` (its `PERF_RECORD_`) to `end`. */
  add(bytes: Uint8Array, start: number, end: number): void {
    this.records++;
    // "PERF_RECORD_LOST lost 86"; newer perf also prints "PERF_RECORD_LOST_SAMPLES … lost 3".
    if (!startsWithAt(bytes, start, end, LOST_RECORD)) return;
    for (let p = start + LOST_RECORD.length; p + LOST_WORD.length <= end; p++) {
      if (!startsWithAt(bytes, p, end, LOST_WORD)) continue;
      const digits = p + LOST_WORD.length;
      let digitsEnd = digits;
      while (digitsEnd < end && isDigit(bytes[digitsEnd]!)) digitsEnd++;
      if (digitsEnd > digits) this.lost += parseDigits(bytes, digits, digitsEnd);
      return;
    }
  }

  /** How many record lines were skipped (task events and lost-event records). */
  get count(): number {
    return this.records;
  }

  notes(): string[] {
    if (this.lost === 0) return [];
    return [`perf lost ${this.lost} events (PERF_RECORD_LOST records): the graph may be missing samples`];
  }
}

function startsWithAt(bytes: Uint8Array, at: number, end: number, marker: Uint8Array): boolean {
  if (end - at < marker.length) return false;
  for (let i = 0; i < marker.length; i++) if (bytes[at + i] !== marker[i]) return false;
  return true;
}
