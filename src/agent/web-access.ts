/**
 * What `--web.config.file` does to the agent's listener at run time: TLS (a node:https server whose
 * certificates and client-certificate policy follow each reload), basic auth before any route, the extra
 * response headers. The config can be swapped while the server runs (`apply`), except switching TLS on or
 * off, which needs a new listener (exporter-toolkit decides that at start-up too).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server as HttpsServer, ServerOptions as HttpsOptions } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { BasicAuth } from './basic-auth.js';
import type { ClientAuthType, TlsSettings, WebConfig } from './web-config.js';

export const AUTH_REALM = 'irisflame agent';

export class WebAccess {
  private auth: BasicAuth;

  constructor(private config: WebConfig | undefined) {
    this.auth = new BasicAuth(config?.users ?? new Map());
  }

  get tls(): TlsSettings | undefined {
    return this.config?.tls;
  }

  get basicAuth(): BasicAuth {
    return this.auth;
  }

  /** Options for https.createServer (undefined: plain HTTP). */
  httpsOptions(): HttpsOptions | undefined {
    const tls = this.config?.tls;
    return tls === undefined ? undefined : { ...tls.context, ...clientCertPolicy(tls.clientAuth) };
  }

  /** Enforce the client-certificate policies node:tls has no option for, on every new TLS connection. */
  watch(server: HttpsServer): void {
    server.on('secureConnection', (socket: TLSSocket) => {
      const tls = this.config?.tls;
      if (tls === undefined) return;
      const certificate = socket.getPeerCertificate();
      const given = certificate !== null && Object.keys(certificate).length > 0;
      const refuse =
        (tls.clientAuth === 'RequireAnyClientCert' && !given) ||
        (tls.clientAuth === 'VerifyClientCertIfGiven' && given && !socket.authorized) ||
        // client_allowed_sans: checked on a certificate given (one missing is the policies' business).
        (tls.allowedSans.length > 0 && given && !hasAllowedSan(certificate.subjectaltname, tls.allowedSans));
      if (refuse) socket.destroy();
    });
  }

  /** Swap in a reloaded config; the caller has checked TLS stays on (or off). New certificates take effect for new connections. */
  apply(config: WebConfig | undefined, server: HttpsServer | undefined): void {
    if (server !== undefined && config?.tls !== undefined) {
      server.setSecureContext(config.tls.context);
      // node:tls reads these two from the server for each new connection.
      Object.assign(server, clientCertPolicy(config.tls.clientAuth));
    }
    this.config = config;
    this.auth = new BasicAuth(config?.users ?? new Map());
  }

  /** Headers for every response, then basic auth: true when the request may go on to routing. */
  async admit(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    for (const [name, value] of Object.entries(this.config?.headers ?? {})) response.setHeader(name, value);
    const auth = this.auth;
    if (!auth.enabled) return true;
    const result = await auth.check(request.headers.authorization);
    if (result === 'ok') return true;
    const [status, body] = result === 'busy' ? [503, 'too many authentication checks in progress; retry\n'] : [401, 'Unauthorized\n'];
    if (result === 'denied') response.setHeader('WWW-Authenticate', `Basic realm="${AUTH_REALM}", charset="UTF-8"`);
    else response.setHeader('Retry-After', '1');
    response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    response.end(request.method === 'HEAD' ? undefined : body);
    return false;
  }
}

/** Go's tls.ClientAuthType as node:tls's two switches; the remaining checks are in `watch`. */
function clientCertPolicy(clientAuth: ClientAuthType): { requestCert: boolean; rejectUnauthorized: boolean } {
  switch (clientAuth) {
    case 'NoClientCert':
      return { requestCert: false, rejectUnauthorized: false };
    case 'RequireAndVerifyClientCert':
      return { requestCert: true, rejectUnauthorized: true };
    default:
      return { requestCert: true, rejectUnauthorized: false };
  }
}

/** `subjectaltname` is node's "DNS:a, IP Address:127.0.0.1, email:…, URI:…". */
function hasAllowedSan(subjectAltName: string | undefined, allowed: string[]): boolean {
  const names = (subjectAltName ?? '').split(', ').map((entry) => entry.slice(entry.indexOf(':') + 1));
  return names.some((name) => allowed.includes(name));
}
