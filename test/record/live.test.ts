/**
 * `irisflame record` for real, as root, against the simulated IRIS: a CPU-bound `irisdb` burns while
 * several recordings run side by side (perf allows concurrent sessions; bpftrace too), which keeps the
 * suite to one recording window of wall time. Each backend is skipped only where it cannot run.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execa, type ResultPromise } from 'execa';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IRIS_PROCESS_NAMES } from '../../src/iris/processes.js';
import { IRISFLAME_BIN, REPO_ROOT, runCli, type CliResult } from '../support/cli.js';
import { reportSkip } from '../support/references.js';
import {
  bpftraceReason,
  installSimulatedIris,
  perfReason,
  processesOf,
  readFolded,
  readSvg,
  pathWithOldPerf,
  pathWithOnly,
  startBurn,
  type FoldedLine,
} from './support.js';

const SECONDS = '2';
/** Longer than every recording below together with its start-up on a loaded machine; killed at the end. */
const BURN_MS = 120_000;
const IRIS_PATH = ['GlobalBufferScan', 'HashBlock'];

const perfSkip = perfReason();
const bpftraceSkip = bpftraceReason();
const outDir = mkdtempSync(join(tmpdir(), 'irisflame-record-test-'));
let installDir = '';
let burn: ResultPromise | undefined;
const runs = new Map<string, CliResult>();
/** TMPDIR of the recordings: private, so what they leave behind is theirs, not a concurrent run's. */
const sessionTmp = mkdtempSync(join(tmpdir(), 'irisflame-record-test-tmp-'));
const ENV = { TMPDIR: sessionTmp };

/** True when some stack of `irisdb` runs through GlobalBufferScan into HashBlock. */
function irisdbBurnSeen(lines: FoldedLine[]): boolean {
  return lines.some(
    ({ stack }) => stack[0] === 'irisdb' && IRIS_PATH.every((name) => stack.includes(name)) && stack.indexOf('GlobalBufferScan') < stack.indexOf('HashBlock'),
  );
}

const record = (name: string, args: string[], env?: Record<string, string>): Promise<void> =>
  runCli(['record', '--seconds', SECONDS, '--no-progress', '-o', join(outDir, `${name}.svg`), ...args], {
    timeoutMs: 170_000,
    env: { ...ENV, ...env },
  }).then((result) => {
    runs.set(name, result);
  });

/**
 * Start record, wait for its "recording …" line, let it sample for a second, then Ctrl-C it (`interrupts`
 * times, a moment apart).
 */
async function recordThenInterrupt(name: string, args: string[] = [], interrupts = 1): Promise<void> {
  const child = execa(
    'node',
    [IRISFLAME_BIN, 'record', '--seconds', '300', '--no-progress', '-o', join(outDir, `${name}.svg`), ...args],
    { cwd: REPO_ROOT, reject: false, timeout: 170_000, env: ENV },
  );
  let stderr = '';
  await new Promise<void>((resolve) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('recording ')) resolve();
    });
    void child.then(() => resolve());
  });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  child.kill('SIGINT');
  if (interrupts > 1) {
    // Two SIGINTs sent back to back merge into one in the kernel when the process is not scheduled in between
    // (a loaded machine): send the second once the first was handled, while the first stop is still under way
    // (bpftrace alone takes ~2 s to print its maps after SIGINT).
    await untilStderr(child, () => stderr, 'Ctrl-C again to abort');
    for (let i = 1; i < interrupts; i++) child.kill('SIGINT');
  }
  const done = await child;
  runs.set(name, { exitCode: done.exitCode ?? -1, stdout: String(done.stdout), stderr: String(done.stderr), stdoutBytes: Buffer.alloc(0) });
}

/** Resolves once the child's stderr (as `read` returns it so far) holds `text`, or the child has ended. */
function untilStderr(child: ReturnType<typeof execa>, read: () => string, text: string): Promise<void> {
  return new Promise<void>((resolve) => {
    const check = (): void => {
      if (read().includes(text)) resolve();
    };
    child.stderr!.on('data', () => setImmediate(check));
    void child.then(() => resolve(), () => resolve());
    check();
  });
}

/** Command lines of every process now. */
function commandLines(): string[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      } catch {
        return '';
      }
    });
}

beforeAll(async () => {
  if (perfSkip !== undefined && bpftraceSkip !== undefined) return;
  installDir = await installSimulatedIris();
  burn = startBurn(installDir, BURN_MS);
  const pending: Promise<void>[] = [];
  if (perfSkip === undefined) {
    pending.push(
      record('perf-all', []),
      record('perf-iris', ['--iris', '--iris-dir', installDir]),
      record('perf-comm', ['--comm', '^irisd']),
      recordThenInterrupt('perf-sigint'),
      record('perf-old-pid', ['--pid', String(burn.pid)], { PATH: pathWithOldPerf() }),
    );
  }
  if (bpftraceSkip === undefined) {
    pending.push(
      record('bpftrace-pid', ['--backend', 'bpftrace', '--pid', String(burn.pid)]),
      record('bpftrace-iris', ['--backend', 'bpftrace', '--iris', '--iris-dir', installDir]),
      // bpftrace with --iris: the command path is the session's, the same for both backends, and this is the cheap one.
      record('bpftrace-command', ['--backend', 'bpftrace', '--iris', '--seconds', '600', '--', 'sh', '-c', 'sleep 1; exit 3']),
      recordThenInterrupt('bpftrace-abort', ['--backend', 'bpftrace', '--iris'], 2),
      record('auto-without-perf', ['--backend', 'auto', '--iris'], { PATH: pathWithOnly(['bpftrace', 'setpriv', 'c++filt']) }),
    );
  }
  await Promise.all(pending);
}, 180_000);

afterAll(() => {
  burn?.kill('SIGKILL');
  if (process.env.IRISFLAME_KEEP_TEST_OUTPUT === undefined) rmSync(outDir, { recursive: true, force: true });
  else console.warn(`[record tests] outputs kept in ${outDir}`);
  rmSync(sessionTmp, { recursive: true, force: true });
  if (installDir !== '') rmSync(join(installDir, '..', '..'), { recursive: true, force: true });
});

describe.skipIf(reportSkip('record with perf', perfSkip))('record with perf', () => {
  test('writes an SVG and its folded stacks in which irisdb runs GlobalBufferScan into HashBlock', () => {
    const run = runs.get('perf-all')!;
    expect(run.stderr).toContain('recorded ');
    expect(run.exitCode).toBe(0);
    const lines = readFolded(join(outDir, 'perf-all.folded'));
    expect(irisdbBurnSeen(lines)).toBe(true);
    const svg = readSvg(join(outDir, 'perf-all.svg'));
    expect(svg.error).toBeUndefined();
    expect(svg.frames).toEqual(expect.arrayContaining(['irisdb', 'GlobalBufferScan', 'HashBlock']));
  });

  test('titles the graph with the host, backend, frequency and duration, and subtitles it with the date', () => {
    const svg = readSvg(join(outDir, 'perf-all.svg'));
    expect(svg.title).toMatch(/^CPU on .+: perf at 99 Hz for \d/);
    // Whole system: other programs' stacks (JIT code, deep ones) may be cut, and then the subtitle says how many.
    expect(svg.subtitle).toMatch(
      /^recorded \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC( · user stacks cut short \(not reaching main or a thread start\) in [\d.]+% of samples \([\d,]+ of [\d,]+ with a user stack\))?$/,
    );
  });

  test('counts samples, so every count in the folded file is a whole number of samples', () => {
    const lines = readFolded(join(outDir, 'perf-all.folded'));
    expect(lines.every(({ count }) => Number.isInteger(count) && count >= 1)).toBe(true);
  });

  test('summarises samples, processes, top functions and the files written on stderr', () => {
    const { stderr } = runs.get('perf-all')!;
    expect(stderr).toMatch(/recorded [\d,]+ samples in [\d.]+ s \(perf at 99 Hz\); \d+ processes seen/);
    expect(stderr).toMatch(/top processes: \S+ [\d.]+%/);
    expect(stderr).toMatch(/top functions: /);
    expect(stderr).toMatch(/IRIS processes: [\d.]+% of samples/);
    expect(stderr).toContain(join(outDir, 'perf-all.svg'));
    expect(stderr).toContain(join(outDir, 'perf-all.folded'));
  });

  test('--iris keeps irisdb and drops every process that is not IRIS', () => {
    const all = processesOf(readFolded(join(outDir, 'perf-all.folded')));
    expect([...all.keys()].some((name) => name !== 'irisdb')).toBe(true); // the unfiltered run saw others
    const lines = readFolded(join(outDir, 'perf-iris.folded'));
    expect(irisdbBurnSeen(lines)).toBe(true);
    // Other test files may run a simulated IRIS instance meanwhile: any IRIS program may appear, nothing else.
    const names = [...processesOf(lines).keys()];
    expect(names).toContain('irisdb');
    expect(names.filter((name) => !IRIS_PROCESS_NAMES.has(name))).toEqual([]);
    expect(runs.get('perf-iris')!.stderr).toMatch(/IRIS processes: 100\.0% of samples/);
  });

  test('--comm keeps only processes whose name matches', () => {
    const names = [...processesOf(readFolded(join(outDir, 'perf-comm.folded'))).keys()];
    expect(names).toContain('irisdb');
    expect(names.every((name) => /^irisd/.test(name))).toBe(true);
  });

  test('SIGINT after a second stops early and still writes a well-formed SVG with frames', () => {
    const run = runs.get('perf-sigint')!;
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toContain('stopped early');
    const svg = readSvg(join(outDir, 'perf-sigint.svg'));
    expect(svg.error).toBeUndefined();
    expect(svg.frames.length).toBeGreaterThan(1);
  });

  test('works with a perf that has no --control (before 5.9), here on one --pid', () => {
    const run = runs.get('perf-old-pid')!;
    expect(run.stderr).toContain('recording pid ');
    expect(run.exitCode).toBe(0);
    const lines = readFolded(join(outDir, 'perf-old-pid.folded'));
    expect(irisdbBurnSeen(lines)).toBe(true);
    // Only IRIS programs; not only irisdb: other tests (and engineers) run simulated IRIS instances on this machine.
    const kept = [...processesOf(lines).keys()];
    expect(kept).toContain('irisdb');
    expect(kept.filter((name) => !IRIS_PROCESS_NAMES.has(name))).toEqual([]);
  });

  test('leaves no temporary directory and no perf process behind', () => {
    expect(readdirSync(sessionTmp)).toEqual([]);
    const survivors = commandLines().filter((cmdline) => cmdline.includes(sessionTmp));
    expect(survivors).toEqual([]);
  });
});

describe.skipIf(reportSkip('record with bpftrace', bpftraceSkip))('record with bpftrace', () => {
  test('--pid records that process, and irisdb runs GlobalBufferScan into HashBlock', () => {
    const run = runs.get('bpftrace-pid')!;
    expect(run.stderr).toContain('(bpftrace at 99 Hz)');
    expect(run.exitCode).toBe(0);
    const lines = readFolded(join(outDir, 'bpftrace-pid.folded'));
    expect(irisdbBurnSeen(lines)).toBe(true);
    // Only IRIS programs; not only irisdb: other tests (and engineers) run simulated IRIS instances on this machine.
    const kept = [...processesOf(lines).keys()];
    expect(kept).toContain('irisdb');
    expect(kept.filter((name) => !IRIS_PROCESS_NAMES.has(name))).toEqual([]);
    expect(readSvg(join(outDir, 'bpftrace-pid.svg')).error).toBeUndefined();
  });

  test('--iris keeps only IRIS processes, with user and kernel frames of irisdb', () => {
    const lines = readFolded(join(outDir, 'bpftrace-iris.folded'));
    expect(irisdbBurnSeen(lines)).toBe(true);
    expect([...processesOf(lines).keys()].filter((name) => !IRIS_PROCESS_NAMES.has(name))).toEqual([]);
    expect(readSvg(join(outDir, 'bpftrace-iris.svg')).title).toContain('bpftrace at 99 Hz');
  });

  test('-- COMMAND records while the command runs, ends with it, and exits with its status', () => {
    const run = runs.get('bpftrace-command')!;
    expect(run.exitCode).toBe(3); // --seconds 600 was given: only the command's end can have stopped it
    expect(readSvg(join(outDir, 'bpftrace-command.svg')).title).toContain('while running sh -c');
  });

  test('a second SIGINT aborts: non-zero exit, nothing written, and bpftrace is gone', () => {
    const run = runs.get('bpftrace-abort')!;
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('irisflame: recording aborted; nothing written, temporary files removed');
    expect(existsSync(join(outDir, 'bpftrace-abort.svg'))).toBe(false);
    expect(existsSync(join(outDir, 'bpftrace-abort.folded'))).toBe(false);
    expect(commandLines().filter((cmdline) => cmdline.includes('@irisflame_samples'))).toEqual([]);
  });

  test('--backend auto records with bpftrace when perf is not installed', () => {
    const run = runs.get('auto-without-perf')!;
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toContain('(bpftrace at 99 Hz)');
    expect(irisdbBurnSeen(readFolded(join(outDir, 'auto-without-perf.folded')))).toBe(true);
  });

  test('keeps bpftrace\'s RLIMIT_MEMLOCK warning out of what it prints', () => {
    expect(runs.get('bpftrace-iris')!.stderr).not.toMatch(/RLIMIT_MEMLOCK/);
  });
});
