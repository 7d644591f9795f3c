/**
 * The renderer's pipeline, one step per module: order the stacks, scale, merge, lay out, colour, write.
 * Files (attribute file, palette file) are read here, before any output, so a bad one fails cleanly.
 */
import { IrisflameError } from '../errors.js';
import { readNameAttributes, type NameAttributes } from './attrs.js';
import { FrameColors } from './color.js';
import { frameChunks } from './frames.js';
import { isLargeGraph, largeFrameChunks } from './frames-large.js';
import type { FlamegraphInput, FlamegraphReport } from './index.js';
import { computeScale, layoutFrames } from './layout.js';
import { mergeStacks, orderStacks, type Frame } from './merge.js';
import { resolveFlamegraphOptions, type FlamegraphOptions, type ResolvedFlamegraphOptions } from './options.js';
import { readPaletteMap, writePaletteMap, type PaletteMap } from './palettes/palette-map.js';
import { framesAtLeast, type MergedFrames } from './sorted-folded.js';
import { documentShell } from './svg.js';

/** flamegraph.pl warns below this many samples: something probably went wrong upstream. */
const LOW_COUNT = 100;

export interface RenderedFlamegraph {
  /** The SVG in order; iterate once. Writing the `cp` palette file happens after the last chunk. */
  chunks: Iterable<string>;
  report: FlamegraphReport;
}

export function renderFlamegraphChunks(input: FlamegraphInput, partial: Partial<FlamegraphOptions>): RenderedFlamegraph {
  const options = resolveFlamegraphOptions(partial);
  return renderChunks(options, () => {
    const ordered = orderStacks(
      input.stacks,
      input.before,
      { reverse: options.reverse, flamechart: options.flamechart, chain: options.colors === 'chain' },
      input.exact,
    );
    return {
      total: ordered.total,
      maxDelta: ordered.maxDelta,
      differential: input.before !== undefined,
      frames: (minWeight) => mergeStacks(ordered, minWeight),
    };
  });
}

/**
 * The same document from frames merged while the input was read (src/flamegraph/sorted-folded.ts): only
 * for plain (not differential) stacks in sorted order, i.e. without `reverse`, `flamechart` or the
 * `chain` palette, which reorder or rename stacks.
 */
export function renderMergedChunks(merged: MergedFrames, partial: Partial<FlamegraphOptions>): RenderedFlamegraph {
  const options = resolveFlamegraphOptions(partial);
  return renderChunks(options, () => ({
    total: merged.total,
    maxDelta: 1,
    differential: false,
    frames: (minWeight) => framesAtLeast(merged, minWeight),
  }));
}

/** Merged stacks, ready to scale: their total, and their frames given the narrowest width drawn. */
interface MergeResult {
  total: number;
  /** Largest |after − before|, at least 1. */
  maxDelta: number;
  differential: boolean;
  frames: (minWeight: number) => Frame[];
}

function renderChunks(options: ResolvedFlamegraphOptions, merge: () => MergeResult): RenderedFlamegraph {
  const warnings: string[] = [];
  let attributes: NameAttributes | undefined;
  if (options.nameattr !== undefined) {
    const parsed = readNameAttributes(options.nameattr);
    attributes = parsed.attributes;
    warnings.push(...parsed.warnings);
  }
  const paletteMap: PaletteMap | undefined = options.cp ? readPaletteMap(options.paletteFile) : undefined;

  const merged = merge();
  if (!(merged.total > 0) && options.total === undefined) {
    throw new IrisflameError('NO_STACKS', 'no stacks to draw: the input holds no samples', {
      hint: 'check that the capture recorded call stacks (perf record -g), or pass --total to draw an empty graph',
    });
  }
  if (options.countname === 'samples' && merged.total < LOW_COUNT && merged.total > 0) {
    warnings.push(`stack count is low (${merged.total}); did something go wrong?`);
  }
  const scale = computeScale(merged.total, options);
  if (scale.warning) warnings.push(scale.warning);
  const frames = merged.frames(scale.minWeight);
  const layout = layoutFrames(frames, scale, options);
  const { head, tail } = documentShell(options, {
    imageHeight: layout.imageHeight,
    total: scale.total,
    legend: options.colors === 'kind' && !merged.differential,
  });
  const colors = new FrameColors(options, merged.maxDelta, paletteMap);
  const frameContext = { options, total: scale.total, colors, attributes };
  // Above 2,000 frames, narrow frames are drawn merged and listed in a table (frames-large.ts), which closes
  // #frames itself.
  const large = isLargeGraph(layout, merged.differential, frameContext);
  const body = large ? largeFrameChunks(layout, frameContext) : frameChunks(layout, frameContext);

  function* chunks(): Generator<string> {
    yield head;
    yield* body;
    yield large ? '</svg>\n' : tail;
    if (paletteMap) writePaletteMap(options.paletteFile, paletteMap);
  }
  return { chunks: chunks(), report: { warnings, frames: layout.rects.length, total: merged.total } };
}
