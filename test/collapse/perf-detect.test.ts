import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectPerf } from '../../src/collapse/perf.js';
import { REPO_ROOT } from '../support/cli.js';

const FIXTURES = join(REPO_ROOT, 'fixtures', 'collapse', 'perf');
const head = (text: string): Buffer => Buffer.from(text, 'latin1');

describe('detecting perf script output', () => {
  it('says yes to an event line followed by a frame line', () => {
    expect(detectPerf(head('# header\n#\nswapper     0 [000]   466.97: 10101010 cpu-clock:ppp: \n\tffffffff8225fd65 pvm_safe_halt_hc+0x15 ([kernel.kallsyms])\n'))).toBe('yes');
  });

  it('says yes to every recorded fixture, from its first 4 KiB', () => {
    for (const name of ['system-wide.txt', 'two-events-cpu-task-clock.txt', 'dwarf-perl.txt', 'fields-pid-tid.txt', 'no-callchain.txt']) {
      expect(detectPerf(readFileSync(join(FIXTURES, name)).subarray(0, 4096)), name).toBe('yes');
    }
  });

  it('says no to folded stacks and to bpftrace output', () => {
    expect(detectPerf(head('java;main;run 12\njava;main;idle 3\n'))).toBe('no');
    expect(detectPerf(head('Attaching 1 probe...\n@[\n    f+1\n]: 3\n'))).toBe('no');
  });

  it('says no when an event line is followed by something that is not a frame', () => {
    expect(detectPerf(head('a 1 1.0: 5 cycles: \nnot a frame\n'))).toBe('no');
  });

  it('asks for more while it has seen only comments or a partial line', () => {
    expect(detectPerf(head('# only a header\n#\n'))).toBe('more');
    expect(detectPerf(head('swapper     0 [000]   466.97: 10101010 cpu-clo'))).toBe('more');
    expect(detectPerf(head(''))).toBe('more');
  });
});
