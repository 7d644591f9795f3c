import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/cli.js';
import { missingReason, perlScript, reportSkip } from '../support/references.js';
import { createBpftraceCollapser, detectBpftrace, type BpftraceCollapseOptions } from '../../src/collapse/bpftrace.js';
import { foldedLines } from '../../src/collapse/write.js';
import type { CollapseResult } from '../../src/collapse/types.js';

const FIXTURES = join(REPO_ROOT, 'fixtures/collapse/bpftrace');
const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, name));
const FIXTURE_NAMES = readdirSync(FIXTURES).filter((name) => name.endsWith('.txt'));

function collapse(input: Buffer | string, options: Partial<BpftraceCollapseOptions> = {}, chunkSize = 0): CollapseResult {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const collapser = createBpftraceCollapser(options);
  if (chunkSize <= 0) collapser.push(bytes);
  else for (let i = 0; i < bytes.length; i += chunkSize) collapser.push(bytes.subarray(i, i + chunkSize));
  return collapser.finish();
}

const text = (result: CollapseResult): string => [...foldedLines(result)].join('');
const total = (result: CollapseResult): number => [...result.stacks.values()].reduce((a, b) => a + b, 0);
/** Sum of every `]: N` value in the raw input. */
const inputTotal = (input: Buffer): number =>
  [...input.toString('latin1').matchAll(/\]: (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);

const FULL_ENTRY = [
  '@[',
  '    pvm_irq_enable+25',
  '    do_syscall_64+113',
  '    entry_SYSCALL_64_after_hwframe+118',
  ', ',
  '    __libc_read+13',
  '    main+40',
  ', gzip, 6368]: 7',
  '',
].join('\n');

describe('bpftrace collapse: the fold of multi-field keys', () => {
  it('puts the process name first, then user frames outermost first, then kernel frames outermost first', () => {
    expect(text(collapse(FULL_ENTRY))).toBe(
      'gzip;main;__libc_read;entry_SYSCALL_64_after_hwframe;do_syscall_64;pvm_irq_enable 7\n',
    );
  });

  it('appends the pid to the process name with pid, as perf --pid does', () => {
    expect(text(collapse(FULL_ENTRY, { pid: true }))).toMatch(/^gzip-6368;main;/);
  });

  it('annotates only the kernel frames with _[k] when kernel annotations are on', () => {
    expect(text(collapse(FULL_ENTRY, { all: true }))).toBe(
      'gzip;main;__libc_read;entry_SYSCALL_64_after_hwframe_[k];do_syscall_64_[k];pvm_irq_enable_[k] 7\n',
    );
  });

  it('folds an entry whose kernel stack is empty', () => {
    expect(text(collapse('@[, \n    __sigsetjmp+31\n, sh, 6366]: 1\n'))).toBe('sh;__sigsetjmp 1\n');
  });

  it('folds an entry whose user stack is empty', () => {
    expect(text(collapse('@[\n    do_idle+5\n    cpu_startup_entry+20\n, , swapper/0]: 3\n', { kernel: true }))).toBe(
      'swapper/0;cpu_startup_entry_[k];do_idle_[k] 3\n',
    );
  });

  it('keeps an entry with both stacks empty as the process alone', () => {
    expect(text(collapse('@[, , bash]: 2\n'))).toBe('bash 2\n');
  });

  it('writes hex-only frames as [unknown], or keeps the address with addrs', () => {
    const entry = '@[, \n    0x5640acf2786b\n    main+3\n, gzip]: 1\n';
    expect(text(collapse(entry))).toBe('gzip;main;[unknown] 1\n');
    expect(text(collapse(entry, { addrs: true }))).toBe('gzip;main;0x5640acf2786b 1\n');
  });

  it('appends pid and tid with tid when the key has both', () => {
    const result = collapse(fixture('named-map-comm-pid-tid.txt'), { tid: true });
    const roots = [...result.stacks.keys()].map((key) => key.split(';')[0]!);
    expect(roots.length).toBeGreaterThan(0);
    for (const root of roots) expect(root).toMatch(/^.+-\d+\/\d+$/);
  });

  it('rejoins a process name that itself contains ", "', () => {
    expect(text(collapse('@[, \n    main+1\n, my, app, 12]: 1\n', { pid: true }))).toBe('my, app-12;main 1\n');
  });

  it('finds the pid wherever the key puts it', () => {
    expect(text(collapse('@[, \n    main+1\n, 42, sh]: 1\n', { pid: true }))).toBe('sh-42;main 1\n');
  });

  it('recognises a kernel stack printed second from its frames', () => {
    const swapped = '@[\n    main+1\n, \n    do_syscall_64+113\n    entry_SYSCALL_64_after_hwframe+118\n, cat]: 1\n';
    expect(text(collapse(swapped, { kernel: true }))).toBe('cat;main;entry_SYSCALL_64_after_hwframe_[k];do_syscall_64_[k] 1\n');
  });

  it('strips perf mode addresses and modules, and names unresolved frames after their module', () => {
    const entry = [
      '@[',
      '\tffffffff8225a6c1 do_syscall_64+113',
      ', ',
      '\t7fb092eead92 _setjmp+2 (/usr/lib/x86_64-linux-gnu/libc.so.6)',
      '\t5628151a50ec 0x5628151a50ec (/usr/bin/bash)',
      '\t7f6060bfa0ba 0x7f6060bfa0ba ([unknown])',
      ', bash, 12]: 4',
      '',
    ].join('\n');
    expect(text(collapse(entry, { kernel: true }))).toBe('bash;[unknown];[bash];_setjmp;do_syscall_64_[k] 4\n');
  });
});

describe('bpftrace collapse: real captures', () => {
  it.each(FIXTURE_NAMES)('%s: every sample of a non-empty entry lands in a stack', (name) => {
    const input = fixture(name);
    const result = collapse(input);
    const emptySamples = [...input.toString('latin1').matchAll(/^@\w*\[\]: (\d+)$/gm)].reduce((s, m) => s + Number(m[1]), 0);
    expect(total(result)).toBe(inputTotal(input) - emptySamples);
    expect(result.stacks.size).toBeGreaterThan(0);
  });

  it.each(FIXTURE_NAMES)('%s: gives the same result whatever the chunk size', (name) => {
    const input = fixture(name);
    const whole = text(collapse(input, { pid: true, kernel: true }));
    for (const size of [1, 7, 4096]) expect(text(collapse(input, { pid: true, kernel: true }, size))).toBe(whole);
  });

  it.each(FIXTURE_NAMES)('%s: leaves no +offset, no perf-mode address and no module path in frame names', (name) => {
    for (const key of collapse(fixture(name)).stacks.keys()) {
      for (const frame of key.split(';')) {
        expect(frame).not.toMatch(/\+\d+$/);
        expect(frame).not.toMatch(/^[0-9a-f]{8,} /);
        expect(frame).not.toMatch(/ \(\/.*\)$/);
      }
    }
  });

  it('puts user frames before kernel frames when the map key lists ustack first', () => {
    const result = collapse(fixture('ustack-first-with-printf.txt'), { kernel: true });
    for (const key of result.stacks.keys()) {
      const frames = key.split(';').slice(1);
      const firstKernel = frames.findIndex((frame) => frame.endsWith('_[k]'));
      if (firstKernel !== -1) expect(frames.slice(firstKernel).every((frame) => frame.endsWith('_[k]'))).toBe(true);
    }
    expect([...result.stacks.keys()].some((key) => key.includes('entry_SYSCALL_64_after_hwframe_[k]'))).toBe(true);
  });

  it('counts a printf line among the maps as one odd line, and skips an unkeyed map', () => {
    const result = collapse(fixture('ustack-first-with-printf.txt'));
    expect(result.report.badLines).toBe(1);
    expect(result.report.badLineExamples[0]).toMatch(/^Sampling at 99 Hertz/);
  });

  it('keeps only the processes the process filter accepts', () => {
    const result = collapse(fixture('kstack-ustack-comm-pid.txt'), { processFilter: (comm) => comm === 'perl' });
    expect(result.stacks.size).toBeGreaterThan(0);
    for (const key of result.stacks.keys()) expect(key.startsWith('perl;')).toBe(true);
    expect(result.report.notes.join()).toMatch(/skipped by the process filter/);
  });
});

describe('bpftrace collapse: IRIS processes (simulated IRIS, examples/simulated-iris)', () => {
  it('hands the process filter the module paths of perf-mode frames', () => {
    const seen = new Map<string, Set<string>>();
    collapse(fixture('simulated-iris-perf-mode.txt'), {
      processFilter: (comm, paths) => {
        const modules = seen.get(comm) ?? new Set<string>();
        for (const path of paths) modules.add(path);
        seen.set(comm, modules);
        return true;
      },
    });
    expect([...seen.get('irisdb')!]).toContain('/tmp/irisflame-simulated-iris/usr/irissys/bin/irisdb');
  });

  it('keeps a process running code from --iris-dir even under a name IRIS does not use', async () => {
    const { makeProcessFilter } = await import('../../src/collapse/filter.js');
    const renamed = fixture('simulated-iris-perf-mode.txt').toString('latin1').replace(/, irisdb, /g, ', worker, ');
    const result = collapse(renamed, {
      processFilter: makeProcessFilter({ iris: true, irisDir: '/tmp/irisflame-simulated-iris/usr/irissys' }),
    });
    const roots = new Set([...result.stacks.keys()].map((key) => key.split(';')[0]));
    expect(roots).toEqual(new Set(['worker']));
    expect([...result.stacks.keys()].some((key) => key.includes('GlobalBufferScan'))).toBe(true);
  });
});

describe('bpftrace collapse: damaged input', () => {
  it('counts an entry cut off by the end of input as one odd line', () => {
    const cut = FULL_ENTRY + '@[\n    do_idle+5\n';
    const result = collapse(cut);
    expect(result.stacks.size).toBe(1);
    expect(result.report.badLines).toBe(1);
  });

  it('recovers at the next entry when an entry is interrupted by another', () => {
    const result = collapse('@[\n    do_idle+5\n' + FULL_ENTRY);
    expect(result.report.badLines).toBe(1);
    expect(total(result)).toBe(7);
  });

  it('tolerates CRLF line ends', () => {
    expect(text(collapse(FULL_ENTRY.replace(/\n/g, '\r\n')))).toBe(text(collapse(FULL_ENTRY)));
  });
});

describe('bpftrace detection', () => {
  it.each(FIXTURE_NAMES)('%s is recognised from its first lines', (name) => {
    expect(detectBpftrace(fixture(name).subarray(0, 4096))).toBe('yes');
  });

  it('asks for more before it has seen a whole line', () => {
    expect(detectBpftrace(Buffer.from('Attach'))).toBe('more');
  });

  it('says no to folded stacks and to perf script', () => {
    expect(detectBpftrace(Buffer.from('a;b;c 12\n'.repeat(100)))).toBe('no');
    expect(detectBpftrace(Buffer.from('perf 1234 [000] 1.0: 1 cycles:\n\tffff main (/bin/x)\n\n'.repeat(30)))).toBe('no');
  });
});

describe('bpftrace collapse against stackcollapse-bpftrace.pl', () => {
  const script = perlScript('stackcollapse-bpftrace.pl');
  const skip = reportSkip('stackcollapse-bpftrace.pl differential', missingReason(script, 'stackcollapse-bpftrace.pl', 'FLAMEGRAPH_PL_DIR'));

  /** The Perl keeps `+offset` on every frame; strip them and merge, which is the only fold difference. */
  function perlFolded(name: string): string {
    const output = execFileSync('perl', [script, join(FIXTURES, name)], { encoding: 'latin1' });
    const merged = new Map<string, number>();
    for (const line of output.split('\n')) {
      const match = /^(.*) (\d+)$/.exec(line);
      if (match === null) continue;
      const key = match[1]!.split(';').map((frame) => frame.replace(/\+\d+$/, '')).join(';');
      merged.set(key, (merged.get(key) ?? 0) + Number(match[2]));
    }
    return [...merged.keys()].sort().map((key) => `${key} ${merged.get(key)}\n`).join('');
  }

  it.skipIf(skip).each(['kstack.txt', 'ustack.txt', 'kstack-comm.txt'])(
    '%s: the same stacks and counts as the Perl (single-stack maps)',
    (name) => {
      expect(text(collapse(fixture(name), { addrs: true }))).toBe(perlFolded(name));
    },
  );
});
