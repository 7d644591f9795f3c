/**
 * The README's user story with a real Prometheus (Debian's `prometheus`, on 127.0.0.1 and a free port, 1 s
 * scrapes, killed by pid): the agent's series go 1 → 0 → 1 as the simulated IRIS stops and starts, the
 * unexpected-exit counter moves on a crash, and docs/agent.md's alert rule (`iris_instance_status == 0`)
 * fires. With the flight recorder on, a timed start, restart and stop of another instance reach Prometheus as
 * duration series timed like the commands, and promtool finds nothing to complain about in the agent's /metrics.
 * Needs root, bpftrace, perf, gcc, prometheus and promtool; skips, saying why, without them.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findExecutable } from '../../src/tools/executables.js';
import { REPO_ROOT } from '../support/cli.js';
import { reportSkip } from '../support/references.js';
import { startLocalPrometheus, type LocalPrometheus } from './local-prometheus.js';
import { expectDurationNear, timedIris, waitForIdleRecorder, waitForRecords } from './flight-support.js';
import { installSimulatedIris, iris, startAgentCli, OWN_INSTANCES_ONLY, uniqueInstanceName, waitFor, type AgentProcess } from './support.js';

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (bpftrace needs it)';
  for (const tool of ['bpftrace', 'perf', 'gcc', 'prometheus', 'promtool']) if (findExecutable(tool) === undefined) return `${tool} is not installed`;
  return undefined;
}

const skip = reportSkip('agent: Prometheus', missing());

/** The alert rules the docs give users; IrisInstanceDown must become active once an instance stops. */
const ALERT_RULES = join(REPO_ROOT, 'deploy/prometheus/irisflame-rules.yml');

/** A port the OS says is free right now (Prometheus cannot be told to pick one itself). */
describe.skipIf(skip)('a real Prometheus scraping the agent', () => {
  const dir = mkdtempSync(join(tmpdir(), 'irisflame-agent-prometheus-'));
  const name = uniqueInstanceName('PROM');
  /** Timed lifecycles for the flight recorder's duration series. */
  const timedName = uniqueInstanceName('PROMT');
  const dataDir = join(dir, 'lifecycle');
  let command = '';
  let agent: AgentProcess;
  let prometheus: LocalPrometheus;

  beforeAll(async () => {
    command = installSimulatedIris(join(dir, 'root'));
    agent = await startAgentCli(['--scan-interval', '2', '--data-dir', dataDir, ...OWN_INSTANCES_ONLY]);
    const target = new URL(agent.url).host;
    const config = join(dir, 'prom.yml');
    writeFileSync(
      config,
      [
        'global: {scrape_interval: 1s, evaluation_interval: 1s}',
        `rule_files: ['${ALERT_RULES}']`,
        'scrape_configs:',
        '  - job_name: irisflame',
        `    static_configs: [{targets: ['${target}']}]`,
        '',
      ].join('\n'),
    );
    prometheus = await startLocalPrometheus(config, dir);
    // The first scrape lands ~6 s after start (discovery throttle): wait for up == 1 before anything else.
    await prometheus.soon('up{job="irisflame"}', '1');
  }, 180_000);

  afterAll(async () => {
    for (const instance of [name, timedName]) {
      try {
        iris(command, 'stop', instance);
      } catch {
        // not running: nothing to stop
      }
    }
    await prometheus?.stop();
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const query = (promql: string): Promise<string | undefined> => prometheus.query(promql);
  const soon = (promql: string, expected: string): Promise<boolean> => prometheus.soon(promql, expected, 60_000);

  test('status 1 after start, 0 after stop, 1 again; a crash moves the unexpected-exit counter; the alert fires', async () => {
    const status = `iris_instance_status{iris_instance="${name}"}`;
    iris(command, 'start', name);
    await soon(status, '1');
    iris(command, 'stop', name);
    await soon(status, '0');
    await soon(`iris_instance_stops_total{iris_instance="${name}"}`, '1');
    // IrisInstanceDown becomes active for the stopped instance (pending while its `for:` runs, then firing).
    await waitFor('the IrisInstanceDown alert', async () => {
      const body = (await (await fetch(`${prometheus.url}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
      return body.data.alerts.some((alert) => alert.labels.alertname === 'IrisInstanceDown' && alert.labels.iris_instance === name && ['pending', 'firing'].includes(alert.state))
        ? true
        : undefined;
    });
    iris(command, 'start', name);
    await soon(status, '1');
    iris(command, 'force', name);
    await soon(status, '0');
    await soon(`iris_instance_unexpected_exits_total{iris_instance="${name}"}`, '1');
    expect(await query(`changes(${status}[5m])`)).toBe('3');
    // The label Prometheus adds for the target is `instance`; ours is `iris_instance`, so nothing is renamed.
    expect(await query(`count(${status}) by (instance, iris_instance, node, install_dir)`)).toBe('1');
    expect(await query(`count({exported_instance!=""})`)).toBeUndefined();
  }, 240_000);

  test('the flight recorder\'s durations of a start, a restart and a stop reach Prometheus, timed like the commands; promtool check metrics is clean', async () => {
    const labels = `{iris_instance="${timedName}"}`;
    const valueOf = (metric: string): Promise<number> =>
      prometheus.soon(`count(${metric}${labels})`, '1', 60_000).then(async () => Number(await query(`${metric}${labels}`)));
    // The test above left records being written (one per lifecycle): let them finish first.
    await waitForIdleRecorder(agent);
    const start = await timedIris(command, 'start', timedName);
    await waitForRecords(dataDir, timedName, 1, agent);
    const restart = await timedIris(command, 'restart', timedName);
    await waitForRecords(dataDir, timedName, 2, agent);
    const stop = await timedIris(command, 'stop', timedName);
    await waitForRecords(dataDir, timedName, 3, agent);

    // The records' durations (the commands' wall times): the restart gauge and the start/stop histograms.
    await soon(`iris_instance_start_duration_seconds_count${labels}`, '1');
    await soon(`iris_instance_stop_duration_seconds_count${labels}`, '1');
    expectDurationNear(await valueOf('iris_instance_last_restart_duration_seconds'), restart.wall);
    expectDurationNear(await valueOf('iris_instance_start_duration_seconds_sum'), start.wall);
    expectDurationNear(await valueOf('iris_instance_stop_duration_seconds_sum'), stop.wall);
    // The tracker's own (docs/agent.md): first process of the start to the end of ^STU, and irisstop's lifetime. They
    // lie inside the commands but are not their wall time (measured: 0.93 s for an `iris start` of 1.45 s). The last
    // start is the restart's second half (it came after the `iris start`), so it lies inside the restart.
    for (const [metric, wall] of [['iris_instance_last_start_duration_seconds', restart.wall], ['iris_instance_last_stop_duration_seconds', stop.wall]] as const) {
      const seconds = await valueOf(metric);
      expect(seconds, metric).toBeGreaterThan(0);
      // Kernel events lost (bpftrace's buffer full on a loaded host) are repaired by the next /proc scan
      // (--scan-interval 2): an exit found that way is up to 2 s late. Seen twice in fresh-clone CI runs (2.1 s for
      // a 1.15 s stop); the count is printed to tell that case from a real bug.
      const lost = (await agent.metrics()).value('irisflame_events_lost_total') ?? 0;
      if (lost > 0) console.warn(`prometheus: ${lost} kernel events lost; ${metric} ${seconds} s against a wall time of ${wall} s`);
      expect(seconds, `${metric} (kernel events lost: ${lost})\nagent: ${agent.stderr().slice(-2000)}`).toBeLessThanOrEqual(wall + 0.15 + (lost > 0 ? 2 : 0));
    }

    const body = await (await fetch(`${agent.url}/metrics`)).text();
    expect(body).toContain('iris_instance_last_restart_duration_seconds{');
    // promtool prints problems and exits 1; execFileSync throws on that with its output.
    expect(execFileSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }).trim()).toBe('');
  }, 900_000);
});
