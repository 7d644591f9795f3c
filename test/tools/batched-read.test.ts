/**
 * The batched pipe reader of the DWARF sampler (src/tools/batched-read.ts), on real pipes from a child:
 * a bulk stream is not capped by the pause (a full pipe is read again at once), a trickle is.
 */
import { describe, expect, test } from 'vitest';
import { execa } from 'execa';
import { FULL_BATCH_BYTES, readInBatches } from '../../src/tools/batched-read.js';

/** A child writing `bytes` zero bytes to its stdout, then `tail` more after `tailDelayMs`. */
function writer(bytes: number, tail = 0, tailDelayMs = 0) {
  return execa(
    'node',
    ['-e', `process.stdout.write(Buffer.alloc(${bytes}), () => setTimeout(() => { if (${tail} > 0) process.stdout.write(Buffer.alloc(${tail})); }, ${tailDelayMs}));`],
    { buffer: false },
  );
}

describe('reading a pipe in batches', () => {
  test('a stream that keeps the pipe full is read as it comes, not a pipe’s worth per pause (4 MiB, 1 s pauses)', async () => {
    // A pause after every batch would take ~50 of them (64 KiB in the pipe + 16 in Node's buffer each).
    const total = 4 * 1024 * 1024;
    const child = writer(total);
    let bytes = 0;
    const at: number[] = [];
    const reading = readInBatches(child.stdout!, {
      onBatch: (_chunks, size) => {
        bytes += size;
        at.push(Date.now());
        return 1_000;
      },
    });
    await reading.done;
    await child;
    expect(bytes).toBe(total);
    const paused = at.filter((time, i) => i > 0 && time - at[i - 1]! >= 900).length;
    console.log(`4 MiB in ${at.length} batches, ${paused} after a pause`);
    expect(paused).toBeLessThan(5);
    // Read in pipe-sized batches, not byte by byte.
    expect(at.length).toBeLessThan(total / 1024);
  }, 60_000);

  test('after a small batch the pause holds: a late trickle waits for it', async () => {
    const child = writer(100, 100, 300);
    const seen: { at: number; size: number }[] = [];
    const started = Date.now();
    const reading = readInBatches(child.stdout!, {
      onBatch: (_chunks, size) => {
        seen.push({ at: Date.now() - started, size });
        return 2_000;
      },
    });
    await reading.done;
    await child;
    expect(100).toBeLessThan(FULL_BATCH_BYTES);
    // The second 100 bytes came 300 ms after the first, and were read only at the end of the first's pause.
    expect(seen.map((batch) => batch.size)).toEqual([100, 100]);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(1_900);
  }, 30_000);

  test('streamFirstMs: no pause at the start, however small the batches', async () => {
    const child = writer(100, 100, 300);
    const seen: number[] = [];
    const started = Date.now();
    const reading = readInBatches(child.stdout!, {
      streamFirstMs: 5_000,
      onBatch: () => {
        seen.push(Date.now() - started);
        return 60_000;
      },
    });
    await reading.done;
    await child;
    expect(seen).toHaveLength(2);
    // The second write, 300 ms after the first, read as it came (not after the 60 s pause).
    expect(seen[1]! - seen[0]!).toBeLessThan(5_000);
  }, 30_000);

  test('while blocked nothing is read; resume() reads what waited', async () => {
    const child = writer(1000);
    let blocked = true;
    let bytes = 0;
    const reading = readInBatches(child.stdout!, { blocked: () => blocked, onBatch: (_chunks, size) => ((bytes += size), 10) });
    // Its exit, not `await child` (execa waits for the stdout it is not read).
    await new Promise((resolve) => child.once('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(bytes).toBe(0);
    blocked = false;
    reading.resume();
    await reading.done;
    expect(bytes).toBe(1000);
  }, 30_000);
});
