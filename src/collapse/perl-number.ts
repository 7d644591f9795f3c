/**
 * Numbers printed the way Perl prints them, so our folded output and `diff` output match the Perl
 * tools byte for byte. Perl keeps sums of integer strings as integers (IV) and prints them in full;
 * anything else is a double (NV) printed with `%.15g`.
 */

/** Largest magnitude Perl still holds as a 64-bit integer when summing integer counts. */
const PERL_IV_LIMIT = 2 ** 63;
/** Perl's integers: IV down to -2^63, UV up to 2^64 - 1. */
const IV_MIN = -(2n ** 63n);
const UV_MAX = 2n ** 64n - 1n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** `%.15g`: Perl's NV_DIG on x86-64 Linux. */
const NV_SIGNIFICANT_DIGITS = 15;
/** Decimal digits that always fit a double exactly (10^15 < 2^53). */
const EXACT_DIGITS = 15;

/**
 * A count as Perl holds it. A number is exact (an integer up to 2^53, or a double Perl holds as an NV: a
 * fraction, or beyond 2^64); a bigint is an integer past 2^53 that Perl still holds exactly (IV/UV),
 * e.g. a perf period of 2^64 - 1. Bigints appear only past 2^53: the common case stays a plain number.
 */
export type PerlCount = number | bigint;

/** A run of decimal digits as Perl numifies it: exact up to 2^64 - 1, a double beyond. */
export function perlCountFromDigits(digits: string): PerlCount {
  if (digits.length <= EXACT_DIGITS) return Number(digits);
  return exactInteger(BigInt(digits)) ?? Number(digits);
}

/**
 * `a + b` as Perl's `+=` computes it: exact integer arithmetic while both are integers and the sum fits
 * 64 bits (IV/UV), else the two as doubles, added (pp_add's fallback): 2^64 - 1 plus 1 is 1.84467440737096e+19.
 */
export function addPerlCounts(a: PerlCount, b: PerlCount): PerlCount {
  if (typeof a === 'number' && typeof b === 'number') {
    const sum = a + b;
    if (Number.isSafeInteger(sum) || !Number.isInteger(a) || !Number.isInteger(b)) return sum;
  }
  if (isPerlInteger(a) && isPerlInteger(b)) return exactInteger(BigInt(a) + BigInt(b)) ?? Number(a) + Number(b);
  return Number(a) + Number(b);
}

/** `a - b` as Perl computes it: exact while both are integers and the difference fits 64 bits. */
export function subtractPerlCounts(a: PerlCount, b: PerlCount): PerlCount {
  if (typeof a === 'number' && typeof b === 'number') {
    if (!Number.isInteger(a) || !Number.isInteger(b)) return a - b;
    if (Number.isSafeInteger(a) && Number.isSafeInteger(b)) return a - b;
  }
  if (isPerlInteger(a) && isPerlInteger(b)) return exactInteger(BigInt(a) - BigInt(b)) ?? Number(a) - Number(b);
  return Number(a) - Number(b);
}

/** What a count becomes once Perl has printed it and read it back (a hash key, a folded line). */
export function perlRoundTrip(value: PerlCount): PerlCount {
  if (typeof value === 'bigint' || Number.isSafeInteger(value)) return value;
  const text = formatPerlNumber(value);
  return /^\d+$/.test(text) ? perlCountFromDigits(text) : Number(text);
}

/** Integers Perl would add as IV/UV: bigints, and integral doubles within 64 bits. */
function isPerlInteger(value: PerlCount): boolean {
  return typeof value === 'bigint' || (Number.isInteger(value) && value >= -(2 ** 63) && value < 2 ** 64);
}

/** An exact integer as a PerlCount (a number when safe); undefined beyond 64 bits, where Perl uses doubles. */
function exactInteger(value: bigint): PerlCount | undefined {
  if (value < IV_MIN || value > UV_MAX) return undefined;
  return value <= MAX_SAFE && value >= -MAX_SAFE ? Number(value) : value;
}

export function formatPerlNumber(value: PerlCount): string {
  if (typeof value === 'bigint') return value.toString();
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Inf';
  if (value === -Infinity) return '-Inf';
  if (Number.isInteger(value) && Math.abs(value) < PERL_IV_LIMIT) {
    // Exact digits (String() would round past 2^53 to "…847000"); -0 prints as "0", as in Perl.
    return Number.isSafeInteger(value) ? String(value === 0 ? 0 : value) : BigInt(value).toString();
  }
  return formatNv(value);
}

/** How Perl prints a double (NV): `%.15g`. */
export function formatNv(value: number): string {
  return formatG(value, NV_SIGNIFICANT_DIGITS);
}

/** C's `%.<precision>g`: fixed or exponent form by the exponent, trailing zeros removed. */
function formatG(value: number, precision: number): string {
  const exponential = value.toExponential(precision - 1);
  const exponent = Number(exponential.slice(exponential.indexOf('e') + 1));
  if (exponent < -4 || exponent >= precision) {
    const mantissa = stripZeros(exponential.slice(0, exponential.indexOf('e')));
    const sign = exponent < 0 ? '-' : '+';
    const digits = String(Math.abs(exponent)).padStart(2, '0');
    return `${mantissa}e${sign}${digits}`;
  }
  return stripZeros(value.toFixed(precision - 1 - exponent));
}

function stripZeros(text: string): string {
  if (!text.includes('.')) return text;
  return text.replace(/0+$/, '').replace(/\.$/, '');
}

/**
 * Per-stack sums as Perl's `+=` keeps them. `sums` holds every stack's sum as a number (the exact value
 * up to 2^53, or Perl's own double beyond 2^64); `exact` holds, for the rare stacks whose sum Perl keeps
 * as an integer past 2^53, that integer. The common case (counts summing below 2^53) costs one compare.
 */
export class PerlSums {
  readonly exact = new Map<string, bigint>();

  constructor(readonly sums: Map<string, number> = new Map()) {}

  /** Add `value` (its exact integer `big` when the count had more digits than a double holds). */
  add(key: string, value: number, big: bigint | undefined = undefined): void {
    const sum = this.sums.get(key);
    const next = sum === undefined ? value : sum + value;
    if (big === undefined && next <= Number.MAX_SAFE_INTEGER) this.sums.set(key, next);
    else this.addExactly(key, sum, big ?? value);
  }

  private addExactly(key: string, sum: number | undefined, value: PerlCount): void {
    const next = addPerlCounts(this.exact.get(key) ?? sum ?? 0, value);
    this.sums.set(key, Number(next));
    if (typeof next === 'bigint') this.exact.set(key, next);
    else this.exact.delete(key);
  }
}
