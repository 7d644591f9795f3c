/**
 * The flight recorder's records on the agent's listener:
 *
 *     GET /lifecycle/index.json             {"captures": [...]} newest last, with relative svg/capture URLs
 *     GET /lifecycle/                       an HTML list for people, newest first (lifecycle-page.ts)
 *     GET /lifecycle/ID.svg                 the interactive lifecycle view, rendered on demand (svg-cache.ts)
 *     GET /lifecycle/ID.lifecycle.txt.gz    the capture itself, streamed
 *     GET /lifecycle                        redirects to /lifecycle/ (relative links need the slash)
 *
 * A malformed id is 400, a well-formed unknown one 404, other methods 405; HEAD is GET without a body.
 * The URL path is not percent-decoded: an id has no `%`, so `%2F` or `%00` is simply malformed.
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { AgentRoute } from '../server.js';
import { RecordCatalog } from './catalog.js';
import { lifecyclePage } from './lifecycle-page.js';
import { captureFileName, type LifecycleRecordMeta } from './record-meta.js';
import { SvgBusyError, SvgCache } from './svg-cache.js';

export const LIFECYCLE_PATH = '/lifecycle/';
const SVG_SUFFIX = '.svg';
const CAPTURE_SUFFIX = '.lifecycle.txt.gz';

/**
 * The SVG carries its own inline script and style, and needs nothing else: no fetches, frames or plugins.
 * The HTML page has no script at all.
 */
const SVG_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";
const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'";

export interface LifecycleRoutesOptions {
  dataDir: string;
  /** Whether the agent records lifecycles (the page says so when off; old records are still served). */
  enabled: boolean;
  /** The view's options (the agent's records are IRIS lifecycles: IRIS processes only). */
  timelineOptions?: { iris?: boolean; title?: string };
}

/** One index entry: the metadata plus where to get the view and the capture, relative to /lifecycle/. */
export type IndexEntry = LifecycleRecordMeta & { svg: string; capture: string };

export function lifecycleRoutes(options: LifecycleRoutesOptions): AgentRoute[] {
  const catalog = new RecordCatalog(options.dataDir);
  const svgs = new SvgCache();
  return [
    {
      path: '/lifecycle',
      handle: (request, response) => {
        response.writeHead(301, { Location: LIFECYCLE_PATH, 'Content-Length': 0 });
        response.end();
      },
    },
    {
      path: LIFECYCLE_PATH,
      handle: (request, response, url) => serve(request, response, url.pathname.slice(LIFECYCLE_PATH.length), catalog, svgs, options),
    },
  ];
}

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  name: string,
  catalog: RecordCatalog,
  svgs: SvgCache,
  options: LifecycleRoutesOptions,
): Promise<void> {
  if (name === '' || name === 'index.json') {
    const listing = catalog.list();
    if (name === 'index.json') {
      const captures: IndexEntry[] = listing.records.map(indexEntry);
      const body = `${JSON.stringify({ recording: options.enabled, skipped: listing.skipped, captures }, null, 1)}\n`;
      return reply(request, response, 200, 'application/json; charset=utf-8', body);
    }
    const html = lifecyclePage({ ...listing, dataDir: options.dataDir, enabled: options.enabled, entries: listing.records.map(indexEntry) });
    return reply(request, response, 200, 'text/html; charset=utf-8', html, { 'Content-Security-Policy': PAGE_CSP });
  }
  const wanted = name.endsWith(CAPTURE_SUFFIX)
    ? { id: name.slice(0, -CAPTURE_SUFFIX.length), what: 'capture' as const }
    : name.endsWith(SVG_SUFFIX)
      ? { id: name.slice(0, -SVG_SUFFIX.length), what: 'svg' as const }
      : undefined;
  if (wanted === undefined) {
    return reply(request, response, 404, 'text/plain; charset=utf-8', `not found; ${LIFECYCLE_PATH} serves index.json, ID.svg and ID${CAPTURE_SUFFIX}\n`);
  }
  const found = catalog.find(wanted.id);
  if (found === 'malformed') return reply(request, response, 400, 'text/plain; charset=utf-8', 'malformed record id: letters, digits, ".", "_" and "-" only\n');
  if (found === undefined) return reply(request, response, 404, 'text/plain; charset=utf-8', `no record ${wanted.id} (see ${LIFECYCLE_PATH}index.json)\n`);

  if (wanted.what === 'capture') {
    response.writeHead(200, {
      'Content-Type': 'application/gzip',
      'Content-Length': found.captureStats.size,
      'Content-Disposition': `attachment; filename="${captureFileName(found.meta.id)}"`,
      'X-Content-Type-Options': 'nosniff',
    });
    if (request.method === 'HEAD') return void response.end();
    return pipeline(createReadStream(found.capturePath), response);
  }

  let svg: string;
  try {
    const title = `${found.meta.kind} of IRIS instance ${found.meta.iris_instance}, ${found.meta.started_at}`;
    svg = await svgs.svg(found.capturePath, found.captureStats, { iris: true, title, ...options.timelineOptions, subtitle: found.meta.command });
  } catch (error) {
    if (error instanceof SvgBusyError) return reply(request, response, 503, 'text/plain; charset=utf-8', `${error.message}\n`, { 'Retry-After': '5' });
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    return reply(request, response, 500, 'text/plain; charset=utf-8', `cannot render ${found.meta.id}: ${reason}\n`);
  }
  return reply(request, response, 200, 'image/svg+xml; charset=utf-8', svg, { 'Content-Security-Policy': SVG_CSP });
}

function indexEntry(meta: LifecycleRecordMeta): IndexEntry {
  return { ...meta, svg: `${meta.id}${SVG_SUFFIX}`, capture: captureFileName(meta.id) };
}

function reply(
  request: IncomingMessage,
  response: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  const bytes = Buffer.from(body, 'utf8');
  response.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': bytes.length,
    'X-Content-Type-Options': 'nosniff',
    // The list changes with every lifecycle; a rendered view does not, but is cheap to ask again (LRU).
    'Cache-Control': 'no-cache',
    ...headers,
  });
  response.end(request.method === 'HEAD' ? undefined : bytes);
}
