/** Shared helpers of the timeline tests: fixture paths and an independent count of a capture's samples. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { REPO_ROOT } from '../support/cli.js';

export const FIXTURES = join(REPO_ROOT, 'fixtures', 'timeline');
export const RESTART = join(FIXTURES, 'perf', 'simulated-restart.txt.gz');
export const STOP_FAILS = join(FIXTURES, 'perf', 'simulated-stop-fails.txt.gz');
export const LOST_UNKNOWN = join(FIXTURES, 'edge', 'lost-unknown.txt');
export const NO_TASK_EVENTS = join(FIXTURES, 'edge', 'no-task-events.txt');

export function fixtureText(path: string): string {
  const bytes = readFileSync(path);
  return (path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('latin1');
}

/**
 * Times (µs, as perf printed them) of the cpu-clock samples in perf script text, read with a plain regex:
 * the oracle the lifecycle page's counts are checked against.
 */
export function rawSampleMicros(text: string): number[] {
  const times: number[] = [];
  const header = /^\S.*?\s(\d+)\.(\d{6}):\s+\d+\s+cpu-clock/;
  for (const line of text.split('\n')) {
    const match = header.exec(line);
    if (match) times.push(Number(match[1]) * 1e6 + Number(match[2]));
  }
  return times;
}
