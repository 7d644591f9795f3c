/**
 * The agent's HTTP server (node:http): GET /metrics, GET /healthz, and whatever routes the caller adds
 * (the continuous profiler's /debug/pprof/profile). Unknown paths get a quick 404 (Parca asks for
 * /debug/pprof/heap, /allocs, … by default), known paths with other methods 405. HEAD is answered like
 * GET without a body, as Go's net/http does.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { IrisflameError } from '../errors.js';
import type { ListenAddress } from './options.js';

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
}

export interface RunningServer {
  /** `http://host:port`, with the port the OS picked when asked for 0. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Slow or stalled clients are dropped; a profile request may legitimately take up to its `seconds`. */
const HEADERS_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

export async function startAgentServer(options: AgentServerOptions): Promise<RunningServer> {
  const routes = new Map<string, AgentRoute['handle']>();
  routes.set('/metrics', async (request, response) => {
    const body = await options.registry.metrics();
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

  const server = createServer((request, response) => {
    void handle(routes, request, response);
  });
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  // Prometheus and curl send no body; anything that does is not waited for.
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
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
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
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
