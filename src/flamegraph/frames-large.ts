/**
 * The frames of a large graph (more than LARGE_GRAPH_FRAMES drawn): what a browser can open in a second or two.
 * docs/dev/large-svg.md has the measurements behind it; docs/dev/svg-contract.md section 5 the format.
 *
 * - Frames at least NARROW_PX wide are written as today, one `<g><title><rect>[<text>]</g>` each (frames.ts),
 *   unless there are more than ELEMENT_BUDGET of them: then only frames wide enough for a label (3 characters).
 * - Narrower frames (at 160k frames, 99.7% of them) are drawn as one `<path>` per colour in `#narrowframes`:
 *   a rectangle per frame at the coordinates flamegraph.pl gives it (x and width to 0.1 px), touching rectangles
 *   of one colour in one row joined. Square corners, also from NARROW_PX on (over the budget): flamegraph.pl's
 *   2 px rounding as four arcs doubled the path's segments, and Firefox spent about twice as long parsing and
 *   painting them (docs/benchmarks.md, "Firefox's first frame"); frames too narrow for a label show little of it.
 *   Without script the picture is otherwise flamegraph.pl's.
 * - Every frame (wide ones too) is listed in pre-order in a compact table, a JSON data block (`#fgframes`) at
 *   the end, from which the browser script builds its model (after the first paint), searches, names frames and
 *   creates the elements of narrow frames when a zoom makes them wide enough.
 *
 * One pass over the rects, strings built in large pieces; the only per-frame allocations are the strings
 * of two rounded coordinates.
 */
import type { FrameWriterContext } from './frames.js';
import { frameChunks, short } from './frames.js';
import { fixed, perlNumber } from './format.js';
import { stripAnnotation } from './kind.js';
import type { Layout, Rect } from './layout.js';
import { DisplayNames, scriptSafeJson } from './xml.js';
import { browserAsset } from '../browser-assets.js';

/** Up to this many drawn frames a graph keeps one element per frame (the differential tests' territory). */
export const LARGE_GRAPH_FRAMES = 2000;
/** Frames narrower than this (px, as printed) never get an element: they are drawn merged in `#narrowframes`. */
export const NARROW_PX = 1;
/**
 * Up to this many frames of NARROW_PX or more, each is an element; beyond, only frames wide enough for a label
 * (4,000 elements open in about half a second; 10k took 2-3 s in Chromium, 4-6 s in Firefox).
 */
export const ELEMENT_BUDGET = 4000;

function pointableFrames(rects: readonly Rect[]): number {
  let n = 0;
  for (const rect of rects) if (tenths(rect.x2) - tenths(rect.x1) >= NARROW_PX * 10) n++;
  return n;
}

const CHUNK_CHARS = 1 << 20;

/**
 * Whether `layout` takes the large path: above LARGE_GRAPH_FRAMES frames, and only where the browser can
 * rebuild a frame's title from the table (no differential colours or deltas, no attribute file).
 */
export function isLargeGraph(layout: Layout, differential: boolean, context: FrameWriterContext): boolean {
  return layout.rects.length > LARGE_GRAPH_FRAMES && !differential && context.attributes === undefined;
}

/**
 * The frames after `<g id="frames">`: wide frames, the close of `#frames`, `#narrowframes`, the table and its script.
 * The document's tail is then only `</svg>`.
 */
export function* largeFrameChunks(layout: Layout, context: FrameWriterContext): Generator<string> {
  const { rects } = layout;
  const wide: Rect[] = [];
  const names = new DisplayNames();
  // Table entries: one per display name; colours deduplicated.
  const entryOf = new Map<string, number>();
  const entryNames: string[] = [];
  const entryColors: number[] = [];
  const colorOf = new Map<string, number>();
  const colors: string[] = [];

  const rows = layout.depthMax + 1;
  // The open run of each (colour, row), in tenths of a pixel (-1: none); closed runs go to `runs`.
  let runStart = new Int32Array(0);
  let runEnd = new Int32Array(0);
  const runs = new RunList();
  const labelTenths = Math.ceil(3 * context.options.fontsize * context.options.fontwidth * 10);
  const elementTenths = pointableFrames(rects) <= ELEMENT_BUDGET ? NARROW_PX * 10 : labelTenths;
  const lastEnd = new Float64Array(rows + 1);
  // Row y as printed (from the first frame met in the row); every frame has the root's height.
  const rowY: string[] = new Array<string>(rows).fill('');
  const root = rects[0]!;
  const height = short(fixed(root.y2 - root.y1, 1));

  const table = new AsciiWriter(rects.length * 12);
  let previousDepth = -1;
  let previousStart = 0;

  for (let i = 0; i < rects.length; i++) {
    const rect = rects[i]!;
    const frame = rect.frame;
    const depth = frame.depth;
    const name = names.get(frame.name);
    const fill = context.colors.color(name, undefined);
    // Colours follow names, except with --random (then the entry keeps its first frame's colour).
    let color = colorOf.get(fill);
    if (color === undefined) {
      color = colors.length;
      colorOf.set(fill, color);
      colors.push(fill);
      if (colors.length * rows > runStart.length) {
        const size = Math.max(colors.length * rows, runStart.length * 2);
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
    if (rowY[depth] === '') rowY[depth] = perlNumber(rect.y1);

    // Geometry as frames.ts prints it: x1 and x2 rounded to 0.1 px (C's %.1f), the width their difference.
    const t1 = tenths(rect.x1);
    const t2 = tenths(rect.x2);
    const isWide = depth === 0 || t2 - t1 >= elementTenths;
    if (isWide) wide.push(rect);
    else {
      const k = color * rows + depth;
      if (runEnd[k] === t1) runEnd[k] = t2;
      else {
        if (runEnd[k]! >= 0) runs.add(k, runStart[k]!, runEnd[k]!);
        runStart[k] = t1;
        runEnd[k] = t2;
      }
    }

    // Table row: depth, gap from the expected start, weight, entry * 2 + (1 when drawn as an element).
    const start = frame.start;
    const expected = depth > previousDepth ? previousStart : lastEnd[depth]!;
    const weight = (depth === 0 ? context.total : frame.end) - start;
    lastEnd[depth] = start + weight;
    previousDepth = depth;
    previousStart = start;
    table.number(depth);
    table.byte(COMMA);
    table.number(start - expected);
    table.byte(COMMA);
    table.number(weight);
    table.byte(COMMA);
    table.number(entry * 2 + (isWide ? 1 : 0));
    table.byte(COMMA);
  }
  for (let k = 0; k < runEnd.length; k++) if (runEnd[k]! >= 0) runs.add(k, runStart[k]!, runEnd[k]!);

  yield* frameChunks({ ...layout, rects: wide }, context);

  // One path per colour: its runs by row, left to right (runs of one key were added in x order).
  yield '</g>\n<g id="narrowframes">\n';
  const keys = colors.length * rows;
  const order = runs.sortedByKey(keys);
  const out = new AsciiWriter(1 << 20);
  let r = 0;
  for (let color = 0; color < colors.length; color++) {
    const inColor = (i: number) => i < order.length && Math.floor(runs.key[order[i]!]! / rows) === color;
    if (!inColor(r)) continue;
    out.ascii(`<path fill="${colors[color]}" d="`);
    for (; inColor(r); r++) {
      const run = order[r]!;
      const w = runs.end[run]! - runs.start[run]!;
      out.byte(0x4d); // M
      out.tenths(runs.start[run]!);
      out.byte(0x20);
      out.ascii(rowY[runs.key[run]! % rows]!);
      out.byte(0x68); // h
      out.tenths(w);
      out.byte(0x76); // v
      out.ascii(height);
      out.ascii('h-');
      out.tenths(w);
      out.byte(0x7a); // z
    }
    out.ascii('"/>\n');
    if (out.length >= CHUNK_CHARS) yield out.take();
  }
  out.ascii('</g>\n');
  yield out.take();

  // The table is a JSON data block, parsed by the page only when first needed (after the first paint): as a
  // script, its literals were compiled during load (an array literal of 640k numbers took 190 ms at 160k frames in
  // Chromium; 20k names and the frames as one string 50-200 ms in Firefox, against 30 ms to read the same text).
  // Per-frame and per-name data as strings (fewer bytes); names are joined with a line feed, which no frame name
  // holds (names come from lines of folded text).
  const header = {
    v: 2, factor: context.options.factor, colors,
    names: entryNames.map((name) => name.replaceAll('\n', '\ufffd')).join('\n'), entryColors: entryColors.join(','),
  };
  yield `<script type="application/json" id="fgframes"><![CDATA[${scriptSafeJson(header).slice(0, -1)},"frames":"`;
  table.trimLast();
  yield table.take();
  // The script that reads the table comes with it (small graphs do without it).
  yield `"}]]></script>\n<script type="text/ecmascript"><![CDATA[${browserAsset('flamegraph', 'flamegraph-large.js')}]]></script>\n`;
}

const COMMA = 0x2c;

/** `value` rounded to tenths as C's %.1f rounds it (ties to even on the exact binary value), times ten. */
function tenths(value: number): number {
  const scaled = value * 10;
  // Only a product within rounding error of a half can round differently from the exact value: ask fixed().
  if (Math.abs(Math.abs(scaled - Math.trunc(scaled)) - 0.5) > 1e-7) return Math.round(scaled);
  return Math.round(Number(fixed(value, 1)) * 10);
}

/** Closed runs of narrow frames: key (colour * rows + row), start and end in tenths of a pixel. */
class RunList {
  key: Int32Array = new Int32Array(1024);
  start: Int32Array = new Int32Array(1024);
  end: Int32Array = new Int32Array(1024);
  length = 0;

  add(key: number, start: number, end: number): void {
    if (this.length === this.key.length) {
      this.key = grown(this.key);
      this.start = grown(this.start);
      this.end = grown(this.end);
    }
    this.key[this.length] = key;
    this.start[this.length] = start;
    this.end[this.length] = end;
    this.length++;
  }

  /** Run indices ordered by key, keeping the order of addition within a key (a counting sort). */
  sortedByKey(keys: number): Int32Array {
    const first = new Int32Array(keys + 1);
    for (let i = 0; i < this.length; i++) first[this.key[i]! + 1]!++;
    for (let k = 0; k < keys; k++) first[k + 1]! += first[k]!;
    const order = new Int32Array(this.length);
    for (let i = 0; i < this.length; i++) order[first[this.key[i]!]!++] = i;
    return order;
  }
}

function grown(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/** ASCII text built in a growing byte buffer: numbers written digit by digit, no intermediate strings. */
class AsciiWriter {
  private buffer: Buffer;
  length = 0;

  constructor(capacity: number) {
    this.buffer = Buffer.allocUnsafe(Math.max(capacity, 1024));
  }

  private room(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }

  byte(code: number): void {
    this.room(1);
    this.buffer[this.length++] = code;
  }

  /** Latin1/ASCII text only (numbers, colours, the CDATA-safe JSON head). */
  ascii(text: string): void {
    this.room(text.length);
    this.length += this.buffer.write(text, this.length, 'latin1');
  }

  /** A non-negative integer up to 2^53 digit by digit; anything else as Perl prints it. */
  number(value: number): void {
    if (!(value >= 0 && value <= Number.MAX_SAFE_INTEGER && Number.isInteger(value))) {
      this.ascii(perlNumber(value));
      return;
    }
    this.room(16);
    if (value < 10) {
      this.buffer[this.length++] = 0x30 + value;
      return;
    }
    let digits = 0;
    for (let v = value; v >= 1; v = Math.floor(v / 10)) digits++;
    let at = this.length + digits;
    this.length = at;
    for (let v = value; v >= 1; v = Math.floor(v / 10)) this.buffer[--at] = 0x30 + (v % 10);
  }

  /** Tenths as a decimal: 123 → "12.3", 120 → "12". */
  tenths(value: number): void {
    if (value < 0) {
      this.byte(0x2d);
      value = -value;
    }
    this.number(Math.floor(value / 10));
    const digit = value % 10;
    if (digit !== 0) {
      this.room(2);
      this.buffer[this.length++] = 0x2e;
      this.buffer[this.length++] = 0x30 + digit;
    }
  }

  trimLast(): void {
    if (this.length > 0) this.length--;
  }

  /** The text so far, and start over. */
  take(): string {
    const text = this.buffer.toString('latin1', 0, this.length);
    this.length = 0;
    return text;
  }
}
