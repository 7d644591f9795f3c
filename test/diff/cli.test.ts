import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, runCli } from '../support/cli.js';

const FOLDED = join(REPO_ROOT, 'fixtures/collapse/folded');

describe('irisflame diff', () => {
  it('writes "stack before after" lines sorted byte-wise', async () => {
    const result = await runCli(['diff', join(FOLDED, 'decimals.folded'), join(FOLDED, 'crlf.folded')]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(
      'java;main 10 0\njava;main;idle 3 0\njava;main;work 3.75 0\nsh;main 0 1\nsh;main;loop 0 7\n',
    );
  });

  it('reads .gz inputs and one input from stdin', async () => {
    const before = readFileSync(join(FOLDED, 'bpftrace-addrs-1.folded'));
    const fromFiles = await runCli(['diff', '-n', join(FOLDED, 'bpftrace-addrs-1.folded'), join(FOLDED, 'perf-perl-gzip.folded.gz')]);
    const fromStdin = await runCli(['diff', '-n', '-', join(FOLDED, 'perf-perl-gzip.folded.gz')], { input: before });
    expect(fromFiles.exitCode).toBe(0);
    expect(fromFiles.stdout.split('\n').length).toBeGreaterThan(100);
    expect(fromStdin.stdoutBytes).toEqual(fromFiles.stdoutBytes);
  });

  it('strips hex addresses with -s', async () => {
    const result = await runCli(['diff', '-s', join(FOLDED, 'bpftrace-addrs-1.folded'), join(FOLDED, 'bpftrace-addrs-2.folded')]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/0x\.\.\./);
    expect(result.stdout).not.toMatch(/0x[0-9a-f]/);
  });

  it('refuses two stdin inputs as a usage error', async () => {
    const result = await runCli(['diff', '-', '-'], { input: 'a 1\n' });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^irisflame: only one of BEFORE and AFTER can be stdin/);
  });

  it('fails in one line for a missing input', async () => {
    const result = await runCli(['diff', 'missing.folded', join(FOLDED, 'crlf.folded')]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trimEnd()).toBe('irisflame: missing.folded: no such file');
  });

  it('reports lines without a count on stderr and still succeeds', async () => {
    const result = await runCli(['diff', join(FOLDED, 'odd-lines.folded'), join(FOLDED, 'crlf.folded')]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(/skipped \d+ line\(s\) without a count in .*odd-lines\.folded/);
  });
});
