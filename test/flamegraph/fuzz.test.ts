/**
 * Hostile frame names cannot break the SVG or run code: seeded random bytes (invalid UTF-8, control
 * characters, surrogates, U+FFFE) mixed with markup (`<script>`, `]]>`, quotes, `&`) always give
 * well-formed XML whose only scripts are the two the writer puts there.
 */
import { describe, expect, it } from 'vitest';
import type { FoldedStacks } from '../../src/collapse/types.js';
import { renderFlamegraph } from '../../src/flamegraph/index.js';
import { stripAnnotation } from '../../src/flamegraph/kind.js';
import { displayName } from '../../src/flamegraph/xml.js';
import { parseSvgFrames } from './support/svg-frames.js';
import { checkXml } from './support/xml-check.js';
import { prng as random } from '../support/prng.js';


const HOSTILE = [
  '<script>alert(1)</script>',
  ']]>',
  '<![CDATA[',
  '&amp;',
  '&',
  '"',
  "'",
  '</title></g><script>alert(2)</script><g>',
  '" onload="alert(3)',
  '<!--',
  '-->',
  '\u0000',
  '\u0001\u0008\u000b\u000c\u001f',
  '\t',
  '\r',
  '\u00ff\u00fe', // invalid UTF-8 bytes
  '\u00c3', // a lone lead byte
  '\u00ed\u00a0\u0080', // an encoded surrogate
  '\u00ef\u00bf\u00be', // U+FFFE
  '\u00e2\u0080\u00a8', // U+2028
  '\u00f0\u009f\u0094\u00a5', // a valid 4-byte character
  '_[k]',
  '..',
];

function hostileName(next: () => number): string {
  let name = '';
  const parts = 1 + Math.floor(next() * 4);
  for (let p = 0; p < parts; p++) {
    if (next() < 0.5) {
      name += HOSTILE[Math.floor(next() * HOSTILE.length)];
    } else {
      const length = Math.floor(next() * 12);
      for (let i = 0; i < length; i++) {
        let byte = Math.floor(next() * 256);
        if (byte === 0x3b || byte === 0x0a) byte = 0x41; // keep ";" (separator) and newline out of names
        name += String.fromCharCode(byte);
      }
    }
  }
  return name;
}

function hostileStacks(seed: number, count: number): FoldedStacks {
  const next = random(seed);
  const names = Array.from({ length: 40 }, () => hostileName(next));
  const stacks: FoldedStacks = new Map();
  for (let s = 0; s < count; s++) {
    const depth = 1 + Math.floor(next() * 8);
    const frames = Array.from({ length: depth }, () => names[Math.floor(next() * names.length)]!);
    stacks.set(frames.join(';'), 1 + Math.floor(next() * 1000));
  }
  return stacks;
}

const ALLOWED_ELEMENTS = new Set(['svg', 'defs', 'linearGradient', 'stop', 'style', 'script', 'rect', 'text', 'g', 'title', 'a']);

describe('hostile frame names', () => {
  for (let seed = 1; seed <= 25; seed++) {
    it(`give well-formed XML with no injected script or handler (seed ${seed})`, () => {
      const stacks = hostileStacks(seed, 200);
      const svg = renderFlamegraph({ stacks }, { minwidth: 0, colors: seed % 2 ? 'kind' : 'java' });
      const { error, summary } = checkXml(svg);
      expect(error).toBeUndefined();
      expect(summary.elements.filter((name) => !ALLOWED_ELEMENTS.has(name))).toEqual([]);
      expect(summary.elements.filter((name) => name === 'script')).toHaveLength(2);
      expect(summary.attributes.filter(({ name }) => /^on/i.test(name))).toEqual([]);
      // Every tooltip names a real frame, decoded for display.
      const expected = new Set<string>();
      for (const key of stacks.keys()) for (const name of key.split(';')) expected.add(stripAnnotation(displayName(name)));
      const frames = parseSvgFrames(svg);
      expect(frames.length).toBeGreaterThan(1);
      for (const frame of frames.slice(1)) {
        const name = frame.title.slice(0, frame.title.lastIndexOf(' ('));
        expect(expected.has(name)).toBe(true);
      }
    });
  }

  it('shows invalid UTF-8 as replacement characters and valid UTF-8 as text', () => {
    const stacks: FoldedStacks = new Map([['caf\u00c3\u00a9;bad\u00ff', 10]]);
    const titles = parseSvgFrames(renderFlamegraph({ stacks }, {})).map((frame) => frame.title);
    expect(titles).toContain('café (10 samples, 100.00%)');
    expect(titles).toContain('bad\ufffd (10 samples, 100.00%)');
  });

  it('replaces control characters, which XML 1.0 cannot carry even escaped', () => {
    const stacks: FoldedStacks = new Map([['a\u0000b\u001bc', 5]]);
    const svg = renderFlamegraph({ stacks }, {});
    expect(checkXml(svg).error).toBeUndefined();
    expect(parseSvgFrames(svg)[1]!.title).toBe('a\ufffdb\ufffdc (5 samples, 100.00%)');
  });
});

describe('the well-formedness checker used above', () => {
  it.each([
    ['<a><b></a>', 'does not match'],
    ['<a>x & y</a>', 'bare "&"'],
    ['<a>\u0001</a>', 'not allowed'],
    ['<a x="1" x="2"/>', 'duplicate attribute'],
    ['<a>]]></a>', ']]>'],
    ['<a><!-- x -- y --></a>', 'comment'],
    ['<a/><b/>', 'second root'],
    ['<a x="<"/>', '"<"'],
    ['<a>&#1;</a>', 'character reference'],
  ])('rejects %j', (xml, problem) => {
    expect(checkXml(xml).error).toContain(problem);
  });

  it('accepts a document with prolog, comment, CDATA and references', () => {
    expect(checkXml('<?xml version="1.0"?><!-- c --><a x="&amp;&#38;"><![CDATA[<x>]]>t&lt;</a>').error).toBeUndefined();
  });
});
