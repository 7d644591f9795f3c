/**
 * Running one bpftrace program whose output is read line by line: the exec snooper (lifecycle view and
 * agent) and the off-CPU/file tracer all go through here, so tracefs mounting, attach detection and
 * shutdown live in one place.
 *
 * bpftrace's tracepoints need tracefs; hosts that have not mounted it (minimal containers, this build
 * machine) get it mounted in a private mount namespace (`unshare --mount`), so nothing changes for the
 * rest of the host. A program that cannot attach yields a reason, never a throw: callers degrade.
 */
import { existsSync } from 'node:fs';
import { signalChild, spawnTracked, stderrText } from '../tools/children.js';
import { findExecutable } from '../tools/executables.js';

import type { Readable } from 'node:stream';

/** bpftrace compiles and attaches in a second or two; a loaded 2-core host took up to ~8 s. */
export const ATTACH_TIMEOUT_MS = 30_000;
const TRACEFS = '/sys/kernel/tracing';
/** A batched read this big means output is streaming: read again at once rather than after the interval. */
const BURST_BYTES = 16 * 1024;
/**
 * Debian 12's bpftrace 0.17 finds the kernel's BTF by listing BTF objects, which needs CAP_SYS_ADMIN: under a
 * reduced capability set (the agent's DaemonSet) programs that read task structs then fail to compile. Naming
 * the file avoids the listing; bpftrace 0.17 crashes if the named file is missing, so only when it exists.
 */
const KERNEL_BTF = '/sys/kernel/btf/vmlinux';

export interface BpftraceProgramOptions {
  /** Extra environment (BPFTRACE_STRLEN, BPFTRACE_MAP_KEYS_MAX, …). */
  env?: Record<string, string>;
  /**
   * Read bpftrace's output at most this often, milliseconds (lines wait in the pipe meanwhile).
   * @default 0 (as it comes)
   */
  readIntervalMs?: number;
  /** Every stdout line but bpftrace's "Attaching N probes..." banner, as it arrives. */
  onLine: (line: string) => void;
  /** Who is starting it, for the reason given when it cannot start ("the exec snooper"). */
  label: string;
  attachTimeoutMs?: number;
  /**
   * A line the program prints from BEGIN, which bpftrace runs once every probe is attached: started means
   * that line, not the "Attaching N probes..." banner, printed before attaching (seconds for ~25 probes).
   */
  readyLine?: string;
  /** Survive the recording session's `killAll`: the owner stops it afterwards (END output still to come). */
  outlivesSession?: boolean;
}

export interface RunningBpftrace {
  /** SIGINT (bpftrace prints its END output and maps), then wait for it to exit and its output to drain. */
  stop(): Promise<void>;
  kill(): void;
  /** Settles when bpftrace exits, for whatever reason (a killed tracer is restarted by its owner). */
  readonly exited: Promise<{ exitCode: number | undefined; signal: string | undefined; stderr: string }>;
  readonly pid: number | undefined;
}

export type BpftraceStart = { running: RunningBpftrace; unavailable?: undefined } | { running?: undefined; unavailable: string };

export async function startBpftraceProgram(program: string, options: BpftraceProgramOptions): Promise<BpftraceStart> {
  const bpftrace = findExecutable('bpftrace');
  if (bpftrace === undefined) return { unavailable: 'bpftrace is not installed (apt-get install bpftrace)' };
  const btf: Record<string, string> = process.env.BPFTRACE_BTF === undefined && existsSync(KERNEL_BTF) ? { BPFTRACE_BTF: KERNEL_BTF } : {};
  const env = { ...btf, ...options.env };
  const tracefsMounted = existsSync(`${TRACEFS}/events`);
  const unshare = findExecutable('unshare');
  const spawnOptions = {
    detached: true,
    parentDeathSignal: 'SIGKILL' as const,
    env,
    bufferStderr: true,
    outlivesSession: options.outlivesSession ?? false,
  };
  const child =
    tracefsMounted || unshare === undefined
      ? spawnTracked(bpftrace, ['-e', program], spawnOptions)
      : spawnTracked(
          unshare,
          ['--mount', '--propagation', 'private', 'sh', '-c', `mount -t tracefs nodev ${TRACEFS} && exec "$0" -e "$1"`, bpftrace, program],
          spawnOptions,
        );

  let partial = '';
  let attached: () => void = () => undefined;
  const attachedPromise = new Promise<void>((resolve) => (attached = resolve));
  const onText = (text: string): void => {
    const parts = (partial + text).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      if (options.readyLine !== undefined ? line === options.readyLine : line.startsWith('Attaching ')) attached();
      else if (!line.startsWith('Attaching ')) options.onLine(line);
    }
  };
  // bpftrace writes each event as its own chunk, and every read costs a wake-up and a fresh buffer (~100 µs
  // an event here, and young-generation GCs). With `readIntervalMs` the stream stays paused and whatever
  // has accumulated is read in one go at most that often (the pipe and the stream's buffer hold the rest).
  const reading = new Promise<void>((resolve) => {
    const stdout = child.stdout as Readable;
    const interval = options.readIntervalMs ?? 0;
    let drainTimer: NodeJS.Timeout | undefined;
    // A burst (the warm off-CPU tracer during a restart) is read as fast as it comes: a full pipe stops bpftrace
    // reading the kernel's buffers, which then drop events.
    let bursting = false;
    const drain = (): void => {
      drainTimer = undefined;
      let bytes = 0;
      for (let chunk: Buffer | null; (chunk = stdout.read() as Buffer | null) !== null; ) {
        bytes += chunk.length;
        onText(chunk.toString('utf8'));
      }
      bursting = bytes >= BURST_BYTES;
    };
    if (interval > 0) {
      stdout.on('readable', () => {
        drainTimer ??= setTimeout(drain, bursting ? 0 : interval);
      });
    } else {
      stdout.on('data', (chunk: Buffer) => onText(chunk.toString('utf8')));
    }
    stdout.once('close', () => {
      clearTimeout(drainTimer);
      if (interval > 0) drain();
      if (partial !== '') options.onLine(partial);
      partial = '';
      resolve();
    });
  });

  const exited = child.then((done) => ({
    exitCode: done.exitCode ?? undefined,
    signal: done.signal ?? undefined,
    stderr: stderrText(done),
  }));

  let timer: NodeJS.Timeout | undefined;
  const timeout = options.attachTimeoutMs ?? ATTACH_TIMEOUT_MS;
  const outcome = await Promise.race([
    attachedPromise.then(() => 'attached' as const),
    exited.then(() => 'exited' as const),
    new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeout))),
  ]);
  clearTimeout(timer);
  if (outcome !== 'attached') {
    signalChild(child, 'SIGKILL');
    const done = await exited;
    const reason = firstError(done.stderr) ?? (outcome === 'timeout' ? `it did not attach within ${timeout / 1000} s` : 'it exited');
    return { unavailable: `${options.label} (bpftrace) could not start: ${reason}` };
  }

  let stopped: Promise<void> | undefined;
  return {
    running: {
      pid: child.pid,
      exited,
      stop() {
        stopped ??= (async () => {
          signalChild(child, 'SIGINT');
          await exited;
          await reading.catch(() => undefined);
        })();
        return stopped;
      },
      kill() {
        signalChild(child, 'SIGKILL');
      },
    },
  };
}

/** bpftrace's first real complaint (it also warns about RLIMIT_MEMLOCK, which is harmless on new kernels). */
export function firstError(stderr: string): string | undefined {
  return stderr
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line !== '' && !/RLIMIT_MEMLOCK/.test(line));
}
