// Starting, reading and stopping `irisflame agent` for the agent benches (agent.mjs, agent-lifecycle.mjs).
// Every agent started here is also stopped when the bench exits for any reason (SIGKILL of its tree on exit,
// Ctrl-C included), so a failed run leaves no agent, perf or bpftrace behind.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processTree } from './process-tree.mjs';

export const REPO = fileURLToPath(new URL('..', import.meta.url));

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it returns something other than undefined. */
export async function waitFor(what, check, timeoutMs = 90_000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** What to kill on the way out: pid → kill(). */
const live = new Map();
function killAll() {
  // Last registered first: agents before the cgroups they run in, instances before the temp dir holding `iris`.
  for (const kill of [...live.values()].reverse()) kill();
  live.clear();
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}
/** Run `kill` when the bench exits before `forget(key)` is called (instances, cgroups). */
export function onBenchExit(key, kill) {
  live.set(key, kill);
  return () => live.delete(key);
}

function killTree(pid) {
  const tree = processTree(pid);
  for (const member of tree?.members.reverse() ?? []) {
    try {
      process.kill(member.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

export async function metricsText(url) {
  return (await fetch(`${url}/metrics`)).text();
}

/** The value of the first line of /metrics matching `pattern`. */
export async function metric(url, pattern) {
  const line = (await metricsText(url)).split('\n').find((l) => pattern.test(l));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

/**
 * `irisflame agent --listen 127.0.0.1:0 --frequency F ...args`, optionally through `wrap` (a cgroup's), and
 * ready: listening, the exec snooper attached, and every `irisflame_tracer_up` at 1 (or, after 60 s, those
 * still at 0 named in `down`). `start` is what getting there cost: wall seconds and CPU seconds of the agent
 * and its descendants (processTree) at that moment; `startedAt` the performance.now() of its spawn.
 */
export async function startAgent({ frequency = 19, args = [], wrap } = {}) {
  const command = ['node', [join(REPO, 'bin/irisflame'), 'agent', '--listen', '127.0.0.1:0', '--frequency', String(frequency), ...args]];
  const [file, argv] = wrap === undefined ? command : wrap(command[0], command[1]);
  const began = performance.now();
  const child = spawn(file, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  const pid = child.pid;
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const forget = onBenchExit(`agent ${pid}`, () => killTree(pid));
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  let gone = false;
  exited.then(() => (gone = true));
  const notGone = (what, check) => async () => {
    if (gone) throw new Error(`the agent exited while waiting for ${what}:\n${stderr.trim()}`);
    return check();
  };
  const stop = async () => {
    child.kill('SIGTERM');
    // The flight recorder may take up to 15 s to write a record under way; then the tree is killed.
    await Promise.race([exited, sleep(20_000)]);
    killTree(pid);
    forget();
  };
  try {
    const url = await waitFor('the agent to listen', notGone('the listener', () => /listening on (http:\/\/\S+)/.exec(stderr)?.[1]));
    await waitFor('the exec snooper', notGone('the exec snooper', () => (stderr.includes('exec snooper attached') ? true : undefined)));
    let down = [];
    await waitFor(
      'the tracers',
      notGone('the tracers', async () => {
        const lines = (await metricsText(url)).split('\n').filter((l) => l.startsWith('irisflame_tracer_up{'));
        down = lines.filter((l) => !l.endsWith(' 1')).map((l) => /tracer="([^"]+)"/.exec(l)?.[1] ?? l);
        return lines.length > 0 && down.length === 0 ? true : undefined;
      }),
      60_000,
    ).catch(() => undefined); // a tracer that does not come up is reported in `down`, not fatal
    const start = { wall: (performance.now() - began) / 1000, cpu: processTree(pid)?.cpu ?? NaN };
    return { child, pid, url, down, start, startedAt: began, stderr: () => stderr, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
