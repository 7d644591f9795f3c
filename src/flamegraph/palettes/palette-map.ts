/**
 * The consistent palette file (`--cp`, flamegraph.pl's palette.map): one `name->rgb(r,g,b)` per line.
 * Read before drawing (a missing file is an empty map), extended with every colour drawn, and written
 * back sorted by name, so a function keeps its colour from one graph to the next.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { IrisflameError } from '../../errors.js';

export type PaletteMap = Map<string, string>;

const ARROW = '->';

export function readPaletteMap(path: string): PaletteMap {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException)?.code === 'ENOENT') return new Map();
    throw new IrisflameError('PALETTE', `cannot read palette file ${path}: ${reason(error)}`, {
      hint: 'fix its permissions, or remove it to start a new palette',
      cause: error,
    });
  }
  return parsePaletteMap(text);
}

/** A colour we are willing to paste into a `fill` attribute. */
const COLOR = /^(?:rgb\(\d{1,3},\d{1,3},\d{1,3}\)|#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?)$/;

/**
 * Lines without `->` are skipped; after the first `->` comes the colour (up to a second `->`). Entries
 * whose colour is not `rgb(r,g,b)` or `#rrggbb` are dropped (and get a fresh colour), so an edited
 * file cannot inject markup.
 */
export function parsePaletteMap(text: string): PaletteMap {
  const map: PaletteMap = new Map();
  for (const line of text.split('\n')) {
    const arrow = line.indexOf(ARROW);
    if (arrow === -1) continue;
    const rest = line.slice(arrow + ARROW.length);
    const next = rest.indexOf(ARROW);
    const color = next === -1 ? rest : rest.slice(0, next);
    if (COLOR.test(color)) map.set(line.slice(0, arrow), color);
  }
  return map;
}

export function formatPaletteMap(map: PaletteMap): string {
  const names = [...map.keys()].sort(byCodePoint);
  return names.map((name) => `${name}${ARROW}${map.get(name)}\n`).join('');
}

/** Written to a temporary file and renamed, so a crash never leaves half a palette. */
export function writePaletteMap(path: string, map: PaletteMap): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, formatPaletteMap(map));
    renameSync(temporary, path);
  } catch (error) {
    throw new IrisflameError('PALETTE', `cannot write palette file ${path}: ${reason(error)}`, {
      hint: 'choose a writable location with --palette-file',
      cause: error,
    });
  }
}

/** Perl's `sort` on decoded strings: by code point (not UTF-16 unit). */
function byCodePoint(a: string, b: string): number {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return Buffer.compare(left, right);
}

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return (error as Error)?.message ?? String(error);
}
