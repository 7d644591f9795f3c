/**
 * perf record's control FIFOs (`--control fifo:CTL,ACK`, perf ≥ 5.9). perf starts with its events
 * disabled (`-D -1`); we write `enable` and perf answers `ack` once sampling is really on. That answer
 * is the only exact "now recording" signal perf gives, and `-- COMMAND` must not start before it.
 */
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { RecordError } from '../errors.js';

const ACK = 'ack';

export interface PerfControl {
  /** The `--control` argument for perf record. */
  readonly argument: string;
  /** Ask perf to enable its events; resolves on perf's ack. */
  enable(): Promise<void>;
  close(): void;
}

/**
 * Make both FIFOs in `dir` and open our ends before perf starts: perf opens the ack FIFO for writing
 * without blocking, which fails unless a reader already has it open. O_RDWR opens never block, and the
 * ack end is read through a libuv pipe (net.Socket) so a read that never completes ties up no thread.
 */
export async function openPerfControl(dir: string): Promise<PerfControl> {
  const ctlPath = join(dir, 'perf-ctl.fifo');
  const ackPath = join(dir, 'perf-ack.fifo');
  await execa('mkfifo', ['-m', '600', ctlPath, ackPath]);
  const ctlFd = openSync(ctlPath, constants.O_RDWR | constants.O_NONBLOCK);
  const ackFd = openSync(ackPath, constants.O_RDWR | constants.O_NONBLOCK);
  const ack = new Socket({ fd: ackFd, readable: true, writable: false });
  ack.unref(); // waiting for perf must not keep irisflame alive on its own
  let received = '';
  const waiters: Array<() => void> = [];
  ack.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
    while (received.includes(`${ACK}\n`)) {
      received = received.slice(received.indexOf(`${ACK}\n`) + ACK.length + 1);
      waiters.shift()?.();
    }
  });
  ack.on('error', () => {
    // Closed under us at the end of a recording: nothing is waiting any more.
  });
  let closed = false;
  return {
    argument: `fifo:${ctlPath},${ackPath}`,
    enable() {
      return new Promise<void>((resolve, reject) => {
        if (closed) {
          reject(new RecordError('RECORD', 'perf control channel is closed'));
          return;
        }
        waiters.push(resolve);
        writeSync(ctlFd, 'enable\n');
      });
    },
    close() {
      if (closed) return;
      closed = true;
      ack.destroy();
      try {
        closeSync(ctlFd);
      } catch {
        // already closed
      }
    },
  };
}
