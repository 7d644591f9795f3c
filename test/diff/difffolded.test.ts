import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { REPO_ROOT } from '../support/cli.js';
import { missingReason, perlScript, reportSkip } from '../support/references.js';
import { diffFolded, readFoldedProfile, type DiffFoldedOptions } from '../../src/diff/difffolded.js';
import { foldedLines } from '../../src/collapse/write.js';

const FOLDED = join(REPO_ROOT, 'fixtures/collapse/folded');

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

async function diffText(before: Buffer | string, after: Buffer | string, options: Partial<DiffFoldedOptions> = {}): Promise<string> {
  const read = (input: Buffer | string) => readFoldedProfile(once(Buffer.from(input as string, 'latin1')), options.stripHex === true);
  const result = diffFolded(await read(before), await read(after), options);
  return [...foldedLines(result)].join('');
}

describe('diffFolded', () => {
  it('pairs each stack\'s counts, with 0 where a profile lacks the stack', async () => {
    expect(await diffText('a;b 3\na;c 2\n', 'a;b 1\na;d 2.5\n')).toBe('a;b 3 1\na;c 2 0\na;d 0 2.5\n');
  });

  it('sums repeated stacks within each profile', async () => {
    expect(await diffText('a 1\na 2\n', 'a 5\n')).toBe('a 3 5\n');
  });

  it('scales the first profile to the second\'s total with normalize, truncating like Perl\'s int()', async () => {
    // totals 3 and 10: 1 * 10 / 3 = 3.33 -> 3, 2 * 10 / 3 = 6.67 -> 6
    expect(await diffText('a 1\nb 2\n', 'a 4\nb 6\n', { normalize: true })).toBe('a 3 4\nb 6 6\n');
  });

  it('does not divide by zero when the first profile is empty', async () => {
    expect(await diffText('', 'a 4\n', { normalize: true })).toBe('a 0 4\n');
  });

  it('replaces hex numbers with 0x... with stripHex, merging stacks that differ only by address', async () => {
    expect(await diffText('a;0x7f01 1\na;0x7F02 2\n', 'a;0xdeadbeef 4\n', { stripHex: true })).toBe('a;0x... 3 4\n');
  });

  it('counts lines without a count instead of summing them into an empty stack', async () => {
    const profile = await readFoldedProfile(once(Buffer.from('a 1\nno count here\n')), false);
    expect(profile.report.badLines).toBe(1);
    expect([...profile.stacks.keys()]).toEqual(['a']);
  });
});

describe('diffFolded against difffolded.pl', () => {
  const script = perlScript('difffolded.pl');
  const skip = reportSkip('difffolded.pl differential', missingReason(script, 'difffolded.pl', 'FLAMEGRAPH_PL_DIR'));
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'irisflame-diff-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Real folded captures of two different workloads each: perf (perl+gzip vs sh+sort+perl) and bpftrace. */
  const PAIRS = [
    ['perf-perl-gzip.folded.gz', 'perf-sh-sort-perl.folded.gz'],
    ['perf-sh-sort-perl.folded.gz', 'perf-perl-gzip.folded.gz'],
    ['bpftrace-addrs-1.folded', 'bpftrace-addrs-2.folded'],
    ['bpftrace-addrs-2.folded', 'bpftrace-addrs-1.folded'],
    ['perf-pid-kernel.folded', 'perf-perl-gzip.folded.gz'],
  ];
  const FLAGS: string[][] = [[], ['-n'], ['-s'], ['-n', '-s']];
  const CASES = PAIRS.flatMap(([a, b]) => FLAGS.map((flags) => [a!, b!, flags] as const));

  const plain = (name: string): string => {
    const path = join(FOLDED, name);
    if (!name.endsWith('.gz')) return path;
    const out = join(dir, name.replace(/\.gz$/, ''));
    writeFileSync(out, gunzipSync(readFileSync(path)));
    return out;
  };

  it.skipIf(skip).each(CASES)('%s vs %s %j: the same lines as the Perl (which prints them in hash order)', async (a, b, flags) => {
    const before = plain(a);
    const after = plain(b);
    const perl = execFileSync('perl', [script, ...flags, before, after]).toString('latin1');
    const ours = await diffText(readFileSync(before), readFileSync(after), { normalize: flags.includes('-n'), stripHex: flags.includes('-s') });
    const lines = (text: string) => text.split('\n').filter((line) => line !== '').sort();
    expect(ours.split('\n').length).toBeGreaterThan(20);
    expect(lines(ours)).toEqual(lines(perl));
  });
});
