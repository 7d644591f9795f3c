/**
 * Byte values and byte classes the perf parser matches on. The Perl original matches with regexes on
 * byte strings, so its classes are ASCII-only: `\s` is space, tab, CR, LF, FF, VT; `\w` is [A-Za-z0-9_].
 */

export const NEWLINE = 0x0a; // \n
export const CARRIAGE_RETURN = 0x0d; // \r
export const SPACE = 0x20;
export const TAB = 0x09;
export const HASH = 0x23; // '#': a comment line, e.g. the `# ========` header of `perf script --header`
export const SLASH = 0x2f; // '/': "java 24636/25607 [000] …" (PID/TID)
export const COLON = 0x3a;
export const OPEN_PAREN = 0x28;
export const CLOSE_PAREN = 0x29;
export const OPEN_BRACKET = 0x5b; // '[': "[002]" (CPU)
export const CLOSE_BRACKET = 0x5d;
export const SEMICOLON = 0x3b;
export const UNDERSCORE = 0x5f;
export const HYPHEN = 0x2d;
export const QUESTION_MARK = 0x3f;
export const DOT = 0x2e;
export const DIGIT_0 = 0x30;
export const DIGIT_9 = 0x39;

const BYTE_VALUES = 256;

/** Perl's `\s` on a byte string. */
export const IS_SPACE = new Uint8Array(BYTE_VALUES);
for (const byte of [SPACE, TAB, NEWLINE, CARRIAGE_RETURN, 0x0b, 0x0c]) IS_SPACE[byte] = 1;

/** Perl's `\w` on a byte string (no locale, no utf8 flag): ASCII letters, digits, underscore. */
export const IS_WORD = new Uint8Array(BYTE_VALUES);
for (let byte = 0; byte < BYTE_VALUES; byte++) {
  const c = String.fromCharCode(byte);
  if (/[A-Za-z0-9_]/.test(c)) IS_WORD[byte] = 1;
}

/** Hex digits as perf prints addresses (lower case; upper case accepted too). */
export const IS_HEX = new Uint8Array(BYTE_VALUES);
for (let byte = 0; byte < BYTE_VALUES; byte++) {
  if (/[0-9a-fA-F]/.test(String.fromCharCode(byte))) IS_HEX[byte] = 1;
}

export function isDigit(byte: number): boolean {
  return byte >= DIGIT_0 && byte <= DIGIT_9;
}

/** FNV-1a offset basis and prime: a simple, well-spread 32-bit hash that costs one multiply per byte. */
export const HASH_SEED = 0x811c9dc5;
export const HASH_PRIME = 0x01000193;

/** Hash `bytes[start, end)` starting from `seed`. */
export function hashBytes(bytes: Uint8Array, start: number, end: number, seed: number): number {
  let hash = seed;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, HASH_PRIME);
  return hash;
}

/** Mix one 32-bit value (a frame id) into a hash. */
export function hashInt(hash: number, value: number): number {
  hash = Math.imul(hash ^ (value & 0xffff), HASH_PRIME);
  return Math.imul(hash ^ (value >>> 16), HASH_PRIME);
}
