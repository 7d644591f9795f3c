/**
 * The README's last step, as a user runs it: a simulated IRIS instance started with `iris start`, the agent
 * started with `irisflame agent`, then `go tool pprof -tags -seconds N http://…/debug/pprof/profile` shows the
 * instance's CPU split by IRIS routine, labelled with the instance. Also: the sampler's health and push
 * counters in /metrics. Skipped only where bpftrace (root), gcc or go cannot run, saying why.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportSkip } from '../support/references.js';
import { bpftraceReason } from '../record/support.js';
import { installSimulatedIrisRoot, removeSimulatedIris, simulatedIrisReason, type SimulatedIris } from '../support/simulated-iris.js';
import { decodeProfile, goPprof, goPprofReason, labelCounts, parcaProblems } from '../support/pprof.js';
import { startAgentCli, uniqueInstanceName, waitFor, type AgentProcess } from './support.js';
import { startReceiver } from './profile-support.js';

const skip = reportSkip('agent profiles end to end', bpftraceReason() ?? simulatedIrisReason() ?? goPprofReason());
const out = mkdtempSync(join(tmpdir(), 'irisflame-agent-e2e-'));
/** Each resident of the simulated IRIS burns this many ms a second: enough samples at 19 Hz in a few seconds. */
const BUSY_MS = '60';

let sim: SimulatedIris | undefined;
let agent: AgentProcess | undefined;
let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
const name = uniqueInstanceName('PROF');

describe.skipIf(skip)('irisflame agent serves continuous profiles of a running simulated IRIS', () => {
  beforeAll(async () => {
    sim = installSimulatedIrisRoot('irisflame-agent-profiles-');
    sim.iris(['start', name], { IRISSIM_BUSY_MS: BUSY_MS });
    receiver = await startReceiver();
    agent = await startAgentCli(['--push', receiver.base, '--push-interval', '1', '--node', 'test-node']);
    await waitFor('the sampler to run', async () => ((await agent!.metrics()).value('irisflame_tracer_up', { tracer: 'sampler' }) === 1 ? true : undefined), 90_000);
  });

  afterAll(async () => {
    await agent?.stop();
    await receiver?.close();
    removeSimulatedIris(sim);
  });

  test('go tool pprof -tags shows the instance\'s CPU by routine, under its iris_instance', async () => {
    const url = `${agent!.url}/debug/pprof/profile`;
    // Until the instance's residents have burnt enough in one window (the machine is shared), ask again.
    let tags = '';
    await waitFor(
      'a profile with the instance and two routines',
      async () => {
        const result = await goPprof(['-tags', '-seconds', '5', url]);
        expect(result.exitCode, result.stderr).toBe(0);
        tags = result.stdout;
        const routines = /routine: Total[\s\S]*/.exec(tags)?.[0] ?? '';
        const found = ['START^MONITOR', 'START^CLNDMN', '^RECEIVE', 'SCAN^JRNZIP', 'Daemon^LOGDMN', 'RunManager^%SYS.Task', 'Master^%SYS.SERVER'].filter((routine) => routines.includes(routine));
        return tags.includes(name) && found.length >= 2 ? true : undefined;
      },
      120_000,
    );
    expect(tags).toMatch(/ iris_instance: Total/);
    expect(tags).toMatch(/ comm: Total[\s\S]*irisdb/);
  });

  test('the profile passes Parca\'s rules and names the simulated IRIS functions', async () => {
    const response = await fetch(`${agent!.url}/debug/pprof/profile?seconds=3`);
    expect(response.status).toBe(200);
    const bytes = Buffer.from(await response.arrayBuffer());
    const profile = decodeProfile(bytes);
    expect(parcaProblems(profile)).toEqual([]);
    const file = join(out, 'agent.pb.gz');
    writeFileSync(file, bytes);
    const top = await goPprof(['-top', file]);
    expect(top.exitCode, top.stderr).toBe(0);
    // Every resident burns in BurnFor → HashBlock (examples/simulated-iris/irissim.c).
    expect(top.stdout).toMatch(/HashBlock/);
    expect([...labelCounts(profile, 'iris_instance').keys()]).toContain(name);
  });

  test('pushes one profile per instance, named with node and iris_instance, and counts them in /metrics', async () => {
    await waitFor('a push for the instance', () => receiver!.received.some((request) => request.url.searchParams.get('name') === `irisflame.cpu{node=test-node,iris_instance=${name}}`) || undefined, 60_000);
    const pushed = receiver!.received.find((request) => request.url.searchParams.get('name')!.includes(name))!;
    expect(pushed.url.pathname).toBe('/ingest');
    const profile = decodeProfile(pushed.body);
    expect(parcaProblems(profile)).toEqual([]);
    expect([...labelCounts(profile, 'iris_instance').keys()]).toEqual([name]);
    const metrics = await agent!.metrics();
    expect(metrics.value('irisflame_profile_pushes_total')).toBeGreaterThan(0);
    expect(metrics.value('irisflame_profile_pushes_dropped_total')).toBe(0);
    expect(metrics.value('irisflame_tracer_restarts_total', { tracer: 'sampler' })).toBe(0);
  });
});
