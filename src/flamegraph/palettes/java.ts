/**
 * flamegraph.pl's Java palette: JIT and Java classes green, inlined aqua, C++ yellow, kernel orange,
 * the rest red. Annotations decide when present; otherwise package prefixes and `::` separators.
 */
import { HUES, type HueName } from './hues.js';
import type { PaletteResolver } from './types.js';

const JAVA_PACKAGE = /^L?(?:java|javax|jdk|net|org|com|io|sun)\//;

export function javaHue(name: string): HueName {
  if (/_\[j\]$/.test(name)) return 'green';
  if (/_\[i\]$/.test(name)) return 'aqua';
  if (JAVA_PACKAGE.test(name)) return 'green';
  if (name.includes(':::')) return 'green'; // perf-map-agent's method separator
  if (name.includes('::')) return 'yellow';
  if (/_\[k\]$/.test(name)) return 'orange';
  return 'red';
}

export const java: PaletteResolver = (name, shades) => HUES[javaHue(name)](name, shades);
