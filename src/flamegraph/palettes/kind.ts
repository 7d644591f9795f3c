/**
 * irisflame's default palette: the hue says what a frame is (kernel orange, JIT green, inlined aqua,
 * C++ yellow, other user code red); the shade comes from the name without its annotation, so a
 * function looks the same in every graph, annotated or not.
 */
import { frameKind, stripAnnotation, type FrameKind } from '../kind.js';
import { HUES, type HueName } from './hues.js';
import { nameShade } from './shade.js';
import type { PaletteResolver } from './types.js';

export const KIND_HUES: Record<FrameKind, HueName> = {
  kernel: 'orange',
  jit: 'green',
  inlined: 'aqua',
  cpp: 'yellow',
  user: 'red',
};

/** `--hash` and `--random` still apply; the default shade is taken from the bare function name. */
export const kind: PaletteResolver = (name, shades) => HUES[KIND_HUES[frameKind(name)]](name, shades);

/** The default shades for `kind`: by the name without annotation. */
export function kindShade(name: string): number {
  return nameShade(stripAnnotation(name));
}
