/**
 * Lifecycle SVGs rendered on demand from a record's capture, for `GET /lifecycle/ID.svg`.
 *
 * Rendering a capture takes a second or more of CPU on the agent's one thread (the simulated restart: see
 * docs/agent.md), so: at most one render at a time, a few requests may wait their turn and the rest get 503
 * (a reload storm should not queue minutes of work), and rendered SVGs are kept in a small LRU bounded by
 * bytes, keyed by the capture's size and mtime so a rewritten capture is rendered again.
 */
import type { Stats } from 'node:fs';
import { readTimeline, renderTimeline } from '../../timeline/render.js';
import type { TimelineOptions } from '../../timeline/options.js';

export const MAX_WAITING_RENDERS = 4;
const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

export class SvgBusyError extends Error {}

export class SvgCache {
  private readonly entries = new Map<string, string>();
  private bytes = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private waiting = 0;
  /** Renders done (not cache hits), for tests and the log. */
  renders = 0;

  constructor(
    private readonly maxBytes = DEFAULT_CACHE_BYTES,
    private readonly render: (capturePath: string, options: Partial<TimelineOptions>) => Promise<string> = renderCapture,
  ) {}

  /** The SVG of the capture; throws SvgBusyError when too many renders are already waiting. */
  async svg(capturePath: string, stats: Stats, options: Partial<TimelineOptions>): Promise<string> {
    const key = `${capturePath}\0${stats.size}\0${stats.mtimeMs}`;
    const hit = this.take(key);
    if (hit !== undefined) return hit;
    if (this.waiting >= MAX_WAITING_RENDERS) throw new SvgBusyError(`${this.waiting} lifecycle views are being rendered; try again shortly`);
    this.waiting++;
    const turn = this.queue.then(async () => {
      // Another request may have rendered the same capture while this one waited.
      const done = this.take(key);
      if (done !== undefined) return done;
      const svg = await this.render(capturePath, options);
      this.renders++;
      this.put(key, svg);
      return svg;
    });
    this.queue = turn.catch(() => undefined).finally(() => this.waiting--);
    return turn;
  }

  private take(key: string): string | undefined {
    const svg = this.entries.get(key);
    if (svg !== undefined) {
      // Most recently used last: Map keeps insertion order.
      this.entries.delete(key);
      this.entries.set(key, svg);
    }
    return svg;
  }

  private put(key: string, svg: string): void {
    if (svg.length > this.maxBytes) return;
    this.entries.set(key, svg);
    this.bytes += svg.length;
    for (const [oldKey, old] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldKey);
      this.bytes -= old.length;
    }
  }
}

async function renderCapture(capturePath: string, options: Partial<TimelineOptions>): Promise<string> {
  const timeline = await readTimeline(capturePath, options);
  return renderTimeline(timeline, options);
}
