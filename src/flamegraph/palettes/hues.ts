/** flamegraph.pl's single-hue palettes: the shade `v1` moves each one between its dark and light ends. */
import { rgb, type PaletteResolver } from './types.js';

export type HueName = 'red' | 'green' | 'blue' | 'yellow' | 'purple' | 'aqua' | 'orange';

export const HUES: Record<HueName, PaletteResolver> = {
  red: (_, { v1 }) => {
    const x = 50 + Math.trunc(80 * v1);
    return rgb(200 + Math.trunc(55 * v1), x, x);
  },
  green: (_, { v1 }) => {
    const x = 50 + Math.trunc(60 * v1);
    return rgb(x, 200 + Math.trunc(55 * v1), x);
  },
  blue: (_, { v1 }) => {
    const x = 80 + Math.trunc(60 * v1);
    return rgb(x, x, 205 + Math.trunc(50 * v1));
  },
  yellow: (_, { v1 }) => {
    const x = 175 + Math.trunc(55 * v1);
    return rgb(x, x, 50 + Math.trunc(20 * v1));
  },
  purple: (_, { v1 }) => {
    const x = 190 + Math.trunc(65 * v1);
    return rgb(x, 80 + Math.trunc(60 * v1), x);
  },
  aqua: (_, { v1 }) => rgb(50 + Math.trunc(60 * v1), 165 + Math.trunc(55 * v1), 165 + Math.trunc(55 * v1)),
  orange: (_, { v1 }) => rgb(190 + Math.trunc(65 * v1), 90 + Math.trunc(65 * v1), 0),
};
