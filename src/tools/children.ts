/**
 * The child processes of a recording (perf, bpftrace, the user's command), tracked so none outlives
 * irisflame. Three layers, because each covers a way of dying the others miss:
 * - every exit path of the session kills what it started (`killAll`);
 * - a process 'exit' hook kills whatever is still tracked (uncaught errors, process.exit);
 * - samplers start under `setpriv --pdeathsig KILL`, so the kernel kills them even when irisflame itself
 *   is SIGKILLed (perf and bpftrace run detached from the terminal, and nothing else would stop them).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { execa, type Options, type ResultPromise } from 'execa';
import { findExecutable } from './executables.js';

type Child = ResultPromise<Options>;

const live = new Set<Child>();
/** Children `killAll` leaves to their owners (SpawnOptions.outlivesSession); the exit hook still kills them. */
const lingering = new Set<Child>();
let exitHookInstalled = false;

/**
 * The children of one recording session, when several run in one process (the agent's flight recorder
 * records two instances at once beside its own long-running tracers): its `killAll` kills only its own.
 */
export type ChildScope = Set<Child>;
const scopes = new AsyncLocalStorage<ChildScope>();

/** Run `body` so that what it spawns (through awaits too) belongs to `scope`. */
export function inChildScope<T>(scope: ChildScope, body: () => T): T {
  return scopes.run(scope, body);
}

export interface SpawnOptions {
  /** Own process group: the terminal's Ctrl-C reaches irisflame only, which stops the child in order. */
  detached?: boolean;
  /** The signal the kernel sends the child when irisflame dies (samplers: SIGKILL; the command: SIGTERM). */
  parentDeathSignal?: 'SIGKILL' | 'SIGTERM';
  stdin?: Options['stdin'];
  stdout?: Options['stdout'];
  stderr?: Options['stderr'];
  /** Keep stderr in memory for the error message (stdout is always streamed, never buffered). */
  bufferStderr?: boolean;
  env?: Record<string, string>;
  cwd?: string;
  /**
   * Not killed by `killAll`, only by the 'exit' hook (and its parent-death signal): for a child whose
   * owner stops it in order after the recording session has ended (the off-CPU tracer prints its sums then).
   */
  outlivesSession?: boolean;
}

/** Start `file args`, tracked until it exits. Never rejects: callers read exitCode/signal themselves. */
export function spawnTracked(file: string, args: readonly string[], options: SpawnOptions = {}): Child {
  installExitHook();
  const [command, commandArgs] = withParentDeathSignal(file, args, options.parentDeathSignal);
  const child = execa(command, commandArgs, {
    detached: options.detached ?? false,
    cleanup: false, // ours, below; execa's skips detached children
    reject: false,
    stdin: options.stdin ?? 'ignore',
    stdout: options.stdout ?? 'pipe',
    stderr: options.stderr ?? 'pipe',
    buffer: { stdout: false, stderr: options.bufferStderr ?? true },
    encoding: 'buffer',
    stripFinalNewline: false,
    env: options.env,
    cwd: options.cwd,
    forceKillAfterDelay: false,
  }) as unknown as Child;
  const set = options.outlivesSession ? lingering : live;
  set.add(child);
  const scope = scopes.getStore();
  scope?.add(child);
  const forget = (): void => {
    set.delete(child);
    scope?.delete(child);
  };
  child.then(forget, forget);
  return child;
}

/** Send `signal` to a child that may already be gone; false when it was. */
export function signalChild(child: Child, signal: NodeJS.Signals): boolean {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return false;
  try {
    process.kill(child.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Kill every tracked child now (or only `scope`'s). Synchronous, so it also works inside the process 'exit' hook. */
export function killAll(signal: NodeJS.Signals = 'SIGKILL', scope?: ChildScope): void {
  for (const child of scope ?? live) if (live.has(child)) signalChild(child, signal);
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    killAll('SIGKILL');
    for (const child of lingering) signalChild(child, 'SIGKILL');
  });
}

/** util-linux's setpriv sets PR_SET_PDEATHSIG and then execs the real program, keeping its pid and comm. */
function withParentDeathSignal(
  file: string,
  args: readonly string[],
  signal: SpawnOptions['parentDeathSignal'],
): [string, string[]] {
  if (signal === undefined) return [file, [...args]];
  const setpriv = findExecutable('setpriv');
  if (setpriv === undefined) return [file, [...args]];
  return [setpriv, ['--pdeathsig', signal.replace(/^SIG/, ''), '--', file, ...args]];
}

/** A finished child's stderr as text (execa hands bytes back with `encoding: 'buffer'`). */
export function stderrText(done: { stderr?: unknown }): string {
  const stderr = done.stderr;
  if (stderr === undefined || stderr === null) return '';
  if (typeof stderr === 'string') return stderr;
  return Buffer.from(stderr as Uint8Array).toString('utf8');
}
