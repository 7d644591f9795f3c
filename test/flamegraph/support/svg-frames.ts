/**
 * Reading frames back out of a flame graph SVG, ours or flamegraph.pl's: the `<g>`/`<a>` elements with a
 * `<title>`, a `<rect>` and an optional `<text>`. Numbers are parsed, so "10.0" and "10" compare equal.
 */

export interface SvgFrame {
  title: string;
  x: number;
  y: number;
  width: number;
  height: number;
  fill: string;
  /** '' when the frame has no label (flamegraph.pl writes an empty <text>, we omit it). */
  label: string;
  labelX: number | undefined;
  labelY: number | undefined;
  /** Our sample-unit attributes (absent in flamegraph.pl's output). */
  fgX: string | undefined;
  fgW: string | undefined;
  /** Attributes of the frame element itself. */
  attributes: Record<string, string>;
  element: string;
}

const FRAME =
  /<(g|a)\b([^>]*)>\s*<title>([^<]*)<\/title>\s*<rect\b([^>]*?)\/>\s*(?:<text\b([^>]*)>([^<]*)<\/text>\s*)?<\/\1>/g;
const ATTRIBUTE = /([\w:-]+)="([^"]*)"/g;

export function parseSvgFrames(svg: string): SvgFrame[] {
  const start = svg.indexOf('<g id="frames">');
  const body = start === -1 ? svg : svg.slice(start + '<g id="frames">'.length);
  const frames: SvgFrame[] = [];
  for (const match of body.matchAll(FRAME)) {
    const rect = attributes(match[4]!);
    const text = match[5] === undefined ? undefined : attributes(match[5]);
    frames.push({
      element: match[1]!,
      attributes: attributes(match[2]!),
      title: decodeEntities(match[3]!),
      x: Number(rect.x),
      y: Number(rect.y),
      width: Number(rect.width),
      height: Number(rect.height),
      fill: rect.fill ?? '',
      label: decodeEntities(match[6] ?? ''),
      labelX: text && match[6] ? Number(text.x) : undefined,
      labelY: text && match[6] ? Number(text.y) : undefined,
      fgX: rect['fg:x'],
      fgW: rect['fg:w'],
    });
  }
  return frames;
}

export function attributes(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const match of text.matchAll(ATTRIBUTE)) result[match[1]!] = decodeEntities(match[2]!);
  return result;
}

export function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, entity: string) => {
    switch (entity) {
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default:
        return String.fromCodePoint(entity[1] === 'x' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10));
    }
  });
}

/** The `<svg>` element's width and height. */
export function svgSize(svg: string): { width: number; height: number } {
  const open = /<svg\b([^>]*)>/.exec(svg);
  const attrs = attributes(open?.[1] ?? '');
  return { width: Number(attrs.width), height: Number(attrs.height) };
}

/** A stable order for comparing two frame lists: by y, then x, then title. */
export function byPosition(a: SvgFrame, b: SvgFrame): number {
  return a.y - b.y || a.x - b.x || (a.title < b.title ? -1 : a.title > b.title ? 1 : 0);
}

/**
 * Frames drawn, merged ones included: a large graph (src/flamegraph/frames-large.ts) lists every frame in its
 * `fgFrames` table (four numbers per frame) and gives only the wider ones elements.
 */
export function drawnFrameCount(svg: string): number {
  const table = /"frames":"([^"]*)"/.exec(svg);
  return table ? table[1]!.split(',').length / 4 : parseSvgFrames(svg).length;
}
