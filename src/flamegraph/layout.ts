/**
 * Frames → rectangles, with flamegraph.pl's geometry: the same scale (`--total`), the same pruning of
 * narrow frames (`--minwidth`), the same paddings and the same x/width/y for every frame, upright or
 * inverted. Nothing here is formatted; the SVG writer rounds as flamegraph.pl prints.
 */
import type { Frame } from './merge.js';
import type { ResolvedFlamegraphOptions } from './options.js';

/** Left and right padding, pixels. */
export const XPAD = 10;
/** Vertical gap between stacked frames, pixels. */
export const FRAMEPAD = 1;

/** The vertical bands around the frames, derived from the font size as flamegraph.pl does. */
export interface Paddings {
  /** Above the frames: the title line. */
  top: number;
  /** Below the frames: the details line. */
  bottom: number;
  /** Extra height for a subtitle. */
  subtitle: number;
}

export function paddings(fontsize: number): Paddings {
  return { top: fontsize * 3, bottom: fontsize * 2 + 10, subtitle: fontsize * 2 };
}

/** The count axis mapped to pixels. */
export interface Scale {
  /** The total the widths are relative to: `--total` when larger than the counts' sum, else the sum. */
  total: number;
  /** Pixels per count unit. */
  widthPerTime: number;
  /** Frames narrower than this (count units) are not drawn. */
  minWeight: number;
  /** Set when `--total` was given but ignored. */
  warning?: string;
}

type ScaleOptions = Pick<ResolvedFlamegraphOptions, 'width' | 'minwidth' | 'total'>;

/** flamegraph.pl's `$timemax`, `$widthpertime` and `$minwidth_time`. */
export function computeScale(sum: number, options: ScaleOptions): Scale {
  let total = sum;
  let warning: string | undefined;
  if (options.total !== undefined) {
    if (options.total >= sum) total = options.total;
    // As flamegraph.pl: only a significant shortfall (not rounding) is worth a warning.
    else if (options.total / sum > 0.02) {
      warning = `--total ${options.total} is less than the actual total ${sum}, so it is ignored`;
    }
  }
  const widthPerTime = total > 0 ? (options.width - 2 * XPAD) / total : 0;
  const { value, percent } = options.minwidth;
  const minWeight = percent ? (total * value) / 100 : widthPerTime > 0 ? value / widthPerTime : 0;
  return { total, widthPerTime, minWeight, warning };
}

/** One frame to draw; coordinates are unrounded pixels. */
export interface Rect {
  frame: Frame;
  x1: number;
  x2: number;
  y1: number;
  y2: number;
}

export interface Layout {
  /** Pre-order: sorted by start, then depth (parents before children); the root first. */
  rects: Rect[];
  imageHeight: number;
  depthMax: number;
}

type LayoutOptions = Pick<ResolvedFlamegraphOptions, 'height' | 'fontsize' | 'inverted' | 'subtitle'>;

/**
 * Position `frames` (already pruned by `scale.minWeight` while merging). The root's
 * end is stretched to the scale's total, which differs from the sum with `--total`.
 */
export function layoutFrames(frames: Frame[], scale: Scale, options: LayoutOptions): Layout {
  // The root is kept even when narrower than minwidth (flamegraph.pl would drop it and draw nothing).
  const kept = [...frames];
  kept.sort((a, b) => a.start - b.start || a.depth - b.depth);
  let depthMax = 0;
  for (const frame of kept) if (frame.depth > depthMax) depthMax = frame.depth;
  const pad = paddings(options.fontsize);
  const frameHeight = options.height;
  let imageHeight = (depthMax + 1) * frameHeight + pad.top + pad.bottom;
  if (options.subtitle !== '') imageHeight += pad.subtitle;
  const rects: Rect[] = new Array(kept.length);
  for (let i = 0; i < kept.length; i++) {
    const frame = kept[i]!;
    const end = frame.depth === 0 ? scale.total : frame.end;
    const x1 = XPAD + frame.start * scale.widthPerTime;
    const x2 = XPAD + end * scale.widthPerTime;
    let y1: number;
    let y2: number;
    if (options.inverted) {
      y1 = pad.top + frame.depth * frameHeight;
      y2 = pad.top + (frame.depth + 1) * frameHeight - FRAMEPAD;
    } else {
      y1 = imageHeight - pad.bottom - (frame.depth + 1) * frameHeight + FRAMEPAD;
      y2 = imageHeight - pad.bottom - frame.depth * frameHeight;
    }
    rects[i] = { frame, x1, x2, y1, y2 };
  }
  return { rects, imageHeight, depthMax };
}
