/**
 * The sorted-folded fast path (frames merged while the file is read) against the general path (collapse
 * every stack into a Map, sort, merge): the same SVG bytes on every committed folded fixture, and a
 * fall-back whenever the input is not what the fast path handles.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { collapseInput, type CollapseRun } from '../../src/collapse/pipeline.js';
import { renderFlamegraph, renderMergedFlamegraph, type FlamegraphOptions } from '../../src/flamegraph/index.js';
import { computeScale } from '../../src/flamegraph/layout.js';
import { resolveFlamegraphOptions } from '../../src/flamegraph/options.js';
import { FRAME_BLOCK, mergeSortedFolded } from '../../src/flamegraph/sorted-folded.js';
import { REPO_ROOT, runCli } from '../support/cli.js';

/**
 * The CLI (dist/) embeds the browser files as the build minified them (scripts/minify-browser.mjs), the API run
 * from src/ embeds the sources: `svg` with the minified texts put back to the sources', to compare the two.
 */
function withSourceAssets(svg: string): string {
  for (const name of ['flamegraph-lib.js', 'flamegraph.js', 'flamegraph-large.js', 'flamegraph.css']) {
    const minified = join(REPO_ROOT, 'dist/flamegraph/browser', name.replace(/\.(js|css)$/, '.min.$1'));
    if (existsSync(minified)) {
      svg = svg.replace(readFileSync(minified, 'utf8'), () => readFileSync(join(REPO_ROOT, 'src/flamegraph/browser', name), 'utf8'));
    }
  }
  return svg;
}

const FIXTURE_DIRS = ['fixtures/flamegraph', 'fixtures/collapse/folded'];
const OPTION_SETS: Partial<FlamegraphOptions>[] = [
  {},
  { minwidth: 0, colors: 'hot', inverted: true, width: 700 },
  { minwidth: '2%', colors: 'java', hash: true, title: 'sorted', countname: 'bytes' },
  { total: 1e9, fontsize: 9 },
];

function foldedFixtures(): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.folded(\.gz)?$/.test(entry)) found.push(path);
    }
  };
  for (const dir of FIXTURE_DIRS) walk(join(REPO_ROOT, dir));
  return found;
}

const scratch = mkdtempSync(join(tmpdir(), 'irisflame-sorted-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * The fixture's lines sorted byte-wise, as a collapser writes them (plain text, not gzip); with `unique`,
 * only the first line of each stack (as a collapser writes each stack once).
 */
function sortedCopy(path: string, unique = false): string {
  const raw = readFileSync(path);
  const bytes = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
  let lines = bytes.toString('latin1').split('\n').filter((line) => line !== '');
  if (unique) {
    const seen = new Set<string>();
    lines = lines.filter((line) => {
      const key = line.replace(/\s\S*\s*$/, '');
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }
  const copy = join(scratch, `${relative(REPO_ROOT, path).replaceAll('/', '_')}${unique ? '.unique' : ''}.sorted`);
  writeFileSync(copy, `${lines.sort().join('\n')}\n`, 'latin1');
  return copy;
}

async function collapseOrUndefined(path: string): Promise<CollapseRun | undefined> {
  try {
    return await collapseInput(path, { all: true });
  } catch {
    return undefined;
  }
}

/**
 * What the fast path promises to take (given lines sorted by stack): one count column, each stack once,
 * nothing skipped or noted, no bcc delimiter.
 */
function fastPathTakes(run: CollapseRun | undefined): boolean {
  if (run === undefined || run.format !== 'folded' || run.before !== undefined) return false;
  if (run.report.samples !== run.stacks.size) return false;
  if (run.report.badLines > 0 || run.report.notes.length > 0) return false;
  return ![...run.stacks.keys()].some((key) => key.includes(';-'));
}

/** The CLI's pruning bound: the narrowest frame drawn at a given total. */
function minWeightAt(options: Partial<FlamegraphOptions>): (total: number) => number {
  const resolved = resolveFlamegraphOptions(options);
  return (total) => computeScale(total, resolved).minWeight;
}

/** The fast path, pruning as the CLI does, against the general path: the same SVG. */
async function expectSameAsGeneralPath(path: string, options: Partial<FlamegraphOptions> = {}): Promise<void> {
  const merged = await mergeSortedFolded(path, 'auto', false, minWeightAt(options));
  expect(merged).toBeDefined();
  const run = await collapseInput(path, {});
  expect(renderMergedFlamegraph(merged!, options)).toBe(renderFlamegraph({ stacks: run.stacks }, options));
}

describe('the sorted folded fast path', () => {
  const fixtures = foldedFixtures();

  it('finds the committed folded fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(25);
  });

  for (const [fixture, unique] of fixtures.flatMap((path) => [[path, false], [path, true]] as const)) {
    const name = `${relative(REPO_ROOT, fixture)}${unique ? ' (each stack once)' : ''}`;
    it(`draws the sorted ${name} byte for byte as the general path does, or leaves it to that path`, async () => {
      const path = sortedCopy(fixture, unique);
      const run = await collapseOrUndefined(path);
      const merged = await mergeSortedFolded(path, 'auto', true);
      expect(merged !== undefined).toBe(fastPathTakes(run));
      if (merged === undefined) return;
      expect(merged.total).toBe([...run!.stacks.values()].reduce((sum, weight) => sum + weight, 0));
      for (const options of OPTION_SETS) {
        const expected = renderFlamegraph({ stacks: run!.stacks }, options);
        expect(renderMergedFlamegraph(merged, options)).toBe(expected);
        // Frames dropped while reading, as the CLI does: the same document.
        const pruned = await mergeSortedFolded(path, 'auto', true, minWeightAt(options));
        expect(pruned!.count).toBeLessThanOrEqual(merged.count);
        expect(renderMergedFlamegraph(pruned!, options)).toBe(expected);
      }
    });
  }

  it('takes most of the sorted fixtures, the real captures among them', async () => {
    let taken = 0;
    for (const fixture of fixtures) if ((await mergeSortedFolded(sortedCopy(fixture, true), 'auto', true)) !== undefined) taken++;
    expect(taken).toBeGreaterThanOrEqual(18);
    expect(await mergeSortedFolded(sortedCopy(join(REPO_ROOT, 'fixtures/flamegraph/captures/perl.folded')), 'auto', true)).toBeDefined();
  });

  it('keeps frames beyond one storage block in order', async () => {
    const lines: string[] = [];
    for (let i = 0; lines.length < FRAME_BLOCK; i++) lines.push(`app;f${i % 97};g${i} ${1 + (i % 7)}`);
    const path = join(scratch, 'many.folded');
    writeFileSync(path, `${lines.sort().join('\n')}\n`);
    const merged = await mergeSortedFolded(path, 'auto', true);
    expect(merged!.count).toBeGreaterThan(FRAME_BLOCK);
    const run = await collapseInput(path, { all: true });
    expect(renderMergedFlamegraph(merged!, { minwidth: 0 })).toBe(renderFlamegraph({ stacks: run.stacks }, { minwidth: 0 }));
  });

  it('draws deep, long-lined input read in many chunks as the general path does, pruning while reading', async () => {
    // Over 1 MiB (lines cross chunk reads), stacks deeper than 256 frames and lines longer than 4 KiB
    // (the scratch arrays grow), Java/C++-like names sharing long prefixes, a 1-in-7 chance of a wide count.
    const lines = new Set<string>();
    let seed = 7;
    // xorshift32: integer-exact, so the sequence cannot fall into a short cycle.
    const random = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    while (lines.size < 6000) {
      const depth = lines.size % 500 === 0 ? 300 + Math.floor(random() * 40) : 5 + Math.floor(random() * 40);
      const frames = ['java'];
      for (let level = 1; level < depth; level++) {
        frames.push(`com.acme.Svc${Math.floor(random() * (level < 10 ? 2 : 4))}.call${level}`);
      }
      lines.add(frames.join(';'));
    }
    const text = [...lines].sort().map((stack, i) => `${stack} ${i % 7 === 0 ? 5000 : 1 + (i % 13)}`);
    const path = join(scratch, 'deep.folded');
    writeFileSync(path, `${text.join('\n')}\n`);
    expect(statSync(path).size).toBeGreaterThan(2 ** 20);
    for (const options of [{}, { minwidth: '1%' }, { total: 1e7 }, { width: 300, inverted: true }]) {
      await expectSameAsGeneralPath(path, options);
    }
  });

  it('reads empty names, trailing separators, CRLF, blank lines and a last line without newline as the general path', async () => {
    const cases: Record<string, string> = {
      empty: 'a;;b 1\na;;c 2\na;b 3\n',
      trailing: 'a;b; 1\na;b;;c 2\na;c;; 4\nb 1\n',
      crlf: 'a;b 1\r\na;c 2\r\n\r\nb;d 3\r\n',
      unterminated: 'a;b 1\n  \na;c 2',
      prefix: 'a 1\na;b 2\na;b;c 3\na;bc 4\nab 5\n',
      decimals: 'a;b 1.5\na;c 2.25\n',
    };
    for (const [label, text] of Object.entries(cases)) {
      const path = join(scratch, `${label}.edge.folded`);
      writeFileSync(path, text);
      await expectSameAsGeneralPath(path, { minwidth: 0 });
      await expectSameAsGeneralPath(path);
    }
  });

  it('gives up on stacks out of order, a stack repeated, two count columns, a bad line and stdin', async () => {
    const cases: Record<string, string> = {
      unsorted: 'main;b 1\nmain;a 2\n',
      repeated: 'main;a 1\nmain;a 2\n',
      differential: 'main;a 1 2\nmain;b 3 4\n',
      bad: 'main;a 1\nnot a count\nmain;b 2\n',
    };
    for (const [label, text] of Object.entries(cases)) {
      const path = join(scratch, `${label}.folded`);
      writeFileSync(path, text);
      expect(await mergeSortedFolded(path, 'auto', false), label).toBeUndefined();
    }
    expect(await mergeSortedFolded('-', 'auto', false)).toBeUndefined();
    expect(await mergeSortedFolded(undefined, 'auto', false)).toBeUndefined();
  });

  it('renames nothing: with kernel annotations on, a bcc-delimited stack goes to the general path', async () => {
    const path = join(scratch, 'bcc.folded');
    writeFileSync(path, 'python;main;-;sys_read 3\n');
    expect(await mergeSortedFolded(path, 'auto', true)).toBeUndefined();
    expect(await mergeSortedFolded(path, 'auto', false)).toBeDefined();
  });

  it('draws an unsorted file through the CLI exactly as its sorted copy (fast path) and the API', async () => {
    const fixture = join(REPO_ROOT, 'fixtures/flamegraph/captures/perl.folded');
    const sorted = sortedCopy(fixture);
    const lines = readFileSync(sorted, 'latin1').split('\n').filter((line) => line !== '');
    const unsorted = join(scratch, 'perl-reversed.folded');
    writeFileSync(unsorted, `${lines.reverse().join('\n')}\n`, 'latin1');
    expect(await mergeSortedFolded(unsorted, 'auto', true)).toBeUndefined();

    const fromUnsorted = await runCli(['flamegraph', unsorted]);
    const fromSorted = await runCli(['flamegraph', sorted]);
    expect(fromUnsorted.exitCode).toBe(0);
    expect(fromSorted.exitCode).toBe(0);
    expect(fromSorted.stdoutBytes.equals(fromUnsorted.stdoutBytes)).toBe(true);
    const run = await collapseInput(fixture, { all: true });
    expect(withSourceAssets(fromSorted.stdout)).toBe(renderFlamegraph({ stacks: run.stacks }));
  });
});
