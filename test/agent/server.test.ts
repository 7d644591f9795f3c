/**
 * The agent's HTTP server and metrics, over a tracker fed the recorded simulated-IRIS sequence: no root
 * needed. promtool (Debian `prometheus`) lints the exposition; that part skips, saying why, without it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InstanceTracker } from '../../src/agent/instances.js';
import { AgentHealth, TRACERS, createAgentMetrics } from '../../src/agent/metrics.js';
import { send, startAgentServer, type RunningServer } from '../../src/agent/server.js';
import { parseSnoopLine } from '../../src/kernel/exec-events.js';
import { IRIS_PROCESS_NAMES } from '../../src/iris/processes.js';
import { findExecutable } from '../../src/tools/executables.js';
import { REPO_ROOT } from '../support/cli.js';
import { reportSkip } from '../support/references.js';
import { parseMetrics } from './support.js';

function recordedTracker(): InstanceTracker {
  const tracker = new InstanceTracker({ watchingSince: 0 });
  for (const line of readFileSync(join(REPO_ROOT, 'fixtures/agent/start-stop-force.snoop'), 'utf8').split('\n')) {
    const event = parseSnoopLine(line);
    if (event.kind === 'exec') tracker.exec(event.exec);
    else if (event.kind === 'exit') tracker.exit(event.exit);
  }
  // A third instance, up: a control process and one job (hand-made).
  const mgr = '/opt/c/mgr';
  tracker.exec({ time: 900, pid: 9000, ppid: 1, comm: 'irisdb', argv: ['./irisdb', `-s${mgr}/`, '-cc', '-B', '-C/opt/c/iris.cpf*C'], executable: '/opt/c/bin/irisdb' });
  tracker.exec({ time: 901, pid: 9001, ppid: 1, comm: 'irisdb', argv: ['/opt/c/bin/irisdb', `-s${mgr}`, '-cj', '-p13', 'START^MONITOR'] });
  return tracker;
}

async function get(url: string, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the agent server', () => {
  let server: RunningServer;
  const health = new AgentHealth(TRACERS);
  beforeAll(async () => {
    const registry = createAgentMetrics({ node: 'node-1', tracker: recordedTracker(), health, toUnixSeconds: (m) => 1_700_000_000 + m, version: '0.1.0' });
    server = await startAgentServer({
      listen: { host: '127.0.0.1', port: 0 },
      registry,
      routes: [
        { path: '/debug/pprof/profile', handle: (req, res, url) => send(res, req, 200, 'application/octet-stream', `seconds=${url.searchParams.get('seconds')}`) },
        { path: '/broken', handle: () => Promise.reject(new Error('sampler gone\nsecond line')) },
      ],
    });
  });
  afterAll(() => server.close());

  test('/metrics has each instance at 1 or 0 with its counters, under the iris_instance label', async () => {
    const response = await get(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const metrics = parseMetrics(response.body);
    const value = (name: string, labels: Record<string, string>): number | undefined => metrics.value(name, labels);
    expect(value('iris_instance_status', { iris_instance: 'A', node: 'node-1', install_dir: '/tmp/irisflame-agent-fixture/usr/irissys' })).toBe(0);
    expect(value('iris_instance_status', { iris_instance: 'C', install_dir: '/opt/c' })).toBe(1);
    expect(value('iris_instance_starts_total', { iris_instance: 'A' })).toBe(4);
    expect(value('iris_instance_stops_total', { iris_instance: 'A' })).toBe(3);
    expect(value('iris_instance_unexpected_exits_total', { iris_instance: 'A' })).toBe(1);
    expect(value('iris_instance_unexpected_exits_total', { iris_instance: 'B' })).toBe(1);
    expect(value('iris_instance_processes', { iris_instance: 'C', comm: 'irisdb' })).toBe(2);
    // A stopped instance keeps its process series, at 0.
    expect(value('iris_instance_processes', { iris_instance: 'A', comm: 'irisdb' })).toBe(0);
    expect(value('iris_instance_last_transition_timestamp_seconds', { iris_instance: 'C' })).toBe(1_700_000_900);
    expect(value('iris_instance_last_start_duration_seconds', { iris_instance: 'A' })).toBeGreaterThan(0);
    expect(value('iris_instance_last_stop_duration_seconds', { iris_instance: 'A' })).toBeGreaterThan(0);
    expect(value('irisflame_build_info', { version: '0.1.0' })).toBe(1);
    expect(value('irisflame_tracer_restarts_total', { tracer: 'exec_snooper' })).toBe(0);
    expect(metrics.names()).toContain('process_resident_memory_bytes');
  });

  test('label names and values stay bounded: no `instance` label, no argv, pids or routines', async () => {
    const metrics = parseMetrics((await get(`${server.url}/metrics`)).body);
    const allowed = new Set(['node', 'iris_instance', 'install_dir', 'comm', 'tracer', 'version', 'nodejs', 'le', 'type', 'space', 'kind', 'quantile', 'major', 'minor', 'patch']);
    for (const sample of metrics.samples) {
      for (const [key, labelValue] of Object.entries(sample.labels)) {
        expect(allowed.has(key), `${sample.name} has label ${key}`).toBe(true);
        if (['node', 'iris_instance', 'install_dir', 'comm'].includes(key)) expect(labelValue).not.toMatch(/\^|^\d+$|-cc|\*/);
      }
    }
    const comms = new Set(metrics.samples.filter((s) => s.name === 'iris_instance_processes').map((s) => s.labels.comm));
    const bounded = new Set([...IRIS_PROCESS_NAMES, 'httpd', 'other']);
    expect([...comms].filter((comm) => !bounded.has(comm!))).toEqual([]);
    expect(comms.has('irisdb')).toBe(true);
  });

  test('promtool check metrics finds nothing to complain about', async (context) => {
    const promtool = findExecutable('promtool');
    if (reportSkip('agent: promtool check metrics', promtool === undefined ? 'promtool is not installed (apt-get install prometheus)' : undefined)) {
      context.skip();
      return;
    }
    const body = (await get(`${server.url}/metrics`)).body;
    // promtool prints problems and exits 1; execFileSync throws on that with its output.
    const output = execFileSync(promtool!, ['check', 'metrics'], { input: body, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    expect(output.trim()).toBe('');
  });

  test('/healthz answers', async () => {
    const response = await get(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(response.body).toMatch(/^(ok|degraded): /);
  });

  test('unknown paths get 404, known paths with other methods 405, HEAD the headers only', async () => {
    for (const path of ['/', '/metrics/', '/debug/pprof/heap', '/debug/pprof/allocs', '/%ff', '/..//metrics']) {
      expect((await get(`${server.url}${path}`)).status, path).toBe(404);
    }
    const post = await get(`${server.url}/metrics`, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect((await get(`${server.url}/healthz`, 'DELETE')).status).toBe(405);
    const head = await get(`${server.url}/metrics`, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  test('a plugged-in route is served with its query; one that fails answers 500 with one line', async () => {
    const profile = await get(`${server.url}/debug/pprof/profile?seconds=14`);
    expect(profile).toMatchObject({ status: 200, body: 'seconds=14' });
    const broken = await get(`${server.url}/broken`);
    expect(broken).toMatchObject({ status: 500, body: 'internal error: sampler gone\n' });
  });

  test('50 concurrent scrapes all get the same instance series, and the server still answers', async () => {
    const responses = await Promise.all(Array.from({ length: 50 }, () => get(`${server.url}/metrics`)));
    expect(responses.every((response) => response.status === 200)).toBe(true);
    const statusLines = responses.map((response) => response.body.split('\n').filter((line) => line.startsWith('iris_instance_')).join('\n'));
    expect(new Set(statusLines).size).toBe(1);
    expect((await get(`${server.url}/healthz`)).status).toBe(200);
  });

  test('a port in use is one clear error', async () => {
    const port = Number(new URL(server.url).port);
    await expect(startAgentServer({ listen: { host: '127.0.0.1', port }, registry: createAgentMetrics({ node: 'n', tracker: new InstanceTracker(), health, toUnixSeconds: (m) => m, version: 'x' }) })).rejects.toThrow(
      /cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/,
    );
  });
});
