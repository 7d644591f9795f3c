/**
 * A tiny stand-in for the SVG writer, following docs/dev/svg-contract.md, so the browser script can be tested
 * on its own (and against a writer-independent reading of the contract). Not a product renderer: fixed
 * colours, flamegraph.pl's layout constants, no options beyond what the tests vary.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BROWSER_DIR = fileURLToPath(new URL('../../../src/flamegraph/browser/', import.meta.url));

/**
 * @typedef {object} ContractSvgOptions
 * @property {boolean} [inverted] Icicle layout (root at the top). @default false
 * @property {number} [width] Image width in px. @default 1200
 * @property {string} [title] Title text. @default 'Flame Graph'
 */

/** @typedef {{ name: string, depth: number, start: number, samples: number }} ContractFrame start/samples in samples */

const FONTSIZE = 12;
const FONTWIDTH = 0.59;
const FRAMEHEIGHT = 16;
const XPAD = 10;
const MINWIDTH_PX = 0.1;

/**
 * Merge folded lines ("a;b;c 12") into frames, in pre-order (start ascending, then depth ascending).
 * @param {string} folded
 * @returns {ContractFrame[]}
 */
export function foldedToFrames(folded) {
  const root = { name: 'all', count: 0, children: new Map() };
  for (const line of folded.split('\n')) {
    const match = /^(.*) (\d+(?:\.\d+)?)$/.exec(line.trim());
    if (!match) continue;
    const count = Number(match[2]);
    root.count += count;
    let node = root;
    for (const name of match[1].split(';')) {
      let child = node.children.get(name);
      if (!child) node.children.set(name, (child = { name, count: 0, children: new Map() }));
      child.count += count;
      node = child;
    }
  }
  const frames = [];
  const walk = (node, depth, start) => {
    frames.push({ name: node.name, depth, start, samples: node.count });
    let x = start;
    for (const key of [...node.children.keys()].sort()) {
      const child = node.children.get(key);
      walk(child, depth + 1, x);
      x += child.count;
    }
  };
  walk(root, 0, 0);
  return frames;
}

const escapeXml = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const short = (v) => String(Math.round(v * 100) / 100);

/** The label flamegraph.pl would draw in `widthPx`: '' below 3 characters, else truncated with "..". */
export function estimatedLabel(name, widthPx) {
  const chars = Math.floor(widthPx / (FONTSIZE * FONTWIDTH));
  if (chars < 3) return '';
  return chars < name.length ? name.slice(0, chars - 2) + '..' : name;
}

/**
 * @param {string} folded
 * @param {ContractSvgOptions} [options]
 * @returns {string}
 */
export function contractSvg(folded, options = {}) {
  const width = options.width ?? 1200;
  const inverted = options.inverted ?? false;
  const all = foldedToFrames(folded);
  const total = all[0].samples;
  const scale = (width - 2 * XPAD) / total;
  const frames = all.filter((f) => f.samples * scale >= MINWIDTH_PX);
  const depthMax = frames.reduce((max, f) => Math.max(max, f.depth), 0);
  const ypad1 = FONTSIZE * 3;
  const ypad2 = FONTSIZE * 2 + 10;
  const height = (depthMax + 1) * FRAMEHEIGHT + ypad1 + ypad2;
  const config = {
    width, xpad: XPAD, fontsize: FONTSIZE, fontwidth: FONTWIDTH, frameheight: FRAMEHEIGHT, inverted, total,
    searchcolor: 'rgb(230,0,230)', nametype: 'Function:', countname: 'samples', minwidth: MINWIDTH_PX,
  };
  const out = [];
  out.push('<?xml version="1.0" standalone="no"?>');
  out.push(`<svg version="1.1" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:fg="urn:irisflame:fg">');
  out.push('<defs><linearGradient id="background" y1="0" y2="1" x1="0" x2="0"><stop stop-color="#eeeeee" ' +
    'offset="5%"/><stop stop-color="#eeeeb0" offset="95%"/></linearGradient></defs>');
  out.push(`<style type="text/css"><![CDATA[${readFileSync(BROWSER_DIR + 'flamegraph.css', 'utf8')}` +
    `text{font-family:Verdana;font-size:${FONTSIZE}px}]]></style>`);
  out.push(`<script type="text/ecmascript"><![CDATA[var fgConfig = ${JSON.stringify(config)};]]></script>`);
  const script = ['flamegraph-lib.js', 'flamegraph.js'].map((f) => readFileSync(BROWSER_DIR + f, 'utf8')).join('');
  out.push(`<script type="text/ecmascript"><![CDATA[${script}]]></script>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="url(#background)"/>`);
  out.push(`<text id="title" x="${width / 2}" y="24">${escapeXml(options.title ?? 'Flame Graph')}</text>`);
  out.push(`<text id="details" x="${XPAD}" y="${height - ypad2 / 2}"> </text>`);
  out.push(`<text id="unzoom" x="${XPAD}" y="24" class="hide">Reset Zoom</text>`);
  out.push(`<text id="search" x="${width - XPAD - 100}" y="24">Search</text>`);
  out.push(`<text id="ignorecase" x="${width - XPAD - 16}" y="24">ic</text>`);
  out.push(`<text id="matched" x="${width - XPAD - 100}" y="${height - ypad2 / 2}"> </text>`);
  out.push('<g id="frames">');
  for (const f of frames) {
    const x = XPAD + f.start * scale;
    const w = f.samples * scale;
    const y = inverted ? ypad1 + f.depth * FRAMEHEIGHT : height - ypad2 - (f.depth + 1) * FRAMEHEIGHT + 1;
    const pct = f.depth === 0 ? '100' : ((100 * f.samples) / total).toFixed(2);
    const colour = `rgb(${200 + (f.name.length * 7) % 55},${(f.name.charCodeAt(0) * 5) % 200},50)`;
    const label = estimatedLabel(f.name, w);
    out.push(`<g><title>${escapeXml(f.name)} (${f.samples.toLocaleString('en-US')} samples, ${pct}%)</title>` +
      `<rect x="${short(x)}" y="${y}" width="${short(w)}" height="${FRAMEHEIGHT - 1}" fill="${colour}" ` +
      `fg:x="${f.start}" fg:w="${f.samples}"/>` +
      (label ? `<text x="${short(x + 3)}" y="${y + FRAMEHEIGHT / 2 + 2.5}">${escapeXml(label)}</text>` : '') +
      '</g>');
  }
  out.push('</g>');
  out.push('</svg>');
  return out.join('\n');
}
