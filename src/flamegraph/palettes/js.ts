/** flamegraph.pl's JavaScript palette: JIT source green, builtins aqua, C++ yellow, kernel orange. */
import { HUES, type HueName } from './hues.js';
import type { PaletteResolver } from './types.js';

export function jsHue(name: string): HueName {
  if (/_\[j\]$/.test(name)) return name.includes('/') ? 'green' : 'aqua';
  if (name.includes('::')) return 'yellow';
  if (/\/.*\.js/.test(name)) return 'green';
  if (name.includes(':')) return 'aqua';
  if (name === ' ') return 'green'; // a missing symbol
  if (name.includes('_[k]')) return 'orange';
  return 'red';
}

export const js: PaletteResolver = (name, shades) => HUES[jsHue(name)](name, shades);
