import { describe, expect, it } from 'vitest';
import { fixed, perlNumber, withCommas } from '../../src/flamegraph/format.js';

describe('Perl number formatting', () => {
  it.each([
    [0.25, 1, '0.2'], // an exact tie rounds to even, as C's printf does (toFixed says 0.3)
    [0.75, 1, '0.8'],
    [2.5, 0, '2'],
    [3.5, 0, '4'],
    [0.125, 2, '0.12'],
    [0.375, 2, '0.38'],
    [1.005, 2, '1.00'], // not a tie: 1.005 is stored just below
    [10.05, 1, '10.1'], // not a tie: stored just above
    [-2.5, 0, '-2'],
    [1180, 1, '1180.0'],
    [13, 2, '13.00'],
    [0, 1, '0.0'],
  ])('formats %d with %d decimals as %s', (value, digits, expected) => {
    expect(fixed(value, digits)).toBe(expected);
  });

  it.each([
    [85, '85'],
    [79.5, '79.5'],
    [0.1 + 0.2, '0.3'],
    [1 / 3, '0.333333333333333'],
    [1e-5, '1e-05'],
    [123456789012345680, '1.23456789012346e+17'],
  ])('stringifies %d as Perl does: %s', (value, expected) => {
    expect(perlNumber(value)).toBe(expected);
  });

  it.each([
    ['0', '0'],
    ['999', '999'],
    ['1000', '1,000'],
    ['1234567', '1,234,567'],
    ['-1234', '-1,234'],
  ])('adds thousands separators to %s', (text, expected) => {
    expect(withCommas(text)).toBe(expected);
  });
});
