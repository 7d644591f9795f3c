/**
 * `collapse --iris` on an irisflame lifecycle capture (`NAME.lifecycle.txt.gz`): IRIS jobs rooted at their
 * routine (`irisdb START^MONITOR`) instead of `irisdb`, as the lifecycle page shows them. The capture's
 * exec-snooper lines carry each process's argv; the timeline's root labeler reads them from the same
 * chunks, before the perf collapser sees them, and relabels each sample's stack in `onSample`.
 *
 * The snooper lines are `#` lines at the top of the capture (capture-file.ts). So the collapser is made once
 * the header is over: with `onSample` relabelling when the header held argv, and the plain fast collapser
 * otherwise (plain perf script output, where a per-sample hook would cost a third of the speed for nothing).
 */
import { createRootLabeler } from '../iris/root-labeler.js';
import { HASH, NEWLINE } from './perf-bytes.js';
import { createPerfCollapser } from './perf.js';
import type { PerfCollapseOptions } from './perf-options.js';
import type { CollapseResult, Collapser, StackKey } from './types.js';

/** A perf collapser whose IRIS jobs are rooted at their routines when the input carries argv. */
export function createRoutineRootedPerfCollapser(options: PerfCollapseOptions, irisDir: string): Collapser {
  const labeler = createRootLabeler(irisDir);
  let collapser: Collapser | undefined;
  let relabelled: Map<StackKey, number> | undefined;
  /** Header chunks, held until the header is over and the collapser chosen. */
  const pending: Buffer[] = [];
  let atLineStart = true;

  const choose = (): Collapser => {
    if (!labeler.active) return createPerfCollapser(options);
    const stacks = new Map<StackKey, number>();
    relabelled = stacks;
    const onSample = options.onSample;
    return createPerfCollapser({
      ...options,
      onSample: (sample) => {
        const stack = labeler.relabel(sample);
        stacks.set(stack, (stacks.get(stack) ?? 0) + sample.weight);
        onSample?.(stack === sample.stack ? sample : { ...sample, stack });
      },
    });
  };

  return {
    push(chunk: Buffer): void {
      if (collapser !== undefined) {
        // The labeler first: a process's exec is known before its samples reach onSample. Without argv in
        // the header it has nothing more to learn.
        if (relabelled !== undefined) labeler.push(chunk);
        collapser.push(chunk);
        return;
      }
      labeler.push(chunk);
      pending.push(chunk);
      const headerEnds = hasLineNotStartingWithHash(chunk, atLineStart);
      atLineStart = chunk.length === 0 ? atLineStart : chunk[chunk.length - 1] === NEWLINE;
      if (!headerEnds) return;
      collapser = choose();
      for (const held of pending) collapser.push(held);
      pending.length = 0;
    },
    finish(): CollapseResult {
      if (collapser === undefined) {
        collapser = choose();
        for (const held of pending) collapser.push(held);
      }
      const result = collapser.finish();
      return relabelled === undefined ? result : { ...result, stacks: relabelled };
    },
  };
}

/** Does a line of this chunk start with something other than `#` (or an empty line)? */
function hasLineNotStartingWithHash(chunk: Buffer, atLineStart: boolean): boolean {
  let start = atLineStart ? 0 : chunk.indexOf(NEWLINE) + 1;
  while (start > 0 || (start === 0 && atLineStart)) {
    if (start >= chunk.length) return false;
    const first = chunk[start]!;
    if (first !== HASH && first !== NEWLINE) return true;
    const newline = chunk.indexOf(NEWLINE, start);
    if (newline === -1) return false;
    start = newline + 1;
  }
  return false;
}
