/**
 * Whole-system `--call-graph auto`: DWARF only when a program busy at the start lacks frame pointers.
 * The choice on hand-made busy lists of real binaries (Node: built with frame pointers; Debian's gzip:
 * without), the /proc CPU-time window that finds the busy programs, and the real CLI recording the whole
 * system while a simulated IRIS built with, then without, frame pointers burns. Real perf, real programs.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execa, type ResultPromise } from 'execa';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { BUSY_CPU_SHARE, busyPrograms, chooseCallGraph, chooseForBusy } from '../../src/record/call-graph.js';
import { startPerfRecording } from '../../src/record/perf.js';
import { checkFramePointers } from '../../src/record/frame-pointers.js';
import { resolveRecordOptions } from '../../src/record/options.js';
import { cutStacks } from '../../src/record/summary.js';
import { REPO_ROOT, runCli, type CliResult } from '../support/cli.js';
import { reportSkip } from '../support/references.js';
import { simulatedIrisReason } from '../support/simulated-iris.js';
import { perfReason, readFolded } from './support.js';

const INSTALL = join(REPO_ROOT, 'examples', 'simulated-iris', 'install.sh');
const GZIP = '/usr/bin/gzip';
const dir = mkdtempSync(join(tmpdir(), 'irisflame-callgraph-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('chooseForBusy (real binaries, hand-made CPU shares)', () => {
  const nodeHasFramePointers = checkFramePointers(process.execPath).framePointers === true && basename(process.execPath) === 'node';
  const gzipLacksThem = checkFramePointers(GZIP).framePointers === false;

  test.skipIf(reportSkip('busy-program choice', nodeHasFramePointers && gzipLacksThem ? undefined : 'needs a node with frame pointers and a gzip without'))(
    'a busy program without frame pointers picks dwarf and names it with its CPU; otherwise fp, saying why',
    () => {
      const node = { exe: process.execPath, cpu: 0.62 };
      const gzip = { exe: GZIP, cpu: 0.95 };
      const dwarf = chooseForBusy([node, gzip]);
      expect(dwarf.mode).toBe('dwarf');
      expect(dwarf.stackBytes).toBe(8192);
      expect(dwarf.reason).toBe(
        'dwarf (8 KiB stacks): busy without frame pointers: gzip 95% of a CPU, more than JIT runtimes whose JIT frames only fp unwinds (node 62%); ' +
          '--call-graph fp: smaller and faster, stacks cut',
      );
      // A busier JIT runtime (node's JIT frames: whole with fp, cut with dwarf) keeps frame pointers.
      const jit = chooseForBusy([{ exe: process.execPath, cpu: 1.4 }, { exe: GZIP, cpu: 0.3 }]);
      expect(jit.mode).toBe('fp');
      expect(jit.reason).toMatch(/^frame pointers: busy JIT runtimes \(node 140% of a CPU\), whose JIT frames only fp unwinds, outweigh busy programs without frame pointers \(gzip 30%\); --call-graph dwarf/);

      const fp = chooseForBusy([node]);
      expect(fp).toEqual({
        mode: 'fp',
        reason: `frame pointers: busy programs have them (${basename(process.execPath)} 62% of a CPU); --call-graph dwarf forces DWARF unwinding if a program without them gets busy later`,
      });
      expect(chooseForBusy([]).reason).toMatch(/^frame pointers: nothing busy at the start; /);
      // A script says nothing about frame pointers: ignored, not a reason for dwarf.
      expect(chooseForBusy([{ exe: INSTALL, cpu: 1 }]).reason).toMatch(/^frame pointers: no busy program found without them; /);
      expect(chooseForBusy([gzip], 4096).stackBytes).toBe(4096);
    },
  );
});

describe('--call-graph values', () => {
  test("perf's dwarf,BYTES sets the stack copy; a bad size is one clear line", () => {
    expect(resolveRecordOptions({ callGraph: 'dwarf,4096' as never })).toMatchObject({ callGraph: 'dwarf', dwarfStackBytes: 4096 });
    expect(() => resolveRecordOptions({ callGraph: 'dwarf,100' as never })).toThrow('--call-graph dwarf,BYTES takes a multiple of 8 from 8 to 65528 (got 100)');
    expect(() => resolveRecordOptions({ callGraph: 'lbr' as never })).toThrow('unknown call graph mode "lbr"');
  });
});

const simSkip = simulatedIrisReason();
let withFp = '';
let withoutFp = '';
beforeAll(() => {
  if (simSkip !== undefined) return;
  withFp = execFileSync(INSTALL, [join(dir, 'fp')], { encoding: 'utf8' }).trim().split('\n').pop()!;
  withoutFp = execFileSync(INSTALL, ['--no-frame-pointers', join(dir, 'nofp')], { encoding: 'utf8' }).trim().split('\n').pop()!;
});

/**
 * A simulated IRIS `irisdb` burning CPU from a copy of its own name (`fpburner`, `nofpburner`): other
 * helpers on a shared machine may run a simulated IRIS too, and the reason names programs by file name.
 * It still runs as irisdb (argv[0]); reniced so a loaded machine gives it a good share.
 */
function burn(installDir: string, args: string[]): ResultPromise {
  const copy = join(installDir, 'bin', `${basename(dirname(dirname(installDir)))}burner`);
  if (!existsSync(copy)) copyFileSync(join(installDir, 'bin', 'irisdb'), copy);
  chmodSync(copy, 0o755);
  const child = execa(copy, args, { argv0: 'irisdb', reject: false });
  if (child.pid !== undefined) execFileSync('renice', ['-n', '-10', '-p', String(child.pid)], { stdio: 'ignore' });
  return child;
}

describe.skipIf(reportSkip('busyPrograms', simSkip))('busyPrograms (/proc CPU time over a window)', () => {
  test('finds a burning program by its executable, with about its CPU share; an idle one is not busy', async () => {
    const burner = burn(withoutFp, ['--burn', '20000']);
    const idle = execa('sleep', ['30'], { reject: false });
    try {
      const exe = join(withoutFp, 'bin', 'nofpburner');
      let busy: Awaited<ReturnType<typeof busyPrograms>> = [];
      // A loaded machine may starve it for a moment: look a few times rather than once.
      for (let attempt = 0; attempt < 5 && !busy.some((program) => program.exe === exe); attempt++) busy = await busyPrograms(500);
      const found = busy.find((program) => program.exe === exe);
      expect(found, JSON.stringify(busy)).toBeDefined();
      expect(found!.cpu).toBeGreaterThanOrEqual(BUSY_CPU_SHARE);
      expect(found!.cpu).toBeLessThanOrEqual(1.2); // one thread: at most one CPU (plus tick rounding)
      expect(busy.map((program) => program.exe)).not.toContain('/usr/bin/sleep');
    } finally {
      burner.kill('SIGKILL');
      idle.kill('SIGKILL');
    }
  }, 30_000);
});

describe.skipIf(reportSkip('chooseCallGraph with IRIS programs', simSkip))('chooseCallGraph: IRIS programs of interest', () => {
  test('--lifecycle --iris (unfiltered samples) still lets IRIS binaries without frame pointers choose dwarf', async () => {
    const record = resolveRecordOptions({ irisDir: withoutFp });
    const choice = await chooseCallGraph(record, undefined, true);
    expect(choice.mode).toBe('dwarf');
    expect(choice.reason).toMatch(/^dwarf \(8 KiB stacks\): .*irisdb.* built without frame pointers; --call-graph fp/);
    expect((await chooseCallGraph(resolveRecordOptions({ irisDir: withFp }), undefined, true)).mode).toBe('fp');
  });
});

const recordSkip = reportSkip('record: whole-system call graph', simSkip ?? perfReason());

/** A burner's share of whole user stacks (its samples' root frame is its file name), from the .folded file. */
function wholeShare(folded: string, comm: string): number {
  const lines = readFolded(folded).filter(({ stack }) => stack[0] === comm);
  expect(lines.length, `no ${comm} samples`).toBeGreaterThan(0);
  return 1 - cutStacks(new Map(lines.map(({ stack, count }) => [stack.join(';'), count]))).share;
}

describe.skipIf(recordSkip)('record: whole system, --call-graph auto', () => {
  const runs = new Map<string, CliResult>();
  const out = (name: string) => join(dir, `${name}.svg`);

  /** Whole system for 3 s while the given simulated IRIS burns; sequential, so each sees only its own burner. */
  async function recordWhile(name: string, installDir: string): Promise<void> {
    const burner = burn(installDir, ['--deep', '60000']);
    try {
      // Let it get on CPU before the busy window looks.
      await new Promise((resolve) => setTimeout(resolve, 300));
      runs.set(name, await runCli(['record', '--no-progress', '--seconds', '3', '-o', out(name)], { timeoutMs: 170_000 }));
    } finally {
      burner.kill('SIGKILL');
    }
  }

  beforeAll(async () => {
    await recordWhile('busy-fp', withFp);
    await recordWhile('busy-nofp', withoutFp);
  }, 400_000);

  test('only a program with frame pointers busy: fp, and the summary says why and how to force dwarf', () => {
    const result = runs.get('busy-fp')!;
    expect(result.exitCode, result.stderr).toBe(0);
    const line = /call graph: (.*)/.exec(result.stderr)?.[1] ?? '';
    // The machine may be shared: another busy program without frame pointers rightly means dwarf. Then it
    // must be that program named, never the simulated IRIS built with them.
    if (line.startsWith('dwarf')) {
      console.log(`whole-system fp case: another busy program lacks frame pointers here: ${line}`);
      expect(line).toMatch(/busy without frame pointers: /);
      expect(line).not.toMatch(/fpburner/);
    } else {
      // fp: for the burner alone, or because busier JIT runtimes outweigh other programs without frame pointers.
      if (line.startsWith('frame pointers: busy JIT runtimes')) {
        console.log(`whole-system fp case: other busy programs weighed here: ${line}`);
        expect(line).not.toMatch(/without frame pointers \(.*fpburner/);
      } else {
        expect(line).toMatch(/^frame pointers: busy programs have them \(.*fpburner \d+%.* of a CPU\); --call-graph dwarf forces DWARF unwinding/);
      }
      expect(wholeShare(out('busy-fp').replace(/\.svg$/, '.folded'), 'fpburner')).toBeGreaterThan(0.8);
    }
  });

  test('a busy simulated IRIS without frame pointers: dwarf, named in the summary, and its stacks are whole', () => {
    const result = runs.get('busy-nofp')!;
    expect(result.exitCode, result.stderr).toBe(0);
    const line = /call graph: (.*)/.exec(result.stderr)?.[1] ?? '';
    // On a shared machine, busier JIT runtimes (other sessions' node, chromium) rightly keep fp: then the
    // burner must be named as the program without frame pointers they outweigh.
    if (line.startsWith('frame pointers: busy JIT runtimes')) {
      console.log(`whole-system dwarf case: JIT runtimes outweigh the burner here: ${line}`);
      expect(line).toMatch(/outweigh busy programs without frame pointers \(.*nofpburner \d+%.*\); --call-graph dwarf/);
      return;
    }
    expect(line).toMatch(/^dwarf \(8 KiB stacks\): busy without frame pointers: .*nofpburner \d+%.*; --call-graph fp: smaller and faster/);
    expect(wholeShare(out('busy-nofp').replace(/\.svg$/, '.folded'), 'nofpburner')).toBeGreaterThan(0.8);
  });
});

describe.skipIf(reportSkip('perf.data bound', perfReason()))('perf.data bound (DWARF)', () => {
  test('perf stops at the bound by itself, the recording ends then, and a note says so', async () => {
    const workDir = mkdtempSync(join(dir, 'bound-'));
    const burner = withoutFp === '' ? undefined : burn(withoutFp, ['--deep', '60000']);
    try {
      const plan = { frequency: 99, pids: [], callGraph: 'dwarf' as const, dwarfStackBytes: 8192, maxDataBytes: 4 * 1024 * 1024, workDir, keepPerfData: false };
      const recording = startPerfRecording(plan);
      await recording.ready;
      // 4 MiB (above what perf writes before sampling: the process table) of stack copies fills in seconds on a busy machine; the session would wait for `ended`.
      const ended = await Promise.race([recording.ended!.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 100_000))]);
      recording.stop();
      const result = await recording.result;
      expect(ended).toBe(true);
      expect(result.notes[0]).toMatch(/^perf\.data reached its bound \(4 MB\) and perf stopped sampling early/);
      expect(result.collapse.stacks.size).toBeGreaterThan(0);
    } finally {
      burner?.kill('SIGKILL');
    }
  }, 150_000);
});
