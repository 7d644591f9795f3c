/**
 * Seeded mutations of real inputs for the fuzz tests: every case is reproducible from its seed
 * (FUZZ_SEED), and the number of cases scales with FUZZ_ITERATIONS.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { REPO_ROOT } from '../support/cli.js';

export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261125);
export const FUZZ_ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 150);

export { prng } from '../support/prng.js';

export type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const int = (random: Random, below: number): number => Math.floor(random() * below);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** The committed real inputs of every format (not the deliberately bad ones), decompressed. */
export function seedInputs(): { name: string; bytes: Buffer }[] {
  const root = join(REPO_ROOT, 'fixtures/collapse');
  return ['perf', 'bpftrace', 'folded'].flatMap((format) =>
    filesUnder(join(root, format)).map((path) => {
      const raw = readFileSync(path);
      return { name: path.slice(root.length + 1), bytes: path.endsWith('.gz') ? gunzipSync(raw) : raw };
    }),
  );
}

const COUNT_REPLACEMENTS = ['-5', '0', '1e999', '99999999999999999999999999999', 'NaN', '', '1.5.5', '0x10', '۳', '18446744073709551617'];

export interface Mutation {
  name: string;
  apply(input: Buffer, random: Random, others: readonly Buffer[]): Buffer;
}

export const MUTATIONS: readonly Mutation[] = [
  { name: 'truncated', apply: (input, random) => input.subarray(0, int(random, input.length + 1)) },
  {
    name: 'bit-flipped',
    apply: (input, random) => {
      const out = Buffer.from(input);
      const flips = 1 + int(random, 20);
      for (let i = 0; i < flips && out.length > 0; i++) out[int(random, out.length)]! ^= 1 << int(random, 8);
      return out;
    },
  },
  {
    name: 'random bytes',
    apply: (_input, random) => Buffer.from(Array.from({ length: int(random, 5000) }, () => int(random, 256))),
  },
  {
    name: 'random printable text',
    apply: (_input, random) =>
      Buffer.from(Array.from({ length: int(random, 5000) }, () => pick(random, [0x0a, 0x20, 0x3b, 0x5b, 0x5d, 0x40, 0x2c, ...Array.from({ length: 20 }, () => 0x30 + int(random, 75))]))),
  },
  { name: 'CRLF', apply: (input) => Buffer.from(input.toString('latin1').replace(/\n/g, '\r\n'), 'latin1') },
  { name: 'CR only', apply: (input) => Buffer.from(input.toString('latin1').replace(/\n/g, '\r'), 'latin1') },
  {
    name: 'bad counts',
    apply: (input, random) =>
      Buffer.from(input.toString('latin1').replace(/(?<=[ :])\d+(?=\r?$)/gm, () => pick(random, COUNT_REPLACEMENTS)), 'latin1'),
  },
  {
    name: 'lines shuffled, dropped and repeated',
    apply: (input, random) => {
      const lines = input.toString('latin1').split('\n');
      const out: string[] = [];
      for (let i = 0; i < lines.length; i++) {
        const roll = random();
        if (roll < 0.1) continue;
        out.push(roll < 0.2 ? pick(random, lines) : lines[i]!);
      }
      return Buffer.from(out.join('\n'), 'latin1');
    },
  },
  {
    name: 'mixed formats',
    apply: (input, random, others) => {
      const parts = [input, pick(random, others), pick(random, others)].map((part) => part.subarray(int(random, part.length)));
      return Buffer.concat(parts);
    },
  },
  {
    name: 'a very long line',
    apply: (input, random) => Buffer.concat([input.subarray(0, int(random, input.length)), Buffer.alloc(200_000 + int(random, 200_000), 'a;'), input]),
  },
  {
    name: 'NUL and control bytes late in the input',
    apply: (input, random) => {
      const out = Buffer.from(input);
      for (let i = 0; i < 10 && out.length > 9000; i++) out[9000 + int(random, out.length - 9000)] = int(random, 32);
      return out;
    },
  },
];

/** A split of `bytes` into chunks of random sizes, as a pipe might deliver them. */
export function randomChunks(bytes: Buffer, random: Random): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; ) {
    const size = 1 + int(random, random() < 0.3 ? 16 : 70_000);
    chunks.push(bytes.subarray(i, i + size));
    i += size;
  }
  return chunks;
}
