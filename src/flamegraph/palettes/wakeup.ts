/** flamegraph.pl's wakeup palette: everything aqua. */
import { HUES } from './hues.js';
import type { PaletteResolver } from './types.js';

export const wakeup: PaletteResolver = HUES.aqua;
