/**
 * Writing folded stacks: one line per unique stack, `key count\n`, sorted byte-wise as the Perl sorts,
 * the key's bytes exactly as parsed (keys are latin1 strings, one char per byte). Differential results
 * get both columns, `key before after\n`, as difffolded.pl writes them.
 */
import type { Writable } from 'node:stream';
import { IrisflameError } from '../errors.js';
import { formatPerlNumber } from './perl-number.js';
import type { CollapseResult, FoldedStacks, StackKey } from './types.js';

/** Lines are gathered into strings of about this size before each write: few writes, bounded memory. */
const WRITE_BATCH_CHARS = 1 << 20;

/** Keys in byte order: on latin1 strings, UTF-16 code-unit order is byte order. */
export function sortedKeys(...maps: FoldedStacks[]): StackKey[] {
  const keys = maps.length === 1 ? [...maps[0]!.keys()] : [...new Set(maps.flatMap((map) => [...map.keys()]))];
  return keys.sort();
}

/** The folded text, one line per stack; for tests and small results (the writer streams). */
export function* foldedLines(result: CollapseResult): Generator<string> {
  const { stacks, before } = result;
  if (before === undefined) {
    for (const key of sortedKeys(stacks)) yield `${key} ${formatPerlNumber(stacks.get(key)!)}\n`;
    return;
  }
  for (const key of sortedKeys(before, stacks)) {
    yield `${key} ${formatPerlNumber(before.get(key) ?? 0)} ${formatPerlNumber(stacks.get(key) ?? 0)}\n`;
  }
}

/**
 * Write `result` to `out` as folded text; each batch waits for its write callback, which is back-pressure
 * enough at this batch size. A write failure rejects with an OUTPUT error instead of escaping as an event.
 */
export async function writeFolded(result: CollapseResult, out: Writable): Promise<void> {
  const swallow = (): void => {}; // the write callback reports the same error
  out.on('error', swallow);
  try {
    let batch = '';
    for (const line of foldedLines(result)) {
      batch += line;
      if (batch.length >= WRITE_BATCH_CHARS) {
        await writeChunk(out, Buffer.from(batch, 'latin1'));
        batch = '';
      }
    }
    if (batch.length > 0) await writeChunk(out, Buffer.from(batch, 'latin1'));
  } finally {
    out.off('error', swallow);
  }
}

function writeChunk(out: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(chunk, (error) => (error ? reject(outputError(error)) : resolve()));
  });
}

function outputError(error: Error): IrisflameError {
  return new IrisflameError('OUTPUT', `cannot write the output (${error.message})`, { cause: error });
}
