/**
 * The collapse stage: input text (perf script, bpftrace, folded stacks) to folded stacks. Re-exports the
 * parsers and their options, and runs the whole pipeline (open → detect → parse) for the commands that
 * need folded stacks: `collapse`, `flamegraph`, `record`.
 */
export * from './types.js';
export { openInput, STDIN_NAME, type InputChunks } from './input.js';
export * from './perf-options.js';
export { createBpftraceCollapser, detectBpftrace, DEFAULT_BPFTRACE_COLLAPSE_OPTIONS, resolveBpftraceCollapseOptions, type BpftraceCollapseOptions } from './bpftrace.js';
export { createFoldedCollapser, detectFolded, DEFAULT_FOLDED_COLLAPSE_OPTIONS, resolveFoldedCollapseOptions, type FoldedCollapseOptions } from './folded.js';
export * from './detect.js';
export * from './filter.js';
export { writeFolded, foldedLines, sortedKeys } from './write.js';
export { formatPerlNumber } from './perl-number.js';
export { createPerfCollapser, detectPerf } from './perf.js';
export {
  collapseInput,
  collapseChunks,
  createCollapser,
  FORMAT_DETECTORS,
  DEFAULT_COLLAPSE_OPTIONS,
  resolveCollapseOptions,
  type CollapseOptions,
  type CollapseRun,
} from './pipeline.js';
