/** flamegraph.pl's I/O palette: blues. */
import { rgb, type PaletteResolver } from './types.js';

export const io: PaletteResolver = (_, { v1, v2 }) => {
  const x = 80 + Math.trunc(60 * v1);
  return rgb(x, x, 190 + Math.trunc(55 * v2));
};
