/**
 * Our SVG (script and stylesheet included) is no larger than flamegraph.pl's for the same recorded profile,
 * from about a thousand frames up: the embedded script is a fixed cost, per-frame bytes must make up for it.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { renderFlamegraph } from '../../src/flamegraph/index.js';
import { REPO_ROOT } from '../support/cli.js';
import { missingReason, perlScript, reportSkip } from '../support/references.js';
import { readFolded } from '../flamegraph/support/folded.js';

const skip = reportSkip('browser: SVG size vs flamegraph.pl',
  missingReason(perlScript('flamegraph.pl'), 'flamegraph.pl', 'FLAMEGRAPH_PL_DIR'));

function perlBytes(path: string): number {
  return execFileSync('perl', [perlScript('flamegraph.pl'), path],
    { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] }).length;
}

describe.skipIf(skip)('SVG file size', () => {
  // perf-mixed-1k: a strided subset of perf-mixed (perf record -a -g on this machine), 1026 frames drawn.
  test.each(['perf-mixed-1k.folded', 'perf-mixed.folded'])(
    'the SVG of %s is no larger than flamegraph.pl\'s', (name) => {
      const path = join(REPO_ROOT, 'fixtures', 'browser', name);
      const ours = Buffer.byteLength(renderFlamegraph(readFolded(path)), 'utf8');
      const theirs = perlBytes(path);
      expect(ours).toBeLessThanOrEqual(theirs);
    });

  test('the 1k fixture really draws about a thousand frames', () => {
    const svg = renderFlamegraph(readFolded(join(REPO_ROOT, 'fixtures', 'browser', 'perf-mixed-1k.folded')));
    const frames = svg.split('<title>').length - 1;
    expect(frames).toBeGreaterThan(900);
    expect(frames).toBeLessThan(1200);
  });
});
