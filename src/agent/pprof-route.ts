/**
 * `GET /debug/pprof/profile?seconds=N`, answered as Go's net/http/pprof answers it (go 1.19
 * src/net/http/pprof/pprof.go `Profile`), since Parca, Alloy's pyroscope.scrape and `go tool pprof` all
 * speak to that handler: it waits N seconds (default 30) and returns a gzipped pprof CPU profile of exactly
 * that window as `application/octet-stream` with `Content-Disposition: attachment; filename="profile"`;
 * errors are `text/plain` with `X-Go-Pprof: 1`. Unlike Go, `seconds` outside 1..300 or not a whole number
 * is refused (400) instead of silently becoming 30: a typo should not cost a scrape half a minute.
 *
 * Requests do not start profiling: every request reads the one continuous sampler's ring of per-second
 * buckets. Still, as in Go (where a second StartCPUProfile fails), one request at a time: each holds a
 * connection and a timer for its `seconds`, and a profile taken from the shared ring is the same for every
 * caller anyway, so a second concurrent request gets 429 with Retry-After at once instead of a second wait.
 * Parca and Alloy also ask for heap, block, mutex and goroutine
 * profiles by default; every other /debug/pprof/ path gets a quick 404 (from the agent's server).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pprofBytes } from '../export/pprof.js';
import type { SampleRing } from './sample-ring.js';
import type { AgentRoute } from './server.js';


/** What a profile is read from: the sampler's ring and its rate. ContinuousSampler is one. */
export interface ProfileSource {
  readonly ring: SampleRing;
  readonly options: { readonly frequency: number };
}

export const CPU_PROFILE_PATH = '/debug/pprof/profile';
export const DEFAULT_PROFILE_SECONDS = 30;
export const MAX_PROFILE_SECONDS = 300;
/** How long past the window's end a request waits for the sampler's last interval to arrive. */
const LAST_INTERVAL_GRACE_MS = 2_500;
const WHOLE_NUMBER = /^\d{1,6}$/;

/**
 * The route, for the agent's server (which matches paths exactly and answers 404 and 405 itself); any other
 * path reaching it, from a server that matches by prefix, gets Go's 404.
 */
export function pprofRoute(source: ProfileSource, now: () => number = Date.now): AgentRoute {
  /** When the profile being taken ends (ms), or undefined when none is. */
  let busyUntilMs: number | undefined;
  return {
    path: CPU_PROFILE_PATH,
    handle: (req, res, url) => {
      if (url.pathname !== CPU_PROFILE_PATH) {
        return plainError(res, 404, `${url.pathname}: not served; irisflame serves CPU profiles at ${CPU_PROFILE_PATH}`);
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('Allow', 'GET, HEAD');
        return plainError(res, 405, `method ${req.method ?? ''} not allowed; use GET`);
      }
      const seconds = parseSeconds(url.searchParams.get('seconds'));
      if (typeof seconds === 'string') return plainError(res, 400, seconds);
      if (busyUntilMs !== undefined) {
        const wait = Math.max(1, Math.ceil((busyUntilMs - now()) / 1000));
        res.setHeader('Retry-After', String(wait));
        return plainError(res, 429, `another CPU profile is being taken (one at a time, as in Go); retry in ${wait} s`);
      }
      busyUntilMs = now() + seconds * 1000;
      return serveProfile(source, req, res, seconds, now).finally(() => {
        busyUntilMs = undefined;
      });
    },
  };
}

/** `seconds` as a number, or the one-line reason it is refused. Absent or empty means 30, as in Go. */
export function parseSeconds(value: string | null): number | string {
  if (value === null || value === '') return DEFAULT_PROFILE_SECONDS;
  const seconds = WHOLE_NUMBER.test(value) ? Number(value) : Number.NaN;
  if (!(seconds >= 1 && seconds <= MAX_PROFILE_SECONDS)) {
    // The value is echoed, shortened and without control characters: the reason stays one line.
    const shown = value.slice(0, 32).replace(/[\u0000-\u001f\u007f]/g, '?');
    return `seconds must be a whole number from 1 to ${MAX_PROFILE_SECONDS} (got "${shown}")`;
  }
  return seconds;
}

async function serveProfile(source: ProfileSource, req: IncomingMessage, res: ServerResponse, seconds: number, now: () => number): Promise<void> {
  const startMs = now();
  const endMs = startMs + seconds * 1000;
  let gone = false;
  const onClose = (): void => {
    gone = true;
  };
  res.on('close', onClose);
  await source.ring.waitForEnd(endMs, endMs + LAST_INTERVAL_GRACE_MS, now);
  res.off('close', onClose);
  if (gone || res.destroyed) return;
  const window = source.ring.window(startMs, endMs);
  if (window.buckets === 0) {
    return plainError(res, 503, `no samples in the last ${seconds} s: the sampler is not running (see the agent's log)`);
  }
  const body = pprofBytes({
    samples: window.samples,
    frequency: source.options.frequency,
    startNanos: BigInt(Math.round(window.startMs)) * 1_000_000n,
    durationNanos: BigInt(Math.round(window.endMs - window.startMs)) * 1_000_000n,
  });
  res.writeHead(200, {
    'Content-Type': 'application/octet-stream',
    'Content-Disposition': 'attachment; filename="profile"',
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': body.length,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function plainError(res: ServerResponse, status: number, reason: string): void {
  const body = `${reason}\n`;
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Go-Pprof': '1',
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}
