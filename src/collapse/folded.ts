/**
 * Already-folded stacks (`comm;outer;…;leaf 42`), as written by stackcollapse-*.pl, inferno, irisflame
 * itself, and bcc / libbpf-tools with `-f` (`profile -f`, `offcputime -f`). Lines are merged by stack
 * and summed; the writer sorts them. Two-column lines (`stack 10 12`, difffolded.pl's output) give a
 * differential result.
 *
 * A line is read as flamegraph.pl reads it: `^(.*)\s+?(\d+(?:\.\d*)?)$`, so the count is the last
 * whitespace-separated token, decimals allowed, and the stack is everything before the single
 * whitespace byte in front of it.
 */
import { DEFAULT_PERF_COLLAPSE_OPTIONS } from './perf-options.js';
import { PerlSums, perlCountFromDigits } from './perl-number.js';
import { isDigit, isPerlSpace, LineBlockSplitter, lineEnd, withoutCarriageReturn } from './lines.js';
import {
  emptyReport,
  MAX_BAD_LINE_EXAMPLES,
  type CollapseReport,
  type CollapseResult,
  type Collapser,
  type Detection,
  type FoldedStacks,
  type ProcessFilter,
} from './types.js';

export interface FoldedCollapseOptions {
  /**
   * Annotate kernel frames with `_[k]`: in bcc/libbpf-tools output those are the frames after the `-`
   * delimiter that `-d` puts between the user and the kernel stack.
   * @default false
   */
  kernel: boolean;
  /**
   * Root frames carry a `-PID` suffix (input made with `--pid`): strip it before the process filter
   * sees the name.
   * @default false
   */
  pid: boolean;
  /**
   * Root frames carry a `-PID/TID` suffix (input made with `--tid`). Implies `pid`.
   * @default false
   */
  tid: boolean;
  /**
   * Keep only stacks whose root frame (the process name) this accepts; called with no module paths,
   * since folded stacks do not record them.
   * @default undefined (keep every stack)
   */
  processFilter?: ProcessFilter;
}

export const DEFAULT_FOLDED_COLLAPSE_OPTIONS: Readonly<FoldedCollapseOptions> = Object.freeze({
  kernel: DEFAULT_PERF_COLLAPSE_OPTIONS.kernel,
  pid: DEFAULT_PERF_COLLAPSE_OPTIONS.pid,
  tid: DEFAULT_PERF_COLLAPSE_OPTIONS.tid,
  processFilter: undefined,
});

/** Defaults filled in; `tid` implies `pid`, `all` (perf's flag) implies `kernel`. */
export function resolveFoldedCollapseOptions(
  options: Partial<FoldedCollapseOptions> & { all?: boolean } = {},
): FoldedCollapseOptions {
  return {
    kernel: Boolean(options.kernel ?? DEFAULT_FOLDED_COLLAPSE_OPTIONS.kernel) || Boolean(options.all),
    pid: Boolean(options.pid ?? DEFAULT_FOLDED_COLLAPSE_OPTIONS.pid) || Boolean(options.tid),
    tid: Boolean(options.tid ?? DEFAULT_FOLDED_COLLAPSE_OPTIONS.tid),
    processFilter: options.processFilter,
  };
}

const DOT = 0x2e;
/** Counts up to this many digits are summed exactly as integers without a string. */
const MAX_FAST_DIGITS = 15;
/** bcc's `-d` delimiter between the user stack and the kernel stack. */
const USER_KERNEL_DELIMITER = '-';
/** offwaketime's delimiter between the target's and the waker's stacks (each has its own `-`). */
const THREAD_DELIMITER = '--';
const KERNEL_SUFFIX = '_[k]';
/** `-PID` or `-PID/TID`; stackcollapse-perf.pl writes `?` for an id perf did not print. */
const PID_SUFFIX = /-(?:\d+|\?)(?:\/(?:\d+|\?))?$/;

export interface TrailingCount {
  /** The count's value. */
  value: number;
  /** Where the stack (or the previous column) ends: the whitespace byte before the count. */
  stackEnd: number;
  /** The exact integer when the count is past 2^53 (see CountReader.big). */
  big: bigint | undefined;
}

/** The last token of `buffer[start, end)` when it is a flamegraph.pl count, with one whitespace before it. */
export function parseTrailingCount(buffer: Buffer, start: number, end: number): TrailingCount | undefined {
  const count = new CountReader();
  const stackEnd = count.read(buffer, start, end);
  return stackEnd === -1 ? undefined : { value: count.value, stackEnd, big: count.big };
}

/**
 * Reads trailing counts without allocating: `read` returns where the stack ends (or -1) and leaves the
 * count in `value`. This runs once or twice per input line, so no result object.
 */
export class CountReader {
  value = 0;
  /** The count's exact integer when it is past 2^53 (Perl keeps up to 2^64 - 1 exactly); else undefined. */
  big: bigint | undefined = undefined;

  read(buffer: Buffer, start: number, end: number): number {
    let tokenStart = end;
    while (tokenStart > start && !isPerlSpace(buffer[tokenStart - 1]!)) tokenStart--;
    if (tokenStart === start || tokenStart === end) return -1;
    let position = tokenStart;
    let value = 0;
    while (position < end && isDigit(buffer[position]!)) {
      value = value * 10 + (buffer[position]! - 0x30);
      position++;
    }
    const integerDigits = position - tokenStart;
    if (integerDigits === 0) return -1;
    if (position < end) {
      if (buffer[position] !== DOT) return -1;
      for (position++; position < end; position++) if (!isDigit(buffer[position]!)) return -1;
      value = Number(buffer.toString('latin1', tokenStart, end));
      this.big = undefined;
    } else if (integerDigits > MAX_FAST_DIGITS) {
      const exact = perlCountFromDigits(buffer.toString('latin1', tokenStart, end));
      value = Number(exact);
      this.big = typeof exact === 'bigint' ? exact : undefined;
    } else {
      this.big = undefined;
    }
    this.value = value;
    return tokenStart - 1;
  }
}

/** Folded if the first complete non-blank line ends with a count after a stack. */
export function detectFolded(head: Buffer): Detection {
  let start = 0;
  for (;;) {
    const newline = head.indexOf(0x0a, start);
    if (newline === -1) return 'more';
    let end = newline;
    if (end > start && head[end - 1] === 0x0d) end--;
    if (end > start && !isBlank(head, start, end)) {
      const count = parseTrailingCount(head, start, end);
      return count !== undefined && count.stackEnd > start ? 'yes' : 'no';
    }
    start = newline + 1;
  }
}

/** Only Perl whitespace in `buffer[start, end)`: a blank line, skipped without a report. */
export function isBlank(buffer: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isPerlSpace(buffer[i]!)) return false;
  return true;
}

export function createFoldedCollapser(options: Partial<FoldedCollapseOptions> = {}): Collapser {
  return new FoldedCollapser(resolveFoldedCollapseOptions(options));
}

class FoldedCollapser implements Collapser {
  private readonly sums = new PerlSums();
  private readonly beforeSums = new PerlSums();
  private readonly stacks: FoldedStacks = this.sums.sums;
  private readonly before: FoldedStacks = this.beforeSums.sums;
  /** Decided by the first valid line, as one file is either plain or differential. */
  private columns: 0 | 1 | 2 = 0;
  private readonly report: CollapseReport = emptyReport();
  private readonly splitter = new LineBlockSplitter((buffer, from, to, text) => this.onBlock(buffer, from, to, text));
  private readonly count = new CountReader();
  /** Filter answers by root frame: a capture has few processes and many lines. */
  private readonly keepByRoot = new Map<string, boolean>();
  private mixedColumnLines = 0;
  private filteredOut = 0;

  constructor(private readonly options: FoldedCollapseOptions) {}

  push(chunk: Buffer): void {
    this.splitter.push(chunk);
  }

  finish(): CollapseResult {
    this.splitter.finish();
    if (this.mixedColumnLines > 0) {
      this.report.notes.push(
        `${this.mixedColumnLines} line(s) had a different number of count columns than the first line and were skipped`,
      );
    }
    if (this.filteredOut > 0) {
      this.report.notes.push(`${this.filteredOut} stack line(s) of other processes skipped by the process filter`);
    }
    const exact = this.sums.exact.size > 0 ? { exact: this.sums.exact } : {};
    if (this.columns !== 2) return { stacks: this.stacks, ...exact, report: this.report };
    const exactBefore = this.beforeSums.exact.size > 0 ? { exactBefore: this.beforeSums.exact } : {};
    return { stacks: this.stacks, before: this.before, ...exact, ...exactBefore, report: this.report };
  }

  /**
   * The hot loop. Keys are cut out of the block's one latin1 string (`text` starts at byte `from`): V8
   * makes them slices of it, so a key costs no copy; the price is that a kept key holds its block's
   * string alive, at most the input's size, and about that anyway when most stacks are unique.
   */
  private onBlock(buffer: Buffer, from: number, to: number, text: string): void {
    const sums = this.sums;
    const count = this.count;
    let start = from;
    while (start < to) {
      const newline = lineEnd(buffer, start, to);
      const end = withoutCarriageReturn(buffer, start, newline);
      // "bash;main;execute_command;[unknown] 12", or differential "bash;main 10 12"
      let stackEnd = count.read(buffer, start, end);
      if (stackEnd === -1) {
        if (!isBlank(buffer, start, end)) this.badLine(buffer, start, end);
      } else {
        const value = count.value;
        const big = count.big;
        let beforeValue = 0;
        let beforeBig: bigint | undefined;
        let valid = true;
        if (this.columns !== 1) {
          const previousEnd = count.read(buffer, start, stackEnd);
          const columns = previousEnd === -1 ? 1 : 2;
          if (this.columns === 0) this.columns = columns;
          if (columns !== this.columns) {
            this.mixedColumnLines++;
            valid = false;
          } else if (previousEnd !== -1) {
            beforeValue = count.value;
            beforeBig = count.big;
            stackEnd = previousEnd;
          }
        }
        if (valid && stackEnd > start) {
          const key = text.slice(start - from, stackEnd - from);
          if (this.options.processFilter !== undefined || this.options.kernel || this.columns === 2) {
            this.addSlowly(key, value, big, beforeValue, beforeBig);
          } else {
            this.report.samples++;
            sums.add(key, value, big);
          }
        } else {
          this.badLine(buffer, start, end);
        }
      }
      start = newline + 1;
    }
  }

  /** Lines that need filtering, annotation or a second column: off the hot path. */
  private addSlowly(stack: string, value: number, big: bigint | undefined, beforeValue: number, beforeBig: bigint | undefined): void {
    let key = stack;
    if (this.options.processFilter !== undefined && !this.keeps(key)) {
      this.filteredOut++;
      return;
    }
    if (this.options.kernel) key = annotateKernelFrames(key);
    this.report.samples++;
    this.sums.add(key, value, big);
    if (this.columns === 2) this.beforeSums.add(key, beforeValue, beforeBig);
  }

  private keeps(key: string): boolean {
    const semicolon = key.indexOf(';');
    const root = semicolon === -1 ? key : key.slice(0, semicolon);
    let keep = this.keepByRoot.get(root);
    if (keep === undefined) {
      const comm = this.options.pid ? root.replace(PID_SUFFIX, '') : root;
      keep = this.options.processFilter!(comm, []);
      this.keepByRoot.set(root, keep);
    }
    return keep;
  }

  private badLine(buffer: Buffer, start: number, end: number): void {
    this.report.badLines++;
    if (this.report.badLineExamples.length < MAX_BAD_LINE_EXAMPLES) {
      this.report.badLineExamples.push(buffer.toString('latin1', start, Math.min(end, start + 200)));
    }
  }
}

/**
 * Frames after a bcc `-` delimiter are kernel frames: annotate them as perf's `--kernel` would. A `--`
 * (offwaketime's boundary between two threads' stacks) starts a new user part. Delimiters stay, as
 * flamegraph.pl draws them as grey separators.
 */
function annotateKernelFrames(key: string): string {
  if (!key.includes(';-')) return key;
  const frames = key.split(';');
  let inKernel = false;
  for (let i = 1; i < frames.length; i++) {
    const frame = frames[i]!;
    if (frame === USER_KERNEL_DELIMITER) inKernel = true;
    else if (frame === THREAD_DELIMITER) inKernel = false;
    else if (inKernel && !frame.endsWith(KERNEL_SUFFIX)) frames[i] = frame + KERNEL_SUFFIX;
  }
  return frames.join(';');
}
