/**
 * The upstream corpora, replayed: FlameGraph's test/ inputs with every option against the Perl itself
 * (and its checked-in results), and inferno's tests/data/collapse-perf against inferno's expected files.
 * Both are clones outside the repo; each suite skips, saying why, when its clone or Perl is absent.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLAMEGRAPH_REPO_DIR, INFERNO_REPO_DIR, missingReason, reportSkip } from '../support/references.js';
import {
  OPTION_FLAGS,
  PERL_COLLAPSER,
  collapseFile,
  firstDifference,
  runPerl,
  withTrailingBlankLine,
} from './perf-helpers.js';

const FLAMEGRAPH_TESTS = join(FLAMEGRAPH_REPO_DIR, 'test');
const flamegraphMissing =
  missingReason(FLAMEGRAPH_TESTS, 'the FlameGraph clone', 'FLAMEGRAPH_REPO_DIR') ??
  missingReason(PERL_COLLAPSER, 'stackcollapse-perf.pl', 'FLAMEGRAPH_PL_DIR');
const flamegraphInputs = flamegraphMissing
  ? []
  : readdirSync(FLAMEGRAPH_TESTS).filter((name) => /^perf-.*\.txt$/.test(name)).sort();

describe.skipIf(reportSkip('FlameGraph perf corpus', flamegraphMissing))('the FlameGraph perf corpus', () => {
  it('holds the 13 perf inputs this suite was written against', () => {
    expect(flamegraphInputs.length).toBe(13);
  });

  for (const name of flamegraphInputs) {
    for (const { flag, options } of OPTION_FLAGS) {
      it(`collapses ${name} ${flag ?? '(no option)'} exactly as stackcollapse-perf.pl does`, () => {
        const input = join(FLAMEGRAPH_TESTS, name);
        // The Perl drops a last sample with no blank line after it; we keep it. Give the Perl that line.
        const expected = runPerl(withTrailingBlankLine(input), flag);
        const actual = collapseFile(input, options);
        expect(actual.equals(expected), firstDifference(actual, expected)).toBe(true);
      });
    }
  }

  it('matches every checked-in result the Perl itself still reproduces', () => {
    const results = join(FLAMEGRAPH_TESTS, 'results');
    let compared = 0;
    for (const name of flamegraphInputs) {
      for (const { flag, options } of OPTION_FLAGS) {
        if (flag === undefined) continue;
        const resultFile = join(results, name.replace(/\.txt$/, `-collapsed-${flag.slice(2)}.txt`));
        if (!existsSync(resultFile)) continue;
        const expected = readFileSync(resultFile);
        const input = join(FLAMEGRAPH_TESTS, name);
        // Some results predate the current Perl (java, vertx with --pid/--tid); the Perl is the oracle.
        if (!runPerl(input, flag).equals(expected)) continue;
        // Those inputs end with a blank line or the result would lack the last sample: compare as the Perl.
        const actual = collapseFile(withTrailingBlankLine(input), options);
        const perlOnCompleteInput = runPerl(withTrailingBlankLine(input), flag);
        expect(actual.equals(perlOnCompleteInput), `${resultFile}: ${firstDifference(actual, perlOnCompleteInput)}`).toBe(true);
        if (input === withTrailingBlankLine(input)) {
          expect(actual.equals(expected), `${resultFile}: ${firstDifference(actual, expected)}`).toBe(true);
        }
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(40);
  });
});

const INFERNO_DATA = join(INFERNO_REPO_DIR, 'tests', 'data', 'collapse-perf');
const infernoMissing = missingReason(INFERNO_DATA, 'the inferno clone', 'INFERNO_REPO_DIR');

/**
 * inferno also repairs half-demangled Rust symbols ("GcBox$LT$T$GT$::new::h…" → "GcBox<T>::new");
 * the Perl does not, and neither do we, so these expected files are not ours to match.
 */
const RUST_DEMANGLING_RESULTS = /^(perf-rust-Yamakaky-dcpu|single-event)-collapsed/;

describe.skipIf(reportSkip('inferno collapse-perf data', infernoMissing))("inferno's collapse-perf data", () => {
  const resultsDir = join(INFERNO_DATA, 'results');
  const results = infernoMissing ? [] : readdirSync(resultsDir).filter((name) => name.endsWith('.txt')).sort();

  for (const resultName of results) {
    const match = /^(.*)-collapsed(?:-(\w+))?\.txt$/.exec(resultName);
    if (!match) continue;
    const [, stem, option] = match;
    const input = [join(INFERNO_DATA, `${stem}.txt`), join(FLAMEGRAPH_TESTS, `${stem}.txt`)].find(existsSync);
    if (input === undefined || RUST_DEMANGLING_RESULTS.test(resultName)) continue;
    it(`collapses ${stem} ${option ? `--${option}` : '(no option)'} as inferno expects`, () => {
      const options = option === undefined ? {} : { [option]: true };
      const actual = collapseFile(input, options);
      const expected = readFileSync(join(resultsDir, resultName));
      expect(actual.equals(expected), firstDifference(actual, expected)).toBe(true);
    });
  }

  it('counts the one unreadable frame line of weird-stack-line.txt and keeps the rest', async () => {
    const { collapse } = await import('./perf-helpers.js');
    const result = collapse(readFileSync(join(INFERNO_DATA, 'weird-stack-line.txt')));
    expect(result.report.badLines).toBe(1);
    expect(result.report.badLineExamples[0]).toContain('THIS_IS_A_WEIRD_LINE');
    expect(result.report.samples).toBeGreaterThan(0);
  });
});
