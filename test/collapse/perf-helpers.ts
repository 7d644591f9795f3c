/**
 * Shared by the perf collapser tests: run our collapser over bytes, and run the reference
 * implementations (stackcollapse-perf.pl, inferno-collapse-perf) over files, all as folded bytes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createPerfCollapser } from '../../src/collapse/perf.js';
import type { PerfCollapseOptions } from '../../src/collapse/perf-options.js';
import type { CollapseResult } from '../../src/collapse/types.js';
import { foldedLines } from '../../src/collapse/write.js';
import { infernoBinary, perlScript } from '../support/references.js';

export const PERL_COLLAPSER = perlScript('stackcollapse-perf.pl');
export const INFERNO_COLLAPSER = infernoBinary('inferno-collapse-perf');

/** The option flags the corpus is run with, as the Perl spells them, and how we spell them. */
export const OPTION_FLAGS: ReadonlyArray<{ flag: string | undefined; options: Partial<PerfCollapseOptions> }> = [
  { flag: undefined, options: {} },
  { flag: '--pid', options: { pid: true } },
  { flag: '--tid', options: { tid: true } },
  { flag: '--kernel', options: { kernel: true } },
  { flag: '--jit', options: { jit: true } },
  { flag: '--all', options: { all: true } },
  { flag: '--addrs', options: { addrs: true } },
];

/** Feed `input` in chunks of `chunkBytes` (split anywhere) and collapse it. */
export function collapse(input: Buffer | string, options: Partial<PerfCollapseOptions> = {}, chunkBytes = 1 << 16): CollapseResult {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const collapser = createPerfCollapser(options);
  for (let at = 0; at < bytes.length; at += chunkBytes) collapser.push(bytes.subarray(at, at + chunkBytes));
  return collapser.finish();
}

/** Folded output as the Perl prints it: `key count\n`, sorted byte-wise, keys' bytes as they are. */
export function folded(result: CollapseResult): Buffer {
  return Buffer.from([...foldedLines(result)].join(''), 'latin1');
}

export function collapseFile(path: string, options: Partial<PerfCollapseOptions> = {}): Buffer {
  return folded(collapse(readFileSync(path), options));
}

const perlOutputs = new Map<string, Buffer>();

/** stackcollapse-perf.pl's output (remembered: the Perl is slow); its warnings on stderr are dropped. */
export function runPerl(path: string, flag: string | undefined): Buffer {
  const key = `${flag ?? ''} ${path}`;
  let output = perlOutputs.get(key);
  if (output === undefined) {
    // The Perl's --context only means something with --inline.
    const flags = flag === undefined ? [] : flag === '--context' ? ['--inline', '--context'] : [flag];
    const args = [PERL_COLLAPSER, ...flags, path];
    output = execFileSync('perl', args, { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 30 });
    perlOutputs.set(key, output);
  }
  return output;
}

export function runInferno(path: string, flag: string | undefined): Buffer {
  const args = ['--nthreads', '1', ...(flag ? [flag] : []), path];
  return execFileSync(INFERNO_COLLAPSER, args, { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 30 });
}

let scratch: string | undefined;

/**
 * A copy of `path` that ends with a blank line. The Perl drops a last sample that no blank line follows
 * (we keep it, as inferno does); on such a copy the two must agree exactly.
 */
export function withTrailingBlankLine(path: string): string {
  const bytes = readFileSync(path);
  if (bytes.length >= 2 && bytes[bytes.length - 1] === 0x0a && bytes[bytes.length - 2] === 0x0a) return path;
  scratch ??= mkdtempSync(join(tmpdir(), 'irisflame-perf-'));
  const copy = join(scratch, basename(path));
  writeFileSync(copy, Buffer.concat([bytes, Buffer.from('\n')]));
  return copy;
}

/**
 * Our output as the Perl would name frames: the Perl cuts a frame name at its first "(" (keeping
 * "(anonymous namespace)", and whole Go-style names with ".(...)."), where we cut only at a top-level
 * "(" as inferno does (`std::function<void (int)>::operator()` keeps its template). Applying the Perl's
 * cut to our names must give exactly the Perl's output.
 */
export function asPerlWouldName(output: Buffer): Buffer {
  const sums = new Map<string, bigint>();
  for (const line of output.toString('latin1').split('\n')) {
    if (line === '') continue;
    const space = line.lastIndexOf(' ');
    const [root, ...frames] = line.slice(0, space).split(';');
    const key = [root, ...frames.map(perlCut)].join(';');
    sums.set(key, (sums.get(key) ?? 0n) + BigInt(line.slice(space + 1)));
  }
  const keys = [...sums.keys()].sort();
  return Buffer.from(keys.map((key) => `${key} ${sums.get(key)}\n`).join(''), 'latin1');
}

const ANNOTATION = /(_\[[kji]\])$/;

function perlCut(name: string): string {
  const annotation = ANNOTATION.exec(name)?.[1] ?? '';
  let bare = annotation ? name.slice(0, -annotation.length) : name;
  if (!/\.\(.*\)\./.test(bare)) bare = bare.replace(/\((?!anonymous namespace\)).*/, '');
  return bare + annotation;
}

/** inferno keeps quotes in names (the Perl deletes them, and so do we). */
export function withoutQuotes(output: Buffer): Buffer {
  const sums = new Map<string, bigint>();
  for (const line of output.toString('latin1').split('\n')) {
    if (line === '') continue;
    const space = line.lastIndexOf(' ');
    const key = line.slice(0, space).replace(/["']/g, '');
    sums.set(key, (sums.get(key) ?? 0n) + BigInt(line.slice(space + 1)));
  }
  const keys = [...sums.keys()].sort();
  return Buffer.from(keys.map((key) => `${key} ${sums.get(key)}\n`).join(''), 'latin1');
}

/** A short readable difference for assertion messages. */
export function firstDifference(actual: Buffer, expected: Buffer): string {
  const a = actual.toString('latin1').split('\n');
  const e = expected.toString('latin1').split('\n');
  for (let i = 0; i < Math.max(a.length, e.length); i++) {
    if (a[i] !== e[i]) return `line ${i + 1}:\n  ours:     ${a[i]?.slice(0, 300)}\n  expected: ${e[i]?.slice(0, 300)}`;
  }
  return 'identical';
}
