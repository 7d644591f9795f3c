/**
 * Helpers for the secured-listener tests: a CA, a server certificate for 127.0.0.1 and a client certificate,
 * made with the real `openssl`; HTTPS requests with node:https (CA, credentials, client certificate).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';

export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A second server certificate from the same CA, for reload tests. */
  serverCert2: string;
  serverKey2: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** EC P-256 keys (quick to make); the server certificates name IP:127.0.0.1, as Go's verifier insists. */
export function makePki(dir: string): TestPki {
  const key = (name: string): string[] => ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`];
  openssl(dir, ['req', '-x509', ...key('ca'), '-out', 'ca.crt', '-days', '2', '-subj', '/CN=irisflame test CA']);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  writeFileSync(join(dir, 'client.ext'), 'subjectAltName=DNS:scraper.test\nextendedKeyUsage=clientAuth\n');
  for (const [name, ext, cn] of [['server', 'server.ext', '127.0.0.1'], ['server2', 'server.ext', '127.0.0.1 (2)'], ['client', 'client.ext', 'scraper']] as const) {
    openssl(dir, ['req', ...key(name), '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', ext]);
  }
  const at = (name: string): string => join(dir, name);
  return {
    dir,
    caCert: at('ca.crt'),
    serverCert: at('server.crt'),
    serverKey: at('server.key'),
    clientCert: at('client.crt'),
    clientKey: at('client.key'),
    serverCert2: at('server2.crt'),
    serverKey2: at('server2.key'),
  };
}

/** A $2y$ hash, as `htpasswd -nBC 10` writes and exporter-toolkit's docs show. */
export function bcryptHash(password: string, cost = 10): string {
  return bcrypt.hashSync(password, cost).replace(/^\$2b\$/, '$2y$');
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface RequestOptions {
  ca?: string;
  user?: string;
  password?: string;
  cert?: string;
  key?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** GET `url` (http or https); rejects on a refused connection or handshake. */
export function get(url: string, options: RequestOptions = {}): Promise<Answer> {
  const target = new URL(url);
  const headers: Record<string, string> = { ...options.headers };
  if (options.user !== undefined) headers.authorization = `Basic ${Buffer.from(`${options.user}:${options.password ?? ''}`).toString('base64')}`;
  return new Promise((resolve, reject) => {
    const common = { method: 'GET', host: target.hostname, port: target.port, path: target.pathname + target.search, headers, timeout: options.timeoutMs ?? 20_000, agent: false as const };
    const request =
      target.protocol === 'https:'
        ? httpsRequest({
            ...common,
            ca: options.ca === undefined ? undefined : readFileSync(options.ca),
            cert: options.cert === undefined ? undefined : readFileSync(options.cert),
            key: options.key === undefined ? undefined : readFileSync(options.key),
          })
        : httpRequest(common);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', reject);
    request.end();
  });
}
