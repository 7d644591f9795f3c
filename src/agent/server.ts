/**
 * The agent's HTTP server (node:http): GET /metrics, GET /healthz, and whatever routes the caller adds
 * (the continuous profiler's /debug/pprof/profile). Unknown paths get a quick 404 (Parca asks for
 * /debug/pprof/heap, /allocs, … by default), known paths with other methods 405. HEAD is answered like
 * GET without a body, as Go's net/http does.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { IrisflameError } from '../errors.js';
import type { ListenAddress } from './options.js';
import { WebAccess } from './web-access.js';
import type { WebConfig } from './web-config.js';

/** A route another part of the agent plugs in: `handle` owns the response for GET/HEAD of `path`. */
export interface AgentRoute {
  /**
   * Exact path, e.g. `/debug/pprof/profile` (the query string is in `url`); a path ending in `/` also
   * gets every path under it that no exact route takes (the longest such prefix wins).
   */
  path: string;
  handle(request: IncomingMessage, response: ServerResponse, url: URL): void | Promise<void>;
}

export interface AgentServerOptions {
  listen: ListenAddress;
  registry: Registry;
  /** Extra routes; a route may not replace /metrics or /healthz. */
  routes?: readonly AgentRoute[];
  /** What /healthz says: ok, or a reason the agent is degraded (still 200: the agent itself answers). */
  health?: () => { ok: boolean; detail: string };
  /** `--web.config.file`: TLS, basic auth (checked before routing, for every path), extra headers. */
  webConfig?: WebConfig;
}

export interface RunningServer {
  /** `http://host:port`, with the port the OS picked when asked for 0. */
  url: string;
  port: number;
  /** Swap in a reloaded web config (throws when it would switch TLS on or off: that needs a restart). */
  applyWebConfig(config: WebConfig | undefined): void;
  close(): Promise<void>;
}

// Limits: what one client, slow or hostile, can hold. Prometheus, Parca, Alloy and go tool pprof send a
// few hundred bytes of headers at once and no body, and wait for the answer; a profile request may
// legitimately wait up to its `seconds` (capped in pprof-route.ts), which no limit here cuts short.
/** A request's headers must have arrived by then (slowloris: a byte a second holds a slot this long at most). */
const HEADERS_TIMEOUT_MS = 10_000;
/** The whole request (headers and any body) must have arrived by then. */
const REQUEST_TIMEOUT_MS = 15_000;
/** How often node checks the two timeouts above (its default, 30 s, would let a stalled client stay 40 s). */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
/** An idle keep-alive connection is closed after this (Prometheus scrapes every 15 s or so and reconnects). */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** A TLS handshake must finish by then. */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Open connections at once; more are closed on accept. Each idle one costs a few kB; 200 scrapers fit. */
const MAX_CONNECTIONS = 512;
/** Request head size; larger gets 431 (node's default is 16 kB; scrapers send under 1 kB). */
export const MAX_HEADER_BYTES = 8 * 1024;
/** No route takes a body: anything larger is refused with 413 instead of being read. */
const MAX_BODY_BYTES = 4 * 1024;

/** node's parser and timeout errors as the status a client is told before the connection closes. */
const CLIENT_ERROR_STATUS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

export async function startAgentServer(options: AgentServerOptions): Promise<RunningServer> {
  const routes = new Map<string, AgentRoute['handle']>();
  // Scrapes arriving together share one rendering: 200 at once cost one registry walk, not 200.
  let rendering: Promise<string> | undefined;
  routes.set('/metrics', async (request, response) => {
    const body = await (rendering ??= options.registry.metrics().finally(() => (rendering = undefined)));
    send(response, request, 200, options.registry.contentType, body);
  });
  routes.set('/healthz', (request, response) => {
    const health = options.health?.() ?? { ok: true, detail: 'ok' };
    send(response, request, 200, 'text/plain; charset=utf-8', `${health.ok ? 'ok' : 'degraded'}: ${health.detail}\n`);
  });
  for (const route of options.routes ?? []) {
    if (routes.has(route.path)) throw new IrisflameError('INTERNAL', `agent route ${route.path} is registered twice`);
    routes.set(route.path, (request, response, url) => route.handle(request, response, url));
  }

  const access = new WebAccess(options.webConfig);
  const listener = (request: IncomingMessage, response: ServerResponse): void => {
    void admitThenHandle(access, routes, request, response);
  };
  const httpsOptions = access.httpsOptions();
  const limits = { maxHeaderSize: MAX_HEADER_BYTES, headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS };
  const tlsServer: HttpsServer | undefined = httpsOptions === undefined ? undefined : createHttpsServer({ ...httpsOptions, ...limits, handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS }, listener);
  const server = tlsServer ?? createServer(limits, listener);
  if (tlsServer !== undefined) {
    access.watch(tlsServer);
    // Plain HTTP, garbage or a stalled handshake on the TLS port: the connection is dropped, nothing else.
    tlsServer.on('tlsClientError', (_error, socket) => socket.destroy());
  }
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.maxConnections = MAX_CONNECTIONS;
  // Prometheus and curl send no body; anything that does is not waited for.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    const status = CLIENT_ERROR_STATUS[error.code ?? ''] ?? '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      const where = `${options.listen.host}:${options.listen.port}`;
      reject(
        new IrisflameError('USAGE', `cannot listen on ${where}: ${error.code ?? error.message}`, {
          hint: error.code === 'EADDRINUSE' ? 'another process uses that port; pick one with --listen HOST:PORT' : 'check the --listen address',
          cause: error,
        }),
      );
    };
    server.once('error', onError);
    server.listen(options.listen.port, options.listen.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${tlsServer === undefined ? 'http' : 'https'}://${host}:${address.port}`,
    port: address.port,
    applyWebConfig(config) {
      if ((config?.tls === undefined) !== (tlsServer === undefined)) {
        throw new IrisflameError('USAGE', `switching TLS ${tlsServer === undefined ? 'on' : 'off'} needs a restart of the agent`);
      }
      access.apply(config, tlsServer);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Refuse bodies, check access (before routing: every path, /healthz included, as node_exporter), then route. */
async function admitThenHandle(access: WebAccess, routes: Map<string, AgentRoute['handle']>, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const length = Number(request.headers['content-length'] ?? 0);
  if (request.headers['transfer-encoding'] !== undefined || !(length <= MAX_BODY_BYTES)) {
    response.shouldKeepAlive = false;
    send(response, request, 413, 'text/plain; charset=utf-8', `request bodies over ${MAX_BODY_BYTES} bytes are not accepted\n`);
    return;
  }
  request.resume(); // a small body nobody reads must not stall the connection
  if (await access.admit(request, response)) await handle(routes, request, response);
}

async function handle(routes: Map<string, AgentRoute['handle']>, request: IncomingMessage, response: ServerResponse): Promise<void> {
  let url: URL;
  try {
    url = new URL(request.url ?? '/', 'http://agent');
  } catch {
    send(response, request, 400, 'text/plain; charset=utf-8', 'bad request target\n');
    return;
  }
  const route = routes.get(url.pathname) ?? prefixRoute(routes, url.pathname);
  if (route === undefined) {
    send(response, request, 404, 'text/plain; charset=utf-8', `404 page not found: ${routeList(routes)}\n`);
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    send(response, request, 405, 'text/plain; charset=utf-8', 'method not allowed: use GET\n');
    return;
  }
  try {
    await route(request, response, url);
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    if (!response.headersSent) send(response, request, 500, 'text/plain; charset=utf-8', `internal error: ${message}\n`);
    else response.destroy();
  }
}

function prefixRoute(routes: Map<string, AgentRoute['handle']>, pathname: string): AgentRoute['handle'] | undefined {
  let best: string | undefined;
  for (const path of routes.keys()) {
    if (path.endsWith('/') && pathname.startsWith(path) && (best === undefined || path.length > best.length)) best = path;
  }
  return best === undefined ? undefined : routes.get(best);
}

function routeList(routes: Map<string, unknown>): string {
  return `this agent serves ${[...routes.keys()].join(', ')}`;
}

/** Write a whole response; HEAD gets the headers only. */
export function send(response: ServerResponse, request: IncomingMessage, status: number, contentType: string, body: string | Buffer): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  response.writeHead(status, { 'Content-Type': contentType, 'Content-Length': bytes.length });
  response.end(request.method === 'HEAD' ? undefined : bytes);
}
