/**
 * The SVG cache's rules with a stand-in renderer: one render at a time, a bounded queue (503 beyond it),
 * a capture rendered once however many ask, a rewritten capture rendered again, eviction by bytes.
 */
import type { Stats } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { MAX_WAITING_RENDERS, SvgBusyError, SvgCache } from '../../../src/agent/flight/svg-cache.js';

const stats = (size: number, mtimeMs = 1): Stats => ({ size, mtimeMs }) as Stats;

function slowRenderer() {
  let running = 0;
  let maxRunning = 0;
  const release: Array<() => void> = [];
  const render = async (path: string): Promise<string> => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    await new Promise<void>((resolve) => release.push(resolve));
    running--;
    return `<svg>${path}</svg>`;
  };
  return { render, release, maxRunning: () => maxRunning };
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('SvgCache', () => {
  test('one render at a time; the same capture asked twice is rendered once', async () => {
    const slow = slowRenderer();
    const cache = new SvgCache(1 << 20, slow.render);
    const a1 = cache.svg('a', stats(1), {});
    const a2 = cache.svg('a', stats(1), {});
    const b = cache.svg('b', stats(1), {});
    for (let released = 0; released < 2; released++) {
      await until(() => slow.release.length > released);
      slow.release[released]!();
    }
    expect(await Promise.all([a1, a2, b])).toEqual(['<svg>a</svg>', '<svg>a</svg>', '<svg>b</svg>']);
    expect(cache.renders).toBe(2);
    expect(slow.maxRunning()).toBe(1);
    // A rewritten capture (other size or mtime) is rendered again.
    const again = cache.svg('a', stats(2), {});
    await until(() => slow.release.length > 2);
    slow.release[2]!();
    await again;
    expect(cache.renders).toBe(3);
  });

  test(`more than ${MAX_WAITING_RENDERS} waiting renders: the next is refused at once`, async () => {
    const slow = slowRenderer();
    const cache = new SvgCache(1 << 20, slow.render);
    const waiting = Array.from({ length: MAX_WAITING_RENDERS }, (_, i) => cache.svg(`p${i}`, stats(1), {}));
    await expect(cache.svg('one-too-many', stats(1), {})).rejects.toBeInstanceOf(SvgBusyError);
    for (let i = 0; i < MAX_WAITING_RENDERS; i++) {
      await until(() => slow.release.length > i);
      slow.release[i]!();
    }
    await Promise.all(waiting);
    // The queue drained: renders are accepted again, and a failed render does not block the next.
    const failing = new SvgCache(1 << 20, () => Promise.reject(new Error('bad capture')));
    await expect(failing.svg('x', stats(1), {})).rejects.toThrow('bad capture');
    await expect(failing.svg('x', stats(1), {})).rejects.toThrow('bad capture');
  });

  test('least recently used evicted beyond the byte bound', async () => {
    const cache = new SvgCache(30, async (path) => `${path}`.padEnd(12, '.'));
    await cache.svg('a', stats(1), {});
    await cache.svg('b', stats(1), {});
    await cache.svg('a', stats(1), {}); // a is now the most recent
    await cache.svg('c', stats(1), {}); // 36 bytes > 30: b goes
    expect(cache.renders).toBe(3);
    await cache.svg('a', stats(1), {});
    expect(cache.renders).toBe(3);
    await cache.svg('b', stats(1), {});
    expect(cache.renders).toBe(4);
  });
});
