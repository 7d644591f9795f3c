/**
 * The SVG document: well-formed XML for every capture and option set, the structure of
 * docs/dev/svg-contract.md, the browser files embedded verbatim, nothing referenced outside it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderFlamegraph, type FlamegraphOptions } from '../../src/flamegraph/index.js';
import { REPO_ROOT } from '../support/cli.js';
import { parseFolded, readFolded } from './support/folded.js';
import { attributes, parseSvgFrames } from './support/svg-frames.js';
import { checkXml } from './support/xml-check.js';

const CAPTURES = join(REPO_ROOT, 'fixtures/flamegraph/captures');
const BROWSER = join(REPO_ROOT, 'src/flamegraph/browser');
const captures = readdirSync(CAPTURES).filter((name) => name.endsWith('.folded'));

const OPTION_SETS: Partial<FlamegraphOptions>[] = [
  {},
  { inverted: true, subtitle: 'a <sub> & "title"', title: 'x ]]> y' },
  { reverse: true, minwidth: 0 },
  { flamechart: true, colors: 'java', hash: true },
  { colors: 'chain', notes: 'notes -- with --> dashes -', countname: 'ms <b>', nametype: 'Fn & "x"' },
  { width: 300, fontsize: 7.5, total: 1e12, factor: 0.001 },
];

describe('the SVG document', () => {
  for (const capture of captures) {
    OPTION_SETS.forEach((options, index) => {
      it(`is well-formed XML for ${capture} with option set ${index}`, () => {
        const svg = renderFlamegraph(readFolded(join(CAPTURES, capture)), options);
        expect(checkXml(svg).error).toBeUndefined();
      });
    });
  }

  it('follows the contract skeleton: ids, controls, config, then the frames group', () => {
    const svg = renderFlamegraph(parseFolded('a;b;c 10\na;b;d 5\na;e 3\nx 100\n'), { subtitle: 'sub' });
    const order = ['id="background"', '<style', 'var fgConfig', 'id="title"', 'id="subtitle"', 'id="details"', 'id="unzoom"', 'id="search"', 'id="ignorecase"', 'id="matched"', 'id="frames"'];
    const positions = order.map((marker) => svg.indexOf(marker));
    expect(positions.every((position) => position > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(svg).toContain('xmlns:fg="urn:irisflame:fg"');
    expect(svg).toMatch(/<text id="unzoom"[^>]*class="hide"[^>]*>Reset Zoom<\/text>/);
    expect(svg).toMatch(/<text id="search"[^>]*>Search<\/text>/);
    expect(svg).toMatch(/<text id="ignorecase"[^>]*>ic<\/text>/);
  });

  it('embeds the browser script and stylesheet verbatim', () => {
    const svg = renderFlamegraph(parseFolded('a;b 1\n'), {});
    for (const file of ['flamegraph-lib.js', 'flamegraph.js', 'flamegraph.css']) {
      const content = readFileSync(join(BROWSER, file), 'utf8');
      expect(content.includes(']]>')).toBe(false);
      expect(svg).toContain(content);
    }
  });

  it('writes a config object with the values the script needs', () => {
    const svg = renderFlamegraph(parseFolded('a;b 30\nc 12\n'), { width: 900, inverted: true, countname: 'ms', minwidth: 2 });
    const json = /var fgConfig = (\{.*?\});/.exec(svg)![1]!;
    expect(JSON.parse(json)).toEqual({
      width: 900,
      xpad: 10,
      fontsize: 12,
      fontwidth: 0.59,
      frameheight: 16,
      inverted: true,
      total: 42,
      searchcolor: 'rgb(230,0,230)',
      nametype: 'Function:',
      countname: 'ms',
      minwidth: 2,
    });
  });

  it('writes frames in pre-order, the root first, with their sample start and width', () => {
    const svg = renderFlamegraph(parseFolded('a;b;c 10\na;b;d 5\na;e 3\nx 100\n'), {});
    const frames = parseSvgFrames(svg);
    expect(frames.map((frame) => frame.title.split(' (')[0])).toEqual(['all', 'a', 'b', 'c', 'd', 'e', 'x']);
    expect(frames.map((frame) => [frame.fgX, frame.fgW])).toEqual([
      ['0', '118'],
      ['0', '18'],
      ['0', '15'],
      ['0', '10'],
      ['10', '5'],
      ['15', '3'],
      ['18', '100'],
    ]);
  });

  it('omits the label of a frame too narrow for one character and two dots', () => {
    const svg = renderFlamegraph(parseFolded('wide_function 1000\nnarrow_function 1\n'), { minwidth: 0 });
    const frames = parseSvgFrames(svg);
    const narrow = frames.find((frame) => frame.title.startsWith('narrow_function'))!;
    expect(narrow.label).toBe('');
    expect(svg).not.toMatch(/<text[^>]*><\/text>/);
    const wide = frames.find((frame) => frame.title.startsWith('wide_function'))!;
    expect(wide.label).toBe('wide_function');
  });

  it('references nothing outside itself: no DOCTYPE, no external URLs', () => {
    const svg = renderFlamegraph(readFolded(join(CAPTURES, captures[0]!)), {});
    expect(svg).not.toContain('<!DOCTYPE');
    const urls = [...svg.matchAll(/(?:https?|ftp|file):\/\/[^\s"'<>)]+/g)].map((match) => match[0]);
    const namespaces = ['http://www.w3.org/2000/svg', 'http://www.w3.org/1999/xlink'];
    expect(urls.filter((url) => !namespaces.includes(url))).toEqual([]);
  });

  it('draws the kind legend only for the kind palette, without moving any frame', () => {
    const input = parseFolded('main;foo 5\nmain;std::vector::push_back 4\nmain;sys_read_[k] 3\n');
    const kind = renderFlamegraph(input, {});
    const hot = renderFlamegraph(input, { colors: 'hot' });
    expect(kind).toContain('<g id="legend">');
    expect(hot).not.toContain('<g id="legend">');
    const positions = (svg: string): unknown[] => parseSvgFrames(svg).map(({ x, y, width }) => [x, y, width]);
    expect(positions(kind)).toEqual(positions(hot));
    expect(attributes(/<svg\b([^>]*)>/.exec(kind)![1]!).height).toBe(attributes(/<svg\b([^>]*)>/.exec(hot)![1]!).height);
  });

  it('leaves the legend out when the image is too narrow for it beside the title', () => {
    const svg = renderFlamegraph(parseFolded('a 1\n'), { width: 400 });
    expect(svg).not.toContain('id="legend"');
  });

  it('declares the requested encoding in the prolog', () => {
    const svg = renderFlamegraph(parseFolded('a 1\n'), { encoding: 'ISO-8859-1' });
    expect(svg.startsWith('<?xml version="1.0" encoding="ISO-8859-1" standalone="no"?>')).toBe(true);
  });
});

describe('a large graph with thousands of frames of 1 px or more (docs/dev/svg-contract.md section 5)', () => {
  // 400 stacks 12 deep, 2.95 px each: 4,800 frames of 1 px or more (over the 4,000 elements budget), none wide
  // enough for a label (21.24 px), every name its own.
  const folded = Array.from({ length: 400 }, (_, k) =>
    `${Array.from({ length: 12 }, (_, d) => `f${k}_${d}`).join(';')} 1`).join('\n');
  const svg = renderFlamegraph(parseFolded(`${folded}\n`), {});

  it('draws them merged, with square corners: four segments per frame, no arcs', () => {
    expect(parseSvgFrames(svg).length).toBe(1); // the root alone
    const narrow = svg.slice(svg.indexOf('<g id="narrowframes">'), svg.indexOf('</g>', svg.indexOf('<g id="narrowframes">')));
    const data = [...narrow.matchAll(/ d="([^"]*)"/g)].map((m) => m[1]!).join('');
    expect(data).not.toMatch(/[aAcCqQ]/);
    // 400 x 12 frames, fewer where neighbours of one colour in a row are joined.
    const rects = data.split('M').length - 1;
    expect(rects).toBeGreaterThan(1000);
    expect(rects).toBeLessThanOrEqual(4800);
    expect(data).toMatch(/^M[\d.]+ [\d.]+h[\d.]+v15h-[\d.]+z/);
  });

  it('lists every frame in a JSON data block, names and colours as strings', () => {
    const at = svg.indexOf('<script type="application/json" id="fgframes"><![CDATA[');
    expect(at).toBeGreaterThan(0);
    const json = svg.slice(svg.indexOf('<![CDATA[', at) + 9, svg.indexOf(']]></script>', at));
    const table = JSON.parse(json);
    expect(table.v).toBe(2);
    const names = table.names.split('\n');
    expect(names).toHaveLength(4801);
    expect(names).toContain('f399_11');
    expect(table.entryColors.split(',')).toHaveLength(4801);
    expect(table.frames.split(',')).toHaveLength(4801 * 4);
    expect(svg.slice(at)).toContain('<script type="text/ecmascript"><![CDATA[');
    expect(checkXml(svg).error).toBeUndefined();
  });
});
