import { describe, expect, it } from 'vitest';
import { PassThrough, Writable } from 'node:stream';
import { writeFolded } from '../../src/collapse/write.js';
import { formatPerlNumber } from '../../src/collapse/perl-number.js';
import { emptyReport, type CollapseResult } from '../../src/collapse/types.js';
import { IrisflameError } from '../../src/errors.js';

async function written(result: CollapseResult): Promise<Buffer> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (chunk: Buffer) => parts.push(chunk));
  await writeFolded(result, out);
  out.end();
  return Buffer.concat(parts);
}

const result = (entries: [string, number][], before?: [string, number][]): CollapseResult => ({
  stacks: new Map(entries),
  ...(before === undefined ? {} : { before: new Map(before) }),
  report: emptyReport(),
});

describe('writeFolded', () => {
  it('writes one line per stack, sorted byte-wise (upper case before lower, as Perl sort does)', async () => {
    const out = await written(result([['b;a', 2], ['a;b', 1], ['Z', 3], ['a', 4]]));
    expect(out.toString()).toBe('Z 3\na 4\na;b 1\nb;a 2\n');
  });

  it('writes key bytes exactly, including bytes that are not UTF-8', async () => {
    const key = Buffer.from([0x63, 0x3b, 0xe9, 0x80]).toString('latin1');
    const out = await written(result([[key, 1]]));
    expect(out).toEqual(Buffer.from([0x63, 0x3b, 0xe9, 0x80, 0x20, 0x31, 0x0a]));
  });

  it('sorts non-ASCII bytes after ASCII, as a byte-wise sort does', async () => {
    const high = Buffer.from([0xc3, 0xa9]).toString('latin1');
    const out = await written(result([[high, 1], ['z', 1]]));
    expect(out.toString('latin1')).toBe(`z 1\n${high} 1\n`);
  });

  it('writes both columns for a differential result, 0 where a side lacks the stack', async () => {
    const out = await written(result([['a', 5], ['c', 1]], [['a', 3], ['b', 2]]));
    expect(out.toString()).toBe('a 3 5\nb 2 0\nc 0 1\n');
  });

  it('writes large results in several batches without losing lines', async () => {
    const entries: [string, number][] = Array.from({ length: 60_000 }, (_, i) => [`proc;frame_${String(i).padStart(6, '0')};leaf`, i]);
    const lines = (await written(result(entries))).toString().split('\n');
    expect(lines.length).toBe(60_001);
    expect(lines[59_999]).toBe('proc;frame_059999;leaf 59999');
  });

  it('rejects with an OUTPUT error when the destination fails', async () => {
    const broken = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error('disk full'));
      },
    });
    await expect(writeFolded(result([['a', 1]]), broken)).rejects.toSatisfy(
      (error) => error instanceof IrisflameError && error.code === 'OUTPUT' && /disk full/.test(error.message),
    );
  });
});

describe('formatPerlNumber', () => {
  it('prints integers in full, as Perl prints integer sums', () => {
    expect(formatPerlNumber(0)).toBe('0');
    expect(formatPerlNumber(10101010)).toBe('10101010');
    expect(formatPerlNumber(2 ** 60)).toBe('1152921504606846976');
  });

  it('prints other numbers as Perl\'s %.15g does', () => {
    // Each expected string is what perl 5 printed for the same value on this machine.
    expect(formatPerlNumber(0.1 + 0.2)).toBe('0.3');
    expect(formatPerlNumber(1e20)).toBe('1e+20');
    expect(formatPerlNumber(1e15 + 0.5)).toBe('1e+15');
    expect(formatPerlNumber(123456.789)).toBe('123456.789');
    expect(formatPerlNumber(1 / 3)).toBe('0.333333333333333');
    expect(formatPerlNumber(1e-5)).toBe('1e-05');
    expect(formatPerlNumber(0.0001)).toBe('0.0001');
    expect(formatPerlNumber(3.75)).toBe('3.75');
  });

  it('prints infinities and NaN as Perl does', () => {
    expect(formatPerlNumber(Infinity)).toBe('Inf');
    expect(formatPerlNumber(Number.NaN)).toBe('NaN');
  });
});
