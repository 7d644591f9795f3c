/**
 * Helpers for the agent's tests: read a Prometheus text exposition, run the agent as a user would (the
 * CLI, on a port from the OS), run the simulated IRIS, poll without fixed sleeps.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { IRISFLAME_BIN, REPO_ROOT } from '../support/cli.js';
import { join } from 'node:path';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedMetrics {
  samples: Sample[];
  names(): string[];
  /** The value of the one sample of `name` whose labels include `labels`; undefined when there is none. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string): ParsedMetrics {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE_LINE.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(LABEL)) labels[label[1]!] = label[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return {
    samples,
    names: () => [...new Set(samples.map((sample) => sample.name))],
    value(name, labels = {}) {
      const found = samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
      if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
      return found[0]?.value;
    },
  };
}

/** Poll `check` until it returns a value other than undefined, or fail after `timeoutMs` saying what was awaited. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface AgentProcess {
  child: ChildProcess;
  url: string;
  stderr(): string;
  metrics(): Promise<ParsedMetrics>;
  /** The agent's bpftrace (its child), once running. */
  tracerPid(): number | undefined;
  stop(): Promise<void>;
}

/**
 * `irisflame agent --listen 127.0.0.1:0 …`, resolved once it says where it listens and its snooper attached.
 * The flight recorder is off unless `--data-dir` is given (it would record every other test's instances).
 */
export async function startAgentCli(args: string[] = []): Promise<AgentProcess> {
  const flight = args.some((arg) => arg === '--data-dir' || arg.startsWith('--data-dir=')) ? [] : ['--no-lifecycle'];
  const child = spawn('node', [IRISFLAME_BIN, 'agent', '--listen', '127.0.0.1:0', ...flight, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const url = await waitFor('the agent to listen', () => {
    if (child.exitCode !== null) throw new Error(`agent exited ${child.exitCode}: ${stderr}`);
    return /listening on (https?:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
  });
  await waitFor('the exec snooper to attach', () => (stderr.includes('exec snooper attached') ? true : undefined), 90_000);
  const agent: AgentProcess = {
    child,
    url,
    stderr: () => stderr,
    metrics: async () => parseMetrics(await (await fetch(`${url}/metrics`)).text()),
    // The exec snooper's bpftrace, not the profile sampler's (the agent runs both).
    tracerPid: () => childrenOf(child.pid!).find((pid) => commOf(pid) === 'bpftrace' && cmdlineOf(pid).includes('sched_process_exec')),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await waitFor('the agent to exit', () => (child.exitCode !== null || child.signalCode !== null ? true : undefined), 10_000).catch(() => child.kill('SIGKILL'));
      }
    },
  };
  return agent;
}

export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  let tasks: string;
  try {
    tasks = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
  } catch {
    return children; // ps exits 1 when there are none
  }
  for (const line of tasks.split('\n')) if (line.trim() !== '') children.push(Number(line.trim()));
  return children;
}

export function commOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

export function isAlive(pid: number): boolean {
  try {
    // A zombie still answers kill(0): read its state.
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

/** The simulated IRIS installed under `root`; returns the path of its `iris` command. */
export function installSimulatedIris(root: string): string {
  const install = execFileSync(join(REPO_ROOT, 'examples/simulated-iris/install.sh'), [root], { encoding: 'utf8' }).trim();
  return join(install, 'bin', 'iris');
}

/** `iris ACTION NAME` of the simulated IRIS (no shell). */
export function iris(command: string, action: string, name: string): void {
  execFileSync(command, [action, name], { stdio: 'ignore', timeout: 60_000 });
}

/** A name no other test's instance uses (the agent sees every instance on the machine). */
export function uniqueInstanceName(prefix: string): string {
  return `${prefix}${process.pid}${Math.floor(Math.random() * 1e6)}`;
}

/**
 * `--lifecycle-instances` for the instances uniqueInstanceName makes in this test file's process (vitest runs
 * each file in its own process): another file's instances, started at the same moment, must not take this
 * agent's recording slots (MAX_SAMPLING_RECORDS) and leave its own records without CPU samples.
 */
export const OWN_INSTANCES_ONLY = ['--lifecycle-instances', `[A-Z]+${process.pid}[0-9]+`];
