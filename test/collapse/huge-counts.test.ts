/**
 * Counts past 2^53: perf periods are u64, and the Perl tools keep sums exact up to 2^64 - 1 (IV/UV),
 * then fall back to doubles printed with %.15g. collapse, diff and flamegraph must print what the real
 * scripts print, on hand-made perf script and folded inputs whose periods and sums cross both limits.
 */
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  addPerlCounts,
  formatPerlNumber,
  perlCountFromDigits,
  perlRoundTrip,
  subtractPerlCounts,
} from '../../src/collapse/perl-number.js';
import { fixed } from '../../src/flamegraph/format.js';
import { runCli } from '../support/cli.js';
import { missingReason, perlScript, reportSkip } from '../support/references.js';

const UV_MAX = '18446744073709551615';

/** Perl's `+=` over these counts (as strings, the way the scripts read them), printed. */
async function perlSum(counts: string[]): Promise<string> {
  const program = 'my $s; $s += $_ for @ARGV; print "$s\\n";';
  return (await execa('perl', ['-e', program, ...counts])).stdout;
}

describe('Perl numbers past 2^53', () => {
  it('adds and prints counts as Perl does: exact to 2^64 - 1, %.15g doubles beyond', () => {
    const sum = (...counts: string[]): string => formatPerlNumber(counts.map(perlCountFromDigits).reduce(addPerlCounts, 0));
    expect(sum(UV_MAX)).toBe(UV_MAX);
    expect(sum(UV_MAX, '1')).toBe('1.84467440737096e+19');
    expect(sum('9007199254740993', '9007199254740993')).toBe('18014398509481986');
    expect(sum('9223372036854775807', '9223372036854775807')).toBe('18446744073709551614');
    expect(sum('18446744073709551616')).toBe('1.84467440737096e+19');
    expect(sum('99999999999999999999999', '1')).toBe('1e+23');
    expect(sum('3', '4')).toBe('7');
  });

  it('keeps small counts plain numbers (no bigint on the common path)', () => {
    expect(typeof perlCountFromDigits('123456789012345')).toBe('number');
    expect(typeof addPerlCounts(2 ** 52, 2 ** 52 - 1)).toBe('number');
    expect(typeof addPerlCounts(2 ** 53, 1)).toBe('bigint');
    expect(subtractPerlCounts(perlCountFromDigits(UV_MAX), 1)).toBe(2n ** 64n - 2n);
    expect(perlRoundTrip(2 ** 65)).toBe(36893488147419100000);
  });

  it('prints %.0f of doubles past 1e21 with every digit, as C does', () => {
    expect(fixed(1e23, 0)).toBe('99999999999999991611392');
    expect(fixed(2 ** 70, 1)).toBe('1180591620717411303424.0');
  });
});

const scratch = mkdtempSync(join(tmpdir(), 'irisflame-huge-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A perf script sample: `comm pid [cpu] time: period event:`, its frames leaf first, a blank line. */
function perfSample(time: number, period: string, frames: string[]): string {
  const lines = [`app 1234 [000] ${(1000 + time / 1000).toFixed(6)}: ${period} cycles:`];
  [...frames].reverse().forEach((frame, i) => lines.push(`\t    ${(0x400000 + i * 16).toString(16)} ${frame}+0x1 (/usr/bin/app)`));
  return `${lines.join('\n')}\n\n`;
}

/** Periods crossing 2^53, 2^63 and 2^64, alone and summed. */
const PERF_SAMPLES: [string, string[]][] = [
  [UV_MAX, ['main', 'work']],
  [UV_MAX, ['main', 'idle']],
  ['1', ['main', 'idle']],
  ['9007199254740993', ['main', 'calc']],
  ['9007199254740993', ['main', 'calc']],
  ['5', ['main', 'tiny']],
  ['99999999999999999999999', ['main', 'huge']],
  ['9223372036854775807', ['main', 'half']],
  ['9223372036854775807', ['main', 'half']],
  ['9223372036854775807', ['main', 'half']],
];

const FOLDED_BEFORE = [
  `a;b ${UV_MAX}`,
  'a;c 9007199254740993',
  'a;c 9007199254740993',
  'a;d 5',
  `a;e ${UV_MAX}`,
  'a;e 1',
  'a;f 99999999999999999999999',
];
const FOLDED_AFTER = ['a;b 18446744073709551614', 'a;b 1', 'a;c 7', 'a;g 18446744073709551616', 'a;h 12345678901234567890'];

const skip = reportSkip(
  'huge counts against the Perl scripts',
  missingReason(perlScript('stackcollapse-perf.pl'), 'stackcollapse-perf.pl', 'FLAMEGRAPH_PL_DIR'),
);

describe.skipIf(skip)('huge counts, as the Perl scripts print them', () => {
  const perfPath = join(scratch, 'huge.perf');
  writeFileSync(perfPath, PERF_SAMPLES.map(([period, frames], i) => perfSample(i, period, frames)).join(''));
  const beforePath = join(scratch, 'before.folded');
  const afterPath = join(scratch, 'after.folded');
  writeFileSync(beforePath, `${FOLDED_BEFORE.join('\n')}\n`);
  writeFileSync(afterPath, `${FOLDED_AFTER.join('\n')}\n`);

  it('our Perl-number model agrees with perl itself', async () => {
    for (const counts of [[UV_MAX], [UV_MAX, '1'], ['9223372036854775807', '9223372036854775807', '9223372036854775807']]) {
      const ours = formatPerlNumber(counts.map(perlCountFromDigits).reduce(addPerlCounts, 0));
      expect(ours).toBe(await perlSum(counts));
    }
  });

  it('collapse sums perf periods up to 2^64 - 1 exactly and beyond as stackcollapse-perf.pl', async () => {
    const perl = (await execa('perl', [perlScript('stackcollapse-perf.pl'), perfPath])).stdout;
    const ours = await runCli(['collapse', perfPath]);
    expect(ours.exitCode).toBe(0);
    expect(ours.stdout.trimEnd()).toBe(perl.trimEnd());
    expect(ours.stdout).toContain(`app;main;work ${UV_MAX}\n`);
    expect(ours.stdout).toContain('app;main;idle 1.84467440737096e+19\n');
  });

  it('diff sums and prints both columns as difffolded.pl', async () => {
    const perl = (await execa('perl', [perlScript('difffolded.pl'), beforePath, afterPath])).stdout;
    const ours = await runCli(['diff', beforePath, afterPath]);
    expect(ours.exitCode).toBe(0);
    const sorted = (text: string): string[] => text.split('\n').filter((line) => line !== '').sort();
    expect(sorted(ours.stdout)).toEqual(sorted(perl));
    expect(ours.stdout).toContain(`a;b ${UV_MAX} ${UV_MAX}\n`);
  });

  it('flamegraph titles count samples as flamegraph.pl prints them, from folded and collapsed perf input', async () => {
    const titles = (svg: string): string[] => [...svg.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1]!).sort();
    const cases: { label: string; folded: string }[] = [
      { label: 'unsorted folded with repeats', folded: beforePath },
      { label: 'one stack at 2^64 - 1', folded: join(scratch, 'one.folded') },
      { label: 'two stacks whose sum overflows', folded: join(scratch, 'two.folded') },
      { label: 'collapsed perf script', folded: join(scratch, 'collapsed.folded') },
    ];
    writeFileSync(cases[1]!.folded, `a;b ${UV_MAX}\n`);
    writeFileSync(cases[2]!.folded, `a;b ${UV_MAX}\na;c ${UV_MAX}\n`);
    writeFileSync(cases[3]!.folded, (await execa('perl', [perlScript('stackcollapse-perf.pl'), perfPath])).stdout);
    for (const { label, folded } of cases) {
      const perl = (await execa('perl', [perlScript('flamegraph.pl'), folded], { reject: false })).stdout;
      const ours = await runCli(['flamegraph', folded]);
      expect(ours.exitCode, label).toBe(0);
      expect(titles(ours.stdout), label).toEqual(titles(perl));
      expect(titles(ours.stdout).length, label).toBeGreaterThan(2);
    }
  });
});
