/**
 * The contract between the collapse stage and everything after it.
 *
 * Byte-faithfulness lives in one place, this type: a stack key is the stack's bytes exactly as they
 * appeared in the input (after the parser's name tidying), held as a *latin1 string* — one char per byte,
 * char code 0..255. Any byte sequence round-trips (`Buffer.from(key, 'latin1')`), including names that
 * are not valid UTF-8, and JavaScript's `<` on such strings orders them byte-wise, as Perl's `sort` does.
 * Only display code (the SVG writer) decodes keys as UTF-8, and it does so per frame.
 *
 * A key is `comm;frame;…;leaf`: frames joined by `;`, root first; no count, no newline.
 */
export type StackKey = string;

/** Unique stack → weight (sum of sample periods, or of samples with `--samples`). */
export type FoldedStacks = Map<StackKey, number>;

/** Odd lines inside otherwise valid input: counted and shown, never fatal. */
export interface CollapseReport {
  /** Lines the parser did not recognise and skipped. */
  badLines: number;
  /** The first few of them, as latin1 strings, for the stderr summary. */
  badLineExamples: string[];
  /** One-line remarks for stderr, e.g. "skipped 120 samples of other events (…); use --event-filter". */
  notes: string[];
  /** Samples (events with a stack) that were folded into `stacks`. */
  samples: number;
}

export interface CollapseResult {
  /** Stack weights; for two-column (differential) folded input, the second column ("after"). */
  stacks: FoldedStacks;
  /** Only for two-column folded input (difffolded output): the first column ("before"). */
  before?: FoldedStacks;
  /**
   * Sums Perl keeps as integers past 2^53 (a perf period near 2^64): the exact values of those keys of
   * `stacks` (which holds the nearest double), for printing them as the Perl tools do. Absent when none.
   */
  exact?: ExactCounts;
  /** The same for `before`. */
  exactBefore?: ExactCounts;
  report: CollapseReport;
  /** perf input: the event whose samples were kept (`cpu-clock:ppp`), when the input names one. */
  event?: string;
}

/** Exact integer sums past 2^53, by stack (see CollapseResult.exact). */
export type ExactCounts = Map<StackKey, bigint>;

/**
 * A push parser: the caller feeds input in chunks of any size, split anywhere (even mid-line or mid-UTF-8
 * sequence), then calls `finish()`. Push, not pull, so the same parser reads a file, stdin, or a live
 * `perf script` child without an intermediate file.
 */
export interface Collapser {
  /**
   * Parse the next bytes. The caller may overwrite `chunk` as soon as this returns (file input reuses its
   * read buffers), so a parser copies whatever it keeps, such as an unfinished last line.
   */
  push(chunk: Buffer): void;
  finish(): CollapseResult;
}

/** Answer of a format detector looking at the first bytes of the input. */
export type Detection = 'yes' | 'no' | 'more';

export const MAX_BAD_LINE_EXAMPLES = 3;

export function emptyReport(): CollapseReport {
  return { badLines: 0, badLineExamples: [], notes: [], samples: 0 };
}

/**
 * Decides whether a process's samples are kept (`--comm`, `--iris`). `modulePaths` are the executable and
 * library paths seen in that sample's frames, where the format records them (perf script does; folded
 * stacks do not, and pass an empty list).
 */
export type ProcessFilter = (comm: string, modulePaths: readonly string[]) => boolean;
