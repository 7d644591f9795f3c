/**
 * Differential graphs (two-column folded input, before and after): widths follow "after", and each
 * frame's colour shows the change of the stacks ending at it — red grew, blue shrank, white unchanged,
 * deeper the larger the change relative to the largest one; `negate` swaps the hues. As flamegraph.pl.
 */
import { fixed } from './format.js';
import { rgb } from './palettes/types.js';

/** Colour of a frame whose stacks changed by `delta`, the largest change being `maxDelta`. */
export function deltaColor(delta: number, maxDelta: number, negate: boolean): string {
  const value = negate ? -delta : delta;
  if (value > 0) {
    const x = Math.trunc((210 * (maxDelta - value)) / maxDelta);
    return rgb(255, x, x);
  }
  if (value < 0) {
    const x = Math.trunc((210 * (maxDelta + value)) / maxDelta);
    return rgb(x, x, 255);
  }
  return rgb(255, 255, 255);
}

/** The `; +D%` appended inside a differential frame's tooltip parentheses. */
export function deltaPercent(delta: number, negate: boolean, scaledTotal: number): string {
  const value = negate ? -delta : delta;
  const text = fixed((100 * value) / scaledTotal, 2);
  return value > 0 ? `+${text}` : text;
}
