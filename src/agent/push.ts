/**
 * `--push URL`: every interval, the last interval's samples are POSTed to a Grafana Pyroscope server (or
 * Alloy's pyroscope.receive_http, which serves the same API) at
 * `URL/ingest?name=irisflame.cpu{node=…,iris_instance=…}&from&until&format=pprof&spyName=irisflame`
 * (pyroscope docs/sources/configure-server/about-server-api.md): a raw pprof body, gzipped.
 *
 * One POST per IRIS instance per interval, the instance in the name's labels, so each instance is its own
 * series in Pyroscope whatever it does with pprof sample labels; samples of processes outside any instance
 * (with `--all`, or before the instance is known) go in one more POST without `iris_instance`.
 *
 * Pushing never holds up sampling: profiles wait in a bounded queue (the oldest dropped when it is full), one
 * request at a time, retried after 1, 2, 4… s (at most 30 s) up to `maxAttempts`; 4xx answers other than 429
 * are not retried. `counters` are for the agent's metrics: `ok` profiles delivered, `failed` attempts that
 * failed, `dropped` profiles given up (queue full or out of attempts).
 */
import { pprofBytes, type ProfileSample } from '../export/pprof.js';
import type { ProfileSource } from './pprof-route.js';

export interface PushOptions {
  /** Pyroscope's base URL (`http://pyroscope:4040`); `/ingest` is appended. */
  url: string;
  /** The `node` label. */
  node: string;
  /**
   * Seconds between pushes.
   * @default 15
   */
  intervalSeconds: number;
  /**
   * Profiles waiting to be sent at most; past that the oldest is dropped.
   * @default 32
   */
  queueSize: number;
  /**
   * Tries per profile, the first included.
   * @default 5
   */
  maxAttempts: number;
  /**
   * Per-request timeout.
   * @default 10000
   */
  timeoutMs: number;
  /**
   * The application name, before the labels.
   * @default "irisflame.cpu"
   */
  name: string;
}

export const DEFAULT_PUSH_OPTIONS: Readonly<Omit<PushOptions, 'url' | 'node'>> = Object.freeze({
  intervalSeconds: 15,
  queueSize: 32,
  maxAttempts: 5,
  timeoutMs: 10_000,
  name: 'irisflame.cpu',
});

export interface PushCounters {
  ok: number;
  failed: number;
  dropped: number;
}

interface PendingPush {
  url: string;
  body: Buffer;
  attempts: number;
}

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

export class ProfilePusher {
  readonly options: PushOptions;
  readonly counters: PushCounters = { ok: 0, failed: 0, dropped: 0 };
  private readonly queue: PendingPush[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending = false;
  private stopped = false;
  /** The ring's arrival count at the last push: every bucket goes out once, however late it was read. */
  private lastArrived: number;
  private readonly inFlight = new AbortController();
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly source: ProfileSource,
    options: Partial<PushOptions> & Pick<PushOptions, 'url' | 'node'>,
  ) {
    const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
    this.options = { ...DEFAULT_PUSH_OPTIONS, ...defined } as PushOptions;
    new URL(this.options.url); // throws on a bad URL before anything starts
    this.lastArrived = source.ring.arrived;
  }

  start(): void {
    this.timer = setInterval(() => this.pushInterval(), this.options.intervalSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.retryTimer);
    this.inFlight.abort();
  }

  /** Queue the profiles of the samples since the last push (called by the timer; public for tests). */
  pushInterval(): void {
    const ring = this.source.ring;
    const window = ring.windowSince(this.lastArrived);
    this.lastArrived = ring.arrived;
    if (window.buckets === 0) return;
    const from = window.startMs;
    const until = window.endMs;
    for (const [instance, samples] of byInstance(window.samples)) {
      const body = pprofBytes({
        samples,
        frequency: this.source.options.frequency,
        startNanos: BigInt(Math.round(from)) * 1_000_000n,
        durationNanos: BigInt(Math.round(until - from)) * 1_000_000n,
      });
      this.enqueue({ url: this.ingestUrl(instance, from, until), body, attempts: 0 });
    }
  }

  /** `URL/ingest?name=irisflame.cpu{node=…,iris_instance=…}&from=…&until=…&format=pprof&spyName=irisflame&sampleRate=19`. */
  ingestUrl(instance: string | undefined, fromMs: number, untilMs: number): string {
    const labels = [`node=${labelValue(this.options.node)}`];
    if (instance !== undefined) labels.push(`iris_instance=${labelValue(instance)}`);
    const url = new URL('ingest', this.options.url.endsWith('/') ? this.options.url : `${this.options.url}/`);
    url.searchParams.set('name', `${this.options.name}{${labels.join(',')}}`);
    url.searchParams.set('from', String(Math.floor(fromMs / 1000)));
    url.searchParams.set('until', String(Math.ceil(untilMs / 1000)));
    url.searchParams.set('format', 'pprof');
    url.searchParams.set('spyName', 'irisflame');
    url.searchParams.set('sampleRate', String(this.source.options.frequency));
    return url.toString();
  }

  private enqueue(push: PendingPush): void {
    if (this.stopped) return;
    this.queue.push(push);
    while (this.queue.length > this.options.queueSize) {
      this.queue.shift();
      this.counters.dropped++;
    }
    void this.sendNext();
  }

  private async sendNext(): Promise<void> {
    if (this.sending || this.stopped) return;
    const push = this.queue.shift();
    if (push === undefined) return;
    this.sending = true;
    push.attempts++;
    const outcome = await this.post(push);
    this.sending = false;
    if (this.stopped) return; // aborted by stop(): neither a delivery nor a failure
    if (outcome === 'ok') this.counters.ok++;
    else {
      this.counters.failed++;
      if (outcome === 'retry' && push.attempts < this.options.maxAttempts && !this.stopped) {
        // Back to the front: order is kept, and the queue bound still applies to what waits behind it.
        this.queue.unshift(push);
        const delay = Math.min(FIRST_RETRY_MS * 2 ** (push.attempts - 1), MAX_RETRY_MS);
        this.retryTimer = setTimeout(() => void this.sendNext(), delay);
        this.retryTimer.unref();
        return;
      }
      this.counters.dropped++;
    }
    void this.sendNext();
  }

  private async post(push: PendingPush): Promise<'ok' | 'retry' | 'give-up'> {
    try {
      const response = await fetch(push.url, {
        method: 'POST',
        body: new Uint8Array(push.body),
        headers: { 'Content-Type': 'application/octet-stream' },
        signal: AbortSignal.any([this.inFlight.signal, AbortSignal.timeout(this.options.timeoutMs)]),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return 'ok';
      return response.status >= 500 || response.status === 429 ? 'retry' : 'give-up';
    } catch {
      return 'retry'; // refused, reset, timed out
    }
  }

  /** Profiles waiting (for tests and metrics). */
  get queued(): number {
    return this.queue.length;
  }
}

/** Samples grouped by IRIS instance; undefined holds those outside any instance. */
function byInstance(samples: readonly ProfileSample[]): Map<string | undefined, ProfileSample[]> {
  const groups = new Map<string | undefined, ProfileSample[]>();
  for (const sample of samples) {
    const group = groups.get(sample.irisInstance);
    if (group === undefined) groups.set(sample.irisInstance, [sample]);
    else group.push(sample);
  }
  return groups;
}

/** Pyroscope's name syntax has no escaping: its separators cannot appear in a value. */
function labelValue(value: string): string {
  return value.replace(/[{},=\s]/g, '_');
}
