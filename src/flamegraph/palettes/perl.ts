/** flamegraph.pl's Perl palette: C++ yellow, Perl green, kernel orange, the rest red. */
import { HUES, type HueName } from './hues.js';
import type { PaletteResolver } from './types.js';

export function perlHue(name: string): HueName {
  if (name.includes('::')) return 'yellow';
  if (name.includes('Perl') || name.includes('.pl')) return 'green';
  if (/_\[k\]$/.test(name)) return 'orange';
  return 'red';
}

export const perl: PaletteResolver = (name, shades) => HUES[perlHue(name)](name, shades);
