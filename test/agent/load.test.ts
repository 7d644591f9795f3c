/**
 * The agent (TLS + basic auth) under hostile load on loopback, bounded in count and time: 200 concurrent
 * connections scraping /metrics, 20 concurrent profile requests, a byte-a-second header, oversized headers,
 * garbage bytes, a TLS handshake that never starts. Meanwhile a monitor scrapes /metrics every 250 ms and
 * each answer must come within 1 s, a simulated IRIS instance stopped meanwhile must still go to 0, and the
 * agent must survive. Its RSS before and after and the monitor's latencies are printed (docs/agent.md).
 * Needs root, bpftrace, gcc (the simulated IRIS), openssl.
 */
import { execa } from 'execa';
import { execFile } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findExecutable } from '../../src/tools/executables.js';
import { reportSkip } from '../support/references.js';
import { installSimulatedIris, iris, parseMetrics, startAgentCli, uniqueInstanceName, waitFor, type AgentProcess } from './support.js';
import { bcryptHash, get, makePki, type Answer, type TestPki } from './tls-support.js';

const execFileAsync = promisify(execFile);

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (bpftrace needs it)';
  for (const tool of ['bpftrace', 'gcc', 'openssl']) if (findExecutable(tool) === undefined) return `${tool} is not installed`;
  return undefined;
}
const skip = reportSkip('agent under load', missing());

/** `count` concurrent HTTPS scrapes with basic auth from a child node process; their statuses (or errors). */
async function scrapeFromChild(url: string, ca: string, count: number): Promise<Array<number | string>> {
  const script = `
    const https = require('node:https');
    const ca = require('node:fs').readFileSync(${JSON.stringify(ca)});
    const one = () => new Promise((resolve) => {
      const request = https.get(${JSON.stringify(url)}, { ca, agent: false, auth: 'prometheus:s3cret', timeout: 30000 }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode));
      });
      request.on('timeout', () => request.destroy(new Error('timed out')));
      request.on('error', (error) => resolve(error.message));
    });
    Promise.all(Array.from({ length: ${count} }, one)).then((statuses) => process.stdout.write(JSON.stringify(statuses)));`;
  const { stdout } = await execFileAsync('node', ['-e', script], { timeout: 60_000 });
  return JSON.parse(stdout) as Array<number | string>;
}

function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
}

/** Resolves with how long until the socket closed (the server cut it), capped at `capMs`. */
function closedWithin(socket: Socket, capMs: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(Infinity);
    }, capMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

describe.skipIf(skip)('the agent under load (TLS + basic auth, loopback)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'irisflame-load-'));
  const name = uniqueInstanceName('LOAD');
  let pki: TestPki;
  let command = '';
  let agent: AgentProcess;

  beforeAll(async () => {
    pki = makePki(dir);
    const webFile = join(dir, 'web.yml');
    writeFileSync(webFile, `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  prometheus: ${bcryptHash('s3cret')}\n`);
    command = installSimulatedIris(join(dir, 'root'));
    iris(command, 'start', name);
    agent = await startAgentCli(['--scan-interval', '2', '--web.config.file', webFile]);
  }, 180_000);

  afterAll(async () => {
    try {
      iris(command, 'stop', name);
    } catch {
      // already stopped by the test
    }
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  test('keeps answering /metrics within 1 s, status still goes to 0, RSS bounded, nothing crashes', async () => {
    const credentials = { ca: pki.caCert, user: 'prometheus', password: 's3cret' };
    const metricsUrl = `${agent.url}/metrics`;
    const status = (answer: Answer): number | undefined => parseMetrics(answer.body).value('iris_instance_status', { iris_instance: name });
    await waitFor('status 1 before the load', async () => (status(await get(metricsUrl, credentials)) === 1 ? true : undefined), 60_000);
    // Warm: the one good password checked (bcrypt, then cached), a few scrapes.
    for (let i = 0; i < 5; i++) await get(metricsUrl, credentials);
    const pid = agent.child.pid!;
    const rssBefore = rssKb(pid);
    const { port, hostname } = new URL(agent.url);

    // The monitor: a scrape every 250 ms for the whole run, each must answer within 1 s.
    const latencies: number[] = [];
    let monitoring = true;
    let stoppedSeenMs: number | undefined;
    let stoppedAt: number | undefined;
    const monitor = (async () => {
      while (monitoring) {
        const started = performance.now();
        const answer = await get(metricsUrl, { ...credentials, timeoutMs: 15_000 });
        latencies.push(performance.now() - started);
        expect(answer.status).toBe(200);
        if (stoppedAt !== undefined && stoppedSeenMs === undefined && status(answer) === 0) stoppedSeenMs = Date.now() - stoppedAt;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();

    // 200 concurrent connections, each a scrape, from another process (its TLS handshakes must not slow the monitor's client).
    const scrapes = scrapeFromChild(metricsUrl, pki.caCert, 200);
    // 20 concurrent profile requests: one served, 19 refused at once.
    const profileStarted = Date.now();
    const profiles = Promise.all(
      Array.from({ length: 20 }, () => get(`${agent.url}/debug/pprof/profile?seconds=2`, { ...credentials, timeoutMs: 30_000 }).then((answer) => ({ status: answer.status, ms: Date.now() - profileStarted }))),
    );
    // A header a byte a second; a TLS handshake that never starts; garbage; oversized headers.
    const slow = tlsConnect({ port: Number(port), host: hostname, ca: readFileSync(pki.caCert) }, () => {
      slow.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
      const drip = setInterval(() => (slow.writable ? slow.write('X') : clearInterval(drip)), 1000);
      slow.on('close', () => clearInterval(drip));
    });
    slow.on('error', () => undefined);
    slow.resume();
    const slowClosed = closedWithin(slow, 30_000);
    const stalled = connect(Number(port), hostname);
    stalled.on('error', () => undefined);
    const stalledClosed = closedWithin(stalled, 30_000);
    const garbage = connect(Number(port), hostname, () => garbage.write(Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256))));
    garbage.on('error', () => undefined);
    garbage.resume();
    const garbageClosed = closedWithin(garbage, 30_000);
    const oversized = get(metricsUrl, { ...credentials, headers: { 'x-padding': 'a'.repeat(16 * 1024) } });

    // Meanwhile the simulated IRIS instance stops.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    stoppedAt = Date.now();
    // Not execFileSync: a stop blocking this process's event loop would count its second against the agent's
    // answers to the monitor (seen: max 1.1-1.5 s on a quiet machine, all of it while `iris stop` ran).
    const stopping = execa(command, ['stop', name], { stdio: 'ignore', timeout: 60_000 });

    await stopping;
    const scrapeStatuses = await scrapes;
    const profileAnswers = await profiles;
    const [slowMs, stalledMs, garbageMs] = await Promise.all([slowClosed, stalledClosed, garbageClosed]);
    const oversizedStatus = (await oversized).status;
    await waitFor('the monitor to see status 0', () => (stoppedSeenMs !== undefined ? true : undefined), 30_000);
    monitoring = false;
    await monitor;
    const rssAfter = rssKb(pid);

    const sorted = [...latencies].sort((a, b) => a - b);
    const p50 = sorted[Math.floor(sorted.length / 2)]!;
    const max = sorted.at(-1)!;
    console.log(
      [
        `load test: /metrics during the load: ${latencies.length} scrapes, p50 ${p50.toFixed(0)} ms, max ${max.toFixed(0)} ms`,
        `agent RSS before ${(rssBefore / 1024).toFixed(0)} MB, after ${(rssAfter / 1024).toFixed(0)} MB`,
        `200 scrapes: ${scrapeStatuses.filter((s) => s === 200).length} × 200; profiles: ${profileAnswers.map((a) => a.status).sort().join(',')}`,
        `slowloris cut after ${slowMs} ms, stalled handshake after ${stalledMs} ms, garbage after ${garbageMs} ms; oversized headers ${oversizedStatus}`,
        `stopped simulated IRIS instance seen as 0 after ${stoppedSeenMs} ms`,
      ].join('\n'),
    );
    expect(scrapeStatuses.every((s) => s === 200), JSON.stringify(scrapeStatuses.filter((s) => s !== 200))).toBe(true);
    expect(profileAnswers.filter((a) => a.status === 200)).toHaveLength(1);
    const refused = profileAnswers.filter((a) => a.status === 429);
    expect(refused).toHaveLength(19);
    for (const answer of refused) expect(answer.ms).toBeLessThan(refused.length > 0 && loadavg()[0]! > 2 * availableParallelism() ? 10_000 : 2_000);
    expect(oversizedStatus).toBe(431);
    for (const ms of [slowMs, stalledMs, garbageMs]) expect(ms).toBeLessThan(20_000);
    // Every scrape answered; within 1 s unless other work oversubscribes the machine (the bound is on the
    // agent, not on a CPU shared with a dozen busy processes): then the figures are printed, not asserted.
    const load = loadavg()[0]!;
    const oversubscribed = load > 2 * availableParallelism();
    console.log(`load average during the test ${load.toFixed(1)} on ${availableParallelism()} CPUs${oversubscribed ? ': oversubscribed, the 1 s bound is not asserted' : ''}`);
    expect(max).toBeLessThan(oversubscribed ? 10_000 : 1_000);
    expect(stoppedSeenMs).toBeLessThan(15_000);
    expect(rssAfter).toBeLessThan(rssBefore + 64 * 1024);
    expect(agent.child.exitCode).toBeNull();
    expect(agent.stderr()).not.toMatch(/\n\s+at /);
  }, 120_000);
});
