/**
 * The input side of collapse: file chunks come from reused buffers (src/collapse/input.ts), so every parser
 * must copy what it keeps past `push` (the contract on `Collapser.push`). These tests hold every parser to it
 * by overwriting each chunk right after it was pushed, and check the file reader end to end.
 */
import { readdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { collapseChunks, collapseInput, foldedLines } from '../../src/collapse/index.js';
import { openInput } from '../../src/collapse/input.js';
import { REPO_ROOT } from '../support/cli.js';

const FIXTURES = ['perf', 'perf/edge', 'bpftrace', 'folded'].flatMap((folder) => {
  const dir = join(REPO_ROOT, 'fixtures', 'collapse', folder);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.(txt|folded)$/.test(entry.name))
    .map((entry) => join(folder, entry.name));
});

/** Chunks of `size` bytes from one buffer that is scribbled over as soon as the consumer asks for more. */
async function* reusedBufferChunks(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  const shared = Buffer.alloc(size);
  for (let start = 0; start < bytes.length; start += size) {
    const length = bytes.copy(shared, 0, start, Math.min(start + size, bytes.length));
    yield shared.subarray(0, length);
    shared.fill(0x3f); // '?': any byte a parser kept without copying now reads as garbage
  }
}

async function* freshChunks(bytes: Buffer): AsyncGenerator<Buffer> {
  yield Buffer.from(bytes);
}

const folded = (result: Parameters<typeof foldedLines>[0]): string => [...foldedLines(result)].join('');

describe('collapse input buffers', () => {
  test('finds fixtures of every format to check', () => {
    expect(FIXTURES.length).toBeGreaterThan(20);
  });

  test.each(FIXTURES)('%s: gives the same stacks when each chunk is overwritten after it was pushed', async (fixture) => {
    const bytes = readFileSync(join(REPO_ROOT, 'fixtures', 'collapse', fixture));
    const expected = folded(await collapseChunks(freshChunks(bytes), fixture, {}));
    for (const size of [777, 4096]) {
      const actual = folded(await collapseChunks(reusedBufferChunks(bytes, size), fixture, {}));
      expect(actual).toBe(expected);
    }
  });
});

describe('openInput', () => {
  const dir = mkdtempSync(join(tmpdir(), 'irisflame-input-'));

  test('reads a file larger than one read buffer completely, in order', async () => {
    const lines = Array.from({ length: 120_000 }, (_, i) => `proc;frame${i % 997};leaf${i} ${i + 1}\n`).join('');
    const path = join(dir, 'big.folded');
    writeFileSync(path, lines);
    const input = await openInput(path);
    const copies: Buffer[] = [];
    for await (const chunk of input.chunks) copies.push(Buffer.from(chunk));
    expect(Buffer.concat(copies).toString()).toBe(lines);
    expect(copies.length).toBeGreaterThan(1);
  });

  test('reads gzip by its magic bytes whatever the name, with the same result as the plain file', async () => {
    const plain = join(REPO_ROOT, 'fixtures', 'collapse', 'perf', 'system-wide.txt');
    const disguised = join(dir, 'capture.txt');
    writeFileSync(disguised, gzipSync(readFileSync(plain)));
    expect(folded(await collapseInput(disguised))).toBe(folded(await collapseInput(plain)));
  });
});
