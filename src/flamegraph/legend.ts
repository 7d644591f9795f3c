/**
 * The `kind` palette's legend: a swatch and a word per kind (user, C++, inlined, JIT, kernel) on the
 * title line, right-aligned before "Search". It lives in the top padding, so it changes no frame's
 * position; when the image is too narrow to fit it beside the title, it is left out.
 */
import { FRAME_KINDS } from './kind.js';
import { XPAD } from './layout.js';
import type { ResolvedFlamegraphOptions } from './options.js';
import { HUES } from './palettes/hues.js';
import { KIND_HUES } from './palettes/kind.js';

export interface LegendItem {
  label: string;
  color: string;
  /** Swatch's left edge and the text baseline, pixels. */
  x: number;
  y: number;
  size: number;
  fontsize: number;
}

/** The mid shade of each hue stands for it. */
const SWATCH_SHADE = 0.5;
/** flamegraph.pl's `#search` sits this far left of the right padding. */
const SEARCH_OFFSET = 100;

type LegendOptions = Pick<ResolvedFlamegraphOptions, 'width' | 'fontsize' | 'fontwidth' | 'title'>;

export function legendItems(options: LegendOptions): LegendItem[] {
  const fontsize = Math.max(1, options.fontsize - 2);
  const size = Math.round(fontsize * 0.8);
  const charWidth = fontsize * options.fontwidth;
  const gap = fontsize / 2;
  // Equal slots, as wide as the longest label: estimated widths of proportional text vary too much
  // to pack labels tightly without uneven gaps.
  const longest = Math.max(...FRAME_KINDS.map(({ label }) => label.length));
  const slot = size + 3 + longest * charWidth + gap;
  const total = slot * FRAME_KINDS.length - gap;
  const right = options.width - XPAD - SEARCH_OFFSET - options.fontsize;
  const titleRight = options.width / 2 + (options.title.length * (options.fontsize + 5) * options.fontwidth) / 2;
  let x = right - total;
  if (x < titleRight + options.fontsize) return [];
  const y = options.fontsize * 2;
  return FRAME_KINDS.map(({ kind, label }) => {
    const shades = { v1: SWATCH_SHADE, v2: SWATCH_SHADE, v3: SWATCH_SHADE };
    const item = { label, color: HUES[KIND_HUES[kind]](label, shades), x: round(x), y, size, fontsize };
    x += slot;
    return item;
  });
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
