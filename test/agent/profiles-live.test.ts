/**
 * The continuous sampler and /debug/pprof/profile for real: bpftrace samples simulated IRIS jobs (two
 * `irisdb` processes running START^MONITOR and ^RECEIVE, examples/simulated-iris) while the route is
 * scraped by `go tool pprof -seconds 2 URL`, by fetch, and by 50 clients at once. Skipped only where
 * bpftrace (root) or gcc cannot run, saying why.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execa, type ResultPromise } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ContinuousSampler } from '../../src/agent/sampler.js';
import { pprofRoute } from '../../src/agent/pprof-route.js';
import { reportSkip } from '../support/references.js';
import { bpftraceReason, installSimulatedIris, pathWithOnly, perfReason } from '../record/support.js';
import { decodeProfile, goPprof, goPprofReason, labelCounts, parcaProblems, stacksOf } from '../support/pprof.js';
import { eventually, startIrisJob, startReceiver } from './profile-support.js';
import { startAgentServer, type RunningServer } from '../../src/agent/server.js';
import { Registry } from 'prom-client';
import { ProfilePusher } from '../../src/agent/push.js';

const skip = reportSkip('agent profiles (live)', bpftraceReason() ?? goPprofReason());
const JOB_MS = 170_000;
const out = mkdtempSync(join(tmpdir(), 'irisflame-agent-profiles-'));

let installDir = '';
let jobs: ResultPromise[] = [];
let sampler: ContinuousSampler | undefined;
let server: RunningServer | undefined;

describe.skipIf(skip)('continuous profiles of a simulated IRIS', () => {
  beforeAll(async () => {
    installDir = await installSimulatedIris();
    jobs = [startIrisJob(installDir, 'START^MONITOR', JOB_MS), startIrisJob(installDir, '^RECEIVE', JOB_MS)];
    sampler = new ContinuousSampler({ frequency: 19, backend: 'bpftrace', irisDir: installDir });
    await sampler.start();
    // The agent's own server, with the route plugged in as agent.ts does.
    server = await startAgentServer({ listen: { host: '127.0.0.1', port: 0 }, registry: new Registry(), routes: [pprofRoute(sampler)] });
    // The first interval proves sampling runs before any scrape is timed.
    await eventually(() => sampler!.ring.size > 0, 60_000, 'the first sampling interval');
  });

  afterAll(async () => {
    await server?.close();
    await sampler?.stop();
    for (const job of jobs) job.kill('SIGKILL');
    await Promise.all(jobs.map((job) => job.catch(() => undefined)));
    if (installDir !== '') rmSync(dirname(dirname(installDir)), { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });

  test('go tool pprof -seconds 2 URL fetches a profile whose -tags split irisdb by routine', async () => {
    const url = `${server!.url}/debug/pprof/profile`;
    const tags = await goPprof(['-tags', '-seconds', '2', url]);
    expect(tags.exitCode, tags.stderr).toBe(0);
    expect(tags.stderr).toMatch(/profile\?seconds=2/);
    expect(tags.stdout).toMatch(/ routine: Total/);
    expect(tags.stdout).toMatch(/START\^MONITOR/);
    expect(tags.stdout).toMatch(/\^RECEIVE/);
    expect(tags.stdout).toMatch(/ comm: Total[\s\S]*irisdb/);
    const top = await goPprof(['-top', '-seconds', '2', url]);
    expect(top.exitCode, top.stderr).toBe(0);
    expect(top.stdout).toMatch(/Type: cpu/);
    expect(top.stdout).toMatch(/MonitorSample|ReceiveListen|HashBlock/);
  });

  test('?seconds=2 answers 200 with Go\'s headers and a profile of that window, IRIS processes only', async () => {
    const response = await fetch(`${server!.url}/debug/pprof/profile?seconds=2`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="profile"');
    const bytes = Buffer.from(await response.arrayBuffer());
    const file = join(out, 'two-seconds.pb.gz');
    writeFileSync(file, bytes);
    const profile = decodeProfile(bytes);
    expect(parcaProblems(profile)).toEqual([]);
    expect(Number(profile.period)).toBe(Math.round(1e9 / 19));
    expect(Number(profile.durationNanos)).toBeGreaterThanOrEqual(1.5e9);
    expect(Number(profile.durationNanos)).toBeLessThanOrEqual(3.5e9);
    const comms = [...labelCounts(profile, 'comm').keys()];
    expect(comms).toContain('irisdb');
    expect(comms.every((comm) => /^(iris|irisdb|irisstop|irisrecov|iriswdimj|irisrun|requirements_ch)/.test(comm))).toBe(true);
    const routines = labelCounts(profile, 'routine');
    expect(routines.get('START^MONITOR')).toBeGreaterThan(0);
    expect(routines.get('^RECEIVE')).toBeGreaterThan(0);
    // User frames named from the binary's symbols; the binary is the profile's main mapping.
    const frames = stacksOf(profile).flatMap((stack) => stack.frames);
    expect(frames).toEqual(expect.arrayContaining(['HashBlock']));
    // (Other simulated IRIS installs on this machine may be busier: ours need not be mapping[0].)
    const strings = profile.stringTable.strings;
    expect(profile.mapping.map((mapping) => strings[Number(mapping.filename)])).toContain(join(installDir, 'bin', 'irisdb'));
    for (const flag of ['-top', '-raw', '-tags']) {
      const result = await goPprof([flag, file]);
      expect(result.exitCode, `${flag}: ${result.stderr}`).toBe(0);
    }
  });

  test('bad seconds get 400 with a one-line reason and X-Go-Pprof; other /debug/pprof paths 404 (Parca asks for them)', async () => {
    for (const bad of ['0', '301', 'abc', '-1', '1.5', '1e2']) {
      const response = await fetch(`${server!.url}/debug/pprof/profile?seconds=${bad}`);
      expect(response.status, bad).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(response.headers.get('x-go-pprof')).toBe('1');
      const text = await response.text();
      expect(text).toMatch(/^seconds must be a whole number from 1 to 300 \(got ".*"\)\n$/);
    }
    for (const path of ['heap', 'allocs', 'block', 'mutex', 'goroutine', '', 'profile/extra']) {
      const response = await fetch(`${server!.url}/debug/pprof/${path}`);
      expect(response.status, path).toBe(404);
      await response.text();
    }
  });

  test('of 20 concurrent profile requests one is served, the others get 429 at once (one at a time, as Go)', async () => {
    const pid = sampler!.processId;
    const started = Date.now();
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        // 5 s: with 2 s, a run at a load of 18 on 2 cores had two served: the last fetches reached the server
        // after the first profile had ended.
        fetch(`${server!.url}/debug/pprof/profile?seconds=5`).then(async (r) => ({ status: r.status, retryAfter: r.headers.get('retry-after'), bytes: Buffer.from(await r.arrayBuffer()), ms: Date.now() - started })),
      ),
    );
    const served = responses.filter((response) => response.status === 200);
    const refused = responses.filter((response) => response.status === 429);
    expect(served).toHaveLength(1);
    expect(refused).toHaveLength(19);
    expect(parcaProblems(decodeProfile(served[0]!.bytes))).toEqual([]);
    for (const response of refused) {
      expect(response.bytes.toString()).toMatch(/^another CPU profile is being taken \(one at a time, as in Go\); retry in [1-5] s\n$/);
      expect(response.retryAfter).toMatch(/^[1-5]$/);
      expect(response.ms).toBeLessThan(served[0]!.ms);
    }
    // Once it is done, the next one is served.
    expect((await fetch(`${server!.url}/debug/pprof/profile?seconds=1`)).status).toBe(200);
    expect(sampler!.processId).toBe(pid);
    expect(sampler!.restarts).toBe(0);
  });

  test('--push sends each interval\'s samples to /ingest, one profile per instance, that go tool pprof reads', async () => {
    const receiver = await startReceiver();
    const pusher = new ProfilePusher(sampler!, { url: receiver.base, node: 'test-node', intervalSeconds: 1 });
    pusher.start();
    try {
      await eventually(() => receiver.received.some((request) => decodeProfile(request.body).sample.length > 0), 45_000, 'a push with samples');
    } finally {
      pusher.stop();
      await receiver.close();
    }
    const request = receiver.received.find((candidate) => decodeProfile(candidate.body).sample.length > 0)!;
    expect(request.url.pathname).toBe('/ingest');
    expect(request.url.searchParams.get('name')).toBe('irisflame.cpu{node=test-node}');
    const file = join(out, 'pushed.pb.gz');
    writeFileSync(file, request.body);
    const tags = await goPprof(['-tags', file]);
    expect(tags.exitCode, tags.stderr).toBe(0);
    expect(tags.stdout).toMatch(/ comm: Total[\s\S]*irisdb/);
    expect(pusher.counters.failed).toBe(0);
  });

  // Known intermittent under a loaded full suite (3 of ~8 runs this session, never alone on a quiet machine, and
  // seen with the previous session's sampler too): every frame of the short job comes back [unknown], as if its
  // maps snapshot missed the exec'd image. Root cause not found yet; retried meanwhile, and it still fails when
  // the job is never named.
  test('a job that exits within the second is still named, once the agent reports its exec', async () => {
    const fast = new ContinuousSampler({ frequency: 99, backend: 'bpftrace', irisDir: installDir });
    await fast.start();
    try {
      // 500 ms jobs whose samples are mostly read after they have exited: only the maps snapshot taken at the
      // exec report can name them. Not every sample can name ReceiveListen, though: a loaded machine gives a
      // job a few samples, and one may land in ld.so's page faults at start-up or in the kernel's exit path
      // (seen: 1 of 2). So the test gathers at least MIN_SAMPLES user stacks over several jobs and wants most
      // of them named. Without the snapshot only the samples read while the job still ran (an interval
      // boundary inside its life: about a quarter of them on average) would be.
      const MIN_SAMPLES = 12;
      const namedSamples: boolean[] = [];
      let receiveListen = 0;
      const unnamed: string[] = [];
      for (let job = 0; job < 20 && namedSamples.length < MIN_SAMPLES; job++) {
        // execa returns once the child has exec'd (libuv waits for it), as the agent's exec event does.
        const run = execa(join(installDir, 'bin', 'irisdb'), [`-s${join(installDir, 'mgr')}/`, '-cj', '-p13', '^RECEIVE'], { env: { IRISSIM_MS: '500' }, reject: false });
        fast.noteExec(run.pid!, 'irisdb');
        await run;
        const exitedAt = Date.now();
        await eventually(() => (fast.ring.latestEndMs ?? 0) > exitedAt + 1000, 30_000, 'the intervals after the job');
        // Named = the exec's maps snapshot named its user frames (`main;find_dirs`, `ReceiveListen`, …). Left out:
        // samples in the kernel whose user part is all [unknown]: execve itself (no user image yet) and the dynamic
        // loader's page faults and mmaps at start-up (ld.so and libc's start code have no symbols to name; on this
        // VM they are a large share of a short job's samples under load). A job's own code runs in user mode, so
        // without the snapshot its samples stay here, all [unknown], and count as unnamed.
        const userStacks = fast.ring.window(0, Date.now()).samples.filter((sample) => sample.pid === run.pid);
        for (const sample of userStacks) {
          const user = sample.frames.filter((frame) => !frame.endsWith('_[k]'));
          const named = user.some((frame) => frame !== '[unknown]');
          if (user.length === 0 || (!named && user.length < sample.frames.length)) continue;
          namedSamples.push(named);
          if (sample.frames.includes('ReceiveListen')) receiveListen++;
          if (!named) unnamed.push(sample.frames.join(';'));
        }
      }
      expect(namedSamples.length).toBeGreaterThanOrEqual(MIN_SAMPLES);
      expect(receiveListen, 'samples in the job\'s routine, ReceiveListen').toBeGreaterThan(0);
      expect(namedSamples.filter(Boolean).length / namedSamples.length, `not named:\n${unnamed.join('\n')}`).toBeGreaterThanOrEqual(0.6);
    } finally {
      await fast.stop();
    }
  }, 180_000); // up to 20 jobs of ~2 s each on a loaded host

  test('a killed bpftrace is restarted, counted, and sampling resumes', async () => {
    const pid = sampler!.processId!;
    process.kill(pid, 'SIGKILL');
    await eventually(() => sampler!.restarts === 1 && sampler!.processId !== undefined && sampler!.processId !== pid, 60_000, 'the restart');
    const after = Date.now();
    await eventually(() => (sampler!.ring.latestEndMs ?? 0) > after, 60_000, 'an interval after the restart');
  });

  test('--all samples the whole node, not only IRIS', async () => {
    const all = new ContinuousSampler({ frequency: 49, all: true, backend: 'bpftrace' });
    await all.start();
    try {
      await eventually(() => all.ring.size >= 2, 60_000, 'two intervals');
      const comms = new Set(all.ring.window(0, Date.now()).samples.map((sample) => sample.comm));
      expect([...comms].some((comm) => !/^iris/.test(comm))).toBe(true);
    } finally {
      await all.stop();
    }
  });

  test.skipIf(reportSkip('perf fallback', perfReason()))('the perf fallback fills the same ring: IRIS jobs with their routines, named frames', async () => {
    const perf = new ContinuousSampler({ frequency: 49, backend: 'perf', irisDir: installDir });
    await perf.start();
    try {
      await eventually(() => perf.ring.window(0, Date.now()).samples.some((sample) => sample.routine === 'START^MONITOR'), 60_000, 'a START^MONITOR sample from perf');
      const samples = perf.ring.window(0, Date.now()).samples;
      expect(samples.every((sample) => /^iris|^requirements_ch/.test(sample.comm))).toBe(true);
      expect(samples.flatMap((sample) => sample.frames)).toContain('HashBlock');
    } finally {
      await perf.stop();
    }
  });

  test.skipIf(reportSkip('perf fallback', perfReason()))('--backend auto samples with perf where bpftrace is not installed', async () => {
    const path = process.env.PATH;
    process.env.PATH = pathWithOnly(['perf', 'setpriv']);
    const auto = new ContinuousSampler({ frequency: 49, backend: 'auto', irisDir: installDir });
    try {
      await auto.start();
      expect(auto.backend).toBe('perf');
      await eventually(() => auto.ring.size > 0, 60_000, 'an interval from perf');
    } finally {
      process.env.PATH = path;
      await auto.stop();
    }
  });

  test('stop() leaves no sampling process behind', async () => {
    const extra = new ContinuousSampler({ backend: 'bpftrace' });
    await extra.start();
    const pid = extra.processId!;
    await extra.stop();
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
