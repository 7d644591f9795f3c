/**
 * The collapse pipeline every command shares: open the input, read enough to choose a parser, feed the
 * parser the bytes already read and then the rest, and check that something came out.
 */
import { IrisflameError } from '../errors.js';
import { openInput } from './input.js';
import { DEFAULT_PERF_COLLAPSE_OPTIONS, resolvePerfCollapseOptions, type PerfCollapseOptions } from './perf-options.js';
import { createBpftraceCollapser, detectBpftrace } from './bpftrace.js';
import { createFoldedCollapser, detectFolded } from './folded.js';
import { createPerfCollapser, detectPerf } from './perf.js';
import { createRoutineRootedPerfCollapser } from './routine-roots.js';
import { DEFAULT_IRIS_DIR } from '../iris/processes.js';
import { decideFormat, DETECT_MAX_BYTES, type CollapseFormat, type FormatChoice, type FormatDetector } from './detect.js';
import { DEFAULT_PROCESS_FILTER_OPTIONS, makeProcessFilter, type ProcessFilterOptions } from './filter.js';
import type { CollapseResult, Collapser, ProcessFilter } from './types.js';

const NEWLINE = 0x0a;
/** Below this many bytes, detection reruns on every chunk: the magic-number checks need them. */
const MAGIC_WINDOW = 16;

export interface CollapseOptions extends PerfCollapseOptions, ProcessFilterOptions {
  /**
   * The input's format, or `auto` to detect it from the content.
   * @default "auto"
   */
  format: FormatChoice;
  /**
   * With `iris`, on perf input that carries exec argv (an irisflame lifecycle capture), root IRIS jobs at
   * their routine (`irisdb START^MONITOR`) instead of `irisdb`, as `irisflame timeline` does.
   * @default true
   */
  routineRoots: boolean;
}

export const DEFAULT_COLLAPSE_OPTIONS: Readonly<CollapseOptions> = Object.freeze({
  ...DEFAULT_PERF_COLLAPSE_OPTIONS,
  ...DEFAULT_PROCESS_FILTER_OPTIONS,
  format: 'auto' as FormatChoice,
  routineRoots: true,
});

/** Defaults filled in; undefined fields take the default. Implications are each parser's to apply. */
export function resolveCollapseOptions(options: Partial<CollapseOptions> = {}): CollapseOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  return { ...DEFAULT_COLLAPSE_OPTIONS, ...defined };
}

export interface CollapseRun extends CollapseResult {
  /** The parser that read the input. */
  format: CollapseFormat;
  /** Why that parser: detected or forced (for `--verbose`). */
  formatReason: string;
  /** The input's name in messages: its path, or "stdin". */
  displayName: string;
}

/** Collapse a file (or stdin for undefined / "-"; gzip or not). Throws NO_STACKS when nothing came out. */
export async function collapseInput(path: string | undefined, options: Partial<CollapseOptions> = {}): Promise<CollapseRun> {
  // "" is how yargs hands over a lone "-" positional: stdin too.
  const input = await openInput(path === '' ? undefined : path);
  return collapseChunks(input.chunks, input.displayName, options);
}

/** Collapse bytes from any source, e.g. a live `perf script` child's stdout. */
export async function collapseChunks(
  chunks: AsyncIterable<Buffer>,
  displayName: string,
  options: Partial<CollapseOptions> = {},
): Promise<CollapseRun> {
  const resolved = resolveCollapseOptions(options);
  const processFilter = combineFilters(makeProcessFilter(resolved), resolved.processFilter);
  const detectors = FORMAT_DETECTORS;
  const iterator = chunks[Symbol.asyncIterator]();
  let head: Buffer = Buffer.alloc(0);
  let ended = false;
  let collapser: Collapser;
  let decision;
  try {
    // The head is kept in parts and joined only when a detector could answer differently (a new line
    // completed, the cap reached, the end): a pipe trickling bytes must not cost a copy per byte.
    const parts: Buffer[] = [];
    let length = 0;
    decision = decideFormat(head, false, displayName, resolved.format, detectors);
    while (decision === undefined) {
      const next = await iterator.next();
      if (next.done) ended = true;
      else {
        // Copied: the source may reuse its buffer for the next read while detection still holds this one.
        parts.push(Buffer.from(next.value));
        length += next.value.length;
      }
      const final = ended || length >= DETECT_MAX_BYTES;
      if (!final && (next.done || (next.value.indexOf(NEWLINE) === -1 && length >= MAGIC_WINDOW))) continue;
      head = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      parts.length = 0;
      parts.push(head);
      decision = decideFormat(head, final, displayName, resolved.format, detectors);
    }
    collapser = createCollapser(decision.format, { ...resolved, processFilter });
    if (head.length > 0) collapser.push(head);
    head = Buffer.alloc(0);
    while (!ended) {
      const next = await iterator.next();
      if (next.done) ended = true;
      else collapser.push(next.value);
    }
  } finally {
    // Stop reading (and close the file) when we leave early, e.g. on binary input.
    if (!ended) await iterator.return?.();
  }
  const run: CollapseRun = { ...collapser.finish(), format: decision.format, formatReason: decision.reason, displayName };
  if (run.stacks.size === 0 && (run.before === undefined || run.before.size === 0)) throw noStacksError(run);
  return run;
}

function combineFilters(a: ProcessFilter | undefined, b: ProcessFilter | undefined): ProcessFilter | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return (comm, paths) => a(comm, paths) && b(comm, paths);
}

function noStacksError(run: CollapseRun): IrisflameError {
  const reasons: string[] = [];
  const { badLines, badLineExamples, notes } = run.report;
  if (badLines > 0) reasons.push(`${badLines} line(s) not recognised as ${run.format}, e.g. "${badLineExamples[0] ?? ''}"`);
  reasons.push(...notes);
  const why = reasons.length > 0 ? reasons.join('; ') : `the ${run.format} input held no samples with stacks`;
  const hint =
    run.format === 'perf'
      ? 'record with call graphs (perf record -g), and check --event-filter, --comm and --iris'
      : `expected perf script, bpftrace or folded-stacks text (read as ${run.format}: ${run.formatReason}); try --format`;
  return new IrisflameError('NO_STACKS', `no stacks found in ${run.displayName}: ${why}`, { hint });
}

/** Most specific first: bpftrace's banner and `@[` are unmistakable; perf script next; folded last. */
export const FORMAT_DETECTORS: readonly FormatDetector[] = [
  { format: 'bpftrace', detect: detectBpftrace },
  { format: 'perf', detect: detectPerf },
  { format: 'folded', detect: detectFolded },
];

/** The parser for `format`, configured from the shared options. */
export function createCollapser(format: CollapseFormat, options: CollapseOptions): Collapser {
  switch (format) {
    case 'bpftrace':
      return createBpftraceCollapser(options);
    case 'folded':
      return createFoldedCollapser(options);
    case 'perf':
      if (options.iris && options.routineRoots) {
        return createRoutineRootedPerfCollapser(resolvePerfCollapseOptions(options), options.irisDir || DEFAULT_IRIS_DIR);
      }
      return createPerfCollapser(resolvePerfCollapseOptions(options));
  }
}
