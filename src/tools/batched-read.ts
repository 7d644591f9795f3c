/**
 * Reading a pipe in batches, for the DWARF sampler's two pipes (perf record → filter, perf script → collapser):
 * everything Node buffered at once, then a pause during which what comes waits in Node's buffer and the pipe.
 * One wake-up per pause however many writes the other side made: on an idle node perf writes a line or a
 * record at a time, and a wake-up for each cost more than the work. (bpftrace's output has its own drain loop,
 * src/kernel/bpftrace-process.ts; moving it onto this one was tried and left out: two bpftrace-timed tests
 * failed in its one suite run, not yet told apart from load.)
 *
 * Two things learned the hard way, both of which stalled the writer (perf record's ring buffers then overflow
 * and samples are lost):
 * - a batch takes ALL that is buffered (`read()` until null): pausing after one 'data' chunk consumed one
 *   small piece per pause, slower than a trickle came;
 * - the pause is for trickles only: a pipe holds 64 KiB and Node buffers ~16 more while paused, so a pause
 *   after every batch capped the rate near 300 KiB/s at 250 ms, and a 2-CPU node's DWARF samples (8 KiB of
 *   stack each, 19 Hz) come at ~320 KiB/s when busy (measured: 300 of 500 samples lost), a fork storm's mmap
 *   records at ~900 KiB/s. While FULL_BATCH_BYTES or more came within the last pause's time (a sliding
 *   window), what comes is read as it comes; below that rate a pause fills a quarter of the pipe at most.
 *   A batch sees only what Node read ahead while paused (its buffer stops at its high-water mark, 16 KiB
 *   for a child's pipe in Node 20) and not what waits in the pipe, so a batch that size means more waits.
 * - `streamFirstMs`: a writer's start may be a burst (perf record writes every running process's maps, MBs
 *   on a busy node, while its ring buffers fill): read as a stream from the start for that long. Paused a
 *   second after its first small write, perf record lost ~9,000 samples of a fork storm at its start.
 */

/** This much within the last pause's time means a stream, not a trickle: read as it comes, no pause. */
export const FULL_BATCH_BYTES = 16 * 1024;

export interface BatchedReadOptions {
  /** The batch's chunks, in order; returns the pause (ms) before the next one when it was not full. */
  onBatch: (chunks: Buffer[], bytes: number) => number;
  /** While true no batch is read (the consumer is behind); call `resume()` when it is over. */
  blocked?: () => boolean;
  /** No pause at all for this long from the start (ms; default 0). */
  streamFirstMs?: number;
}

export interface BatchedRead {
  /** Settles at the stream's end, error or close (after the last batch). */
  readonly done: Promise<void>;
  /** A batch now unless a pause runs: for the consumer that was blocked. */
  resume(): void;
}

export function readInBatches(stream: NodeJS.ReadableStream, { onBatch, blocked = () => false, streamFirstMs = 0 }: BatchedReadOptions): BatchedRead {
  const streamUntil = Date.now() + streamFirstMs;
  let pauseTimer: NodeJS.Timeout | undefined;
  let ended = false;
  /** The batches of the last pause's time (time, bytes) and their sum: the rate decides whether to pause. */
  const recent: { at: number; bytes: number }[] = [];
  let recentBytes = 0;
  const batch = (): void => {
    if (ended || blocked()) return;
    const chunks: Buffer[] = [];
    let bytes = 0;
    for (let chunk = stream.read() as Buffer | null; chunk !== null; chunk = stream.read() as Buffer | null) {
      chunks.push(chunk);
      bytes += chunk.length;
    }
    // Nothing came: no pause; the next arrival ('readable') starts a batch.
    if (chunks.length === 0) return;
    const pauseMs = onBatch(chunks, bytes);
    const now = Date.now();
    recent.push({ at: now, bytes });
    recentBytes += bytes;
    while (now - recent[0]!.at >= Math.max(pauseMs, 1)) recentBytes -= recent.shift()!.bytes;
    // A stream (FULL_BATCH_BYTES or more in the last pause's time): the next arrival ('readable') starts a batch.
    if (recentBytes >= FULL_BATCH_BYTES || now < streamUntil) return;
    pauseTimer = setTimeout(() => {
      pauseTimer = undefined;
      batch();
    }, pauseMs);
  };
  stream.on('readable', () => {
    if (pauseTimer === undefined) batch();
  });
  const done = new Promise<void>((resolve) => {
    const finish = (): void => {
      ended = true;
      clearTimeout(pauseTimer);
      resolve();
    };
    stream.on('end', finish);
    stream.on('error', finish);
    stream.on('close', finish);
  });
  return {
    done,
    resume() {
      if (pauseTimer === undefined) batch();
    },
  };
}
