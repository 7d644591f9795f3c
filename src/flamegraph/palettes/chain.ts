/** flamegraph.pl's chain palette: waker frames (annotated `_[w]` while merging) aqua, off-CPU blue. */
import { HUES, type HueName } from './hues.js';
import type { PaletteResolver } from './types.js';

export function chainHue(name: string): HueName {
  return name.includes('_[w]') ? 'aqua' : 'blue';
}

export const chain: PaletteResolver = (name, shades) => HUES[chainHue(name)](name, shades);
