import { mkdtempSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FrameColors } from '../../src/flamegraph/color.js';
import { frameKind } from '../../src/flamegraph/kind.js';
import { chainHue } from '../../src/flamegraph/palettes/chain.js';
import { javaHue } from '../../src/flamegraph/palettes/java.js';
import { jsHue } from '../../src/flamegraph/palettes/js.js';
import { perlHue } from '../../src/flamegraph/palettes/perl.js';
import { PALETTES } from '../../src/flamegraph/palettes/index.js';
import { formatPaletteMap, parsePaletteMap, readPaletteMap } from '../../src/flamegraph/palettes/palette-map.js';
import { nameHash, nameShade } from '../../src/flamegraph/palettes/shade.js';
import { deltaColor } from '../../src/flamegraph/differential.js';

describe('shades', () => {
  it('reproduce Perl: srand(sum of code points), then rand(1)', () => {
    // perl -e 'srand(5); print rand(1)' and srand(0)
    expect(nameShade('\u0005')).toBeCloseTo(0.524839579434232, 15);
    expect(nameShade('')).toBeCloseTo(0.17082803610629, 14);
    expect(nameShade('ab')).toBe(nameShade('ba')); // a sum: anagrams share a colour, as in flamegraph.pl
  });

  it('hash the first three characters, ignoring a module prefix up to a backtick', () => {
    expect(nameHash('libc.so`malloc')).toBe(nameHash('malloc'));
    expect(nameHash('abcdef')).toBe(nameHash('abcxyz'));
    expect(nameHash('abc')).not.toBe(nameHash('abd'));
  });
});

describe('palette hue choice', () => {
  it.each([
    ['java/lang/String.hashCode', 'green'],
    ['Ljava/util/HashMap;::get', 'green'],
    ['Interpreter_[j]', 'green'],
    ['inlined_[i]', 'aqua'],
    ['Foo:::bar', 'green'],
    ['std::vector::push_back', 'yellow'],
    ['do_syscall_64_[k]', 'orange'],
    ['main', 'red'],
  ])('java: %s is %s', (name, hue) => expect(javaHue(name)).toBe(hue));

  it.each([
    ['LazyCompile:*foo /app/x.js:10_[j]', 'green'],
    ['Builtin:ArrayMap_[j]', 'aqua'],
    ['v8::internal::Foo', 'yellow'],
    ['/app/server.js:42', 'green'],
    ['Builtin:Call', 'aqua'],
    [' ', 'green'],
    ['schedule_[k]', 'orange'],
    ['uv_run', 'red'],
  ])('js: %j is %s', (name, hue) => expect(jsHue(name)).toBe(hue));

  it.each([
    ['Foo::bar', 'yellow'],
    ['Perl_pp_add', 'green'],
    ['script.pl', 'green'],
    ['sys_write_[k]', 'orange'],
    ['memcpy', 'red'],
  ])('perl: %s is %s', (name, hue) => expect(perlHue(name)).toBe(hue));

  it.each([
    ['try_to_wake_up_[w]', 'aqua'],
    ['schedule', 'blue'],
  ])('chain: %s is %s', (name, hue) => expect(chainHue(name)).toBe(hue));

  it.each([
    ['do_syscall_64_[k]', 'kernel'],
    ['[kernel.kallsyms]', 'kernel'],
    ['[xfs.ko]', 'kernel'],
    ['[nf_tables.ko.xz]', 'kernel'],
    ['/lib/modules/6.1.0/kernel/fs/xfs/xfs.ko', 'kernel'],
    ['LazyCompile:foo_[j]', 'jit'],
    ['[perf-4242.map]', 'jit'],
    ['jitted-4242-17.so', 'jit'],
    ['helper_[i]', 'inlined'],
    ['std::map<int, int>::find', 'cpp'],
    ['main', 'user'],
    ['[unknown]', 'user'],
  ])('kind: %s is %s', (name, kind) => expect(frameKind(name)).toBe(kind));
});

describe('kind palette', () => {
  it('gives a function the same colour with or without its annotation', () => {
    const colors = new FrameColors({ colors: 'kind', hash: false, random: false, negate: false }, 1, undefined);
    const kernelShade = PALETTES.orange('x', { v1: nameShade('vfs_read'), v2: 0, v3: 0 });
    expect(colors.color('vfs_read_[k]', undefined)).toBe(kernelShade);
    expect(colors.color('main', undefined)).toBe(PALETTES.red('main', { v1: nameShade('main'), v2: 0, v3: 0 }));
    expect(colors.color('std::string::append', undefined)).toBe(
      PALETTES.yellow('', { v1: nameShade('std::string::append'), v2: 0, v3: 0 }),
    );
  });

  it('colours the separator frames grey in every palette', () => {
    const colors = new FrameColors({ colors: 'kind', hash: false, random: false, negate: false }, 1, undefined);
    expect(colors.color('--', undefined)).toBe('rgb(160,160,160)');
    expect(colors.color('-', undefined)).toBe('rgb(200,200,200)');
  });
});

describe('differential colours', () => {
  it.each([
    [10, 10, false, 'rgb(255,0,0)'],
    [5, 10, false, 'rgb(255,105,105)'],
    [-10, 10, false, 'rgb(0,0,255)'],
    [0, 10, false, 'rgb(255,255,255)'],
    [10, 10, true, 'rgb(0,0,255)'],
  ])('delta %d of max %d (negate %s) is %s', (delta, max, negate, color) => {
    expect(deltaColor(delta, max, negate)).toBe(color);
  });
});

describe('the consistent palette file', () => {
  it('parses name->colour lines, skipping others, and writes them sorted', () => {
    const map = parsePaletteMap('b->rgb(1,2,3)\nnot a line\na->rgb(4,5,6)->junk\n');
    expect([...map]).toEqual([
      ['b', 'rgb(1,2,3)'],
      ['a', 'rgb(4,5,6)'],
    ]);
    expect(formatPaletteMap(map)).toBe('a->rgb(4,5,6)\nb->rgb(1,2,3)\n');
  });

  it('drops entries whose colour is not a colour, so the file cannot inject markup', () => {
    const map = parsePaletteMap('a->rgb(1,2,3)" onload="alert(1)\nb->#abcdef\nc->red\n');
    expect([...map]).toEqual([['b', '#abcdef']]);
  });

  it('treats a missing file as an empty palette', () => {
    expect(readPaletteMap(join(mkdtempSync(join(tmpdir(), 'fg-')), 'palette.map')).size).toBe(0);
  });

  it('fails with PALETTE when the file cannot be read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-'));
    mkdirSync(join(dir, 'palette.map'));
    expect(() => readPaletteMap(join(dir, 'palette.map'))).toThrow(expect.objectContaining({ code: 'PALETTE' }));
  });

  it('reuses stored colours and records new ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-'));
    const path = join(dir, 'palette.map');
    writeFileSync(path, 'main->rgb(1,2,3)\n');
    const map = readPaletteMap(path);
    const colors = new FrameColors({ colors: 'hot', hash: false, random: false, negate: false }, 1, map);
    expect(colors.color('main', undefined)).toBe('rgb(1,2,3)');
    const fresh = colors.color('other', undefined);
    expect(map.get('other')).toBe(fresh);
    expect(readFileSync(path, 'utf8')).toBe('main->rgb(1,2,3)\n');
  });
});
