/**
 * The frames of a large graph (more than LARGE_GRAPH_FRAMES drawn): what a browser can open in a second or two.
 * docs/dev/large-svg.md has the measurements behind it; docs/dev/svg-contract.md section 5 the format.
 *
 * - Frames at least NARROW_PX wide are written as today, one `<g><title><rect>[<text>]</g>` each (frames.ts).
 * - Narrower frames (at 160k frames, 99.7% of them) are drawn as one `<path>` per colour in `#narrowframes`:
 *   a rectangle per frame at the coordinates flamegraph.pl gives it (x and width to 0.1 px), touching
 *   rectangles of one colour in one row joined. Without script the picture is flamegraph.pl's.
 * - Every frame (wide ones too) is listed in pre-order in a compact table, `fgFrames`, in a script at the end,
 *   from which the browser script builds its model, searches, names frames and creates the elements of
 *   narrow frames when a zoom makes them wide enough.
 *
 * One pass over the rects, strings built in large pieces; the only per-frame allocations are the strings
 * of two rounded coordinates.
 */
import type { FrameWriterContext } from './frames.js';
import { frameChunks } from './frames.js';
import { fixed, perlNumber } from './format.js';
import { stripAnnotation } from './kind.js';
import type { Layout, Rect } from './layout.js';
import { DisplayNames } from './xml.js';
import { browserAsset } from '../browser-assets.js';

/** Up to this many drawn frames a graph keeps one element per frame (the differential tests' territory). */
export const LARGE_GRAPH_FRAMES = 2000;
/** Frames narrower than this (px, as printed) are drawn merged; wider ones as elements. */
export const NARROW_PX = 1;

const CHUNK_CHARS = 1 << 20;

/**
 * Whether `layout` takes the large path: above LARGE_GRAPH_FRAMES frames, and only where the browser can
 * rebuild a frame's title from the table (no differential colours or deltas, no attribute file).
 */
export function isLargeGraph(layout: Layout, differential: boolean, context: FrameWriterContext): boolean {
  return layout.rects.length > LARGE_GRAPH_FRAMES && !differential && context.attributes === undefined;
}

/**
 * The frames after `<g id="frames">`: wide frames, the close of `#frames`, `#narrowframes`, the table script.
 * The document's tail is then only `</svg>`.
 */
export function* largeFrameChunks(layout: Layout, context: FrameWriterContext): Generator<string> {
  const { rects } = layout;
  const wide: Rect[] = [];
  const names = new DisplayNames();
  // Table entries: one per (name, colour); colours deduplicated.
  const entryOf = new Map<string, number>();
  const entryNames: string[] = [];
  const entryColors: number[] = [];
  const colorOf = new Map<string, number>();
  const colors: string[] = [];

  const depthMax = layout.depthMax;
  const rows = depthMax + 1;
  // Open run per (colour, row), in tenths of a pixel; closed runs appended to parts[colour * rows + row].
  let runStart = new Int32Array(0);
  let runEnd = new Int32Array(0);
  const parts: string[] = [];
  const lastEnd = new Float64Array(rows + 1);
  // Row y as printed (from the first frame met in the row); every frame has the root's height.
  const rowY: string[] = [];
  const root = rects[0]!;
  const height = short(fixed(root.y2 - root.y1, 1));

  let table = '';
  const tableParts: string[] = [];
  let previousDepth = -1;
  let previousStart = 0;

  for (let i = 0; i < rects.length; i++) {
    const rect = rects[i]!;
    const frame = rect.frame;
    const name = names.get(frame.name);
    const fill = context.colors.color(name, undefined);
    // Colours follow names, except with --random (then the entry keeps its first frame's colour).
    let color = colorOf.get(fill);
    if (color === undefined) {
      color = colors.length;
      colorOf.set(fill, color);
      colors.push(fill);
      const grown = colors.length * rows;
      if (grown > runStart.length) {
        const size = Math.max(grown, runStart.length * 2);
        const starts = new Int32Array(size).fill(-1);
        starts.set(runStart);
        const ends = new Int32Array(size).fill(-1);
        ends.set(runEnd);
        runStart = starts;
        runEnd = ends;
      }
    }
    let entry = entryOf.get(name);
    if (entry === undefined) {
      entry = entryNames.length;
      entryOf.set(name, entry);
      entryNames.push(stripAnnotation(name));
      entryColors.push(color);
    }
    if (rowY[frame.depth] === undefined) rowY[frame.depth] = perlNumber(rect.y1);

    // Geometry as frames.ts prints it: x1 and x2 rounded to 0.1 px, the width their difference.
    const x1 = fixed(rect.x1, 1);
    const x2 = fixed(rect.x2, 1);
    const t1 = Math.round(Number(x1) * 10);
    const t2 = Math.round(Number(x2) * 10);
    const isWide = frame.depth === 0 || t2 - t1 >= NARROW_PX * 10;
    if (isWide) wide.push(rect);
    else {
      const k = color * rows + frame.depth;
      if (runEnd[k] === t1) runEnd[k] = t2;
      else {
        if (runEnd[k]! >= 0) parts[k] = (parts[k] ?? '') + runPath(runStart[k]!, runEnd[k]!, rowY[frame.depth]!, height);
        runStart[k] = t1;
        runEnd[k] = t2;
      }
    }

    // Table row: depth, gap from the expected start, weight, entry * 2 + (1 when drawn as an element).
    const depth = frame.depth;
    const start = frame.start;
    const expected = depth > previousDepth ? previousStart : lastEnd[depth]!;
    const weight = (depth === 0 ? context.total : frame.end) - start;
    lastEnd[depth] = start + weight;
    previousDepth = depth;
    previousStart = start;
    const gap = start - expected;
    table += `${depth},${gap === 0 ? '0' : perlNumber(gap)},${perlNumber(weight)},${entry * 2 + (isWide ? 1 : 0)},`;
    if (table.length >= CHUNK_CHARS) {
      tableParts.push(table);
      table = '';
    }
  }
  tableParts.push(table);

  yield* frameChunks({ ...layout, rects: wide }, context);

  // Close the last run of every (colour, row), then one path per colour, rows in order.
  let narrow = '</g>\n<g id="narrowframes">\n';
  for (let c = 0; c < colors.length; c++) {
    let d = '';
    for (let row = 0; row < rows; row++) {
      const k = c * rows + row;
      if (runEnd[k]! >= 0) parts[k] = (parts[k] ?? '') + runPath(runStart[k]!, runEnd[k]!, rowY[row]!, height);
      if (parts[k] !== undefined) d += parts[k];
    }
    if (d !== '') narrow += `<path fill="${colors[c]}" d="${d}"/>\n`;
    if (narrow.length >= CHUNK_CHARS) {
      yield narrow;
      narrow = '';
    }
  }
  yield `${narrow}</g>\n`;

  const header = {
    v: 1,
    factor: context.options.factor,
    names: entryNames,
    colors,
    entryColors,
  };
  // The frames as one string literal: compiled in no time, decoded when first needed (an array literal of
  // 640k numbers took 190 ms to compile at 160k frames, during load).
  yield `<script type="text/ecmascript"><![CDATA[var fgFrames = ${safeJson(header).slice(0, -1)},"frames":"`;
  for (let p = 0; p < tableParts.length; p++) {
    const last = p === tableParts.length - 1;
    yield last ? tableParts[p]!.slice(0, -1) : tableParts[p]!;
  }
  // The script that reads the table comes with it (small graphs do without it).
  yield `"};\n${browserAsset('flamegraph', 'flamegraph-large.js')}]]></script>\n`;
}

/** One rectangle: absolute move (so parts concatenate in any order), then relative sides. */
function runPath(t1: number, t2: number, y: string, height: string): string {
  const w = (t2 - t1) / 10;
  return `M${t1 / 10} ${y}h${w}v${height}h-${w}z`;
}

/** "10.0" → "10", "13.50" → "13.5". */
function short(text: string): string {
  if (!text.includes('.')) return text;
  let end = text.length;
  while (text.charCodeAt(end - 1) === 0x30) end--;
  if (text.charCodeAt(end - 1) === 0x2e) end--;
  return text.slice(0, end);
}

/** JSON that cannot close the CDATA section or form markup. */
function safeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
