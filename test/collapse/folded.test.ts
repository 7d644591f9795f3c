import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/cli.js';
import { createFoldedCollapser, detectFolded, parseTrailingCount, type FoldedCollapseOptions } from '../../src/collapse/folded.js';
import { foldedLines } from '../../src/collapse/write.js';
import type { CollapseResult } from '../../src/collapse/types.js';

const FIXTURES = join(REPO_ROOT, 'fixtures/collapse/folded');
function fixture(name: string): Buffer {
  const bytes = readFileSync(join(FIXTURES, name));
  return name.endsWith('.gz') ? gunzipSync(bytes) : bytes;
}

function collapse(input: Buffer | string, options: Partial<FoldedCollapseOptions> = {}, chunkSize = 0): CollapseResult {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const collapser = createFoldedCollapser(options);
  if (chunkSize <= 0) collapser.push(bytes);
  else for (let i = 0; i < bytes.length; i += chunkSize) collapser.push(bytes.subarray(i, i + chunkSize));
  return collapser.finish();
}
const text = (result: CollapseResult): string => [...foldedLines(result)].join('');

describe('folded collapse', () => {
  it('reproduces stackcollapse-perf.pl output byte for byte (already merged and sorted)', () => {
    for (const name of ['perf-perl-gzip.folded.gz', 'perf-sh-sort-perl.folded.gz', 'perf-pid-kernel.folded']) {
      const input = fixture(name);
      expect(text(collapse(input))).toBe(input.toString('latin1'));
    }
  });

  it('merges repeated stacks and sorts them byte-wise', () => {
    expect(text(collapse('b;x 1\na;y 2\nb;x 3\nB;z 1\n'))).toBe('B;z 1\na;y 2\nb;x 4\n');
  });

  it('accepts decimal counts as flamegraph.pl does, and prints sums as Perl prints them', () => {
    expect(text(collapse(fixture('decimals.folded')))).toBe('java;main 10\njava;main;idle 3\njava;main;work 3.75\n');
    expect(text(collapse('a 0.1\na 0.2\n'))).toBe('a 0.3\n');
  });

  it('reads two-column input as a differential result', () => {
    const result = collapse(fixture('differential.folded'));
    expect(result.before).toBeDefined();
    expect(text(result)).toBe('bash;main;execute 5 0\nbash;main;parse 0 7\nbash;main;readline 11 13\n');
  });

  it('counts lines with a different number of columns than the first as odd', () => {
    const result = collapse('a;b 1 2\na;c 5\n');
    expect(result.report.badLines).toBe(1);
    expect(result.report.notes.join()).toMatch(/different number of count columns/);
  });

  it('tolerates CRLF line ends', () => {
    expect(text(collapse(fixture('crlf.folded')))).toBe('sh;main 1\nsh;main;loop 7\n');
  });

  it('counts odd lines and keeps the good ones, ignoring blank lines', () => {
    const result = collapse(fixture('odd-lines.folded'));
    expect(text(result)).toBe('perl;main;run 5\nperl;main;stop 2\n');
    // no count, a negative count, a count with letters, an empty stack
    expect(result.report.badLines).toBe(4);
    expect(result.report.badLineExamples).toEqual(['this line has no count', 'perl;main;run -3', 'perl;main;run 12abc']);
  });

  it('keeps a bcc -d delimiter frame and, with kernel annotations, marks the frames after it', () => {
    const result = collapse(fixture('bcc-profile-delimited.folded'), { kernel: true });
    const keys = [...result.stacks.keys()];
    expect(keys).toContain(
      'python3;_start;__libc_start_main;main;PyRun_SimpleFile;-;entry_SYSCALL_64_after_hwframe_[k];do_syscall_64_[k];__x64_sys_read_[k]',
    );
    expect(keys).toContain('python3;_start;__libc_start_main;main;PyEval_EvalCode');
    expect(keys).toContain('python3;[Missed User Stack];-;entry_SYSCALL_64_[k];do_syscall_64_[k]');
  });

  it('leaves bcc output untouched without kernel annotations', () => {
    const input = fixture('bcc-profile-delimited.folded');
    const lines = input.toString('latin1').split('\n').filter(Boolean).sort();
    expect(text(collapse(input))).toBe(lines.map((line) => `${line}\n`).join(''));
  });

  it('starts a new user part after offwaketime\'s -- delimiter between two threads', () => {
    const result = collapse(fixture('bcc-offwaketime.folded'), { all: true });
    expect([...result.stacks.keys()]).toEqual([
      'target;finish_task_switch;schedule;schedule_timeout;--;try_to_wake_up;wake_up_process;-;do_syscall_64_[k];waker',
      'target;main;-;do_syscall_64_[k];schedule_[k];--;waker;main',
    ].map((key) => key.replace('do_syscall_64_[k];waker', 'do_syscall_64_[k];waker_[k]')));
  });

  it('filters on the root frame, without its -PID suffix when pid naming is on', () => {
    const seen: string[] = [];
    const result = collapse(fixture('perf-pid-kernel.folded'), {
      pid: true,
      processFilter: (comm) => {
        seen.push(comm);
        return comm === 'bash';
      },
    });
    // "memfd:sealed-91-?" is the process "memfd:sealed-91" with an unknown pid: only the suffix goes.
    expect(new Set(seen)).toEqual(new Set(['bash', 'cat', 'gzip', 'inferno-collaps', 'kdamond.0', 'memfd:sealed-91', 'mkdir', 'mv']));
    expect(result.stacks.size).toBeGreaterThan(0);
    for (const key of result.stacks.keys()) expect(key).toMatch(/^bash-(\d+|\?);/);
  });

  it('gives the same result whatever the chunk size', () => {
    const input = fixture('perf-sh-sort-perl.folded.gz');
    const whole = text(collapse(input));
    for (const size of [1, 13, 1000]) expect(text(collapse(input, {}, size))).toBe(whole);
  });

  it('reads lines longer than its decode blocks, alone or among short ones, in one chunk or many', () => {
    const long = `app;${'f;'.repeat(200_000)}leaf`; // 400 KB: longer than one decode block
    const input = `a;b 1\r\n${long} 2\na;b 3\n${long} 4\nz 5`;
    const expected = `a;b 4\n${long} 6\nz 5\n`;
    for (const size of [0, 7, 65_536, 300_000]) expect(text(collapse(input, {}, size))).toBe(expected);
  });

  it('keeps bytes that are not UTF-8 exactly', () => {
    const input = Buffer.from([0x61, 0x3b, 0xff, 0xfe, 0x20, 0x31, 0x0a]); // "a;\xff\xfe 1\n"
    expect(Buffer.from(text(collapse(input)), 'latin1')).toEqual(input);
  });
});

describe('flamegraph.pl count parsing', () => {
  const parse = (line: string) => {
    const buffer = Buffer.from(line, 'latin1');
    const count = parseTrailingCount(buffer, 0, buffer.length);
    return count === undefined ? undefined : { stack: line.slice(0, count.stackEnd), value: count.value };
  };

  it('takes the last token as the count and one whitespace byte before it as the separator', () => {
    expect(parse('a;b 12')).toEqual({ stack: 'a;b', value: 12 });
    expect(parse('a b  3')).toEqual({ stack: 'a b ', value: 3 });
    expect(parse('a\t4.')).toEqual({ stack: 'a', value: 4 });
  });

  it('rejects counts that flamegraph.pl rejects', () => {
    for (const line of ['a', 'a -1', 'a 1e5', 'a .5', 'a 1.2.3', '12', 'a 0x10']) expect(parse(line)).toBeUndefined();
  });

  it('reads counts longer than a double holds exactly', () => {
    expect(parse('a 123456789012345678901234567890')?.value).toBe(1.2345678901234568e29);
  });
});

describe('folded detection', () => {
  it('says yes to a folded line, no to prose, and more before a whole line', () => {
    expect(detectFolded(Buffer.from('\n\nbash;main 3\n'))).toBe('yes');
    expect(detectFolded(Buffer.from('hello world\n'))).toBe('no');
    expect(detectFolded(Buffer.from('bash;main 3'))).toBe('more');
  });
});
