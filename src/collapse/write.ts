/**
 * Writing folded stacks: one line per unique stack, `key count\n`, sorted byte-wise as the Perl sorts,
 * the key's bytes exactly as parsed (keys are latin1 strings, one char per byte). Differential results
 * get both columns, `key before after\n`, as difffolded.pl writes them.
 */
import type { Writable } from 'node:stream';
import { IrisflameError } from '../errors.js';
import { formatPerlNumber } from './perl-number.js';
import type { CollapseResult, FoldedStacks, StackKey } from './types.js';

/** Lines are gathered into batches of this many bytes before each write: few writes, bounded memory. */
const WRITE_BATCH_BYTES = 1 << 20;

/** Keys in byte order: on latin1 strings, UTF-16 code-unit order is byte order. */
export function sortedKeys(...maps: FoldedStacks[]): StackKey[] {
  const keys = maps.length === 1 ? [...maps[0]!.keys()] : [...new Set(maps.flatMap((map) => [...map.keys()]))];
  return keys.sort();
}

/** The folded text, one line per stack; for tests and small results (the writer streams). */
export function* foldedLines(result: CollapseResult): Generator<string> {
  const { stacks, before } = result;
  if (before === undefined) {
    for (const key of sortedKeys(stacks)) yield `${key}${countsTail(result, key)}`;
    return;
  }
  for (const key of sortedKeys(before, stacks)) yield `${key}${countsTail(result, key)}`;
}

/**
 * Write `result` to `out` as folded text; each batch waits for its write callback, which is back-pressure
 * enough at this batch size. A write failure rejects with an OUTPUT error instead of escaping as an event.
 *
 * Keys are copied straight into one byte buffer per batch (`buf.write(…, "latin1")`) rather than concatenated into
 * line strings first: V8 would build a rope per line and flatten it, which cost 4x the time on a 16 MB
 * output. Only the short count tail is a new string.
 */
export async function writeFolded(result: CollapseResult, out: Writable): Promise<void> {
  const swallow = (): void => {}; // the write callback reports the same error
  out.on('error', swallow);
  try {
    const { stacks, before } = result;
    const keys = before === undefined ? sortedKeys(stacks) : sortedKeys(before, stacks);
    const tailOf = (key: StackKey): string => countsTail(result, key);
    let batch = Buffer.allocUnsafe(WRITE_BATCH_BYTES);
    let used = 0;
    const flush = async (): Promise<void> => {
      if (used === 0) return;
      // The stream may hold on to the buffer until written: hand it over and start a fresh one.
      await writeChunk(out, batch.subarray(0, used));
      batch = Buffer.allocUnsafe(WRITE_BATCH_BYTES);
      used = 0;
    };
    for (const key of keys) {
      const tail = tailOf(key);
      const lineBytes = key.length + tail.length; // latin1: one byte per char
      if (used + lineBytes > WRITE_BATCH_BYTES) await flush();
      if (lineBytes > WRITE_BATCH_BYTES) {
        await writeChunk(out, Buffer.from(key + tail, 'latin1')); // a stack longer than a whole batch
        continue;
      }
      used += batch.write(key, used, "latin1");
      used += batch.write(tail, used, "latin1");
    }
    await flush();
  } finally {
    out.off('error', swallow);
  }
}

/** ` count\n` or ` before after\n`, each as Perl prints it (exact integers past 2^53 included). */
function countsTail(result: CollapseResult, key: StackKey): string {
  const { stacks, before, exact, exactBefore } = result;
  const after = formatPerlNumber(exact?.get(key) ?? stacks.get(key) ?? 0);
  if (before === undefined) return ` ${after}\n`;
  return ` ${formatPerlNumber(exactBefore?.get(key) ?? before.get(key) ?? 0)} ${after}\n`;
}

function writeChunk(out: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(chunk, (error) => (error ? reject(outputError(error)) : resolve()));
  });
}

function outputError(error: Error): IrisflameError {
  return new IrisflameError('OUTPUT', `cannot write the output (${error.message})`, { cause: error });
}
