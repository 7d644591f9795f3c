/**
 * The simulated IRIS (examples/simulated-iris) for tests that need a running instance: build it into a
 * temporary root, find an instance's processes in /proc, and clean up so no process outlives the tests.
 * It is NOT IRIS; anything shown from it must say "simulated IRIS".
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';
import { findExecutable } from '../../src/tools/executables.js';

export interface SimulatedIris {
  root: string;
  /** ROOT/usr/irissys */
  installDir: string;
  /** ROOT/data/NAME */
  dataDir(name: string): string;
  /** Runs ROOT/usr/irissys/bin/iris with args; returns stdout. Throws on a non-zero exit. */
  iris(args: string[], env?: NodeJS.ProcessEnv): string;
}

export interface LiveProcess {
  pid: number;
  ppid: number;
  argv: string[];
  exe: string | undefined;
}

/** Why the simulated IRIS cannot run here, or undefined when it can. */
export function simulatedIrisReason(): string | undefined {
  if (process.platform !== 'linux') return 'the simulated IRIS needs Linux (/proc, pidfd)';
  if (findExecutable('gcc') === undefined) return 'gcc is needed to build the simulated IRIS';
  return undefined;
}

/** Build it into a fresh temporary root. `IRISSIM_MS` defaults to 50 here, so starts and stops are quick. */
export function installSimulatedIrisRoot(prefix = 'irisflame-simulated-iris-'): SimulatedIris {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const installDir = execFileSync(join(REPO_ROOT, 'examples', 'simulated-iris', 'install.sh'), [root], { encoding: 'utf8' })
    .trim().split('\n').pop()!;
  return {
    root,
    installDir,
    dataDir: (name) => join(root, 'data', name),
    iris: (args, env) =>
      execFileSync(join(installDir, 'bin', 'iris'), args, {
        encoding: 'utf8',
        env: { ...process.env, IRISSIM_MS: '50', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
  };
}

/** Live (not zombie) processes whose argv names `dir` (an instance's data dir, or a whole root). */
export function processesUnder(dir: string): LiveProcess[] {
  const found: LiveProcess[] = [];
  const needle = dir.endsWith('/') ? dir : `${dir}/`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' || fields[0] === 'X') continue;
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').slice(0, -1);
      if (!argv.some((argument) => argument.includes(needle))) continue;
      let exe: string | undefined;
      try { exe = readlinkSync(`/proc/${entry}/exe`); } catch { exe = undefined; }
      found.push({ pid: Number(entry), ppid: Number(fields[1]), argv, exe });
    } catch {
      // the process ended while we read it
    }
  }
  return found;
}

/** Poll `check` until it returns true or `timeoutMs` passes (generous: the machine may be loaded). */
export async function waitUntil(check: () => boolean, timeoutMs = 20_000, stepMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
  return check();
}

/** Stop every instance under the root (`iris stop NAME`), SIGKILL anything left, and remove the root. */
export function removeSimulatedIris(sim: SimulatedIris | undefined): void {
  if (sim === undefined) return;
  const data = join(sim.root, 'data');
  for (const name of existsSync(data) ? readdirSync(data) : []) {
    try { sim.iris(['stop', name]); } catch { /* a half-built instance: the kill below handles it */ }
  }
  for (const leftover of processesUnder(sim.root)) {
    try { process.kill(leftover.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  rmSync(sim.root, { recursive: true, force: true });
}
