/**
 * `irisflame record --lifecycle` for real: perf, the bpftrace exec snooper and the simulated IRIS
 * (examples/simulated-iris). Needs root, perf, bpftrace and gcc; skips, saying why, without them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readTimeline } from '../../src/timeline/render.js';
import { findExecutable } from '../../src/tools/executables.js';
import { REPO_ROOT, runCli } from '../support/cli.js';
import { reportSkip } from '../support/references.js';

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (perf -a and bpftrace need it)';
  for (const tool of ['perf', 'bpftrace', 'gcc']) if (findExecutable(tool) === undefined) return `${tool} is not installed`;
  return undefined;
}

const skip = reportSkip('timeline: record --lifecycle', missing());

describe.skipIf(skip)('irisflame record --lifecycle on the simulated IRIS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'irisflame-lifecycle-record-'));
  let iris = '';
  beforeAll(() => {
    iris = execFileSync(join(REPO_ROOT, 'examples/simulated-iris/install.sh'), [join(dir, 'root')], { encoding: 'utf8' }).trim();
  });
  afterAll(() => {
    // `iris restart` leaves the simulated instance running: stop it, so no process outlives the tests.
    if (iris !== '') execFileSync(`${iris}/bin/iris`, ['stop', 'IRIS'], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });

  test('one command gives the lifecycle SVG and its capture, processes in the order they ran, with routines', async () => {
    const svg = join(dir, 'restart.svg');
    const result = await runCli(['record', '--lifecycle', '--iris', '--no-progress', '-o', svg, '--', `${iris}/bin/iris`, 'restart', 'IRIS']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(/lifecycle: \d+ processes, \d+ samples, \d+ execs with argv/);
    expect(existsSync(svg)).toBe(true);
    const timeline = await readTimeline(join(dir, 'restart.lifecycle.txt.gz'), { iris: true });
    const labels = timeline.processes.map((lane) => lane.label);
    const expected = ['iris restart IRIS', 'irisstop quietly restart', 'irisdb -cV', 'sh -c irisdb OPT^SHUTDOWN(1)', 'irisdb OPT^SHUTDOWN(1)',
      'irisdb -cL', 'irisrecov quietly', 'iriswdimj -t', 'iriswdimj -j …', 'irisdb -cc -B', 'irisdb QUIET^STU', 'irisdb START^MONITOR'];
    // Other IRIS-named processes may be running on the machine (other tests burn CPU in a simulated irisdb):
    // the recorded command's tree is contiguous, starting at its own lane.
    const first = labels.indexOf('iris restart IRIS');
    expect(labels.slice(first, first + expected.length), `every lane:\n${labels.join('\n')}`).toEqual(expected);
    expect(labels).toContain('irisdb startWork^%SYS.WorkQueueMgr');
    expect(timeline.samples.some((sample) => sample.stack.startsWith('irisdb QUIET^STU;'))).toBe(true);
  }, 120_000);

  test('a failing command still yields the timeline up to its exit, and its status is the exit code', async () => {
    const svg = join(dir, 'stop.svg');
    const result = await runCli(['record', '--lifecycle', '--no-progress', '-o', svg, '--', 'sh', '-c', `${iris}/bin/iris stop IRIS; exit 3`]);
    expect(result.exitCode).toBe(3);
    const timeline = await readTimeline(join(dir, 'stop.lifecycle.txt.gz'));
    expect(timeline.command?.exitCode).toBe(3);
    const shell = timeline.processes.find((lane) => lane.comm === 'sh' && lane.argv?.some((argument) => argument.includes('exit 3')));
    expect(shell?.exitStatus).toBe(3 << 8);
    expect(timeline.processes.map((lane) => lane.label)).toContain('irisstop quietly');
  }, 120_000);
});
