import { describe, expect, test } from 'vitest';
import { createPerfCollapser } from '../../src/collapse/perf.js';
import { createRootLabeler } from '../../src/iris/root-labeler.js';
import { LOST_UNKNOWN, NO_TASK_EVENTS, RESTART, fixtureText } from '../timeline/support.js';

/** Collapse as the collapse pipeline would with the labeler hooked in: labeler first, then the collapser. */
function collapseLabelled(text: string): { stacks: Map<string, number>; active: boolean } {
  const labeler = createRootLabeler();
  const stacks = new Map<string, number>();
  const collapser = createPerfCollapser({
    samples: true,
    onSample: (sample) => {
      const key = labeler.relabel(sample);
      stacks.set(key, (stacks.get(key) ?? 0) + sample.weight);
    },
  });
  const bytes = Buffer.from(text, 'latin1');
  for (let at = 0; at < bytes.length; at += 4096) {
    labeler.push(bytes.subarray(at, at + 4096));
    collapser.push(bytes.subarray(at, at + 4096));
  }
  collapser.finish();
  return { stacks, active: labeler.active };
}

describe('root labeller for the collapse stage', () => {
  test('roots IRIS jobs at their routine when the capture carries argv', () => {
    const { stacks, active } = collapseLabelled(fixtureText(RESTART));
    expect(active).toBe(true);
    const roots = new Set([...stacks.keys()].map((key) => key.split(';')[0]));
    for (const routine of ['START^MONITOR', 'START^CLNDMN', 'QUIET^STU', 'OPT^SHUTDOWN(1)']) {
      expect(roots).toContain(`irisdb ${routine}`);
    }
    expect(roots).toContain('irisdb'); // -cV and -cL name no routine
  });

  test('uses the exec in force at the time of each sample', () => {
    const { stacks } = collapseLabelled(fixtureText(LOST_UNKNOWN));
    expect(stacks.get('irisdb START^MONITOR;main;MonitorSample')).toBe(1);
  });

  test('leaves plain perf script output alone', () => {
    const { stacks, active } = collapseLabelled(fixtureText(NO_TASK_EVENTS));
    expect(active).toBe(false);
    expect(stacks.get('irisdb;main;HashBlock')).toBe(2);
  });
});
