/** flamegraph.pl's default: warm reds, oranges and yellows. */
import { rgb, type PaletteResolver } from './types.js';

export const hot: PaletteResolver = (_, { v1, v2, v3 }) =>
  rgb(205 + Math.trunc(50 * v3), Math.trunc(230 * v1), Math.trunc(55 * v2));
