/**
 * Differential tests over our own fixtures: captures recorded on the project machine
 * (fixtures/collapse/perf/*.txt) and hand-made edge cases (fixtures/collapse/perf/edge/), each run
 * through us, through stackcollapse-perf.pl and through inferno-collapse-perf with every option.
 *
 * Where we knowingly differ from one reference, its output is first mapped the way we differ (see
 * perf-helpers.ts): the Perl cuts C++ names at the first "(", inferno keeps quotes. Where a reference is
 * simply wrong for a case, it is not asked (the reason is on each edge case).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/cli.js';
import { missingReason, reportSkip } from '../support/references.js';
import {
  INFERNO_COLLAPSER,
  OPTION_FLAGS,
  PERL_COLLAPSER,
  asPerlWouldName,
  collapse,
  collapseFile,
  firstDifference,
  folded,
  runInferno,
  runPerl,
  withoutQuotes,
} from './perf-helpers.js';

const FIXTURES = join(REPO_ROOT, 'fixtures', 'collapse', 'perf');
const EDGE = join(FIXTURES, 'edge');

type Oracle = 'perl' | 'inferno';

/** Recorded with perf 6.1 on the project machine; `oracles` says which references read them right. */
const RECORDED: ReadonlyArray<{ file: string; oracles: Oracle[]; about: string }> = [
  { file: 'system-wide.txt', oracles: ['perl', 'inferno'], about: 'perf record -F 99 -a -g (perl, gzip, node, chromium)' },
  // perf pads "10101010  cpu-clock:" with two blanks here; inferno then misreads the period as absent (1).
  { file: 'two-events-cpu-task-clock.txt', oracles: ['perl'], about: 'perf record -e cpu-clock,task-clock' },
  { file: 'dwarf-perl.txt', oracles: ['perl', 'inferno'], about: 'perf record --call-graph dwarf' },
  { file: 'fields-pid-tid.txt', oracles: ['perl', 'inferno'], about: 'perf script -F comm,pid,tid,time,event,ip,sym,dso,trace' },
  // Without call chains perf right-aligns the command name, which the Perl cannot read.
  { file: 'no-callchain.txt', oracles: ['inferno'], about: 'perf record -a without -g: one frame on each event line' },
];

/** Hand-made cases; `oracles` lists the references that are right about each. */
const EDGE_CASES: ReadonlyArray<{ file: string; oracles: Oracle[]; why: string }> = [
  { file: 'no-trailing-blank.txt', oracles: ['inferno'], why: 'the Perl drops a last sample with no blank line after it' },
  { file: 'cpp-templates.txt', oracles: ['inferno'], why: 'the Perl cuts std::function<void (int, double)> at its "("' },
  { file: 'go-methods.txt', oracles: ['perl', 'inferno'], why: 'Go receivers ".(*T)." are kept by both' },
  { file: 'java-inline.txt', oracles: ['perl', 'inferno'], why: 'Java "a->b" frames: inlined callees get _[i]' },
  { file: 'versioned-vmlinux.txt', oracles: ['inferno'], why: 'the Perl misses vmlinux-6.1.0 and .ko modules for _[k]' },
  { file: 'jitdump.txt', oracles: ['inferno'], why: 'the Perl misses perf jitdump jitted-PID-N.so for _[j]' },
  { file: 'single-line-stacks.txt', oracles: ['inferno'], why: 'the Perl reads neither right-aligned names nor frames on event lines' },
  { file: 'single-event.txt', oracles: ['inferno'], why: 'one sample and no blank line: the Perl outputs nothing' },
  { file: 'comm-with-spaces.txt', oracles: ['inferno'], why: 'the Perl cannot read a right-aligned name with a space' },
  { file: 'two-events.txt', oracles: ['perl', 'inferno'], why: 'only the first event, cycles, is kept' },
  { file: 'quotes-and-semicolons.txt', oracles: ['perl'], why: 'inferno keeps quotes, which break SVG attributes' },
  { file: 'invalid-utf8.txt', oracles: ['perl'], why: 'inferno replaces invalid UTF-8 with U+FFFD; names must keep their bytes' },
];

const perlMissing = missingReason(PERL_COLLAPSER, 'stackcollapse-perf.pl', 'FLAMEGRAPH_PL_DIR');
const infernoMissing = missingReason(INFERNO_COLLAPSER, 'inferno-collapse-perf', 'INFERNO_BIN_DIR');

function expectSame(actual: Buffer, expected: Buffer, label: string): void {
  expect(actual.equals(expected), `${label}: ${firstDifference(actual, expected)}`).toBe(true);
}

function checkAgainst(oracle: Oracle, path: string): void {
  for (const { flag, options } of OPTION_FLAGS) {
    const ours = collapseFile(path, options);
    if (oracle === 'perl') expectSame(asPerlWouldName(ours), runPerl(path, flag), `perl ${flag ?? ''}`);
    else expectSame(ours, withoutQuotes(runInferno(path, flag)), `inferno ${flag ?? ''}`);
  }
}

describe.skipIf(reportSkip('perf fixtures vs stackcollapse-perf.pl', perlMissing))('our perf fixtures, against the Perl', () => {
  for (const { file, oracles, about } of RECORDED) {
    if (!oracles.includes('perl')) continue;
    it(`collapses the recorded ${file} (${about}) as the Perl does, with every option`, () => {
      checkAgainst('perl', join(FIXTURES, file));
    });
  }
  for (const { file, oracles, why } of EDGE_CASES) {
    if (!oracles.includes('perl')) continue;
    it(`collapses edge/${file} as the Perl does (${why})`, () => checkAgainst('perl', join(EDGE, file)));
  }

  it('appends source lines with --srcline exactly as the Perl does', () => {
    const path = join(FIXTURES, 'srcline-perl.txt');
    expectSame(collapseFile(path, { srcline: true }), runPerl(path, '--srcline'), 'perl --srcline');
  });

  it('expands inlined frames with addr2line (--inline, --context) exactly as the Perl does', () => {
    const path = join(FIXTURES, 'dwarf-perl.txt');
    expectSame(collapseFile(path, { inline: true }), runPerl(path, '--inline'), 'perl --inline');
    expectSame(collapseFile(path, { inline: true, context: true }), runPerl(path, '--context'), 'perl --inline --context');
  }, 120_000);

  it('honours --event-filter as the Perl does, for the second event of a two-event capture', () => {
    const path = join(FIXTURES, 'two-events-cpu-task-clock.txt');
    const ours = collapseFile(path, { eventFilter: 'task-clock' });
    expect(ours.length).toBeGreaterThan(0);
    expectSame(asPerlWouldName(ours), runPerl(path, '--event-filter=task-clock'), 'perl --event-filter');
  });
});

describe.skipIf(reportSkip('perf fixtures vs inferno-collapse-perf', infernoMissing))('our perf fixtures, against inferno', () => {
  for (const { file, oracles, about } of RECORDED) {
    if (!oracles.includes('inferno')) continue;
    it(`collapses the recorded ${file} (${about}) as inferno does, with every option`, () => {
      checkAgainst('inferno', join(FIXTURES, file));
    });
  }
  for (const { file, oracles, why } of EDGE_CASES) {
    if (!oracles.includes('inferno')) continue;
    it(`collapses edge/${file} as inferno does (${why})`, () => checkAgainst('inferno', join(EDGE, file)));
  }
});

describe('our perf fixtures, on their own', () => {
  it('notes the task-clock samples it skipped in a two-event capture', () => {
    const result = collapse(readFileSync(join(FIXTURES, 'two-events-cpu-task-clock.txt')));
    expect(result.report.notes.join('\n')).toMatch(/^kept only cpu-clock samples \(the first event in the input\); skipped 88 task-clock;/);
  });

  it('keeps the bytes of names that are not UTF-8', () => {
    const output = folded(collapse(readFileSync(join(EDGE, 'invalid-utf8.txt'))));
    expect(output.includes(Buffer.from('latin;main;caf\xe9_lookup', 'latin1'))).toBe(true);
    expect(output.includes(Buffer.from('utf8;日本_sort', 'utf8'))).toBe(true);
    expect(output.includes(Buffer.from('bad\xff\xfe;[x\x80.so];broken\xc3 10', 'latin1'))).toBe(true);
  });

  it('gives the same result however the recorded capture is cut into chunks', () => {
    const input = readFileSync(join(FIXTURES, 'system-wide.txt'));
    const whole = folded(collapse(input, { all: true }, input.length));
    for (const chunkBytes of [1, 7, 64, 4093]) {
      expectSame(folded(collapse(input, { all: true }, chunkBytes)), whole, `chunks of ${chunkBytes}`);
    }
  });
});
