/**
 * Numbers printed the way Perl prints them, so our folded output and `diff` output match the Perl
 * tools byte for byte. Perl keeps sums of integer strings as integers (IV) and prints them in full;
 * anything else is a double (NV) printed with `%.15g`.
 */

/** Largest magnitude Perl still holds as a 64-bit integer when summing integer counts. */
const PERL_IV_LIMIT = 2 ** 63;
/** `%.15g`: Perl's NV_DIG on x86-64 Linux. */
const NV_SIGNIFICANT_DIGITS = 15;

export function formatPerlNumber(value: number): string {
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
