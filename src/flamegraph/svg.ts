/**
 * The SVG document around the frames, as docs/dev/svg-contract.md lays it out: prolog, gradient, the
 * browser's CSS and script (embedded verbatim from src/flamegraph/browser/), its config, the title and
 * control texts, an optional legend, then `<g id="frames">`. Built with xmlbuilder2; the frames
 * themselves are written by frames.ts (see there for why not through xmlbuilder2).
 *
 * The document references nothing outside itself: no DOCTYPE (its DTD would be an external
 * reference, and no browser or script needs it), no external fonts or images.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';
import { IrisflameError } from '../errors.js';
import { perlNumber } from './format.js';
import { XPAD, paddings } from './layout.js';
import { legendItems } from './legend.js';
import type { ResolvedFlamegraphOptions } from './options.js';
import { commentSafe, xmlSafe } from './xml.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';
const XLINK_NS = 'http://www.w3.org/1999/xlink';
/** Namespace of the per-frame sample attributes (`fg:x`, `fg:w`) the browser script reads. */
export const FG_NS = 'urn:irisflame:fg';
const SEARCH_COLOR = 'rgb(230,0,230)';
const FRAMES_MARKER = 'IRISFLAME-FRAMES';

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
  const height = shape.imageHeight;
  const pad = paddings(fontsize);
  const prolog: { version: '1.0'; standalone: false; encoding?: string } = { version: '1.0', standalone: false };
  if (options.encoding !== undefined) prolog.encoding = options.encoding;
  const svg = create(prolog)
    .ele(SVG_NS, 'svg', { version: '1.1', width: perlNumber(width), height: perlNumber(height) })
    .att('viewBox', `0 0 ${perlNumber(width)} ${perlNumber(height)}`)
    .att(XMLNS_NS, 'xmlns:xlink', XLINK_NS)
    .att(XMLNS_NS, 'xmlns:fg', FG_NS);
  svg.com(' Flame graph stack visualization, written by irisflame (flamegraph.pl compatible). ');
  svg.com(` NOTES: ${commentSafe(options.notes)} `);
  const gradient = svg.ele('defs').ele('linearGradient', { id: 'background', y1: '0', y2: '1', x1: '0', x2: '0' });
  gradient.ele('stop', { 'stop-color': options.background.from, offset: '5%' });
  gradient.ele('stop', { 'stop-color': options.background.to, offset: '95%' });
  const fontRule = `\ntext{font-family:${options.fonttype};font-size:${fontsize}px}\n`;
  cdata(svg.ele('style', { type: 'text/css' }), browserFile('flamegraph.css') + fontRule);
  cdata(svg.ele('script', { type: 'text/ecmascript' }), `var fgConfig = ${configJson(options, shape)};`);
  cdata(svg.ele('script', { type: 'text/ecmascript' }), browserFile('flamegraph.js'));
  svg.ele('rect', { x: '0', y: '0', width: perlNumber(width), height: perlNumber(height), fill: 'url(#background)' });
  // Positions as flamegraph.pl computes and prints them.
  const center = perlNumber(Math.trunc(width / 2));
  const topLine = perlNumber(fontsize * 2);
  const bottomLine = perlNumber(height - pad.bottom / 2);
  const searchX = perlNumber(width - XPAD - 100);
  text(svg, { id: 'title', x: center, y: topLine }, options.title);
  if (options.subtitle !== '') text(svg, { id: 'subtitle', x: center, y: perlNumber(fontsize * 4) }, options.subtitle);
  text(svg, { id: 'details', x: String(XPAD), y: bottomLine }, ' ');
  text(svg, { id: 'unzoom', x: String(XPAD), y: topLine, class: 'hide' }, 'Reset Zoom');
  text(svg, { id: 'search', x: searchX, y: topLine }, 'Search');
  text(svg, { id: 'ignorecase', x: perlNumber(width - XPAD - 16), y: topLine }, 'ic');
  text(svg, { id: 'matched', x: searchX, y: bottomLine }, ' ');
  if (shape.legend) drawLegend(svg, options);
  svg.ele('g', { id: 'frames' }).com(FRAMES_MARKER);
  const whole = svg.end({ prettyPrint: false });
  const marker = `<!--${FRAMES_MARKER}-->`;
  const at = whole.indexOf(marker);
  return { head: `${whole.slice(0, at)}\n`, tail: `${whole.slice(at + marker.length)}\n` };
}

function text(parent: XMLBuilder, attributes: Record<string, string>, content: string): void {
  parent.ele('text', attributes).txt(xmlSafe(content));
}

/** CDATA sections cannot hold `]]>`: split it across two sections. */
function cdata(parent: XMLBuilder, content: string): void {
  const pieces = xmlSafe(content).split(']]>');
  pieces.forEach((piece, index) => {
    parent.dat(`${index > 0 ? '>' : ''}${piece}${index < pieces.length - 1 ? ']]' : ''}`);
  });
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
  return JSON.stringify(config)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function drawLegend(svg: XMLBuilder, options: ResolvedFlamegraphOptions): void {
  const items = legendItems(options);
  if (items.length === 0) return;
  const group = svg.ele('g', { id: 'legend' });
  for (const item of items) {
    group.ele('rect', {
      x: String(item.x),
      y: String(item.y - item.size),
      width: String(item.size),
      height: String(item.size),
      fill: item.color,
      rx: '2',
      ry: '2',
    });
    // A style attribute, since the stylesheet's `text` rule would override a font-size attribute.
    const style = `font-size:${item.fontsize}px`;
    group.ele('text', { x: String(item.x + item.size + 3), y: String(item.y), style }).txt(item.label);
  }
}

const browserCache = new Map<string, string>();

/**
 * D's browser files, read from the package at run time: from dist/flamegraph/ they are at
 * ../../src/flamegraph/browser/, from src/flamegraph/ (tests run the sources) at ./browser/.
 */
export function browserFile(name: string): string {
  const cached = browserCache.get(name);
  if (cached !== undefined) return cached;
  const candidates = [
    new URL(`./browser/${name}`, import.meta.url),
    new URL(`../../src/flamegraph/browser/${name}`, import.meta.url),
  ];
  for (const candidate of candidates) {
    try {
      const content = readFileSync(fileURLToPath(candidate), 'utf8');
      browserCache.set(name, content);
      return content;
    } catch {
      // try the next place
    }
  }
  throw new IrisflameError('INTERNAL', `the flame graph's browser file ${name} is missing from the installation`, {
    hint: 'reinstall irisflame (src/flamegraph/browser/ ships with the package)',
  });
}
