/**
 * `irisflame agent` run the way deploy/daemonset.yaml runs it, short of a container runtime: uid 0 with only
 * the DaemonSet's capabilities and no_new_privs, the container's environment and arguments (--listen on
 * loopback, port from the OS, instead of the pod IP), a read-only root filesystem but a writable /tmp, and
 * tracefs as the read-only host mount provides it, all in a private mount namespace. Against the simulated
 * IRIS: the status follows a start, a stop and a crash, /healthz says the exec snooper runs, the CPU profile
 * comes from a sampler that runs with these privileges, SIGTERM ends it.
 * If the agent ever needs a privilege the DaemonSet does not grant, this is where it shows.
 */
import { execa, execaSync, type ResultPromise } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IRISFLAME_BIN, REPO_ROOT } from '../support/cli.js';
import { reportSkip } from '../support/references.js';
import { liveReason } from '../record/support.js';
import { agentParts, boundingSetOf, inlineEnv, missingProgram } from './support.js';

const { container } = agentParts('daemonset.yaml');
const CAPS = container.securityContext.capabilities.add as string[];
const ENV = inlineEnv(container);
const NODE = 'deploy-test-node';
const INSTANCE = `DEPLOY${process.pid}`;

/** The container's arguments with the pod-only values swapped for ones that suit a shared test machine. */
function agentArgs(): string[] {
  const args = [...(container.args as string[])];
  args[args.indexOf('--listen') + 1] = '127.0.0.1:0';
  args[args.indexOf('--node') + 1] = NODE;
  // Only this file's instance is recorded: another file's, recorded meanwhile, made SIGTERM wait for its record.
  args.push('--lifecycle-instances', INSTANCE);
  return args;
}

function skipReason(): string | undefined {
  const missing = liveReason() ?? missingProgram('setpriv', 'util-linux') ?? missingProgram('unshare', 'util-linux') ?? missingProgram('bpftrace', 'apt-get install bpftrace');
  if (missing !== undefined) return missing;
  const help = execaSync('node', [IRISFLAME_BIN, 'agent', '--help'], { reject: false, all: true }).all ?? '';
  if (!/irisflame agent/.test(help)) return '`irisflame agent` is not in this build yet (branch agent)';
  if (!/\biris start\b/.test(readFileSync(join(REPO_ROOT, 'examples', 'simulated-iris', 'irissim.c'), 'utf8'))) return 'this simulated IRIS cannot keep an instance running (branch sim)';
  return undefined;
}

describe.skipIf(reportSkip('agent in a container-like sandbox', skipReason()))('the agent under the DaemonSet’s security context', () => {
  let agent: ResultPromise | undefined;
  let stderr = '';
  let url = '';
  let iris = '';
  let root = '';

  const metrics = async (): Promise<string> => (await fetch(`${url}/metrics`)).text();
  const sample = async (name: string): Promise<number | undefined> => {
    const line = (await metrics()).split('\n').find((text) => text.startsWith(`${name}{`) && text.includes(`iris_instance="${INSTANCE}"`));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  // stdio ignored: the instance outlives `iris start`, and would die writing to a pipe nobody reads.
  const runIris = (action: string): Promise<unknown> => execa(iris, [action, INSTANCE], { timeout: 60_000, stdio: 'ignore' });

  beforeAll(async () => {
    // A short root: the exec snooper copies 200 bytes of argv, and the control process's argv names the
    // data directory three times before the instance name.
    root = mkdtempSync(join(tmpdir(), 'ifd-'));
    const install = (await execa(join(REPO_ROOT, 'examples', 'simulated-iris', 'install.sh'), [root])).stdout.trim().split('\n').pop()!;
    iris = join(install, 'bin', 'iris');
    const bounding = boundingSetOf(CAPS);
    const script = [
      'set -e',
      'mount --make-rprivate /',
      '[ -d /sys/kernel/tracing/events ] || mount -t tracefs nodev /sys/kernel/tracing',
      'mount -o remount,bind,ro /sys/kernel/tracing',
      // /tmp stays writable (the pod's emptyDir) as its own mount; then / goes read-only.
      'mount --bind /tmp /tmp',
      'mount -o remount,bind,ro /',
      `exec setpriv --bounding-set=${bounding} --inh-caps=-all --no-new-privs -- "$@"`,
    ].join('\n');
    agent = execa('unshare', ['--mount', 'sh', '-c', script, 'sh', 'node', IRISFLAME_BIN, 'agent', ...agentArgs()], {
      env: { ...ENV, NODE_NAME: NODE },
      reject: false,
      stdout: 'ignore',
      buffer: false,
    });
    agent.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    url = await waitFor('the agent to listen', () => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1]);
    await waitFor('the exec snooper to attach', () => (stderr.includes('exec snooper attached') ? true : undefined), 90_000);
  }, 150_000);

  afterAll(async () => {
    await runIris('force').catch(() => undefined);
    if (agent !== undefined && agent.exitCode === null) agent.kill('SIGKILL');
    await agent;
    rmSync(root, { recursive: true, force: true });
  });

  it('says on /healthz that its exec snooper runs, and labels its series with the node name', async () => {
    const health = await (await fetch(`${url}/healthz`)).text();
    expect(health, stderr).toMatch(/^ok/);
    expect(await metrics()).toMatch(new RegExp(`irisflame_build_info\\{`));
  });

  it('follows a start, a stop and a crash of an instance', async () => {
    await runIris('start');
    expect(await waitFor('status 1', async () => ((await sample('iris_instance_status')) === 1 ? 1 : undefined))).toBe(1);
    expect((await metrics()).includes(`node="${NODE}"`)).toBe(true);
    await runIris('stop');
    expect(await waitFor('status 0', async () => ((await sample('iris_instance_status')) === 0 ? 0 : undefined))).toBe(0);
    expect(await sample('iris_instance_stops_total')).toBe(1);
    await runIris('start');
    await waitFor('status 1 again', async () => ((await sample('iris_instance_status')) === 1 ? 1 : undefined));
    await runIris('force');
    expect(await waitFor('an unexpected exit', async () => ((await sample('iris_instance_unexpected_exits_total')) === 1 ? 1 : undefined))).toBe(1);
    expect(await sample('iris_instance_status')).toBe(0);
  }, 150_000);

  it('serves a CPU profile that go tool pprof reads, from a sampler running with these privileges', async (context) => {
    const response = await fetch(`${url}/debug/pprof/profile?seconds=2`);
    if (response.status === 404) {
      reportSkip('agent profile', 'no /debug/pprof/profile in this build yet (branch pprof)');
      context.skip();
      return;
    }
    expect(response.status).toBe(200);
    const body = Buffer.from(await response.arrayBuffer());
    expect(body.subarray(0, 2).toString('hex')).toBe('1f8b'); // gzip, as Go's handler sends it
    expect(await waitFor('the sampler', async () => ((await metrics()).includes('irisflame_tracer_up{tracer="sampler"} 1') ? true : undefined))).toBe(true);
    if (missingProgram('go', 'apt-get install golang-go') === undefined) {
      const file = join(root, 'profile.pb.gz');
      writeFileSync(file, body);
      const pprof = await execa('go', ['tool', 'pprof', '-raw', file], { reject: false, all: true, env: { PPROF_TMPDIR: root, HOME: root } });
      expect(pprof.exitCode, pprof.all).toBe(0);
      expect(pprof.all).toMatch(/Samples:/);
    }
  }, 60_000);

  it('exits on SIGTERM', async () => {
    agent!.kill('SIGTERM');
    const done = await agent!;
    expect(done.exitCode === 0 || done.signal === 'SIGTERM', `exit code ${done.exitCode}, signal ${done.signal}\n${stderr}`).toBe(true);
  }, 30_000);
});

/** Poll `check` every 100 ms until it returns something, or fail after `timeoutMs` saying what was awaited. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
