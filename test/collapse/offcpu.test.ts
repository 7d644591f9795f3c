/**
 * `collapse --off-cpu` and `flamegraph --off-cpu`, through the real executable, over a simulated IRIS
 * restart recorded with the off-CPU tracer and over hand-made bcc offcputime -df output.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { OffCpuCaptureReader } from '../../src/kernel/offcpu-lines.js';
import { REPO_ROOT, runCli } from '../support/cli.js';
import { missingReason, perlScript, reportSkip } from '../support/references.js';

const CAPTURE = join(REPO_ROOT, 'fixtures/timeline/offcpu/simulated-restart.lifecycle.txt.gz');
const OLD_CAPTURE = join(REPO_ROOT, 'fixtures/timeline/perf/simulated-restart.txt.gz');
const BCC = join(REPO_ROOT, 'fixtures/collapse/offcpu/bcc-offcputime-df.folded');
const dir = mkdtempSync(join(tmpdir(), 'irisflame-offcpu-collapse-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function folded(text: string): Map<string, number> {
  const stacks = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const space = line.lastIndexOf(' ');
    stacks.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return stacks;
}

describe('irisflame collapse --off-cpu', () => {
  test('folds blocked time in microseconds: process or routine, user frames, then kernel frames marked _[k]', async () => {
    const result = await runCli(['collapse', '--off-cpu', CAPTURE]);
    expect(result.exitCode).toBe(0);
    const stacks = folded(result.stdout);
    // iris's heaviest stack: waiting for irisstop.
    const iris = [...stacks].filter(([stack]) => stack.startsWith('iris;')).sort((a, b) => b[1] - a[1])[0]!;
    expect(iris[0]).toMatch(/;wait4;entry_SYSCALL_64_after_hwframe_\[k\];.*;do_wait_\[k\];schedule_\[k\];__schedule_\[k\]$/);
    // IRIS jobs are rooted at their routine, as in the CPU fold of the same capture.
    expect([...stacks.keys()].some((stack) => stack.startsWith('irisdb QUIET^STU;'))).toBe(true);

    // The weights are the capture's blocked time as traced, in µs (rounded per stack).
    const reader = new OffCpuCaptureReader();
    for (const line of gunzipSync(readFileSync(CAPTURE)).toString('utf8').split('\n')) if (line.startsWith('# irisflame-offcpu ')) reader.push(line);
    const totalMicros = reader.finish().blocked.reduce((sum, block) => sum + block.duration * 1e6, 0);
    const foldedMicros = [...stacks.values()].reduce((sum, value) => sum + value, 0);
    expect(Math.abs(foldedMicros - totalMicros)).toBeLessThan(stacks.size);
  });

  test('--pid and --iris work as for the CPU fold', async () => {
    const result = await runCli(['collapse', '--off-cpu', '--iris', '--pid', CAPTURE]);
    expect(result.exitCode).toBe(0);
    const roots = [...folded(result.stdout).keys()].map((stack) => stack.split(';')[0]!);
    expect(roots.every((root) => /-\d+$/.test(root))).toBe(true);
    expect(roots.some((root) => root.startsWith('sh'))).toBe(false); // sh -c is not an IRIS program
    expect(roots.some((root) => root.startsWith('irisstop-'))).toBe(true);
  });

  test('a capture without the off-CPU tracer fails in one line, saying why', async () => {
    const result = await runCli(['collapse', '--off-cpu', OLD_CAPTURE]);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/^irisflame: no off-CPU stacks in .*recorded without the off-CPU tracer\n/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  test('input that is not a lifecycle capture is refused, pointing bcc users at plain collapse', async () => {
    const result = await runCli(['collapse', '--off-cpu', BCC]);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/not an irisflame lifecycle capture/);
  });
});

describe('irisflame flamegraph --off-cpu', () => {
  test('draws a capture with the off-CPU title, microseconds and the io palette', async () => {
    const svg = join(dir, 'capture.svg');
    const result = await runCli(['flamegraph', '--off-cpu', CAPTURE, '-o', svg]);
    expect(result.exitCode).toBe(0);
    const text = readFileSync(svg, 'utf8');
    expect(text).toContain('Off-CPU Time Flame Graph');
    expect(text).toMatch(/<title>all \([\d,]+ us, 100%\)<\/title>/);
    expect(text).toMatch(/<title>iris \([\d,]+ us, [\d.]+%\)<\/title>/);
    // flamegraph.pl's io palette: blues, rgb(x, x, 190..245).
    const fills = [...text.matchAll(/fill="rgb\((\d+),(\d+),(\d+)\)"/g)].map((match) => match.slice(1).map(Number));
    expect(fills.length).toBeGreaterThan(10);
    expect(fills.every(([red, green, blue]) => red === green && blue! >= 190)).toBe(true);
  });

  test("draws bcc offcputime -df output, with the user's own title and palette when given", async () => {
    const svg = join(dir, 'bcc.svg');
    expect((await runCli(['flamegraph', '--off-cpu', BCC, '-o', svg])).exitCode).toBe(0);
    const text = readFileSync(svg, 'utf8');
    expect(text).toContain('Off-CPU Time Flame Graph');
    expect(text).toMatch(/<title>irisstop \(1,360,552 us, [\d.]+%\)<\/title>/);

    const own = join(dir, 'own.svg');
    expect((await runCli(['flamegraph', '--off-cpu', '--title', 'Restart waits', '--color=hot', BCC, '-o', own])).exitCode).toBe(0);
    const ownText = readFileSync(own, 'utf8');
    expect(ownText).toContain('Restart waits');
    expect(ownText).not.toContain('Off-CPU Time Flame Graph');
  });

  const perlMissing = missingReason(perlScript('flamegraph.pl'), 'flamegraph.pl', 'FLAMEGRAPH_PL_DIR');
  test.skipIf(reportSkip('flamegraph --off-cpu vs flamegraph.pl', perlMissing))(
    "the same frames as flamegraph.pl given Brendan Gregg's off-CPU recipe",
    async () => {
      const ours = join(dir, 'ours.svg');
      expect((await runCli(['flamegraph', '--off-cpu', BCC, '-o', ours])).exitCode).toBe(0);
      const perl = execFileSync('perl', [perlScript('flamegraph.pl'), '--color=io', '--title=Off-CPU Time Flame Graph', '--countname=us', BCC], {
        encoding: 'utf8',
      });
      const titles = (svg: string): string[] => [...svg.matchAll(/<title>([^<]*)<\/title>/g)].map((match) => match[1]!).sort();
      expect(existsSync(ours)).toBe(true);
      expect(titles(readFileSync(ours, 'utf8'))).toEqual(titles(perl));
    },
  );
});
