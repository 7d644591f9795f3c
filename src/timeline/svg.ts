/**
 * The lifecycle SVG: one self-contained file (no external fonts, images or scripts) holding the page's
 * data as JSON and the browser code from src/timeline/browser/ verbatim. The script draws everything
 * below the title; the skeleton here only reserves the groups it fills.
 */
import { browserAsset } from '../browser-assets.js';
import { cdataSafe, escapeText, xmlSafe } from '../flamegraph/xml.js';
import type { PageData } from './page-data.js';

/** Embedded in this order: each part uses only those before it (lifecycle.js, last, starts the page). */
const BROWSER_FILES = [
  'lifecycle-model.js',
  'lifecycle-lib.js',
  'lifecycle-lanes.js',
  'lifecycle-flame.js',
  'lifecycle-offcpu.js',
  'lifecycle-tables.js',
  'lifecycle.js',
] as const;

export function renderLifecycleSvg(data: PageData): string {
  const { width, height } = data.layout;
  const json = JSON.stringify(data).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
  const scripts = BROWSER_FILES.map((name) => script(browserFile(name))).join('\n');
  return [
    '<?xml version="1.0" standalone="no"?>',
    '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">',
    `<svg version="1.1" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">`,
    '<!-- irisflame lifecycle view: process timeline (running, blocked, waiting for a CPU, files, critical path), sample density, flame graph of the selected range (CPU, off-CPU, wall clock) -->',
    '<defs><linearGradient id="background" y1="0" y2="1" x1="0" x2="0"><stop stop-color="#eeeeee" offset="5%"/><stop stop-color="#eeeeb0" offset="95%"/></linearGradient></defs>',
    `<style type="text/css"><![CDATA[${cdataSafe(browserFile('lifecycle.css'))}\ntext{font-family:Verdana,sans-serif;font-size:${data.layout.fontSize}px}\n]]></style>`,
    script(`var lcData = ${json};`),
    scripts,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="url(#background)"/>`,
    `<text id="title" x="${width / 2}" y="24">${escapeText(xmlSafe(data.title))}</text>`,
    data.subtitle === '' ? '' : `<text id="subtitle" x="${width / 2}" y="44">${escapeText(xmlSafe(data.subtitle))}</text>`,
    '<g id="axis"></g>',
    '<g id="lanes"></g>',
    '<g id="strip"></g>',
    // The flame graph is drawn as paths; this transparent rect under it takes the mouse (see lifecycle.js).
    `<rect id="flame-area" x="0" y="${data.layout.flameTop}" width="${width}" height="${data.layout.flameDepth * data.layout.frameHeight}"/>`,
    '<g id="flame"></g>',
    '<g id="controls"></g>',
    `<text id="details" x="${data.layout.xpad}" y="${data.layout.detailsY}"> </text>`,
    // The range's tables (off-CPU captures only) are HTML: they scroll, and wrap long paths.
    data.layout.tablesHeight === 0
      ? ''
      : `<foreignObject id="tables" x="${data.layout.xpad}" y="${data.layout.tablesTop}" width="${width - 2 * data.layout.xpad}" height="${data.layout.tablesHeight}"><div xmlns="http://www.w3.org/1999/xhtml" id="tables-body"></div></foreignObject>`,
    `<text id="matched" x="${width - data.layout.xpad - 100}" y="${data.layout.detailsY}"> </text>`,
    '</svg>',
    '',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

function script(code: string): string {
  return `<script type="text/ecmascript"><![CDATA[${cdataSafe(code)}]]></script>`;
}

/** This stage's browser files, embedded verbatim. */
function browserFile(name: string): string {
  return browserAsset('timeline', name);
}
