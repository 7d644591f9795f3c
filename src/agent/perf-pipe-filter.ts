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
import { Transform, type TransformCallback } from 'node:stream';

const PIPE_HEADER_BYTES = 16;
const RECORD_HEADER_BYTES = 8;
const PERF_RECORD_KSYMBOL = 17;
const PERF_RECORD_BPF_EVENT = 18;
/** PERF_RECORD_HEADER_TRACING_DATA: its payload follows the record, uncounted in its size. */
const PERF_RECORD_HEADER_TRACING_DATA = 66;
const DROPPED = new Set([PERF_RECORD_KSYMBOL, PERF_RECORD_BPF_EVENT]);

export class PerfPipeFilter extends Transform {
  /** Records dropped so far. */
  dropped = 0;
  private headerLeft = PIPE_HEADER_BYTES;
  private carry: Buffer | undefined;
  private passThrough = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.passThrough) {
      done(null, chunk);
      return;
    }
    let buffer = this.carry === undefined ? chunk : Buffer.concat([this.carry, chunk]);
    this.carry = undefined;
    if (this.headerLeft > 0) {
      const take = Math.min(this.headerLeft, buffer.length);
      this.push(buffer.subarray(0, take));
      this.headerLeft -= take;
      buffer = buffer.subarray(take);
    }
    let at = 0;
    let keptFrom = 0;
    while (buffer.length - at >= RECORD_HEADER_BYTES) {
      const type = buffer.readUInt32LE(at);
      const size = buffer.readUInt16LE(at + 6);
      if (size < RECORD_HEADER_BYTES || type === PERF_RECORD_HEADER_TRACING_DATA) {
        this.passThrough = true;
        done(null, buffer.subarray(keptFrom));
        return;
      }
      if (buffer.length - at < size) break;
      if (DROPPED.has(type)) {
        if (at > keptFrom) this.push(buffer.subarray(keptFrom, at));
        keptFrom = at + size;
        this.dropped++;
      }
      at += size;
    }
    if (at > keptFrom) this.push(buffer.subarray(keptFrom, at));
    // A record cut by the chunk's end waits for the rest (copied: the chunk's memory is not ours to keep).
    if (at < buffer.length) this.carry = Buffer.from(buffer.subarray(at));
    done();
  }

  override _flush(done: TransformCallback): void {
    done(null, this.carry);
  }
}
