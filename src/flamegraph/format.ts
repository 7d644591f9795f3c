/**
 * Numbers written the way flamegraph.pl writes them, so geometry and tooltips compare equal: Perl's
 * `sprintf "%.Nf"` (C printf: exact binary value, ties to even) and Perl's default stringification
 * (`%.15g`). JavaScript's `toFixed` rounds exact ties away from zero (2.5 → "3", C says "2"), and
 * `String()` prints the shortest round-trip form (0.30000000000000004, Perl says 0.3), hence these.
 */
import { formatNv } from '../collapse/perl-number.js';

/** C's `%.{digits}f` for digits 0..3. */
export function fixed(value: number, digits: number): string {
  // From 1e21 toFixed switches to exponent form; C prints every digit (such a double is an integer).
  if (Math.abs(value) >= 1e21 && Number.isFinite(value)) return wholeDigits(value, digits);
  const text = value.toFixed(digits);
  // A tie at `digits` decimals is an odd multiple of 2^-(digits+1) (only those halves are exact in
  // binary); toFixed rounded it up in magnitude, C rounds it to even.
  const scaled = value * TIE_SCALE[digits]!;
  if (!Number.isInteger(scaled) || scaled % 2 === 0) return text;
  const magnitude = Math.abs(value) * 10 ** digits;
  const low = Math.floor(magnitude);
  if (magnitude - low !== 0.5) return text;
  const even = low % 2 === 0 ? low : low + 1;
  return withDecimals(value < 0 ? -even : even, digits);
}

const TIE_SCALE = [2, 4, 8, 16];

/** A double of 1e21 or more (an integer) as C's `%.Nf` prints it: all its digits, then zero decimals. */
function wholeDigits(value: number, digits: number): string {
  const integer = `${value < 0 ? '-' : ''}${BigInt(Math.abs(value)).toString()}`;
  return digits === 0 ? integer : `${integer}.${'0'.repeat(digits)}`;
}

function withDecimals(units: number, digits: number): string {
  if (digits === 0) return String(units);
  const sign = units < 0 ? '-' : '';
  const text = String(Math.abs(units)).padStart(digits + 1, '0');
  return `${sign}${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/**
 * Perl's default number to string for the values flamegraph.pl computes (`%.15g`); integers print in full
 * below 1e15, where `%.15g` has no exponent.
 */
export function perlNumber(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  return formatNv(value);
}

/** "1234567" → "1,234,567" (flamegraph.pl adds commas to sample counts, perlfaq5's way). */
export function withCommas(integerText: string): string {
  const negative = integerText.startsWith('-') || integerText.startsWith('+');
  const sign = negative ? integerText[0] : '';
  const digits = negative ? integerText.slice(1) : integerText;
  if (digits.length <= 3 || !/^\d+$/.test(digits)) return integerText;
  let out = '';
  const head = digits.length % 3;
  if (head > 0) out = digits.slice(0, head);
  for (let i = head; i < digits.length; i += 3) out += (out === '' ? '' : ',') + digits.slice(i, i + 3);
  return sign + out;
}
