/**
 * The agent behind `--web.config.file` (TLS + basic auth, certificates made here with the real openssl)
 * against the real clients: Debian's Prometheus 2.42 (scheme https, tls_config, basic_auth) gets up == 1 and
 * the simulated IRIS's status, and up == 0 with a wrong password; curl without credentials gets 401, plain
 * HTTP is refused; `go tool pprof -tls_ca … https://user:pass@…` reads a profile; SIGHUP switches to mTLS,
 * which curl then passes only with a client certificate. Needs root, bpftrace, prometheus, curl, openssl, go.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findExecutable } from '../../src/tools/executables.js';
import { reportSkip } from '../support/references.js';
import { goPprof } from '../support/pprof.js';
import { startLocalPrometheus, type LocalPrometheus } from './local-prometheus.js';
import { installSimulatedIris, iris, startAgentCli, uniqueInstanceName, waitFor, type AgentProcess } from './support.js';
import { bcryptHash, makePki, type TestPki } from './tls-support.js';

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (bpftrace needs it)';
  for (const tool of ['bpftrace', 'gcc', 'prometheus', 'promtool', 'curl', 'openssl', 'go']) if (findExecutable(tool) === undefined) return `${tool} is not installed`;
  return undefined;
}
const skip = reportSkip('agent: TLS and basic auth with Prometheus', missing());

/** curl's HTTP status ('000' when no HTTP answer came) and exit code. */
function curl(args: string[]): { status: string; exitCode: number; headers: string } {
  const result = spawnSync('curl', ['-s', '-o', '/dev/null', '-D', '-', '-w', '\n%{http_code}', '--max-time', '10', ...args], { encoding: 'utf8' });
  const lines = result.stdout.trimEnd().split('\n');
  return { status: lines.at(-1) ?? '', exitCode: result.status ?? -1, headers: lines.slice(0, -1).join('\n') };
}

describe.skipIf(skip)('Prometheus, curl and go tool pprof against the agent with TLS and basic auth', () => {
  const dir = mkdtempSync(join(tmpdir(), 'irisflame-secure-'));
  const name = uniqueInstanceName('TLS');
  const webFile = join(dir, 'web.yml');
  let pki: TestPki;
  let command = '';
  let agent: AgentProcess;
  let prometheus: LocalPrometheus;
  let target = '';

  beforeAll(async () => {
    pki = makePki(dir);
    writeFileSync(webFile, `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  prometheus: ${bcryptHash('s3cret')}\n`);
    command = installSimulatedIris(join(dir, 'root'));
    iris(command, 'start', name);
    agent = await startAgentCli(['--scan-interval', '2', '--web.config.file', webFile]);
    expect(agent.url).toMatch(/^https:/);
    target = new URL(agent.url).host;
    const job = (jobName: string, password: string): string[] => [
      `  - job_name: ${jobName}`,
      '    scheme: https',
      `    tls_config: {ca_file: '${pki.caCert}'}`,
      `    basic_auth: {username: prometheus, password: '${password}'}`,
      `    static_configs: [{targets: ['${target}']}]`,
    ];
    const config = join(dir, 'prom.yml');
    writeFileSync(config, ['global: {scrape_interval: 1s, evaluation_interval: 1s}', 'scrape_configs:', ...job('irisflame', 's3cret'), ...job('wrongpass', 'guess'), ''].join('\n'));
    prometheus = await startLocalPrometheus(config, dir);
  }, 180_000);

  afterAll(async () => {
    try {
      iris(command, 'stop', name);
    } catch {
      // not running
    }
    await prometheus?.stop();
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const query = (promql: string): Promise<string | undefined> => prometheus.query(promql);
  const soon = (promql: string, expected: string): Promise<boolean> => prometheus.soon(promql, expected);

  test('Prometheus over https with basic_auth: up == 1 and the simulated IRIS status arrives; a wrong password: up == 0', async () => {
    await soon('up{job="irisflame"}', '1');
    await soon(`iris_instance_status{job="irisflame",iris_instance="${name}"}`, '1');
    await soon('up{job="wrongpass"}', '0');
    expect(await query('count({job="wrongpass",__name__!~"up|scrape_.*"})')).toBeUndefined();
  }, 120_000);

  test('curl: 401 with WWW-Authenticate without credentials, 200 with them; plain HTTP on the TLS port is refused', () => {
    const without = curl(['--cacert', pki.caCert, `${agent.url}/metrics`]);
    expect(without.status).toBe('401');
    expect(without.headers).toMatch(/^www-authenticate: Basic realm="irisflame agent"/im);
    expect(curl(['--cacert', pki.caCert, '-u', 'prometheus:s3cret', `${agent.url}/metrics`]).status).toBe('200');
    expect(curl(['--cacert', pki.caCert, '-u', 'prometheus:s3cret', `${agent.url}/healthz`]).status).toBe('200');
    const plain = curl([`http://${target}/metrics`]);
    expect(plain.status).toBe('000');
    expect(plain.exitCode).not.toBe(0);
  });

  // Debian's go 1.19: `go tool pprof` fetches with cmd/pprof's own HTTP client, which ignores -tls_ca (the
  // standalone google/pprof honours it); Go's SSL_CERT_FILE is what makes it trust the CA. Both are given,
  // as docs/agent.md tells users; -tls_ca alone is tried too and its outcome printed.
  test('go tool pprof (-tls_ca, SSL_CERT_FILE) reads a profile from https://user:pass@…', async () => {
    const url = `https://prometheus:s3cret@${target}/debug/pprof/profile?seconds=1`;
    const alone = await goPprof(['-tls_ca', pki.caCert, '-raw', url]);
    console.log(`go tool pprof -tls_ca alone: exit ${alone.exitCode}${alone.exitCode === 0 ? '' : `: ${alone.stderr.split('\n').find((line) => line.includes('x509')) ?? alone.stderr.trim()}`}`);
    const result = await goPprof(['-tls_ca', pki.caCert, '-raw', url], 120_000, { SSL_CERT_FILE: pki.caCert });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/PeriodType: cpu nanoseconds/);
    expect(result.stdout).toMatch(/Samples:/);
    const denied = await goPprof(['-tls_ca', pki.caCert, '-raw', `https://prometheus:nope@${target}/debug/pprof/profile?seconds=1`], 120_000, { SSL_CERT_FILE: pki.caCert });
    expect(denied.exitCode).not.toBe(0);
    expect(denied.stderr).toMatch(/401/);
  }, 120_000);

  test('SIGHUP loads an mTLS config: curl without a client certificate fails, with one it gets 200', async () => {
    writeFileSync(
      webFile,
      `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\nbasic_auth_users:\n  prometheus: ${bcryptHash('s3cret')}\n`,
    );
    const before = agent.stderr().split('web config reloaded').length;
    agent.child.kill('SIGHUP');
    await waitFor('the reload', () => (agent.stderr().split('web config reloaded').length > before ? true : undefined), 20_000);
    const auth = ['--cacert', pki.caCert, '-u', 'prometheus:s3cret'];
    expect(curl([...auth, `${agent.url}/metrics`]).status).toBe('000');
    expect(curl([...auth, '--cert', pki.clientCert, '--key', pki.clientKey, `${agent.url}/metrics`]).status).toBe('200');
    expect(agent.child.exitCode).toBeNull();
  }, 60_000);
});
