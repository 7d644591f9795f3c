/**
 * The frame elements: one `<g>` (or `<a>` for a linked frame) per drawn frame, with flamegraph.pl's
 * `<title>`, `<rect>` and `<text>`, plus the `fg:x`/`fg:w` sample attributes of the SVG contract.
 *
 * Written as strings, not through xmlbuilder2: building 200k frames with xmlbuilder2 took 13.0 s plus
 * 7.6 s to serialise and 1.86 GB of memory (measured on this machine, Node 20, 2026-11-25), against
 * well under a second here. Safety does not depend on the builder: every name goes through
 * displayName (UTF-8 decoding, XML-forbidden characters replaced) and escapeText/escapeAttribute.
 */
import type { FrameColors } from './color.js';
import { deltaPercent } from './differential.js';
import { fixed, perlNumber, withCommas } from './format.js';
import { stripAnnotation } from './kind.js';
import type { Layout, Rect } from './layout.js';
import type { ResolvedFlamegraphOptions } from './options.js';
import type { FrameAttributes, NameAttributes } from './attrs.js';
import { DisplayNames, escapeAttribute, escapeText, xmlSafe } from './xml.js';

/** Frames are handed out in chunks of about this many characters (fewer, larger writes). */
const CHUNK_CHARS = 1 << 20;

type FrameOptions = Pick<
  ResolvedFlamegraphOptions,
  'fontsize' | 'fontwidth' | 'countname' | 'factor' | 'negate'
>;

export interface FrameWriterContext {
  options: FrameOptions;
  /** The scale's total (the root's width in count units). */
  total: number;
  colors: FrameColors;
  attributes: NameAttributes | undefined;
}

/** What a frame's text needs from its name, worked out once per distinct name (a graph repeats them). */
interface NameParts {
  /** The display name (UTF-8 decoded, XML-safe), annotation included: it picks the colour. */
  display: string;
  /** Without the collapser's annotation: what titles and labels show. */
  bare: string;
  /** `bare`, escaped for element text. */
  escaped: string;
  /** `bare` has astral characters: labels count code points, not UTF-16 units. */
  astral: boolean;
}

/** The frame elements of `layout`, in chunks of text. */
export function* frameChunks(layout: Layout, context: FrameWriterContext): Generator<string> {
  const names = new DisplayNames();
  const parts = new Map<string, NameParts>();
  const partsOf = (raw: string): NameParts => {
    let found = parts.get(raw);
    if (found === undefined) {
      const display = names.get(raw);
      const bare = stripAnnotation(display);
      found = { display, bare, escaped: escapeText(bare), astral: ASTRAL.test(bare) };
      parts.set(raw, found);
    }
    return found;
  };
  const writer = new FrameWriter(context);
  let chunk = '';
  for (const rect of layout.rects) {
    chunk += writer.element(rect, partsOf(rect.frame.name));
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}

const ASTRAL = /[\ud800-\udfff]/;

/** Writes one frame's element; what depends only on the depth (y, height) is formatted once per depth. */
class FrameWriter {
  private readonly labelCharWidth: number;
  /** ` samples`: the count's unit, escaped once. */
  private readonly countSuffix: string;
  private readonly scaledTotal: number;
  /** By depth: the rect's y and height, the label's y, as printed. */
  private readonly rectY: string[] = [];
  private readonly rectHeight: string[] = [];
  private readonly textY: string[] = [];

  constructor(private readonly context: FrameWriterContext) {
    const { fontsize, fontwidth, countname, factor } = context.options;
    this.labelCharWidth = fontsize * fontwidth;
    this.countSuffix = ` ${escapeText(xmlSafe(countname))}`;
    this.scaledTotal = context.total * factor;
  }

  element(rect: Rect, name: NameParts): string {
    const { frame } = rect;
    const depth = frame.depth;
    const isRoot = depth === 0;
    const attributes = isRoot ? undefined : this.context.attributes?.get(name.display);
    const attributeTitle = attributes?.get('title');
    const title = attributeTitle ? escapeText(xmlSafe(attributeTitle)) : this.tooltip(rect, name);
    const fill = this.context.colors.color(name.display, frame.delta);

    // Rounded as flamegraph.pl prints them: x to 0.1 px, width from the rounded ends.
    const x1 = fixed(rect.x1, 1);
    const x2 = fixed(rect.x2, 1);
    const width = fixed(Number(x2) - Number(x1), 1);
    const y = this.rectY[depth] ?? this.depthStrings(rect);
    const start = frame.start;
    const weight = (isRoot ? this.context.total : frame.end) - start;
    let element =
      `${attributes ? openTag(attributes) : '<g>'}<title>${title}</title>` +
      `<rect x="${short(x1)}" y="${y}" width="${short(width)}" height="${this.rectHeight[depth]}" ` +
      // Rounded corners (flamegraph.pl's rx="2" ry="2") come from flamegraph.css: 16 bytes less per frame.
      `fill="${fill}" fg:x="${perlNumber(start)}" fg:w="${perlNumber(weight)}"/>`;
    const label = isRoot ? '' : labelOf(name, Math.trunc((rect.x2 - rect.x1) / this.labelCharWidth));
    if (label !== '') element += `<text x="${short(fixed(rect.x1 + 3, 2))}" y="${this.textY[depth]}">${label}</text>`;
    return `${element}${attributes?.has('href') ? '</a>' : '</g>'}\n`;
  }

  /** `NAME (1,234 samples, 5.67%)`, `; +1.23%` added for a differential frame, `all (…, 100%)` for the root; escaped. */
  private tooltip(rect: Rect, name: NameParts): string {
    const { frame } = rect;
    const { factor, negate } = this.context.options;
    const end = frame.depth === 0 ? this.context.total : frame.end;
    const width = frame.depth !== 0 && frame.samples !== undefined ? frame.samples : end - frame.start;
    const samples = fixed(width * factor, 0);
    const count = withCommas(samples) + this.countSuffix;
    if (frame.depth === 0) return `all (${count}, 100%)`;
    const percent = fixed((100 * Number(samples)) / this.scaledTotal, 2);
    if (frame.delta === undefined) return `${name.escaped} (${count}, ${percent}%)`;
    return `${name.escaped} (${count}, ${percent}%; ${deltaPercent(frame.delta, negate, this.scaledTotal)}%)`;
  }

  private depthStrings(rect: Rect): string {
    const depth = rect.frame.depth;
    const y = perlNumber(rect.y1);
    this.rectY[depth] = y;
    this.rectHeight[depth] = short(fixed(rect.y2 - rect.y1, 1));
    this.textY[depth] = perlNumber(3 + (rect.y1 + rect.y2) / 2);
    return y;
  }
}

/** The label of a frame `chars` characters wide, escaped: a whole name is escaped once per name. */
function labelOf(name: NameParts, chars: number): string {
  const cut = cutLabel(name.bare, name.astral, chars);
  return cut === undefined ? name.escaped : escapeText(cut);
}

/** The name cut to `chars` characters, ending in ".." when cut; empty below 3 (one char and two dots). */
export function labelFor(name: string, chars: number): string {
  const bare = stripAnnotation(name);
  return cutLabel(bare, ASTRAL.test(bare), chars) ?? bare;
}

/** `bare` cut to `chars` characters with ".." ('' below 3), or undefined when it fits whole. */
function cutLabel(bare: string, astral: boolean, chars: number): string | undefined {
  if (chars < 3) return '';
  // Perl counts characters (code points); UTF-16 length differs only with astral characters.
  const characters = astral ? Array.from(bare) : undefined;
  const length = characters ? characters.length : bare.length;
  if (chars >= length) return undefined;
  const kept = characters ? characters.slice(0, chars - 2).join('') : bare.slice(0, chars - 2);
  return `${kept}..`;
}

/** `<g …>` or, for a frame with `href`, `<a xlink:href=… target=…>` as flamegraph.pl does. */
function openTag(attributes: FrameAttributes | undefined): string {
  if (!attributes || attributes.size === 0) return '<g>';
  const parts: string[] = [];
  const link = attributes.get('href');
  for (const [name, value] of attributes) {
    if (name === 'title' || name === 'href' || name === 'target') continue;
    if (name === 'g_extra' || name === 'a_extra') {
      for (const [extraName, extraValue] of extraAttributes(value)) parts.push(attribute(extraName, extraValue));
      continue;
    }
    parts.push(attribute(name, value));
  }
  if (link === undefined) return `<g ${parts.join(' ')}>`.replace(' >', '>');
  parts.unshift(attribute('xlink:href', link), attribute('target', attributes.get('target') || '_top'));
  return `<a ${parts.join(' ')}>`;
}

function attribute(name: string, value: string): string {
  return `${name}="${escapeAttribute(xmlSafe(value))}"`;
}

/** flamegraph.pl pastes `g_extra`/`a_extra` raw into the tag; we accept only `name="value"` pairs. */
function extraAttributes(text: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const match of text.matchAll(/([A-Za-z_][\w.-]*)\s*=\s*"([^"]*)"/g)) {
    if (!/^on/i.test(match[1]!)) pairs.push([match[1]!, match[2]!]);
  }
  return pairs;
}

/** "10.0" → "10", "13.50" → "13.5": the contract asks for short numbers (file size). */
export function short(text: string): string {
  if (!text.includes('.')) return text;
  let end = text.length;
  while (text.charCodeAt(end - 1) === 0x30) end--;
  if (text.charCodeAt(end - 1) === 0x2e) end--;
  const result = text.slice(0, end);
  return result === '-0' ? '0' : result;
}
