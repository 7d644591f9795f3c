import { describe, expect, it } from 'vitest';
import { parseNameAttributes } from '../../src/flamegraph/attrs.js';
import { renderFlamegraph } from '../../src/flamegraph/index.js';
import { parseFolded } from './support/folded.js';
import { parseSvgFrames } from './support/svg-frames.js';
import { checkXml } from './support/xml-check.js';

describe('the name attribute file', () => {
  it('reads tab-separated attr=value pairs per function', () => {
    const { attributes, warnings } = parseNameAttributes('malloc\thref=https://example.org/m\tclass=alloc\nfree\ttitle=releases memory\n');
    expect(warnings).toEqual([]);
    expect(Object.fromEntries(attributes.get('malloc')!)).toEqual({ href: 'https://example.org/m', class: 'alloc' });
    expect(attributes.get('free')!.get('title')).toBe('releases memory');
  });

  it('warns about bad lines and unsafe attributes and skips them', () => {
    const { attributes, warnings } = parseNameAttributes('no tab here\nf\tonclick=alert(1)\tnovalue\tid=ok\ng\thref=javascript:alert(1)\n', 'attrs.txt');
    expect(warnings).toEqual([
      'attrs.txt:1: expected "name<TAB>attr=value", skipped',
      'attrs.txt:2: attribute "onclick" could run code, skipped',
      'attrs.txt:2: bad attribute "novalue", skipped',
      'attrs.txt:3: attribute "href" could run code, skipped',
    ]);
    expect(Object.fromEntries(attributes.get('f')!)).toEqual({ id: 'ok' });
  });

  it('turns a frame with href into a link and replaces its tooltip with a given title', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'fg-')), 'attrs.txt');
    writeFileSync(file, 'malloc\thref=https://example.org/?a=1&b="2"\tclass=alloc\nfree\ttitle=<b>frees</b>\n');
    const svg = renderFlamegraph(parseFolded('main;malloc 10\nmain;free 5\n'), { nameattr: file });
    expect(checkXml(svg).error).toBeUndefined();
    const frames = parseSvgFrames(svg);
    const malloc = frames.find((frame) => frame.title.startsWith('malloc'))!;
    expect(malloc.element).toBe('a');
    expect(malloc.attributes).toEqual({ 'xlink:href': 'https://example.org/?a=1&b="2"', target: '_top', class: 'alloc' });
    expect(frames.find((frame) => frame.label === 'free')!.title).toBe('<b>frees</b>');
  });
});
