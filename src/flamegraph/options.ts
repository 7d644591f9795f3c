/**
 * Options of the flame graph renderer, with their defaults in one place. Names and meanings follow
 * flamegraph.pl's flags (`--width`, `--minwidth`, `--colors`, …) so a user can swap one for the other;
 * the one addition is the default palette, `kind`, which colours frames by what they are (kernel, JIT,
 * inlined, C++, other user code) rather than at random.
 */
import { UsageError } from '../errors.js';

/** flamegraph.pl's palettes, plus `kind`. */
export const PALETTE_NAMES = [
  'kind',
  'hot',
  'mem',
  'io',
  'wakeup',
  'chain',
  'java',
  'js',
  'perl',
  'red',
  'green',
  'blue',
  'aqua',
  'yellow',
  'purple',
  'orange',
] as const;
export type PaletteName = (typeof PALETTE_NAMES)[number];

/** Named background gradients; a flat colour is given as `#rrggbb`. */
export const BACKGROUND_NAMES = ['yellow', 'blue', 'green', 'grey'] as const;

export interface FlamegraphOptions {
  /**
   * Centred heading. Empty means "Flame Graph" ("Icicle Graph" with `inverted`, "Flame Chart" with
   * `flamechart`).
   * @default ''
   */
  title: string;
  /**
   * Second heading under the title; empty means none.
   * @default ''
   */
  subtitle: string;
  /**
   * Width of the image, pixels.
   * @default 1200
   */
  width: number;
  /**
   * Height of one frame, pixels (the image's height follows from the deepest stack).
   * @default 16
   */
  height: number;
  /**
   * Omit frames narrower than this: pixels (`0.1`), or a percentage of the total (`"0.5%"`).
   * @default 0.1
   */
  minwidth: number | string;
  /**
   * Font family of all text.
   * @default 'Verdana'
   */
  fonttype: string;
  /**
   * Font size, pixels.
   * @default 12
   */
  fontsize: number;
  /**
   * Average character width relative to `fontsize`, used to decide how much of a name fits a frame.
   * @default 0.59
   */
  fontwidth: number;
  /**
   * What the counts are ("samples", "ms", "bytes"); shown in every frame's tooltip.
   * @default 'samples'
   */
  countname: string;
  /**
   * What the names are; shown before the name of the frame under the pointer.
   * @default 'Function:'
   */
  nametype: string;
  /**
   * Colour palette: `kind` (kernel orange, JIT green, inlined aqua, C++ yellow, other user red), or one
   * of flamegraph.pl's: hot, mem, io, wakeup, chain, java, js, perl, red, green, blue, aqua, yellow,
   * purple, orange.
   * @default 'kind'
   */
  colors: PaletteName;
  /**
   * Background: a gradient (yellow, blue, green, grey) or a flat `#rrggbb`. Empty picks the palette's
   * usual one, as flamegraph.pl does (green for mem, blue for io/wakeup/chain, grey for the single-hue
   * palettes, yellow otherwise).
   * @default ''
   */
  bgcolors: string;
  /**
   * Colours keyed by a hash of the function name that weights its first characters (flamegraph.pl's
   * `--hash`): similar names get similar shades.
   * @default false
   */
  hash: boolean;
  /**
   * Random colours, different on every run.
   * @default false
   */
  random: boolean;
  /**
   * Consistent palette: read colours from `paletteFile` when it exists, and write back every colour
   * used, so the same function keeps its colour across graphs (flamegraph.pl's `--cp`).
   * @default false
   */
  cp: boolean;
  /**
   * The consistent palette file used by `cp` (one `name->rgb(r,g,b)` per line).
   * @default 'palette.map'
   */
  paletteFile: string;
  /**
   * Reverse each stack (leaf first) before merging: merges on the leaf end.
   * @default false
   */
  reverse: boolean;
  /**
   * Icicle graph: root at the top, growing downwards.
   * @default false
   */
  inverted: boolean;
  /**
   * Flame chart: keep the input's order on the x axis (time) instead of sorting and merging stacks.
   * @default false
   */
  flamechart: boolean;
  /**
   * Differential graphs: swap the hues, so red means shrank and blue means grew.
   * @default false
   */
  negate: boolean;
  /**
   * Text embedded in an XML comment of the SVG (for debugging, provenance).
   * @default ''
   */
  notes: string;
  /**
   * Multiply every count by this when showing it (e.g. a sampling period), without changing geometry.
   * @default 1
   */
  factor: number;
  /**
   * A file of per-function attributes: a name, a tab, then tab-separated `attr=value` pairs
   * (`href`, `target`, `class`, `id`, `title`, …) added to that function's frames.
   * @default undefined (none)
   */
  nameattr?: string;
  /**
   * The `encoding` declared in the XML prolog (the bytes are always UTF-8, as with flamegraph.pl).
   * @default undefined (no declaration: UTF-8)
   */
  encoding?: string;
  /**
   * The total the widths are relative to, instead of the sum of the counts (to compare graphs on one
   * scale). Ignored, with a warning, when smaller than the actual total.
   * @default undefined (the sum of the counts)
   */
  total?: number;
}

export const DEFAULT_FLAMEGRAPH_OPTIONS: Readonly<FlamegraphOptions> = Object.freeze({
  title: '',
  subtitle: '',
  width: 1200,
  height: 16,
  minwidth: 0.1,
  fonttype: 'Verdana',
  fontsize: 12,
  fontwidth: 0.59,
  countname: 'samples',
  nametype: 'Function:',
  colors: 'kind',
  bgcolors: '',
  hash: false,
  random: false,
  cp: false,
  paletteFile: 'palette.map',
  reverse: false,
  inverted: false,
  flamechart: false,
  negate: false,
  notes: '',
  factor: 1,
  nameattr: undefined,
  encoding: undefined,
  total: undefined,
} satisfies FlamegraphOptions);

/** `minwidth` parsed: a pixel width, or a percentage of the total. */
export interface MinWidth {
  value: number;
  percent: boolean;
}

/** Options after defaults and implications are applied; what the renderer reads. */
export interface ResolvedFlamegraphOptions extends Omit<FlamegraphOptions, 'minwidth' | 'title'> {
  /** The heading actually shown (the default picked when `title` is empty). */
  title: string;
  minwidth: MinWidth;
  /** Background gradient start and stop (equal for a flat colour). */
  background: { from: string; to: string };
}

const BACKGROUND_GRADIENTS: Record<(typeof BACKGROUND_NAMES)[number], { from: string; to: string }> = {
  yellow: { from: '#eeeeee', to: '#eeeeb0' },
  blue: { from: '#eeeeee', to: '#e0e0ff' },
  green: { from: '#eef2ee', to: '#e0ffe0' },
  grey: { from: '#f8f8f8', to: '#e8e8e8' },
};

/** Fill in defaults, check ranges, and derive what follows from the options; bad values throw UsageError. */
export function resolveFlamegraphOptions(options: Partial<FlamegraphOptions> = {}): ResolvedFlamegraphOptions {
  const merged: FlamegraphOptions = { ...DEFAULT_FLAMEGRAPH_OPTIONS };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value;
  }
  checkPositive('width', merged.width);
  checkPositive('height', merged.height);
  checkPositive('fontsize', merged.fontsize);
  checkPositive('fontwidth', merged.fontwidth);
  checkPositive('factor', merged.factor);
  if (merged.total !== undefined) checkPositive('total', merged.total);
  if (!(PALETTE_NAMES as readonly string[]).includes(merged.colors)) {
    throw new UsageError(`unknown color palette "${merged.colors}"`, {
      hint: `choose one of: ${PALETTE_NAMES.join(', ')}`,
    });
  }
  if (!SAFE_FONT.test(merged.fonttype)) {
    throw new UsageError(`--fonttype "${merged.fonttype}" is not a font family list`, {
      hint: 'use names like Verdana or "DejaVu Sans Mono", separated by commas',
    });
  }
  if (merged.encoding !== undefined && !XML_ENCODING_NAME.test(merged.encoding)) {
    throw new UsageError(`--encoding "${merged.encoding}" is not an encoding name`, { hint: 'e.g. UTF-8 or ISO-8859-1' });
  }
  if (merged.hash && merged.random) {
    throw new UsageError('--hash and --random cannot be combined', { hint: 'pick one way of choosing colours' });
  }
  return {
    ...merged,
    title: defaultTitle(merged),
    minwidth: parseMinWidth(merged.minwidth),
    background: resolveBackground(merged.bgcolors, merged.colors),
  };
}

/** Font families only: the value lands in the SVG's CSS, where `{`, `;` or `url(` would inject rules. */
const SAFE_FONT = /^[\w\s,'".-]+$/;

/** XML's EncName production: the value lands in the prolog. */
const XML_ENCODING_NAME = /^[A-Za-z][A-Za-z0-9._-]*$/;

function checkPositive(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`--${name} must be a number greater than 0 (got ${String(value)})`);
  }
}

function defaultTitle(options: FlamegraphOptions): string {
  if (options.title !== '') return options.title;
  if (options.flamechart) return 'Flame Chart';
  return options.inverted ? 'Icicle Graph' : 'Flame Graph';
}

/** `0.1` (pixels) or `"0.5%"` (of the total), as flamegraph.pl accepts; anything else is a usage error. */
export function parseMinWidth(minwidth: number | string): MinWidth {
  if (typeof minwidth === 'number') {
    if (Number.isFinite(minwidth) && minwidth >= 0) return { value: minwidth, percent: false };
  } else {
    const match = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*(%?)\s*$/.exec(minwidth);
    if (match) {
      const value = Number(match[1]);
      const percent = match[2] === '%';
      if (!percent || value <= 100) return { value, percent };
    }
  }
  throw new UsageError(`--minwidth must be a number of pixels or a percentage like "0.5%" (got "${String(minwidth)}")`);
}

/** flamegraph.pl's background choice: explicit, else one that suits the palette. */
function resolveBackground(bgcolors: string, colors: PaletteName): { from: string; to: string } {
  let name = bgcolors;
  if (name === '') {
    if (colors === 'mem') name = 'green';
    else if (colors === 'io' || colors === 'wakeup' || colors === 'chain') name = 'blue';
    else if (['red', 'green', 'blue', 'aqua', 'yellow', 'purple', 'orange'].includes(colors)) name = 'grey';
    else name = 'yellow';
  }
  if (name in BACKGROUND_GRADIENTS) return BACKGROUND_GRADIENTS[name as keyof typeof BACKGROUND_GRADIENTS];
  if (/^#[0-9a-fA-F]{6}$/.test(name)) return { from: name, to: name };
  throw new UsageError(`unknown background "${bgcolors}"`, {
    hint: `choose one of: ${BACKGROUND_NAMES.join(', ')}, or a colour like "#f0f0f0"`,
  });
}
