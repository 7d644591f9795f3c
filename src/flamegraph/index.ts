/**
 * The flame graph stage's public surface: folded stacks in, an interactive SVG out. `record` and the
 * lifecycle view call these; keep their signatures stable.
 */
import type { Writable } from 'node:stream';
import type { ExactCounts, FoldedStacks } from '../collapse/types.js';
import type { FlamegraphOptions } from './options.js';
import { renderFlamegraphChunks, renderMergedChunks, type RenderedFlamegraph } from './render.js';
import type { MergedFrames } from './sorted-folded.js';

export type { FlamegraphOptions, PaletteName, ResolvedFlamegraphOptions } from './options.js';
export { DEFAULT_FLAMEGRAPH_OPTIONS, PALETTE_NAMES, resolveFlamegraphOptions } from './options.js';

export interface FlamegraphInput {
  /** Stack weights; for a differential graph, the "after" profile (it sets the widths). */
  stacks: FoldedStacks;
  /** For a differential graph: the "before" profile; colours show after − before per frame. */
  before?: FoldedStacks;
  /** Sums past 2^53 of `stacks`, exact (CollapseResult.exact): titles then print as flamegraph.pl's. */
  exact?: ExactCounts;
}

/** What rendering noticed without failing: shown on stderr by the CLI, never fatal. */
export interface FlamegraphReport {
  /** One-line remarks ("--total 10 is less than the actual total 52, ignored", bad attribute lines). */
  warnings: string[];
  /** Frames drawn (after `minwidth` pruning), the root included. */
  frames: number;
  /** The sum of the counts. */
  total: number;
}

/**
 * Render `input` as an SVG document onto `out` (respecting back-pressure; `out` is not ended).
 * Throws IrisflameError: NO_STACKS for an empty profile, USAGE for bad options, PALETTE for an
 * unreadable `cp` palette file, INPUT_UNREADABLE for an unreadable `nameattr` file.
 */
export async function writeFlamegraph(
  input: FlamegraphInput,
  options: Partial<FlamegraphOptions>,
  out: Writable,
): Promise<FlamegraphReport> {
  return writeChunks(renderFlamegraphChunks(input, options), out);
}

/**
 * `writeFlamegraph` for frames merged while a sorted folded file was read (`mergeSortedFolded`): the
 * same document as from that file's stacks.
 */
export async function writeMergedFlamegraph(
  merged: MergedFrames,
  options: Partial<FlamegraphOptions>,
  out: Writable,
): Promise<FlamegraphReport> {
  return writeChunks(renderMergedChunks(merged, options), out);
}

async function writeChunks({ chunks, report }: RenderedFlamegraph, out: Writable): Promise<FlamegraphReport> {
  for (const chunk of chunks) {
    if (!out.write(chunk)) await waitForDrain(out);
  }
  return report;
}

/** The same SVG as a string (tests, small graphs). */
export function renderFlamegraph(input: FlamegraphInput, options: Partial<FlamegraphOptions> = {}): string {
  return [...renderFlamegraphChunks(input, options).chunks].join('');
}

function waitForDrain(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      out.off('error', onError);
      resolve();
    };
    const onError = (error: Error): void => {
      out.off('drain', onDrain);
      reject(error);
    };
    out.once('drain', onDrain);
    out.once('error', onError);
  });
}

/** `renderFlamegraph` for frames merged while a sorted folded file was read (tests). */
export function renderMergedFlamegraph(merged: MergedFrames, options: Partial<FlamegraphOptions> = {}): string {
  return [...renderMergedChunks(merged, options).chunks].join('');
}
