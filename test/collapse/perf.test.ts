import { describe, expect, it } from 'vitest';
import { createPerfCollapser } from '../../src/collapse/perf.js';
import { resolvePerfCollapseOptions, type PerfSample } from '../../src/collapse/perf-options.js';
import { collapse, folded } from './perf-helpers.js';

/** Folded text of `input` (latin1 both ways, so any byte survives). */
function fold(input: string, options = {}): string {
  return folded(collapse(input, options)).toString('latin1');
}

const TWO_SAMPLES = [
  'java 4400/4411 [001] 88.000001: 250 cpu-clock: ',
  '\t    7f3a2d0011aa Lcom/example/Ledger;::post (/tmp/perf-4400.map)',
  '\tffffffff81a0c0d0 copy_user_generic_string+0x2c ([kernel.kallsyms])',
  '\t    7f3a40001000 [unknown] (/usr/lib/jvm/lib/server/libjvm.so)',
  '',
  'java 4400/4412 [000] 88.000002: 750 cpu-clock: ',
  '\t    7f3a2d0011aa Lcom/example/Ledger;::post (/tmp/perf-4400.map)',
  '\t    7f3a40001000 [unknown] (/usr/lib/jvm/lib/server/libjvm.so)',
  '',
  '',
].join('\n');

describe('collapsing perf script output', () => {
  it('folds each sample root first and weights it by its period', () => {
    expect(fold(TWO_SAMPLES)).toBe(
      'java;[libjvm.so];com/example/Ledger:::post 750\n' +
        'java;[libjvm.so];copy_user_generic_string;com/example/Ledger:::post 250\n',
    );
  });

  it('counts samples instead of periods with the samples option', () => {
    expect(fold(TWO_SAMPLES, { samples: true })).toContain('com/example/Ledger:::post 1\n');
  });

  it('names the root after the process and thread ids with pid and tid', () => {
    expect(fold(TWO_SAMPLES, { pid: true })).toMatch(/^java-4400;/);
    expect(fold(TWO_SAMPLES, { tid: true })).toMatch(/^java-4400\/4411;/m);
  });

  it('writes "?" for the process id when perf printed only a thread id, as the Perl does', () => {
    const input = 'dd 31 [000] 5.0: 3 cycles: \n\t 401000 main+0x1 (/bin/dd)\n\n';
    expect(fold(input, { tid: true })).toBe('dd-?/31;main 3\n');
  });

  it('annotates kernel, JIT and inlined frames on request', () => {
    const output = fold(TWO_SAMPLES, { all: true });
    expect(output).toContain('copy_user_generic_string_[k]');
    expect(output).toContain('com/example/Ledger:::post_[j]');
    const inlined = fold('java 1 1.0: 1 cpu-clock: \n\t 7f1 La/B;::f->La/B;::g (/tmp/perf-1.map)\n\n');
    expect(inlined).toBe('java;a/B:::f;a/B:::g_[i] 1\n');
  });

  it('shows an unknown symbol as its module, or its address too with addrs', () => {
    expect(fold(TWO_SAMPLES, { addrs: true })).toContain('[libjvm.so <7f3a40001000>]');
    expect(fold('a 1 1.0: 1 cycles: \n\t 7f9 [unknown] ([unknown])\n\n')).toBe('a;[unknown] 1\n');
  });

  it('keeps only the first event by default and says what it skipped', () => {
    const input = 'a 1 1.0: 5 cycles: \n\t 401 f (/bin/a)\n\na 1 1.1: 9 instructions: \n\t 402 g (/bin/a)\n\n';
    const result = collapse(input);
    expect(folded(result).toString()).toBe('a;f 5\n');
    expect(result.report.notes).toEqual([
      'kept only cycles samples (the first event in the input); skipped 1 instructions; choose another with --event-filter',
    ]);
    expect(fold(input, { eventFilter: 'instructions' })).toBe('a;g 9\n');
  });

  it('keeps a last sample that no blank line follows, unlike the Perl', () => {
    expect(fold('a 1 1.0: 5 cycles: \n\t 401 f (/bin/a)')).toBe('a;f 5\n');
  });

  it('closes a sample when the next event line comes without a blank line between them', () => {
    expect(fold('a 1 1.0: 5 cycles: \n\t 401 f (/bin/a)\nb 2 1.1: 6 cycles: \n\t 402 g (/bin/b)\n\n')).toBe('a;f 5\nb;g 6\n');
  });

  it('counts a sample without frames under its process alone, as the Perl does', () => {
    expect(fold('a 1 1.0: 5 cycles: \n\nb 2 1.1: 6 cycles: \n\t 401 f (/bin/b)\n\n')).toBe('a 5\nb;f 6\n');
  });

  it('reads samples recorded without call chains, one frame on each event line', () => {
    const input =
      '      hashcheck 61001  7001.1:          7 cycles:u:      7f55aa001122 _dl_start+0x31 (/lib/ld.so)\n' +
      '      hashcheck 61001  7001.2:         52 cycles:u:      55cc00001000 sha_round+0x8 (/bin/hashcheck)\n';
    expect(fold(input)).toBe('hashcheck;_dl_start 7\nhashcheck;sha_round 52\n');
  });

  it('turns spaces in process names into underscores', () => {
    expect(fold('Web Content 2200/2231 [001] 1.0: 4 cpu-clock: \n\t 7f1 js::Run (/lib/x.so)\n\n', { pid: true })).toBe(
      'Web_Content-2200;js::Run 4\n',
    );
  });

  it('reads the period when perf pads it with two blanks, which inferno reads as 1', () => {
    expect(fold('node 25624 [000]  1405.2:   10101010  cpu-clock: \n\t 1e30d23 f+0x1 (/usr/bin/node)\n\n')).toBe(
      'node;f 10101010\n',
    );
  });

  it('weights a sample whose period is exactly "0" as 1, as the Perl does', () => {
    expect(fold('a 1 1.0: 0 cycles: \n\t 401 f (/bin/a)\n\n')).toBe('a;f 1\n');
  });

  it('counts lines it cannot read and keeps a few as examples', () => {
    const result = collapse('a 1 1.0: 5 cycles: \n\t 401 f (/bin/a)\n\tWEIRD\n\n???\n\t 99 orphan (/x)\n\nb 2 2.0: 1 cycles: \n\t 1 g (/b)\n\n');
    expect(result.report.badLines).toBe(3);
    expect(result.report.badLineExamples).toEqual(['\tWEIRD', '???', '\t 99 orphan (/x)']);
    expect(result.report.samples).toBe(2);
    expect(folded(result).toString()).toBe('a;f 5\nb;g 1\n');
  });

  it('skips comment lines such as the perf script header', () => {
    expect(fold('# ========\n# cmdline : /usr/bin/perf record -g\n#\na 1 1.0: 5 cycles: \n\t 401 f (/bin/a)\n\n')).toBe('a;f 5\n');
  });

  it('treats a line of blanks or a CRLF blank line as the end of a sample', () => {
    expect(fold('a 1 1.0: 5 cycles:\r\n\t 401 f (/bin/a)\r\n\r\nb 1 1.0: 5 cycles: \n\t 401 f (/bin/a)\n   \n')).toBe(
      'a;f 5\nb;f 5\n',
    );
  });

  it('keeps a name that is not valid UTF-8 byte for byte', () => {
    const input = Buffer.concat([
      Buffer.from('a 1 1.0: 5 cycles: \n\t 401 '),
      Buffer.from([0xc3, 0x28, 0xff, 0x80]),
      Buffer.from(' (/bin/a)\n\n'),
    ]);
    const output = folded(collapse(input));
    expect(output.equals(Buffer.concat([Buffer.from('a;'), Buffer.from([0xc3]), Buffer.from(' 5\n')]))).toBe(true);
  });

  it('gives the same result for every way of cutting the input into chunks', () => {
    const whole = fold(TWO_SAMPLES, { all: true });
    for (let chunkBytes = 1; chunkBytes <= 9; chunkBytes++) {
      expect(folded(collapse(TWO_SAMPLES, { all: true }, chunkBytes)).toString('latin1')).toBe(whole);
    }
  });
});

describe('what the perf collapser hands to its hooks', () => {
  it('tells onSample the command, ids, time, CPU, stack and weight of each kept sample', () => {
    const samples: PerfSample[] = [];
    collapse(TWO_SAMPLES, { onSample: (sample) => samples.push(sample) });
    expect(samples).toEqual([
      { comm: 'java', pid: 4400, tid: 4411, time: 88.000001, cpu: 1, weight: 250, stack: 'java;[libjvm.so];copy_user_generic_string;com/example/Ledger:::post' },
      { comm: 'java', pid: 4400, tid: 4412, time: 88.000002, cpu: 0, weight: 750, stack: 'java;[libjvm.so];com/example/Ledger:::post' },
    ]);
  });

  it('leaves time and CPU undefined when perf did not print them', () => {
    const samples: PerfSample[] = [];
    collapse('a 7 cycles: \n\t 401 f (/bin/a)\n\n', { onSample: (sample) => samples.push(sample) });
    expect(samples).toEqual([{ comm: 'a', pid: undefined, tid: 7, time: undefined, cpu: undefined, weight: 1, stack: 'a;f' }]);
  });

  it('asks processFilter once per sample, with the modules of its frames, and drops what it rejects', () => {
    const calls: Array<[string, string[]]> = [];
    const result = collapse(TWO_SAMPLES, {
      processFilter: (comm, modules) => {
        calls.push([comm, [...modules]]);
        return modules.includes('[kernel.kallsyms]');
      },
    });
    expect(calls).toEqual([
      ['java', ['/tmp/perf-4400.map', '[kernel.kallsyms]', '/usr/lib/jvm/lib/server/libjvm.so']],
      ['java', ['/tmp/perf-4400.map', '/usr/lib/jvm/lib/server/libjvm.so']],
    ]);
    expect(result.report.samples).toBe(1);
    expect([...result.stacks.keys()]).toEqual(['java;[libjvm.so];copy_user_generic_string;com/example/Ledger:::post']);
  });

  it('returns an empty result for empty input', () => {
    const collapser = createPerfCollapser();
    const result = collapser.finish();
    expect(result.stacks.size).toBe(0);
    expect(result.report).toEqual({ badLines: 0, badLineExamples: [], notes: [], samples: 0 });
  });
});

describe('resolving perf collapse options', () => {
  it('makes tid imply pid and all imply kernel and jit, as the Perl does', () => {
    expect(resolvePerfCollapseOptions({ tid: true })).toMatchObject({ pid: true, tid: true });
    expect(resolvePerfCollapseOptions({ all: true })).toMatchObject({ kernel: true, jit: true });
    expect(resolvePerfCollapseOptions({})).toMatchObject({ pid: false, kernel: false, jit: false, samples: false });
  });

  it('treats an empty event filter as none', () => {
    expect(resolvePerfCollapseOptions({ eventFilter: '' }).eventFilter).toBeUndefined();
  });
});
