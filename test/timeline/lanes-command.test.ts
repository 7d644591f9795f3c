import { describe, expect, test } from 'vitest';
import { readTimeline } from '../../src/timeline/render.js';
import { RESTART, fixtureText, rawSampleMicros } from './support.js';

describe('--lanes command', () => {
  test('keeps the recorded command and its descendants only, lanes and samples', async () => {
    const all = await readTimeline(RESTART, { lanes: 'active' });
    const command = await readTimeline(RESTART, { lanes: 'command' });
    expect(all.processes.some((p) => p.comm === 'gzip')).toBe(true);
    expect(command.processes[0]!.label).toBe('iris restart IRIS');
    expect(command.processes.slice(1).every((p) => p.depth >= 1)).toBe(true);
    expect(command.processes.map((p) => p.label)).toContain('irisdb START^MONITOR');
    expect(command.processes.some((p) => p.comm === 'gzip' || p.comm === 'perl' || p.comm === 'bash')).toBe(false);
    const pids = new Set(command.processes.map((p) => p.pid));
    expect(command.samples.length).toBeGreaterThan(0);
    expect(command.samples.every((s) => pids.has(s.pid))).toBe(true);
    // Every raw sample of those pids is kept.
    const text = fixtureText(RESTART);
    const ofCommand = text.split('\n').filter((line) => /^\S.*?\s(\d+)\/\d+\s+\[\d+\]\s+\d+\.\d{6}:\s+\d+\s+cpu-clock/.test(line) && pids.has(Number(/\s(\d+)\/\d+\s+\[/.exec(line)![1])));
    expect(command.samples.length).toBe(ofCommand.length);
    expect(command.samples.length).toBeLessThan(rawSampleMicros(text).length);
  });
});
