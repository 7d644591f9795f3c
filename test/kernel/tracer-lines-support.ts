/** Feeding bpftrace output lines through the off-CPU tracer's reader, for the tests of what it makes of them. */
import { TracerLineReader, type TracerRecord } from '../../src/kernel/offcpu-lines.js';

/** Every record `lines` give, in order, and the reader (its counts of bad lines). */
export function readTracerLines(lines: readonly string[]): { records: TracerRecord[]; reader: TracerLineReader } {
  const records: TracerRecord[] = [];
  const reader = new TracerLineReader((record) => records.push(record));
  for (const line of lines) reader.push(line);
  reader.finish();
  return { records, reader };
}
