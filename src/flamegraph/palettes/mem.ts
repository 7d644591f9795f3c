/** flamegraph.pl's memory palette: greens. */
import { rgb, type PaletteResolver } from './types.js';

export const mem: PaletteResolver = (_, { v1, v2 }) => rgb(0, 190 + Math.trunc(50 * v2), Math.trunc(210 * v1));
