/**
 * Palettes by name. Each palette lives in its own module and maps a frame name and its shades to a
 * colour; this module only chooses one.
 */
import type { PaletteName } from '../options.js';
import { chain } from './chain.js';
import { hot } from './hot.js';
import { HUES } from './hues.js';
import { io } from './io.js';
import { java } from './java.js';
import { js } from './js.js';
import { kind } from './kind.js';
import { mem } from './mem.js';
import { perl } from './perl.js';
import type { PaletteResolver } from './types.js';
import { wakeup } from './wakeup.js';

export const PALETTES: Record<PaletteName, PaletteResolver> = {
  kind,
  hot,
  mem,
  io,
  wakeup,
  chain,
  java,
  js,
  perl,
  ...HUES,
};

export type { PaletteResolver } from './types.js';
export { shadesFor, type ShadeMode, type Shades } from './shade.js';
