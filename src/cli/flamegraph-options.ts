/**
 * The flame graph flags, declared once from DEFAULT_FLAMEGRAPH_OPTIONS so `--help` cannot drift from
 * the library, and turned back into FlamegraphOptions. `record` reuses both.
 */
import type { Options } from 'yargs';
import { DEFAULT_FLAMEGRAPH_OPTIONS as D, PALETTE_NAMES, type FlamegraphOptions } from '../flamegraph/options.js';

const GROUP = 'Flame graph:';

export const FLAMEGRAPH_YARGS_OPTIONS = {
  title: { type: 'string', group: GROUP, describe: 'title text (default "Flame Graph", "Icicle Graph" with --inverted)' },
  subtitle: { type: 'string', group: GROUP, describe: 'second title line (default none)' },
  width: { type: 'number', group: GROUP, default: D.width, describe: 'width of the image, pixels' },
  height: { type: 'number', group: GROUP, default: D.height, describe: 'height of each frame, pixels' },
  minwidth: {
    type: 'string',
    group: GROUP,
    default: String(D.minwidth),
    describe: 'omit frames narrower than this: pixels, or "N%" of the total',
  },
  fonttype: { type: 'string', group: GROUP, default: D.fonttype, describe: 'font family' },
  fontsize: { type: 'number', group: GROUP, default: D.fontsize, describe: 'font size, pixels' },
  fontwidth: { type: 'number', group: GROUP, default: D.fontwidth, describe: 'average character width relative to the font size' },
  countname: { type: 'string', group: GROUP, default: D.countname, describe: 'what the counts are (samples, ms, bytes)' },
  nametype: { type: 'string', group: GROUP, default: D.nametype, describe: 'what the names are, in the details line' },
  colors: {
    // flamegraph.pl's Getopt::Long takes `--color=io` for --colors (Brendan Gregg's off-CPU recipe spells it so).
    alias: 'color',
    type: 'string',
    group: GROUP,
    default: D.colors,
    choices: [...PALETTE_NAMES],
    describe: 'palette; "kind" colours kernel orange, JIT green, inlined aqua, C++ yellow, user red',
  },
  bgcolors: {
    type: 'string',
    group: GROUP,
    describe: 'background: yellow, blue, green, grey, or "#rrggbb" (default: suits the palette)',
  },
  hash: { type: 'boolean', group: GROUP, default: D.hash, describe: 'colours by a hash of the name (similar names, similar colours)' },
  random: { type: 'boolean', group: GROUP, default: D.random, describe: 'random colours' },
  cp: { type: 'boolean', group: GROUP, default: D.cp, describe: 'consistent palette: reuse and update the colours in --palette-file' },
  'palette-file': { type: 'string', group: GROUP, default: D.paletteFile, describe: 'the consistent palette file used by --cp' },
  reverse: { type: 'boolean', group: GROUP, default: D.reverse, describe: 'reverse stacks (merge on the leaf end)' },
  inverted: { type: 'boolean', group: GROUP, default: D.inverted, describe: 'icicle graph (root at the top)' },
  flamechart: { type: 'boolean', group: GROUP, default: D.flamechart, describe: 'flame chart: keep the input order, do not merge' },
  negate: { type: 'boolean', group: GROUP, default: D.negate, describe: 'differential: swap the hues (red shrank, blue grew)' },
  notes: { type: 'string', group: GROUP, default: D.notes, describe: 'text embedded in an XML comment of the SVG' },
  factor: { type: 'number', group: GROUP, default: D.factor, describe: 'multiply counts by this in tooltips' },
  nameattr: { type: 'string', group: GROUP, describe: 'file of per-function attributes: name<TAB>attr=value…' },
  encoding: { type: 'string', group: GROUP, describe: 'encoding declared in the XML prolog' },
  total: { type: 'number', group: GROUP, describe: 'total to scale widths to, instead of the sum of the counts' },
} satisfies Record<string, Options>;

/** The parsed flags (yargs argv) as FlamegraphOptions; values are checked by resolveFlamegraphOptions. */
export function flamegraphOptionsFromArgv(argv: Record<string, unknown>): Partial<FlamegraphOptions> {
  const options: Partial<FlamegraphOptions> = {
    title: optionalString(argv.title),
    subtitle: optionalString(argv.subtitle),
    width: optionalNumber(argv.width),
    height: optionalNumber(argv.height),
    minwidth: optionalString(argv.minwidth),
    fonttype: optionalString(argv.fonttype),
    fontsize: optionalNumber(argv.fontsize),
    fontwidth: optionalNumber(argv.fontwidth),
    countname: optionalString(argv.countname),
    nametype: optionalString(argv.nametype),
    colors: optionalString(argv.colors) as FlamegraphOptions['colors'] | undefined,
    bgcolors: optionalString(argv.bgcolors),
    hash: optionalBoolean(argv.hash),
    random: optionalBoolean(argv.random),
    cp: optionalBoolean(argv.cp),
    paletteFile: optionalString(argv['palette-file']),
    reverse: optionalBoolean(argv.reverse),
    inverted: optionalBoolean(argv.inverted),
    flamechart: optionalBoolean(argv.flamechart),
    negate: optionalBoolean(argv.negate),
    notes: optionalString(argv.notes),
    factor: optionalNumber(argv.factor),
    nameattr: optionalString(argv.nameattr),
    encoding: optionalString(argv.encoding),
    total: optionalNumber(argv.total),
  };
  for (const key of Object.keys(options) as (keyof FlamegraphOptions)[]) {
    if (options[key] === undefined) delete options[key];
  }
  return options;
}

/** yargs gives an array when a flag is repeated: the last one wins, as with flamegraph.pl. */
function last(value: unknown): unknown {
  return Array.isArray(value) ? value[value.length - 1] : value;
}

function optionalString(value: unknown): string | undefined {
  const v = last(value);
  return v === undefined ? undefined : String(v);
}

function optionalNumber(value: unknown): number | undefined {
  const v = last(value);
  return v === undefined ? undefined : Number(v);
}

function optionalBoolean(value: unknown): boolean | undefined {
  const v = last(value);
  return v === undefined ? undefined : Boolean(v);
}
