import { describe, expect, it } from 'vitest';
import { DEFAULT_FLAMEGRAPH_OPTIONS, resolveFlamegraphOptions } from '../../src/flamegraph/options.js';

describe('flame graph options', () => {
  it('default to flamegraph.pl values, with the kind palette', () => {
    const resolved = resolveFlamegraphOptions();
    expect(resolved.width).toBe(1200);
    expect(resolved.height).toBe(16);
    expect(resolved.minwidth).toEqual({ value: 0.1, percent: false });
    expect(resolved.colors).toBe('kind');
    expect(resolved.title).toBe('Flame Graph');
    expect(resolved.background).toEqual({ from: '#eeeeee', to: '#eeeeb0' });
    expect(DEFAULT_FLAMEGRAPH_OPTIONS.fonttype).toBe('Verdana');
  });

  it('pick the title and background as flamegraph.pl does', () => {
    expect(resolveFlamegraphOptions({ inverted: true }).title).toBe('Icicle Graph');
    expect(resolveFlamegraphOptions({ flamechart: true }).title).toBe('Flame Chart');
    expect(resolveFlamegraphOptions({ colors: 'mem' }).background.to).toBe('#e0ffe0');
    expect(resolveFlamegraphOptions({ colors: 'io' }).background.to).toBe('#e0e0ff');
    expect(resolveFlamegraphOptions({ colors: 'red' }).background.to).toBe('#e8e8e8');
    expect(resolveFlamegraphOptions({ bgcolors: '#123456' }).background).toEqual({ from: '#123456', to: '#123456' });
  });

  it('accept a minimum width in pixels or as a percentage', () => {
    expect(resolveFlamegraphOptions({ minwidth: '0.5%' }).minwidth).toEqual({ value: 0.5, percent: true });
    expect(resolveFlamegraphOptions({ minwidth: '2' }).minwidth).toEqual({ value: 2, percent: false });
  });

  it.each([
    [{ width: 0 }, '--width must be a number greater than 0 (got 0)'],
    [{ width: Number.NaN }, '--width must be a number greater than 0'],
    [{ fontsize: -3 }, '--fontsize must be a number greater than 0 (got -3)'],
    [{ height: 0 }, '--height'],
    [{ factor: 0 }, '--factor'],
    [{ total: -1 }, '--total'],
    [{ minwidth: 'wide' }, '--minwidth must be a number of pixels or a percentage'],
    [{ minwidth: '150%' }, '--minwidth'],
    [{ colors: 'rainbow' as never }, 'unknown color palette "rainbow"'],
    [{ bgcolors: 'pink' }, 'unknown background "pink"'],
    [{ fonttype: 'x;} text{fill:url(http://evil)' }, 'is not a font family list'],
    [{ hash: true, random: true }, 'cannot be combined'],
    [{ encoding: 'UTF-8"?><x' }, 'is not an encoding name'],
  ])('reject %j with a usage error saying why', (options, message) => {
    expect(() => resolveFlamegraphOptions(options)).toThrow(expect.objectContaining({ code: 'USAGE', message: expect.stringContaining(message) }));
  });
});
