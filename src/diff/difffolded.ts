/**
 * Differential folded stacks, as difffolded.pl makes them: two folded profiles in, one line per stack
 * out, `stack BEFORE AFTER`, ready for a differential flame graph. `normalize` scales the first
 * profile's counts to the second's total (`-n`); `stripHex` replaces hex addresses with `0x...` so
 * stacks from two runs of a program at different addresses line up (`-s`).
 *
 * Lines are read as difffolded.pl reads them (`^(.*)\s+?(\d+(?:\.\d*)?)$`, no second-column check).
 * Where it differs, on purpose: output is sorted byte-wise (the Perl prints in hash order, which
 * changes from run to run); lines without a count are counted and reported instead of being summed
 * into an empty stack; a CR before the newline is ignored instead of making the line unreadable.
 */
import { LineSplitter } from '../collapse/lines.js';
import { parseTrailingCount } from '../collapse/folded.js';
import { PerlSums } from '../collapse/perl-number.js';
import { emptyReport, MAX_BAD_LINE_EXAMPLES, type CollapseReport, type CollapseResult, type ExactCounts, type FoldedStacks } from '../collapse/types.js';

export interface DiffFoldedOptions {
  /**
   * Scale the first profile's counts so its total equals the second's (`-n`), truncating as the Perl's
   * `int()` does.
   * @default false
   */
  normalize: boolean;
  /**
   * Replace every hexadecimal number (`0x7f3a…`) in stack names with `0x...` (`-s`).
   * @default false
   */
  stripHex: boolean;
}

export const DEFAULT_DIFF_FOLDED_OPTIONS: Readonly<DiffFoldedOptions> = Object.freeze({
  normalize: false,
  stripHex: false,
});

export function resolveDiffFoldedOptions(options: Partial<DiffFoldedOptions> = {}): DiffFoldedOptions {
  return {
    normalize: options.normalize ?? DEFAULT_DIFF_FOLDED_OPTIONS.normalize,
    stripHex: options.stripHex ?? DEFAULT_DIFF_FOLDED_OPTIONS.stripHex,
  };
}

/** One side of the comparison: summed counts per stack, their total, and the odd lines. */
export interface FoldedProfile {
  stacks: FoldedStacks;
  /** Sums Perl keeps as integers past 2^53, exactly (see CollapseResult.exact). */
  exact?: ExactCounts;
  total: number;
  report: CollapseReport;
}

const HEX_NUMBER = /0x[0-9a-fA-F]+/g;
const STRIPPED_HEX = '0x...';

/** Read one folded profile from chunks, summing repeated stacks. */
export async function readFoldedProfile(chunks: AsyncIterable<Buffer>, stripHex: boolean): Promise<FoldedProfile> {
  const sums = new PerlSums();
  const profile: FoldedProfile = { stacks: sums.sums, total: 0, report: emptyReport() };
  const splitter = new LineSplitter((buffer, start, end) => {
    if (end === start) return;
    const count = parseTrailingCount(buffer, start, end);
    if (count === undefined) {
      profile.report.badLines++;
      if (profile.report.badLineExamples.length < MAX_BAD_LINE_EXAMPLES) {
        profile.report.badLineExamples.push(buffer.toString('latin1', start, Math.min(end, start + 200)));
      }
      return;
    }
    let stack = buffer.toString('latin1', start, count.stackEnd);
    if (stripHex) stack = stack.replace(HEX_NUMBER, STRIPPED_HEX);
    sums.add(stack, count.value, count.big);
    profile.total += count.value;
    profile.report.samples++;
  });
  for await (const chunk of chunks) splitter.push(chunk);
  splitter.finish();
  if (sums.exact.size > 0) profile.exact = sums.exact;
  return profile;
}

/** The differential result: `before` holds the first profile's counts, `stacks` the second's, over the same keys. */
export function diffFolded(first: FoldedProfile, second: FoldedProfile, options: Partial<DiffFoldedOptions> = {}): CollapseResult {
  const { normalize } = resolveDiffFoldedOptions(options);
  const scale = normalize && first.total !== second.total && first.total !== 0;
  const before: FoldedStacks = new Map();
  const after: FoldedStacks = new Map();
  for (const key of new Set([...first.stacks.keys(), ...second.stacks.keys()])) {
    const count = first.stacks.get(key) ?? 0;
    // Same operation order as the Perl (count * total2 / total1), so the same double rounding.
    before.set(key, scale ? Math.trunc((count * second.total) / first.total) : count);
    after.set(key, second.stacks.get(key) ?? 0);
  }
  const report = emptyReport();
  report.samples = first.report.samples + second.report.samples;
  // Exact sums past 2^53 print as the Perl prints them (with -n, the scaled counts stay doubles).
  const exact = second.exact ? { exact: second.exact } : {};
  const exactBefore = first.exact && !scale ? { exactBefore: first.exact } : {};
  return { stacks: after, before, ...exact, ...exactBefore, report };
}
