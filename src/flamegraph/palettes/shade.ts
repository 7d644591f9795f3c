/**
 * The numbers in [0, 1) that pick a shade within a palette, as flamegraph.pl computes them, so that the
 * same name gets the same colour as there (and in every graph):
 * - default: `srand(sum of the name's code points); rand(1)`: Perl's drand48, reproduced below;
 * - `--hash`: `namehash`, which weights the first characters, so similar names look similar;
 * - `--random`: a new random number for each frame.
 */

export interface Shades {
  v1: number;
  v2: number;
  v3: number;
}

export type ShadeMode = 'name' | 'hash' | 'random';

export function shadesFor(name: string, mode: ShadeMode): Shades {
  if (mode === 'hash') {
    const v2 = nameHash([...name].reverse().join(''));
    return { v1: nameHash(name), v2, v3: v2 };
  }
  if (mode === 'random') return { v1: Math.random(), v2: Math.random(), v3: Math.random() };
  const v = nameShade(name);
  return { v1: v, v2: v, v3: v };
}

const TWO_POW_32 = 2 ** 32;
// Perl's drand48 (FreeBSD's): 48-bit linear congruential generator seeded as (seed << 16) + 0x330E.
const DRAND48_MULTIPLIER = 0x5deece66dn;
const DRAND48_INCREMENT = 0xbn;
const DRAND48_MASK = (1n << 48n) - 1n;
const DRAND48_SEED_LOW = 0x330en;
const TWO_POW_48 = 2 ** 48;

/** flamegraph.pl's `random_namehash`: the first `rand(1)` after `srand(unpack("%32W*", $name))`. */
export function nameShade(name: string): number {
  let sum = 0;
  for (const char of name) sum = (sum + char.codePointAt(0)!) % TWO_POW_32;
  const state = ((BigInt(sum) << 16n) + DRAND48_SEED_LOW) & DRAND48_MASK;
  const next = (state * DRAND48_MULTIPLIER + DRAND48_INCREMENT) & DRAND48_MASK;
  return Number(next) / TWO_POW_48;
}

/**
 * flamegraph.pl's `namehash`: a module prefix (up to the first backtick) is dropped, then the first
 * three characters are mixed, weighting earlier ones more.
 */
export function nameHash(name: string): number {
  const trimmed = name.replace(/[^\n][^\n]*?`/, '');
  let vector = 0;
  let weight = 1;
  let max = 1;
  let mod = 10;
  for (const char of trimmed) {
    const i = char.codePointAt(0)! % mod;
    vector += (i / (mod - 1)) * weight;
    mod++;
    max += weight;
    weight *= 0.7;
    if (mod > 12) break;
  }
  return 1 - vector / max;
}
