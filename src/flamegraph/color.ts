/**
 * A frame's fill, in flamegraph.pl's order of precedence: the `--` and `-` separator frames are grey,
 * differential frames show their change, `cp` reuses the palette file's colour, and otherwise the
 * palette picks a hue and the name a shade. Colours are memoised by name (unless random), since a big
 * graph repeats the same functions many times.
 */
import { deltaColor } from './differential.js';
import type { ResolvedFlamegraphOptions } from './options.js';
import { PALETTES, shadesFor, type PaletteResolver, type ShadeMode } from './palettes/index.js';
import { kindShade } from './palettes/kind.js';
import type { PaletteMap } from './palettes/palette-map.js';

const SEPARATOR_GREY = 'rgb(160,160,160)';
const MISSING_GREY = 'rgb(200,200,200)';

export class FrameColors {
  private readonly palette: PaletteResolver;
  private readonly mode: ShadeMode;
  private readonly cache = new Map<string, string>();

  constructor(
    private readonly options: Pick<ResolvedFlamegraphOptions, 'colors' | 'hash' | 'random' | 'negate'>,
    private readonly maxDelta: number,
    /** With `cp`: the palette file's colours, extended with every colour drawn. */
    private readonly paletteMap: PaletteMap | undefined,
  ) {
    this.palette = PALETTES[options.colors];
    this.mode = options.hash ? 'hash' : options.random ? 'random' : 'name';
  }

  /** `name` is the display name, annotation included (it steers the java/js/perl/chain/kind hues). */
  color(name: string, delta: number | undefined): string {
    if (name === '--') return SEPARATOR_GREY;
    if (name === '-') return MISSING_GREY;
    if (delta !== undefined) return deltaColor(delta, this.maxDelta, this.options.negate);
    if (this.paletteMap) {
      let color = this.paletteMap.get(name);
      if (color === undefined) {
        color = this.compute(name);
        this.paletteMap.set(name, color);
      }
      return color;
    }
    if (this.mode === 'random') return this.compute(name);
    let color = this.cache.get(name);
    if (color === undefined) {
      color = this.compute(name);
      this.cache.set(name, color);
    }
    return color;
  }

  private compute(name: string): string {
    if (this.options.colors === 'kind' && this.mode === 'name') {
      const v = kindShade(name);
      return this.palette(name, { v1: v, v2: v, v3: v });
    }
    return this.palette(name, shadesFor(name, this.mode));
  }
}
