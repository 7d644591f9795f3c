/**
 * Test-side readers: folded text → FoldedStacks with flamegraph.pl's own line rule (so the renderer is
 * tested apart from the collapse stage), and the reference Perl run on a file.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { FoldedStacks } from '../../../src/collapse/types.js';
import { perlScript } from '../../support/references.js';

const LINE = /^(.*)\s+?(\d+(?:\.\d*)?)$/s;

export interface FoldedInput {
  stacks: FoldedStacks;
  before?: FoldedStacks;
}

/** One or two count columns, as flamegraph.pl reads them; input order kept (Map insertion order). */
export function parseFolded(text: string): FoldedInput {
  const stacks: FoldedStacks = new Map();
  let before: FoldedStacks | undefined;
  for (const line of text.split('\n')) {
    const match = LINE.exec(line);
    if (!match) continue;
    let stack = match[1]!;
    const after = Number(match[2]);
    const second = LINE.exec(stack);
    if (second) {
      stack = second[1]!;
      before ??= new Map();
      before.set(stack, (before.get(stack) ?? 0) + Number(second[2]));
    }
    stacks.set(stack, (stacks.get(stack) ?? 0) + after);
  }
  return before ? { stacks, before } : { stacks };
}

export function readFolded(path: string): FoldedInput {
  return parseFolded(readFileSync(path, 'latin1'));
}

/** flamegraph.pl's SVG for `path` with `args` (its stderr is discarded; exit 2 on empty input is kept). */
export function runFlamegraphPl(path: string, args: string[], cwd?: string): string {
  return execFileSync('perl', [perlScript('flamegraph.pl'), ...args, path], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}
