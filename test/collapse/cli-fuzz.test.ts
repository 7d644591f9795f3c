import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runCli, type CliResult } from '../support/cli.js';
import { FUZZ_SEED, MUTATIONS, prng, seedInputs } from './fuzz-support.js';

/** Each case spawns node: a few dozen keep the file under a minute on two cores. */
const CLI_CASES = Number(process.env.FUZZ_CLI_CASES ?? 24);
const INPUTS = seedInputs();
const OTHERS = INPUTS.map((input) => input.bytes);
const FLAG_SETS = [[], ['--pid', '--kernel'], ['--tid', '--all', '--addrs'], ['--format', 'folded'], ['--comm', 'a'], ['--iris']];

/** What a user may see: success with folded lines, or one "irisflame:" line (plus a hint), never a trace. */
function expectCleanOutcome(result: CliResult, label: string): void {
  expect(result.stderr, label).not.toMatch(/^\s+at /m);
  expect(result.stderr, label).not.toMatch(/Error:|node:internal/);
  if (result.exitCode === 0) {
    for (const line of result.stdout.split('\n').slice(0, -1)) expect(line, label).toMatch(/ (\d+(\.\d+)?(e[+-]\d+)?|Inf)( \d+(\.\d+)?)?$/);
    return;
  }
  expect([1, 2], label).toContain(result.exitCode);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines[0], label).toMatch(/^irisflame: /);
  expect(lines.length, label).toBeLessThanOrEqual(2);
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'irisflame-cli-fuzz-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe(`fuzzing the collapse and diff commands (seed ${FUZZ_SEED}, ${CLI_CASES} cases)`, () => {
  it('answers every mutated input with folded stacks or one clear line, never a stack trace or a hang', async () => {
    const exits = new Map<number, number>();
    for (let i = 0; i < CLI_CASES; i++) {
      const random = prng(FUZZ_SEED + 1000 + i);
      const input = INPUTS[Math.floor(random() * INPUTS.length)]!;
      const mutation = MUTATIONS[i % MUTATIONS.length]!;
      const bytes = mutation.apply(input.bytes, random, OTHERS);
      const flags = FLAG_SETS[i % FLAG_SETS.length]!;
      const label = `seed ${FUZZ_SEED + 1000 + i}: ${mutation.name} ${input.name} ${flags.join(' ')}`;
      let result: CliResult;
      if (i % 3 === 0) {
        result = await runCli(['collapse', ...flags], { input: bytes, timeoutMs: 60_000 });
      } else {
        const path = join(dir, `case-${i}${i % 3 === 1 ? '.gz' : '.txt'}`);
        writeFileSync(path, i % 3 === 1 ? gzipSync(bytes) : bytes);
        result = await runCli(['collapse', ...flags, path], { timeoutMs: 60_000 });
      }
      expectCleanOutcome(result, label);
      exits.set(result.exitCode, (exits.get(result.exitCode) ?? 0) + 1);
    }
    console.log(`[fuzz] collapse CLI exit codes over ${CLI_CASES} cases: ${JSON.stringify(Object.fromEntries(exits))}`);
    expect(exits.get(0) ?? 0).toBeGreaterThan(0);
  }, 600_000);

  it('diff answers mutated inputs cleanly', async () => {
    for (let i = 0; i < 6; i++) {
      const random = prng(FUZZ_SEED + 2000 + i);
      const mutation = MUTATIONS[(i * 5) % MUTATIONS.length]!;
      const a = mutation.apply(INPUTS[Math.floor(random() * INPUTS.length)]!.bytes, random, OTHERS);
      const b = INPUTS[Math.floor(random() * INPUTS.length)]!.bytes;
      const pathB = join(dir, `diff-b-${i}.txt`);
      writeFileSync(pathB, b);
      expectCleanOutcome(await runCli(['diff', '-n', '-s', '-', pathB], { input: a }), `diff seed ${FUZZ_SEED + 2000 + i}: ${mutation.name}`);
    }
  }, 300_000);

  it('reports a 50 MB single line without a count as no stacks, in one line', async () => {
    const result = await runCli(['collapse'], { input: Buffer.alloc(50 * 1024 * 1024, 'frame;'), timeoutMs: 120_000 });
    expectCleanOutcome(result, '50 MB line');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^irisflame: no stacks found in stdin/);
  }, 180_000);
});
