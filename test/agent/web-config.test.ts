/**
 * `--web.config.file`: the parser (every supported key, each refusal naming its key), and the agent's server
 * with it, in process on 127.0.0.1: TLS with certificates made by the real openssl, basic auth (401 and
 * WWW-Authenticate, the cache of good checks), each client_auth_type, reload through the watcher (new
 * password, new certificate, a broken file kept out). No root needed; skips without openssl.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BasicAuth } from '../../src/agent/basic-auth.js';
import { startAgentServer, type RunningServer } from '../../src/agent/server.js';
import { loadWebConfig, parseWebConfig } from '../../src/agent/web-config.js';
import { watchWebConfig } from '../../src/agent/web-config-watch.js';
import { findExecutable } from '../../src/tools/executables.js';
import { IRISFLAME_BIN } from '../support/cli.js';
import { reportSkip } from '../support/references.js';
import { waitFor } from './support.js';
import { bcryptHash, get, makePki, type TestPki } from './tls-support.js';

const skip = reportSkip('agent web config', findExecutable('openssl') === undefined ? 'openssl is not installed' : undefined);

const dir = mkdtempSync(join(tmpdir(), 'irisflame-web-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function refusal(text: string): string {
  try {
    parseWebConfig(text, join(dir, 'web.yml'));
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe.skipIf(skip)('the web config parser', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = makePki(dir);
  });

  test('reads every supported key, relative paths from the file\'s directory', () => {
    const hash = bcryptHash('secret', 4);
    const config = parseWebConfig(
      [
        'tls_server_config:',
        '  cert_file: server.crt',
        `  key_file: ${pki.serverKey}`,
        '  client_auth_type: VerifyClientCertIfGiven',
        '  client_ca_file: ca.crt',
        '  client_allowed_sans: [scraper.test]',
        '  min_version: TLS13',
        '  max_version: TLS13',
        '  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]',
        '  curve_preferences: [X25519, CurveP256]',
        '  prefer_server_cipher_suites: true',
        'http_server_config:',
        '  http2: false',
        '  headers:',
        '    Strict-Transport-Security: max-age=31536000',
        '    x-frame-options: deny',
        'basic_auth_users:',
        `  prometheus: ${hash}`,
        '',
      ].join('\n'),
      join(dir, 'web.yml'),
    );
    expect(config.tls!.clientAuth).toBe('VerifyClientCertIfGiven');
    expect(config.tls!.allowedSans).toEqual(['scraper.test']);
    expect(config.tls!.context).toMatchObject({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ecdhCurve: 'X25519:P-256', honorCipherOrder: true });
    expect(config.tls!.context.ciphers).toMatch(/ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384$/);
    expect(Buffer.from(config.tls!.context.cert as Buffer).toString()).toBe(readFileSync(pki.serverCert, 'utf8'));
    expect(config.headers).toEqual({ 'Strict-Transport-Security': 'max-age=31536000', 'X-Frame-Options': 'deny' });
    expect([...config.users]).toEqual([['prometheus', hash]]);
    expect(config.files).toEqual([join(dir, 'web.yml'), pki.serverCert, pki.serverKey, pki.caCert]);
  });

  test('defaults as exporter-toolkit: TLS 1.2..1.3, a client CA alone means RequireAndVerifyClientCert; inline cert and key', () => {
    const config = parseWebConfig(
      `tls_server_config:\n  cert: |\n${indent(readFileSync(pki.serverCert, 'utf8'))}  key: |\n${indent(readFileSync(pki.serverKey, 'utf8'))}  client_ca_file: ca.crt\n`,
      join(dir, 'web.yml'),
    );
    expect(config.tls!.context).toMatchObject({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
    expect(config.tls!.clientAuth).toBe('RequireAndVerifyClientCert');
    expect(parseWebConfig('', join(dir, 'web.yml'))).toMatchObject({ tls: undefined, users: new Map() });
  });

  test('each problem is one line naming the key or file', () => {
    const cases: Array<[string, RegExp]> = [
      ['tls_server_config:\n  cert_fil: a\n', /unknown key tls_server_config\.cert_fil/],
      ['basic_auth_user:\n  a: b\n', /unknown key basic_auth_user /],
      ['http_server_config:\n  headers:\n    Server: x\n', /http_server_config\.headers\.Server is not allowed/],
      ['tls_server_config: [\n', /not valid YAML/],
      ['a: 1\na: 2\n', /not valid YAML/],
      ['tls_server_config:\n  cert_file: nowhere.crt\n  key_file: server.key\n', /tls_server_config\.cert_file: cannot read .*nowhere\.crt \(ENOENT\)/],
      ['tls_server_config:\n  key_file: server.key\n', /needs cert_file/],
      ['tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n', /RequireAndVerifyClientCert needs client_ca_file/],
      ['tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: Always\n', /client_auth_type "Always" is not one of/],
      ['tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS14\n', /min_version "TLS14"/],
      ['tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS13\n  max_version: TLS12\n', /min_version is above max_version/],
      ['tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  cipher_suites: [TLS_NULL]\n', /unsupported suite TLS_NULL/],
      ['basic_auth_users:\n  alice: plaintext\n', /basic_auth_users\.alice is not a bcrypt hash/],
      ['basic_auth_users:\n  alice: $2y$10$short\n', /basic_auth_users\.alice is not a bcrypt hash/],
      ['- a\n', /\(top level\) must be a mapping/],
    ];
    for (const [text, expected] of cases) {
      const message = refusal(text);
      expect(message, text).toMatch(expected);
      expect(message, text).not.toContain('\n');
      expect(message, text).toMatch(/^--web\.config\.file .*web\.yml: /);
    }
  });

  test('irisflame agent --web.config.file bad.yml: one line, exit non-zero, no stack trace', () => {
    const bad = configFile('bad.yml', 'tls_server_config:\n  certfile: x\n');
    let result: { status: number | null; stderr: string };
    try {
      execFileSync('node', [IRISFLAME_BIN, 'agent', '--listen', '127.0.0.1:0', '--web.config.file', bad], { stdio: 'pipe', encoding: 'utf8', timeout: 30_000 });
      result = { status: 0, stderr: '' };
    } catch (error) {
      result = error as { status: number | null; stderr: string };
    }
    expect(result.status).not.toBe(0);
    const lines = result.stderr.trim().split('\n').filter((line) => !line.startsWith('hint:'));
    // As root the web config is read first; as another user the root check refuses first (also one line).
    expect(lines).toHaveLength(1);
    if (process.getuid?.() === 0) expect(lines[0]).toMatch(/unknown key tls_server_config\.certfile/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe.skipIf(skip)('basic auth checks', () => {
  test('bcrypt once per user and password, cached; wrong passwords and unknown users pay bcrypt every time', async () => {
    const auth = new BasicAuth(new Map([['alice', bcryptHash('right')]]));
    const header = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    let started = performance.now();
    expect(await auth.check(header('alice', 'right'))).toBe('ok');
    const firstMs = performance.now() - started;
    started = performance.now();
    for (let i = 0; i < 100; i++) expect(await auth.check(header('alice', 'right'))).toBe('ok');
    const cachedMs = (performance.now() - started) / 100;
    expect(auth.bcryptChecks).toBe(1);
    expect(await auth.check(header('alice', 'wrong'))).toBe('denied');
    expect(await auth.check(header('alice', 'wrong'))).toBe('denied');
    expect(await auth.check(header('mallory', 'right'))).toBe('denied');
    expect(auth.bcryptChecks).toBe(4);
    for (const bad of [undefined, 'Bearer x', 'Basic !!!', `Basic ${Buffer.from('no-colon').toString('base64')}`]) expect(await auth.check(bad)).toBe('denied');
    console.log(`basic auth (bcrypt cost 10, bcryptjs): first check ${firstMs.toFixed(1)} ms, cached ${(cachedMs * 1000).toFixed(1)} µs`);
  });
});

describe.skipIf(skip)('the server with a web config', () => {
  let pki: TestPki;
  let server: RunningServer | undefined;
  const registry = new Registry();
  const webFile = join(dir, 'live.yml');
  const tlsBlock = (extra = ''): string => `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n${extra}`;

  beforeAll(async () => {
    pki = makePki(dir);
    writeFileSync(webFile, `${tlsBlock()}basic_auth_users:\n  alice: ${bcryptHash('one', 4)}\n`);
    server = await startAgentServer({ listen: { host: '127.0.0.1', port: 0 }, registry, webConfig: loadWebConfig(webFile) });
  });
  afterAll(() => server?.close());

  test('TLS with basic auth: 200 with the password, 401 + WWW-Authenticate without or wrong, on every path', async () => {
    expect(server!.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const good = await get(`${server!.url}/metrics`, { ca: pki.caCert, user: 'alice', password: 'one' });
    expect(good.status).toBe(200);
    for (const path of ['/metrics', '/healthz', '/nowhere']) {
      for (const credentials of [{}, { user: 'alice', password: 'two' }, { user: 'bob', password: 'one' }]) {
        const answer = await get(`${server!.url}${path}`, { ca: pki.caCert, ...credentials });
        expect(answer.status, `${path} ${JSON.stringify(credentials)}`).toBe(401);
        expect(answer.headers['www-authenticate']).toBe('Basic realm="irisflame agent", charset="UTF-8"');
      }
    }
  });

  test('plain HTTP and garbage on the TLS port are refused; an untrusted CA fails the handshake', async () => {
    await expect(get(server!.url.replace('https:', 'http:') + '/metrics')).rejects.toThrow();
    await expect(get(`${server!.url}/metrics`, { user: 'alice', password: 'one' })).rejects.toThrow(/self[- ]signed|unable to verify/i);
  });

  test('each client_auth_type, mTLS included, takes effect on reload (file watch), as does a broken file (kept out)', async () => {
    const logs: string[] = [];
    const watcher = watchWebConfig({ path: webFile, initial: loadWebConfig(webFile), apply: (config) => server!.applyWebConfig(config), registry, log: (line) => logs.push(line) });
    try {
      const withCert = { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey, user: 'alice', password: 'one' };
      const without = { ca: pki.caCert, user: 'alice', password: 'one' };
      const reloadTo = async (text: string, outcome = 'web config reloaded'): Promise<void> => {
        const before = logs.length;
        writeFileSync(webFile, text);
        await waitFor(`"${outcome}"`, () => (logs.slice(before).some((line) => line.includes(outcome)) ? true : undefined), 20_000);
      };
      const users = `basic_auth_users:\n  alice: ${bcryptHash('one', 4)}\n`;

      await reloadTo(tlsBlock('  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n') + users);
      await expect(get(`${server!.url}/metrics`, without)).rejects.toThrow();
      expect((await get(`${server!.url}/metrics`, withCert)).status).toBe(200);

      await reloadTo(tlsBlock('  client_auth_type: RequireAnyClientCert\n') + users);
      await expect(get(`${server!.url}/metrics`, without)).rejects.toThrow();
      expect((await get(`${server!.url}/metrics`, withCert)).status).toBe(200);

      await reloadTo(tlsBlock('  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.crt\n  client_allowed_sans: [other.test]\n') + users);
      await expect(get(`${server!.url}/metrics`, withCert)).rejects.toThrow(); // a SAN not allowed
      expect((await get(`${server!.url}/metrics`, without)).status).toBe(200);

      // A new password, a new user, a new certificate: all in use after the reload.
      await reloadTo(`tls_server_config:\n  cert_file: server2.crt\n  key_file: server2.key\nbasic_auth_users:\n  alice: ${bcryptHash('two', 4)}\n  bob: ${bcryptHash('three', 4)}\n`);
      expect((await get(`${server!.url}/metrics`, { ...without, password: 'one' })).status).toBe(401);
      expect((await get(`${server!.url}/metrics`, { ...without, password: 'two' })).status).toBe(200);
      expect((await get(`${server!.url}/metrics`, { ca: pki.caCert, user: 'bob', password: 'three' })).status).toBe(200);
      expect(await servedCertificateCn(server!.url, pki.caCert)).toBe('127.0.0.1 (2)');

      // Broken: the old config stays, the log and the metric say so.
      await reloadTo('basic_auth_users:\n  alice: not-a-hash\n', 'not reloaded');
      expect(logs.at(-1)).toMatch(/web config not reloaded \(file changed.*\), keeping the previous one: .*basic_auth_users\.alice is not a bcrypt hash/);
      expect(await registry.getSingleMetricAsString('irisflame_web_config_last_reload_successful')).toMatch(/ 0$/m);
      expect((await get(`${server!.url}/metrics`, { ...without, password: 'two' })).status).toBe(200);
      // Switching TLS off needs a restart: refused the same way.
      writeFileSync(webFile, `basic_auth_users:\n  alice: ${bcryptHash('one', 4)}\n`);
      expect(watcher.reload('SIGHUP')).toBe(false);
      expect(logs.at(-1)).toMatch(/\(SIGHUP\).*switching TLS off needs a restart/);
      // Good again (via "SIGHUP"): the metric recovers.
      writeFileSync(webFile, tlsBlock() + users);
      expect(watcher.reload('SIGHUP')).toBe(true);
      expect(await registry.getSingleMetricAsString('irisflame_web_config_last_reload_successful')).toMatch(/ 1$/m);
      expect((await get(`${server!.url}/metrics`, without)).status).toBe(200);
    } finally {
      watcher.stop();
    }
  });

  test('a stalled TLS handshake and a slow header are both cut off by the server', async () => {
    const port = Number(new URL(server!.url).port);
    const started = Date.now();
    const closed = (socket: import('node:net').Socket): Promise<number> => new Promise((resolve) => socket.on('close', () => resolve(Date.now() - started)));
    const stalled = connect(port, '127.0.0.1'); // TCP only: never sends a ClientHello
    stalled.on('error', () => undefined);
    const slow = tlsConnect({ port, host: '127.0.0.1', ca: readFileSync(pki.caCert) }, () => {
      slow.write('GET /metrics HTTP/1.1\r\n');
      const drip = setInterval(() => (slow.writable ? slow.write('X') : clearInterval(drip)), 1000);
      slow.on('close', () => clearInterval(drip));
    });
    slow.on('error', () => undefined);
    let answer = '';
    slow.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1'))); // also lets 'close' come
    const [stalledMs, slowMs] = await Promise.all([closed(stalled), closed(slow)]);
    console.log(`stalled TLS handshake closed after ${stalledMs} ms, byte-a-second header after ${slowMs} ms`);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(stalledMs).toBeLessThan(25_000);
    expect(slowMs).toBeLessThan(25_000);
  }, 40_000);
});

function indent(text: string): string {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => `    ${line}\n`)
    .join('');
}

async function servedCertificateCn(url: string, ca: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ port: Number(port), host: '127.0.0.1', ca: readFileSync(ca) }, () => {
      const cn = socket.getPeerCertificate().subject.CN;
      socket.end();
      resolve(Array.isArray(cn) ? cn[0]! : cn);
    });
    socket.on('error', reject);
  });
}
