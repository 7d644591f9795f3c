import { describe, expect, it } from 'vitest';
import { createBpftraceCollapser } from '../../src/collapse/bpftrace.js';
import { createFoldedCollapser } from '../../src/collapse/folded.js';
import { createPerfCollapser } from '../../src/collapse/perf.js';
import { collapseChunks } from '../../src/collapse/pipeline.js';
import { diffFolded, readFoldedProfile } from '../../src/diff/difffolded.js';
import type { CollapseResult, Collapser } from '../../src/collapse/types.js';
import { IrisflameError } from '../../src/errors.js';
import { FUZZ_ITERATIONS, FUZZ_SEED, MUTATIONS, prng, randomChunks, seedInputs } from './fuzz-support.js';

const INPUTS = seedInputs();
const OTHERS = INPUTS.map((input) => input.bytes);

const PARSERS: [string, () => Collapser][] = [
  ['perf', () => createPerfCollapser({ pid: true, kernel: true, jit: true })],
  ['perf (tid, addrs, samples, srcline)', () => createPerfCollapser({ tid: true, addrs: true, samples: true, srcline: true })],
  ['bpftrace', () => createBpftraceCollapser({ tid: true, all: true })],
  ['folded', () => createFoldedCollapser({ kernel: true, pid: true, processFilter: (comm) => comm.length % 2 === 0 })],
];

/** The case for iteration `i`: a seed input, a mutation and a chunking, all from one seed. */
function fuzzCase(i: number) {
  const random = prng(FUZZ_SEED + i);
  const input = INPUTS[Math.floor(random() * INPUTS.length)]!;
  const mutation = MUTATIONS[i % MUTATIONS.length]!;
  const bytes = mutation.apply(input.bytes, random, OTHERS);
  return { label: `seed ${FUZZ_SEED + i}: ${mutation.name} ${input.name}`, bytes, chunks: randomChunks(bytes, random) };
}

function checkResult(result: CollapseResult, label: string): void {
  for (const [key, value] of result.stacks) {
    expect(typeof key, label).toBe('string');
    expect(Number.isNaN(value), `${label}: NaN count for ${key.slice(0, 80)}`).toBe(false);
  }
  expect(result.report.badLines, label).toBeGreaterThanOrEqual(0);
}

async function* fromArray(chunks: Buffer[]): AsyncGenerator<Buffer> {
  for (const chunk of chunks) yield chunk;
}

describe(`fuzzing the parsers (seed ${FUZZ_SEED}, ${FUZZ_ITERATIONS} cases each)`, () => {
  it.each(PARSERS)('the %s parser never throws on mutated real input', (_name, create) => {
    for (let i = 0; i < FUZZ_ITERATIONS; i++) {
      const { label, chunks } = fuzzCase(i);
      const collapser = create();
      let result: CollapseResult | undefined;
      try {
        for (const chunk of chunks) collapser.push(chunk);
        result = collapser.finish();
      } catch (error) {
        throw new Error(`${label}: threw ${(error as Error)?.stack ?? String(error)}`);
      }
      checkResult(result, label);
    }
  });

  it('the pipeline fails only with IrisflameErrors on mutated real input, whatever format it detects', async () => {
    const codes = new Map<string, number>();
    for (let i = 0; i < FUZZ_ITERATIONS; i++) {
      const { label, chunks } = fuzzCase(i);
      try {
        const run = await collapseChunks(fromArray(chunks), 'fuzz', {});
        checkResult(run, label);
        codes.set(`ok:${run.format}`, (codes.get(`ok:${run.format}`) ?? 0) + 1);
      } catch (error) {
        if (!(error instanceof IrisflameError)) throw new Error(`${label}: threw ${(error as Error)?.stack ?? String(error)}`);
        expect(error.message, label).not.toContain('\n');
        expect(error.code, label).not.toBe('INTERNAL');
        codes.set(error.code, (codes.get(error.code) ?? 0) + 1);
      }
    }
    console.log(`[fuzz] pipeline outcomes over ${FUZZ_ITERATIONS} cases: ${JSON.stringify(Object.fromEntries(codes))}`);
    // The mutations must exercise both paths, or this test proves little.
    expect([...codes.keys()].some((key) => key.startsWith('ok:'))).toBe(true);
    expect([...codes.keys()].some((key) => !key.startsWith('ok:'))).toBe(true);
  });

  it('difffolded reads mutated input without throwing', async () => {
    for (let i = 0; i < FUZZ_ITERATIONS; i++) {
      const { label, chunks, bytes } = fuzzCase(i);
      const first = await readFoldedProfile(fromArray(chunks), i % 2 === 0);
      const second = await readFoldedProfile(fromArray([bytes]), i % 2 === 0);
      checkResult(diffFolded(first, second, { normalize: true }), label);
    }
  });

  it('detection copes with a long first line trickling in one byte at a time', async () => {
    const bytes = Buffer.concat([Buffer.alloc(300_000, 'f;'), Buffer.from(' 3\n')]);
    const run = await collapseChunks(fromArray(Array.from(bytes, (byte) => Buffer.from([byte]))), 'trickle', {});
    expect(run.format).toBe('folded');
    expect([...run.stacks.values()]).toEqual([3]);
  }, 60_000);

  it('a 50 MB single line goes through every parser and the pipeline without a hang or a throw', async () => {
    const line = Buffer.alloc(50 * 1024 * 1024, 'frame;');
    const pieces = Array.from({ length: 50 }, (_, i) => line.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024));
    for (const [name, create] of PARSERS) {
      const collapser = create();
      for (const piece of pieces) collapser.push(piece);
      expect(collapser.finish().stacks.size, name).toBe(0);
    }
    await expect(collapseChunks(fromArray(pieces), 'long line', {})).rejects.toSatisfy(
      (error) => error instanceof IrisflameError && error.code === 'NO_STACKS',
    );
    // The same line ending in a count is one valid folded stack.
    const valid = await collapseChunks(fromArray([...pieces, Buffer.from('leaf 7\n')]), 'long stack', {});
    expect([...valid.stacks.values()]).toEqual([7]);
  }, 120_000);
});
