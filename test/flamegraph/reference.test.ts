/**
 * Differential tests against flamegraph.pl: the same folded captures (recorded on this machine with
 * perf, collapsed by stackcollapse-perf.pl) and the same options must give the same frames: titles
 * (name, count, percentage), rectangle x/width/y/height, labels and, for flamegraph.pl's palettes,
 * colours.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderFlamegraph, type FlamegraphOptions } from '../../src/flamegraph/index.js';
import { REPO_ROOT } from '../support/cli.js';
import { missingReason, perlScript, reportSkip } from '../support/references.js';
import { readFolded, runFlamegraphPl } from './support/folded.js';
import { byPosition, parseSvgFrames, svgSize, type SvgFrame } from './support/svg-frames.js';

const CAPTURES = join(REPO_ROOT, 'fixtures/flamegraph/captures');
const DIFFERENTIAL = join(REPO_ROOT, 'fixtures/flamegraph/differential');
const TRICKY = join(REPO_ROOT, 'fixtures/flamegraph/tricky');
const skip = reportSkip('flamegraph vs flamegraph.pl', missingReason(perlScript('flamegraph.pl'), 'flamegraph.pl', 'FLAMEGRAPH_PL_DIR'));

interface Case {
  name: string;
  args: string[];
  options: Partial<FlamegraphOptions>;
  /** Compare fills too (false for our `kind` palette, which flamegraph.pl does not have). */
  fills?: boolean;
}

const CASES: Case[] = [
  { name: 'default options (hot palette)', args: [], options: { colors: 'hot' } },
  { name: 'default options with our kind palette (geometry only)', args: [], options: {}, fills: false },
  { name: '--inverted', args: ['--inverted'], options: { colors: 'hot', inverted: true } },
  { name: '--reverse', args: ['--reverse'], options: { colors: 'hot', reverse: true } },
  { name: '--minwidth 3 (pixels)', args: ['--minwidth', '3'], options: { colors: 'hot', minwidth: 3 } },
  { name: '--minwidth 0.5%', args: ['--minwidth', '0.5%'], options: { colors: 'hot', minwidth: '0.5%' } },
  { name: '--minwidth 0 (every frame)', args: ['--minwidth', '0'], options: { colors: 'hot', minwidth: 0 } },
  { name: '--width 777', args: ['--width', '777'], options: { colors: 'hot', width: 777 } },
  { name: '--factor 2.5', args: ['--factor', '2.5'], options: { colors: 'hot', factor: 2.5 } },
  { name: '--total (3x the sum)', args: ['--total', 'TOTAL'], options: { colors: 'hot' } },
  { name: '--total below the sum (ignored)', args: ['--total', 'HALF'], options: { colors: 'hot' } },
  { name: '--flamechart', args: ['--flamechart'], options: { colors: 'hot', flamechart: true } },
  { name: '--height 20 --fontsize 10.5 --fontwidth 0.7', args: ['--height', '20', '--fontsize', '10.5', '--fontwidth', '0.7'], options: { colors: 'hot', height: 20, fontsize: 10.5, fontwidth: 0.7 } },
  { name: '--subtitle', args: ['--subtitle', 'sub'], options: { colors: 'hot', subtitle: 'sub' } },
  { name: '--hash', args: ['--hash'], options: { colors: 'hot', hash: true } },
  { name: '--colors java', args: ['--colors', 'java'], options: { colors: 'java' } },
  { name: '--colors js', args: ['--colors', 'js'], options: { colors: 'js' } },
  { name: '--colors perl', args: ['--colors', 'perl'], options: { colors: 'perl' } },
  { name: '--colors mem', args: ['--colors', 'mem'], options: { colors: 'mem' } },
  { name: '--colors io --hash', args: ['--colors', 'io', '--hash'], options: { colors: 'io', hash: true } },
  { name: '--colors chain', args: ['--colors', 'chain'], options: { colors: 'chain' } },
  { name: '--colors purple', args: ['--colors', 'purple'], options: { colors: 'purple' } },
  { name: '--countname ms', args: ['--countname', 'ms'], options: { colors: 'hot', countname: 'ms' } },
];

/** Hand-made inputs: names that are prefixes of others, empty names, fractions, UTF-8, markup. */
const TRICKY_CASES: Case[] = [
  { name: 'default options', args: [], options: { colors: 'hot' } },
  { name: '--minwidth 0', args: ['--minwidth', '0'], options: { colors: 'hot', minwidth: 0 } },
  { name: '--flamechart --minwidth 0', args: ['--flamechart', '--minwidth', '0'], options: { colors: 'hot', flamechart: true, minwidth: 0 } },
  { name: '--reverse --inverted', args: ['--reverse', '--inverted'], options: { colors: 'hot', reverse: true, inverted: true } },
  { name: '--colors java --width 300', args: ['--colors', 'java', '--width', '300'], options: { colors: 'java', width: 300 } },
  { name: '--colors chain', args: ['--colors', 'chain'], options: { colors: 'chain' } },
  { name: '--hash --factor 3', args: ['--hash', '--factor', '3'], options: { colors: 'hot', hash: true, factor: 3 } },
];

const DIFFERENTIAL_CASES: Case[] = [
  { name: 'differential input', args: [], options: {} },
  { name: 'differential input, --negate', args: ['--negate'], options: { negate: true } },
  { name: 'differential input, --inverted --minwidth 1', args: ['--inverted', '--minwidth', '1'], options: { inverted: true, minwidth: 1 } },
  // Not with --reverse or --flamechart: on this capture flamegraph.pl then loses frames to its
  // frame-identity collision (docs/flamegraph.md), which we do not reproduce; see merge.test.ts.
  { name: 'differential input, --minwidth 0 --factor 2', args: ['--minwidth', '0', '--factor', '2'], options: { minwidth: 0, factor: 2 } },
];

function compare(file: string, testCase: Case): void {
  const input = readFolded(file);
  const options = { ...testCase.options };
  let args = testCase.args;
  const sum = [...input.stacks.values()].reduce((a, b) => a + b, 0);
  const totals: Record<string, number> = { TOTAL: sum * 3, HALF: Math.floor(sum / 2) };
  for (const [placeholder, total] of Object.entries(totals)) {
    if (!args.includes(placeholder)) continue;
    options.total = total;
    args = args.map((arg) => (arg === placeholder ? String(total) : arg));
  }
  const theirs = runFlamegraphPl(file, args);
  const ours = renderFlamegraph(input, options);
  expect(svgSize(ours)).toEqual(svgSize(theirs));
  const expected = parseSvgFrames(theirs).sort(byPosition);
  const actual = parseSvgFrames(ours).sort(byPosition);
  expect(expected.length).toBeGreaterThan(1);
  expect(actual.length).toBe(expected.length);
  const fills = testCase.fills ?? true;
  expect(actual.map((frame) => comparable(frame, fills))).toEqual(expected.map((frame) => comparable(frame, fills)));
}

function comparable(frame: SvgFrame, fills: boolean): Record<string, unknown> {
  return {
    title: frame.title,
    x: frame.x,
    y: frame.y,
    width: frame.width,
    height: frame.height,
    label: frame.label,
    labelX: frame.label === '' ? undefined : frame.labelX,
    labelY: frame.label === '' ? undefined : frame.labelY,
    fill: fills ? frame.fill : undefined,
  };
}

const captures = readdirSync(CAPTURES).filter((name) => name.endsWith('.folded'));
const tricky = readdirSync(TRICKY).filter((name) => name.endsWith('.folded'));
const differentials = readdirSync(DIFFERENTIAL).filter((name) => name.endsWith('.folded'));

describe.skipIf(skip)('frames match flamegraph.pl on real captures', () => {
  for (const capture of captures) {
    for (const testCase of CASES) {
      it(`draws ${capture} with ${testCase.name} exactly as flamegraph.pl`, () => {
        compare(join(CAPTURES, capture), testCase);
      });
    }
  }
  for (const file of tricky) {
    for (const testCase of TRICKY_CASES) {
      it(`draws the hand-made ${file} with ${testCase.name} exactly as flamegraph.pl`, () => {
        compare(join(TRICKY, file), testCase);
      });
    }
  }
  for (const capture of differentials) {
    for (const testCase of DIFFERENTIAL_CASES) {
      it(`draws ${capture} as ${testCase.name} exactly as flamegraph.pl`, () => {
        compare(join(DIFFERENTIAL, capture), testCase);
      });
    }
  }

  it('writes the same consistent palette file as flamegraph.pl with --cp', () => {
    const file = join(CAPTURES, 'node.folded');
    const theirDir = mkdtempSync(join(tmpdir(), 'fg-cp-pl-'));
    const ourDir = mkdtempSync(join(tmpdir(), 'fg-cp-ours-'));
    const theirs = runFlamegraphPl(file, ['--cp'], theirDir);
    const ours = renderFlamegraph(readFolded(file), { colors: 'hot', cp: true, paletteFile: join(ourDir, 'palette.map') });
    expect(readFileSync(join(ourDir, 'palette.map'), 'utf8')).toBe(readFileSync(join(theirDir, 'palette.map'), 'utf8'));
    const fills = (svg: string): string[] => parseSvgFrames(svg).map((frame) => `${frame.title} ${frame.fill}`).sort();
    expect(fills(ours)).toEqual(fills(theirs));
  });
});
