/**
 * `collapse --iris` on an irisflame lifecycle capture roots IRIS jobs at their routine, from the capture's
 * exec-snooper argv (fixtures/timeline/: a simulated IRIS restart, and hand-made edge cases).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { collapseChunks, collapseInput, type CollapseOptions } from '../../src/collapse/pipeline.js';
import { REPO_ROOT, runCli } from '../support/cli.js';

const FIXTURES = join(REPO_ROOT, 'fixtures', 'timeline');
const RESTART = join(FIXTURES, 'perf', 'simulated-restart.txt.gz');
const LOST_UNKNOWN = join(FIXTURES, 'edge', 'lost-unknown.txt');
const NO_TASK_EVENTS = join(FIXTURES, 'edge', 'no-task-events.txt');

/** Jobs the simulated restart starts as `./irisdb -s<mgr> -cj -p13 ROUTINE` (and the shutdown's -U -B). */
const ROUTINES = ['START^MONITOR', 'START^CLNDMN', 'QUIET^STU', 'OPT^SHUTDOWN(1)'];

async function stacksOf(path: string, options: Partial<CollapseOptions>): Promise<Map<string, number>> {
  return (await collapseInput(path, options)).stacks;
}

function roots(stacks: Map<string, number>): Set<string> {
  return new Set([...stacks.keys()].map((key) => key.split(';')[0]!));
}

function total(stacks: Map<string, number>): number {
  return [...stacks.values()].reduce((sum, weight) => sum + weight, 0);
}

/** `irisdb START^MONITOR;main;…` back to `irisdb;main;…`, summed: what the graph was before labelling. */
function withoutRoutines(stacks: Map<string, number>): Map<string, number> {
  const merged = new Map<string, number>();
  for (const [key, weight] of stacks) {
    const plain = key.replace(/^irisdb [^;]+/, 'irisdb');
    merged.set(plain, (merged.get(plain) ?? 0) + weight);
  }
  return merged;
}

describe('collapse --iris routine roots', () => {
  it('roots IRIS jobs of a lifecycle capture at irisdb ROUTINE', async () => {
    const found = roots(await stacksOf(RESTART, { iris: true }));
    for (const routine of ROUTINES) expect(found).toContain(`irisdb ${routine}`);
    expect(found).toContain('irisdb'); // -cV and -cL name no routine
  });

  it('only moves samples between roots: the graph without routines is the unlabelled one', async () => {
    const labelled = await stacksOf(RESTART, { iris: true });
    const unlabelled = await stacksOf(RESTART, { iris: true, routineRoots: false });
    expect(labelled).not.toEqual(unlabelled);
    expect(withoutRoutines(labelled)).toEqual(unlabelled);
    expect(total(labelled)).toBe(total(unlabelled));
  });

  it('keeps the comm as root with routineRoots off', async () => {
    const found = roots(await stacksOf(RESTART, { iris: true, routineRoots: false }));
    expect([...found].filter((root) => root.includes('^'))).toEqual([]);
    expect(found).toContain('irisdb');
  });

  it('leaves roots alone without --iris', async () => {
    const found = roots(await stacksOf(RESTART, {}));
    expect([...found].filter((root) => root.includes('^'))).toEqual([]);
  });

  it('labels a sample by the exec in force when it was taken', async () => {
    const stacks = await stacksOf(LOST_UNKNOWN, { iris: true, samples: true });
    expect(stacks.get('irisdb START^MONITOR;main;MonitorSample')).toBe(1);
  });

  it('leaves perf script output without argv unchanged', async () => {
    const labelled = await stacksOf(NO_TASK_EVENTS, { iris: true });
    expect(labelled).toEqual(await stacksOf(NO_TASK_EVENTS, { iris: true, routineRoots: false }));
    expect(roots(labelled)).toEqual(new Set(['irisdb']));
  });

  it('labels the same when the capture arrives a few bytes at a time, detected or forced', async () => {
    const bytes = gunzipSync(readFileSync(RESTART));
    async function* trickle(size: number): AsyncGenerator<Buffer> {
      for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
    }
    const whole = await stacksOf(RESTART, { iris: true });
    for (const format of ['auto', 'perf'] as const) {
      for (const size of [7, 4096]) {
        expect((await collapseChunks(trickle(size), 'capture', { iris: true, format })).stacks).toEqual(whole);
      }
    }
  });

  it('keeps the routine after the pid with --pid', async () => {
    const found = roots(await stacksOf(LOST_UNKNOWN, { iris: true, pid: true }));
    expect(found).toContain('irisdb-502 START^MONITOR');
  });
});

describe('irisflame collapse and flamegraph --iris on a lifecycle capture', () => {
  it('collapse prints stacks rooted at irisdb START^MONITOR, and not with --no-routine-roots', async () => {
    const labelled = await runCli(['collapse', '--iris', RESTART]);
    expect(labelled.exitCode).toBe(0);
    expect(labelled.stdout).toMatch(/^irisdb START\^MONITOR;/m);
    const plain = await runCli(['collapse', '--iris', '--no-routine-roots', RESTART]);
    expect(plain.exitCode).toBe(0);
    expect(plain.stdout).not.toContain('^MONITOR');
    expect(plain.stdout).toMatch(/^irisdb;/m);
  });

  it('flamegraph draws the routine roots', async () => {
    const svg = await runCli(['flamegraph', '--iris', RESTART]);
    expect(svg.exitCode).toBe(0);
    expect(svg.stdout).toContain('irisdb START^MONITOR');
    expect(svg.stdout).toContain('irisdb START^CLNDMN');
  });
});
