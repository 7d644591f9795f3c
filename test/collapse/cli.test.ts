import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { IRISFLAME_BIN, REPO_ROOT, runCli, type CliResult } from '../support/cli.js';
import { missingReason, perlScript, reportSkip } from '../support/references.js';

const FIXTURES = join(REPO_ROOT, 'fixtures/collapse');
const fixture = (path: string): string => join(FIXTURES, path);

/** A failure as the user sees it: non-zero, "irisflame: " first, at most a hint after, no stack trace. */
function expectOneLineFailure(result: CliResult, exitCode = 1): string {
  expect(result.exitCode).toBe(exitCode);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^irisflame: /);
  expect(lines.length).toBeLessThanOrEqual(2);
  if (lines.length === 2) expect(lines[1]).toMatch(/^ {2}hint: /);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  return lines[0]!;
}

let workDir: string;
beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'irisflame-collapse-cli-'));
});
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe('irisflame collapse: input and output', () => {
  it('reads a file and writes folded stacks to stdout', async () => {
    const result = await runCli(['collapse', fixture('folded/decimals.folded')]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('java;main 10\njava;main;idle 3\njava;main;work 3.75\n');
    expect(result.stderr).toBe('');
  });

  it('reads stdin when no file is given, and when the file is "-"', async () => {
    const input = 'b;x 1\na;y 2\nb;x 3\n';
    for (const args of [['collapse'], ['collapse', '-']]) {
      const result = await runCli(args, { input });
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toBe('a;y 2\nb;x 4\n');
    }
  });

  it('reads gzip-compressed input', async () => {
    const result = await runCli(['collapse', fixture('folded/perf-perl-gzip.folded.gz')]);
    expect(result.exitCode).toBe(0);
    expect(result.stdoutBytes).toEqual(gunzipSync(readFileSync(fixture('folded/perf-perl-gzip.folded.gz'))));
  });

  it('folds bpftrace output with the perf-style flags', async () => {
    const result = await runCli(['collapse', '--pid', '--kernel', fixture('bpftrace/kstack-ustack-comm-pid.txt')]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^perl-\d+;/m);
    expect(result.stdout).toMatch(/^cat-\d+;__GI___write;entry_SYSCALL_64_after_hwframe_\[k\];/m);
  });

  it('writes -o FILE whole, leaving no temporary file behind', async () => {
    const out = join(workDir, 'out.folded');
    const result = await runCli(['collapse', fixture('folded/crlf.folded'), '-o', out]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('');
    expect(readFileSync(out, 'utf8')).toBe('sh;main 1\nsh;main;loop 7\n');
    expect(readdirSync(workDir)).toEqual(['out.folded']);
  });

  it('leaves an existing -o FILE untouched when collapsing fails', async () => {
    const out = join(workDir, 'keep.folded');
    writeFileSync(out, 'previous content\n');
    const result = await runCli(['collapse', fixture('bad/random.bin'), '-o', out]);
    expectOneLineFailure(result);
    expect(readFileSync(out, 'utf8')).toBe('previous content\n');
    expect(readdirSync(workDir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('fails in one line when -o points into a missing directory', async () => {
    const line = expectOneLineFailure(await runCli(['collapse', fixture('folded/crlf.folded'), '-o', join(workDir, 'no/such/dir/x')]));
    expect(line).toMatch(/cannot write .*: its directory does not exist/);
  });
});

describe('irisflame collapse: reporting on stderr', () => {
  it('summarises odd lines with their count and the first few, and still succeeds', async () => {
    const result = await runCli(['collapse', fixture('folded/odd-lines.folded')]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('perl;main;run 5\nperl;main;stop 2\n');
    expect(result.stderr).toMatch(/^irisflame: skipped 4 unrecognised line\(s\) in .*odd-lines\.folded, e\.g\.:\n {2}this line has no count\n/);
  });

  it('reports the chosen format and why with --verbose', async () => {
    const result = await runCli(['collapse', '--verbose', fixture('bpftrace/kstack.txt')]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(/bpftrace format \(detected from its content\)/);
  });

  it('prints notes, such as stacks skipped by the process filter', async () => {
    const result = await runCli(['collapse', '--comm', '^perl$', fixture('bpftrace/kstack-ustack-comm.txt')]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(/^irisflame: note: \d+ map entries of other processes skipped by the process filter$/m);
  });
});

describe('irisflame collapse: inputs it cannot use', () => {
  it.each([
    ['a missing file', ['collapse', 'no-such-file.txt'], /no-such-file\.txt: no such file/],
    ['a directory', ['collapse', FIXTURES], /is a directory, not a file/],
    ['an empty file', ['collapse', fixture('bad/empty.txt')], /empty\.txt is empty/],
    ['binary data', ['collapse', fixture('bad/random.bin')], /looks like binary data/],
    ['an executable', ['collapse', fixture('bad/executable.elf')], /is an executable \(ELF\)/],
    ['a truncated .gz', ['collapse', fixture('bad/truncated.folded.gz')], /gzip data is truncated/],
    ['a perf.data file', ['collapse', fixture('bad/perf.data')], /perf\.data recording, not perf script text/],
    ['an xz file', ['collapse', fixture('bad/stacks.folded.xz')], /is xz-compressed; only gzip is read directly/],
    ['a bzip2 file', ['collapse', fixture('bad/stacks.folded.bz2')], /is bzip2-compressed/],
    ['a zstd file', ['collapse', fixture('bad/stacks.folded.zst')], /is zstd-compressed/],
    ['UTF-16 text', ['collapse', fixture('bad/utf16.folded')], /is UTF-16 text/],
    ['text with no stacks', ['collapse', fixture('bad/prose.txt')], /^irisflame: no stacks found in .*prose\.txt: /],
    ['a forced format that does not fit', ['collapse', '--format', 'bpftrace', fixture('folded/decimals.folded')], /no stacks found/],
  ])('fails with one clear line for %s', async (_what, args, message) => {
    expect(expectOneLineFailure(await runCli(args))).toMatch(message);
  });

  it('fails with one clear line for a file the user may not read', async (context) => {
    // Root reads anything, so run as nobody; skip where that is not possible.
    if (process.getuid?.() !== 0 || !existsSync('/usr/sbin/runuser')) return context.skip();
    chmodSync(workDir, 0o755); // so the file itself, not its directory, is what nobody cannot read
    const path = join(workDir, 'secret.folded');
    writeFileSync(path, 'a;b 1\n', { mode: 0o000 });
    const run = spawnSync('/usr/sbin/runuser', ['-u', 'nobody', '--', process.execPath, IRISFLAME_BIN, 'collapse', path], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^irisflame: .*secret\.folded: permission denied\n {2}hint: /);
  });

  it('fails as a usage error (exit 2) for a bad --comm regex or --format', async () => {
    expectOneLineFailure(await runCli(['collapse', '--comm', '(', fixture('folded/crlf.folded')]), 2);
    expectOneLineFailure(await runCli(['collapse', '--format', 'dtrace', fixture('folded/crlf.folded')]), 2);
  });

  it('prints a stack trace only with --verbose', async () => {
    const result = await runCli(['collapse', '--verbose', fixture('bad/empty.txt')]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^\s+at /m);
  });
});

describe('irisflame collapse against stackcollapse-perf.pl', () => {
  const script = perlScript('stackcollapse-perf.pl');
  const skip = reportSkip('collapse CLI vs stackcollapse-perf.pl', missingReason(script, 'stackcollapse-perf.pl', 'FLAMEGRAPH_PL_DIR'));
  const perfFixture = fixture('perf/edge/two-events.txt');

  it.skipIf(skip)('gives the Perl\'s bytes for a perf script capture', async () => {
    const perl = execFileSync('perl', [script, perfFixture]);
    const result = await runCli(['collapse', perfFixture]);
    expect(result.exitCode).toBe(0);
    expect(result.stdoutBytes).toEqual(perl);
  });
});
