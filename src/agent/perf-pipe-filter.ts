/**
 * Between `perf record -o -` and `perf script -i -`: drops the kernel-symbol records (PERF_RECORD_KSYMBOL,
 * PERF_RECORD_BPF_EVENT) from perf's pipe stream. perf 6.1 asks for them on its tracking event whatever the
 * options (--no-bpf-event stops the BPF ones only), the kernel emits one whenever a BPF program or trampoline
 * is loaded anywhere on the node (any bpftrace starting, the agent's own included), and perf script 6.1
 * reading a pipe dies on some of them ("failed to process type: 17", seen here during an exec storm and after
 * 33 and 98 s of a whole-node perf). They only name BPF code in kernel stacks, never a frame of ours.
 *
 * The stream: a 16-byte pipe header, then records, each starting with `{ u32 type; u16 misc; u16 size }`
 * (size includes the header). Anything unexpected (a record shorter than its header, tracing data, whose
 * bytes follow outside the record's size) turns the filter into a plain pass-through for the rest.
 */
/**
 * How long the reading side pauses after each read: perf record with --no-buffering writes every record on
 * its own (≈1300 a second on a busy 2-core host, mostly other processes' mmap/exit records), and a read, a
 * filter and a write per record cost the agent ~2% of a core. Pausing lets them pile up in the pipe (64 KiB)
 * and in perf's per-CPU ring buffers (seconds of samples), so a read takes tens of records at a time. Each
 * read costs the same however full (≈1 ms of CPU on a loaded 2-core host, measured): 250 ms apart cost
 * ~0.25 points of a core less than 100 ms (a whole-node DWARF stream of ~300 KB/s, side by side); the
 * samples reach the one-second buckets up to a quarter of a second later. While data streams there is no pause
 * (batched-read.ts): a pause per 64 KiB would cap the stream near 300 KiB/s.
 */
export const PERF_PIPE_BATCH_MS = 250;
/**
 * The pause while the last batch kept no sample (IRIS idle, or only processes the main sampler takes): a
 * read a second instead of four. The first batch that keeps a sample goes back to PERF_PIPE_BATCH_MS, so
 * only the first samples after a quiet spell reach their buckets up to a second late.
 */
export const PERF_PIPE_IDLE_BATCH_MS = 1_000;
/** perf record's first seconds are read as they come: it writes every process's maps while its rings fill. */
export const PERF_PIPE_START_MS = 5_000;

import { readInBatches } from '../tools/batched-read.js';
import { PERF_RECORD_SAMPLE, PerfPipeProcesses, type PerfSampleFilter } from './perf-pipe-processes.js';

/** Kept bytes written at once at most, while full reads go on (a big node's stream). */
const MAX_HELD_BYTES = 1 << 20;
const PIPE_HEADER_BYTES = 16;
const RECORD_HEADER_BYTES = 8;
/** PERF_RECORD_LOST: { u64 id; u64 lost } — the kernel's count of samples a full ring buffer dropped. */
const PERF_RECORD_LOST = 2;
const LOST_COUNT_AT = RECORD_HEADER_BYTES + 8;
const PERF_RECORD_KSYMBOL = 17;
const PERF_RECORD_BPF_EVENT = 18;
/** PERF_RECORD_FINISHED_ROUND: perf script sorts what it was given by time up to the round before this one. */
const PERF_RECORD_FINISHED_ROUND = 68;
/**
 * Round ends passed after each kept record: perf script (ordered-events) prints a record at the second round
 * end after it (the first sets how far the second flushes). The rest carry nothing perf script needs.
 */
const ROUNDS_AFTER_KEPT = 2;
/** PERF_RECORD_HEADER_TRACING_DATA: its payload follows the record, uncounted in its size. */
const PERF_RECORD_HEADER_TRACING_DATA = 66;
const DROPPED = new Set([PERF_RECORD_KSYMBOL, PERF_RECORD_BPF_EVENT]);

export class PerfPipeFilter {
  /** Kernel-symbol records dropped so far, and their bytes. */
  dropped = 0;
  droppedBytes = 0;
  /** Records of processes not among the names dropped so far, and their bytes. */
  othersDropped = 0;
  othersDroppedBytes = 0;
  /** Samples passed on so far (what tells a quiet stream from one with samples to unwind). */
  keptSamples = 0;
  /**
   * Round ends dropped so far. perf record writes one each time it drains its buffers (≈30 a second on an
   * idle 2-core host with --no-buffering); passed, each would wake perf script for nothing while IRIS is idle.
   */
  roundsDropped = 0;
  roundsDroppedBytes = 0;
  /** Samples the kernel dropped because perf record's ring buffer was full (PERF_RECORD_LOST), so far. */
  lostSamples = 0;
  /** Round ends still to pass after the last kept record (ROUNDS_AFTER_KEPT). */
  private roundsOwed = 0;
  private headerLeft = PIPE_HEADER_BYTES;
  private carry: Buffer | undefined;
  private passThrough = false;
  private readonly processes: PerfPipeProcesses | undefined;

  /**
   * `commNames`: the names perf script prints (`--comms`); undefined: every process's records pass.
   * `keepSample`: with names, whether a sample of a process of those names is wanted (perf-pipe-processes.ts).
   */
  constructor(commNames?: Iterable<string>, keepSample?: PerfSampleFilter) {
    this.processes = commNames === undefined ? undefined : new PerfPipeProcesses(commNames, keepSample);
  }

  /** Processes the name filter follows now (0 without one). */
  get followed(): number {
    return this.processes?.followed ?? 0;
  }

  /** The bytes of `chunk` (and of the record the last chunk cut) to pass on; a record cut at its end waits. */
  feed(chunk: Buffer): Buffer[] {
    if (this.passThrough) return [chunk];
    const out: Buffer[] = [];
    let buffer = chunk;
    if (this.headerLeft > 0) {
      const take = Math.min(this.headerLeft, buffer.length);
      out.push(buffer.subarray(0, take));
      this.headerLeft -= take;
      buffer = buffer.subarray(take);
    }
    // The record the last chunk cut, completed from this one's first bytes (copying that record only).
    while (this.carry !== undefined && buffer.length > 0) {
      const carry = this.carry;
      const size = carry.length >= RECORD_HEADER_BYTES ? carry.readUInt16LE(6) : RECORD_HEADER_BYTES;
      if (size < RECORD_HEADER_BYTES || size <= carry.length) {
        // Not a record (scan() says so and passes the rest through).
        this.carry = undefined;
        buffer = Buffer.concat([carry, buffer]);
        break;
      }
      const take = Math.min(size - carry.length, buffer.length);
      this.carry = Buffer.concat([carry, buffer.subarray(0, take)]);
      buffer = buffer.subarray(take);
      if (this.carry.length >= RECORD_HEADER_BYTES && this.carry.length === this.carry.readUInt16LE(6)) {
        const record = this.carry;
        this.carry = undefined;
        this.scan(record, out);
      }
    }
    if (this.carry === undefined && !this.passThrough) this.scan(buffer, out);
    else if (this.passThrough && buffer.length > 0) out.push(buffer);
    return out;
  }

  /** Whole records of `buffer` kept into `out`; a record cut at its end is carried (copied) to the next chunk. */
  private scan(buffer: Buffer, out: Buffer[]): void {
    let at = 0;
    let keptFrom = 0;
    while (buffer.length - at >= RECORD_HEADER_BYTES) {
      const type = buffer.readUInt32LE(at);
      const size = buffer.readUInt16LE(at + 6);
      if (size < RECORD_HEADER_BYTES || type === PERF_RECORD_HEADER_TRACING_DATA) {
        this.passThrough = true;
        out.push(buffer.subarray(keptFrom));
        return;
      }
      if (buffer.length - at < size) break;
      if (type === PERF_RECORD_LOST && size >= LOST_COUNT_AT + 8) this.lostSamples += Number(buffer.readBigUInt64LE(at + LOST_COUNT_AT));
      const symbol = DROPPED.has(type);
      const round = type === PERF_RECORD_FINISHED_ROUND;
      const idleRound = round && this.roundsOwed === 0;
      if (symbol || idleRound || (!round && this.processes !== undefined && !this.processes.keep(buffer, at, type, size))) {
        if (at > keptFrom) out.push(buffer.subarray(keptFrom, at));
        keptFrom = at + size;
        if (symbol) {
          this.dropped++;
          this.droppedBytes += size;
        } else if (idleRound) {
          this.roundsDropped++;
          this.roundsDroppedBytes += size;
        } else {
          this.othersDropped++;
          this.othersDroppedBytes += size;
        }
      } else if (round) this.roundsOwed--;
      else {
        this.roundsOwed = ROUNDS_AFTER_KEPT;
        if (type === PERF_RECORD_SAMPLE) this.keptSamples++;
      }
      at += size;
    }
    if (at > keptFrom) out.push(buffer.subarray(keptFrom, at));
    // Copied: the chunk's memory is not ours to keep.
    if (at < buffer.length) this.carry = Buffer.from(buffer.subarray(at));
  }

  /** What is left at the end of the stream (a record cut short: perf script says what it makes of it). */
  finish(): Buffer[] {
    return this.carry === undefined ? [] : [this.carry];
  }
}

export interface PerfPipeOptions {
  /** The pause between reads while samples pass (PERF_PIPE_BATCH_MS). */
  batchMs?: number;
  /** The pause after a batch that kept no sample (PERF_PIPE_IDLE_BATCH_MS). */
  idleBatchMs?: number;
  /** With names: whether a sample of a process of those names goes on (PerfPipeFilter). */
  keepSample?: PerfSampleFilter;
  /** No pause for this long from the start (PERF_PIPE_START_MS). */
  streamFirstMs?: number;
}

/**
 * perf record's stdout into perf script's stdin through the filter, read in batches: everything that came
 * since the last batch at once, then nothing for PERF_PIPE_BATCH_MS (PERF_PIPE_IDLE_BATCH_MS while no sample
 * passes), with backpressure: while perf script is behind, perf record waits (its ring buffers hold seconds).
 * (batched-read.ts: a batch reads all that is buffered, and no pause is taken while data streams).
 */
export function pipePerfStream(
  from: NodeJS.ReadableStream,
  to: NodeJS.WritableStream,
  commNames?: Iterable<string>,
  { batchMs = PERF_PIPE_BATCH_MS, idleBatchMs = PERF_PIPE_IDLE_BATCH_MS, keepSample, streamFirstMs = PERF_PIPE_START_MS }: PerfPipeOptions = {},
): PerfPipeFilter {
  const filter = new PerfPipeFilter(commNames, keepSample);
  /** perf script is behind: no batch until its stdin drains. */
  let draining = false;
  const write = (parts: Buffer[]): void => {
    if (parts.length === 0) return;
    if (!to.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts)) && !draining) {
      draining = true;
      to.once('drain', () => {
        draining = false;
        reading.resume();
      });
    }
  };
  const reading = readInBatches(from, {
    blocked: () => draining,
    streamFirstMs,
    /** One batch through the filter, one write of what it kept (a write per read, each waking perf script, cost more). */
    onBatch: (chunks) => {
      const keptBefore = filter.keptSamples;
      let held: Buffer[] = [];
      let heldBytes = 0;
      for (const chunk of chunks) {
        for (const part of filter.feed(chunk)) {
          held.push(part);
          heldBytes += part.length;
        }
        // A big node streams MiBs a second: write as it goes past MAX_HELD_BYTES.
        if (heldBytes >= MAX_HELD_BYTES) {
          write(held);
          [held, heldBytes] = [[], 0];
        }
      }
      write(held);
      return filter.keptSamples === keptBefore ? idleBatchMs : batchMs;
    },
  });
  void reading.done.then(() => {
    write(filter.finish());
    to.end();
  });
  return filter;
}
