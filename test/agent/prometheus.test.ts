/**
 * The README's user story with a real Prometheus (Debian's `prometheus`, on 127.0.0.1 and a free port, 1 s
 * scrapes, killed by pid): the agent's series go 1 → 0 → 1 as the simulated IRIS stops and starts, the
 * unexpected-exit counter moves on a crash, and docs/agent.md's alert rule (`iris_instance_status == 0`)
 * fires. Needs root, bpftrace, gcc, prometheus and promtool; skips, saying why, without them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findExecutable } from '../../src/tools/executables.js';
import { REPO_ROOT } from '../support/cli.js';
import { reportSkip } from '../support/references.js';
import { startLocalPrometheus, type LocalPrometheus } from './local-prometheus.js';
import { installSimulatedIris, iris, startAgentCli, uniqueInstanceName, waitFor, type AgentProcess } from './support.js';

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (bpftrace needs it)';
  for (const tool of ['bpftrace', 'gcc', 'prometheus', 'promtool']) if (findExecutable(tool) === undefined) return `${tool} is not installed`;
  return undefined;
}

const skip = reportSkip('agent: Prometheus', missing());

/** The alert rules the docs give users; IrisInstanceDown must become active once an instance stops. */
const ALERT_RULES = join(REPO_ROOT, 'deploy/prometheus/irisflame-rules.yml');

/** A port the OS says is free right now (Prometheus cannot be told to pick one itself). */
describe.skipIf(skip)('a real Prometheus scraping the agent', () => {
  const dir = mkdtempSync(join(tmpdir(), 'irisflame-agent-prometheus-'));
  const name = uniqueInstanceName('PROM');
  let command = '';
  let agent: AgentProcess;
  let prometheus: LocalPrometheus;

  beforeAll(async () => {
    command = installSimulatedIris(join(dir, 'root'));
    agent = await startAgentCli(['--scan-interval', '2']);
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
    try {
      iris(command, 'stop', name);
    } catch {
      // not running: nothing to stop
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
});
