/**
 * Running the exec snooper (exec-snooper.ts) beside perf. bpftrace's tracepoints need tracefs; hosts that
 * have not mounted it (minimal containers, this build machine) get it mounted in a private mount
 * namespace (`unshare --mount`), so nothing changes for the rest of the host. If bpftrace is missing or
 * cannot attach, the recording goes on without argv and says so: lanes then show comm names only.
 */
import { existsSync } from 'node:fs';
import { findExecutable } from '../record/executables.js';
import { signalChild, spawnTracked } from '../record/children.js';
import { EXEC_SNOOPER_PROGRAM, SNOOPER_ARGV_BYTES } from './exec-snooper.js';

/** bpftrace compiles and attaches in a second or two; a loaded 2-core host took up to ~8 s. */
const ATTACH_TIMEOUT_MS = 30_000;
const TRACEFS = '/sys/kernel/tracing';

export interface RunningSnooper {
  /** Why there will be no argv, when the snooper could not start. */
  unavailable: string | undefined;
  /** Stop it and return its output lines (E/X records). Safe to call more than once. */
  stop(): Promise<string[]>;
  kill(): void;
}

export async function startExecSnooper(): Promise<RunningSnooper> {
  const bpftrace = findExecutable('bpftrace');
  if (bpftrace === undefined) return unavailable('bpftrace is not installed (apt-get install bpftrace)');
  const env = { BPFTRACE_STRLEN: String(SNOOPER_ARGV_BYTES) };
  const tracefsMounted = existsSync(`${TRACEFS}/events`);
  const unshare = findExecutable('unshare');
  let child: ReturnType<typeof spawnTracked>;
  if (tracefsMounted || unshare === undefined) {
    child = spawnTracked(bpftrace, ['-e', EXEC_SNOOPER_PROGRAM], { detached: true, parentDeathSignal: 'SIGKILL', env });
  } else {
    const script = `mount -t tracefs nodev ${TRACEFS} && exec "$0" -e "$1"`;
    child = spawnTracked(unshare, ['--mount', '--propagation', 'private', 'sh', '-c', script, bpftrace, EXEC_SNOOPER_PROGRAM], {
      detached: true,
      parentDeathSignal: 'SIGKILL',
      env,
    });
  }

  const lines: string[] = [];
  let partial = '';
  let attached: () => void = () => undefined;
  const attachedPromise = new Promise<void>((resolve) => (attached = resolve));
  const reading = (async () => {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      const text = partial + chunk.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        if (line.startsWith('Attaching ')) attached();
        else if (line.startsWith('E\t') || line.startsWith('X\t')) lines.push(line);
      }
    }
    if (partial.startsWith('E\t') || partial.startsWith('X\t')) lines.push(partial);
  })();

  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    attachedPromise.then(() => 'attached' as const),
    child.then(() => 'exited' as const),
    new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ATTACH_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  if (outcome !== 'attached') {
    signalChild(child, 'SIGKILL');
    const done = await child;
    const stderr = Buffer.isBuffer(done.stderr) ? done.stderr.toString('utf8') : String(done.stderr ?? '');
    const reason = firstError(stderr) ?? (outcome === 'timeout' ? `it did not attach within ${ATTACH_TIMEOUT_MS / 1000} s` : 'it exited');
    return unavailable(`the exec snooper (bpftrace) could not start: ${reason}`);
  }

  let stopped: Promise<string[]> | undefined;
  return {
    unavailable: undefined,
    stop() {
      stopped ??= (async () => {
        signalChild(child, 'SIGINT');
        await child;
        await reading.catch(() => undefined);
        return lines;
      })();
      return stopped;
    },
    kill() {
      signalChild(child, 'SIGKILL');
    },
  };
}

function unavailable(reason: string): RunningSnooper {
  return { unavailable: reason, stop: async () => [], kill: () => undefined };
}

/** bpftrace's first real complaint (it also warns about RLIMIT_MEMLOCK, which is harmless on new kernels). */
function firstError(stderr: string): string | undefined {
  return stderr
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line !== '' && !/RLIMIT_MEMLOCK/.test(line));
}
