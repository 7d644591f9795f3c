/**
 * The SVG document around the frames, as docs/dev/svg-contract.md lays it out: prolog, gradient, the
 * browser's CSS and script (embedded verbatim from src/flamegraph/browser/), its config, the title and
 * control texts, an optional legend, then `<g id="frames">`. Written with XmlWriter (see there for why
 * not xmlbuilder2); the frames themselves are written by frames.ts.
 *
 * The document references nothing outside itself: no DOCTYPE (its DTD would be an external
 * reference, and no browser or script needs it), no external fonts or images.
 */
import { browserAsset } from '../browser-assets.js';
import { perlNumber } from './format.js';
import { XPAD, paddings } from './layout.js';
import { legendItems } from './legend.js';
import type { ResolvedFlamegraphOptions } from './options.js';
import { XmlWriter } from './xml-writer.js';
import { scriptSafeJson, xmlSafe } from './xml.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const XLINK_NS = 'http://www.w3.org/1999/xlink';
/** Namespace of the per-frame sample attributes (`fg:x`, `fg:w`) the browser script reads. */
export const FG_NS = 'urn:irisflame:fg';
const SEARCH_COLOR = 'rgb(230,0,230)';

export interface DocumentShape {
  imageHeight: number;
  /** The root's sample count (the scale's total, unscaled by `factor`). */
  total: number;
  /** Draw the kind legend (the `kind` palette on a non-differential graph). */
  legend: boolean;
}

/** The document before and after the frames: `head + frames + tail` is the whole SVG. */
export function documentShell(options: ResolvedFlamegraphOptions, shape: DocumentShape): { head: string; tail: string } {
  const { width, fontsize } = options;
  const height = perlNumber(shape.imageHeight);
  const pad = paddings(fontsize);
  const svg = new XmlWriter().declaration(options.encoding);
  svg.start('svg', {
    version: '1.1',
    width: perlNumber(width),
    height,
    viewBox: `0 0 ${perlNumber(width)} ${height}`,
    xmlns: SVG_NS,
    'xmlns:xlink': XLINK_NS,
    'xmlns:fg': FG_NS,
  });
  svg.newline().comment(' Flame graph stack visualization, written by irisflame (flamegraph.pl compatible). ');
  svg.newline().comment(` NOTES: ${options.notes} `).newline();
  svg.start('defs').start('linearGradient', { id: 'background', y1: 0, y2: 1, x1: 0, x2: 0 });
  svg.element('stop', { 'stop-color': options.background.from, offset: '5%' });
  svg.element('stop', { 'stop-color': options.background.to, offset: '95%' });
  svg.end().end().newline();
  const fontRule = `\ntext{font-family:${options.fonttype};font-size:${fontsize}px}\n`;
  svg.start('style', { type: 'text/css' }).cdata(browserFile('flamegraph.css') + fontRule).end().newline();
  svg.start('script', { type: 'text/ecmascript' }).cdata(`var fgConfig = ${configJson(options, shape)};`).end().newline();
  // The script comes in two files, concatenated in this order (docs/dev/svg-contract.md).
  const script = browserFile('flamegraph-lib.js') + browserFile('flamegraph.js');
  svg.start('script', { type: 'text/ecmascript' }).cdata(script).end().newline();
  svg.element('rect', { x: 0, y: 0, width: perlNumber(width), height, fill: 'url(#background)' }).newline();
  // Positions as flamegraph.pl computes and prints them.
  const center = perlNumber(Math.trunc(width / 2));
  const topLine = perlNumber(fontsize * 2);
  const bottomLine = perlNumber(shape.imageHeight - pad.bottom / 2);
  const searchX = perlNumber(width - XPAD - 100);
  svg.element('text', { id: 'title', x: center, y: topLine }, options.title).newline();
  if (options.subtitle !== '') {
    svg.element('text', { id: 'subtitle', x: center, y: perlNumber(fontsize * 4) }, options.subtitle).newline();
  }
  svg.element('text', { id: 'details', x: XPAD, y: bottomLine }, ' ').newline();
  svg.element('text', { id: 'unzoom', x: XPAD, y: topLine, class: 'hide' }, 'Reset Zoom').newline();
  svg.element('text', { id: 'search', x: searchX, y: topLine }, 'Search').newline();
  svg.element('text', { id: 'ignorecase', x: perlNumber(width - XPAD - 16), y: topLine }, 'ic').newline();
  svg.element('text', { id: 'matched', x: searchX, y: bottomLine }, ' ').newline();
  if (shape.legend) drawLegend(svg, options);
  svg.start('g', { id: 'frames' }).newline();
  return { head: svg.toString(), tail: `${svg.closing()}\n` };
}

/** The config object the browser script reads; `<`, `>`, `&` escaped so no markup can form. */
function configJson(options: ResolvedFlamegraphOptions, shape: DocumentShape): string {
  const config = {
    width: options.width,
    xpad: XPAD,
    fontsize: options.fontsize,
    fontwidth: options.fontwidth,
    frameheight: options.height,
    inverted: options.inverted,
    total: shape.total,
    searchcolor: SEARCH_COLOR,
    nametype: xmlSafe(options.nametype),
    countname: xmlSafe(options.countname),
    minwidth: options.minwidth.percent ? undefined : options.minwidth.value,
  };
  return scriptSafeJson(config);
}

function drawLegend(svg: XmlWriter, options: ResolvedFlamegraphOptions): void {
  const items = legendItems(options);
  if (items.length === 0) return;
  svg.start('g', { id: 'legend' });
  for (const item of items) {
    svg.element('rect', { x: item.x, y: item.y - item.size, width: item.size, height: item.size, fill: item.color, rx: 2, ry: 2 });
    // A style attribute, since the stylesheet's `text` rule would override a font-size attribute.
    const style = `font-size:${item.fontsize}px`;
    svg.element('text', { x: item.x + item.size + 3, y: item.y, style }, item.label);
  }
  svg.end().newline();
}

/** This stage's browser files, embedded verbatim. */
function browserFile(name: string): string {
  return browserAsset('flamegraph', name);
}
