import type { Shades } from './shade.js';

/** A palette: a frame's (display) name and its shades → an SVG colour `rgb(r,g,b)`. */
export type PaletteResolver = (name: string, shades: Shades) => string;

export const rgb = (r: number, g: number, b: number): string => `rgb(${r},${g},${b})`;
