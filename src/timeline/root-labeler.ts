/**
 * The collapse-side hook for routine labelling (`collapse --iris` on a capture with exec events): roots a
 * sample of `./irisdb -s/data/IRIS/mgr/ -cj -p13 START^MONITOR` at `irisdb START^MONITOR` instead of
 * `irisdb`. The collapse pipeline feeds it the same chunks as the perf collapser, *before* the collapser
 * sees them, and relabels in `onSample`:
 *
 *     const labeler = createRootLabeler();
 *     const collapser = createPerfCollapser({ onSample: (s) => add(labeler.relabel(s), s.weight) });
 *     for await (const chunk of chunks) { labeler.push(chunk); collapser.push(chunk); }
 *
 * argv comes from the exec snooper's lines of an irisflame capture (capture-file.ts); perf's own task
 * events carry no argv, so plain `perf script` output is left unchanged (`active` stays false).
 * The collapse pipeline imports this file (src/collapse/routine-roots.ts): keep its imports to the timeline's
 * leaf modules (argv index, snooper line parser, marker-line scanner), never the timeline builder.
 */
import type { PerfSample } from '../collapse/perf-options.js';
import type { StackKey } from '../collapse/types.js';
import { DEFAULT_IRIS_DIR } from '../iris/processes.js';
import { relabelRoot } from '../iris/lifecycle.js';
import { ArgvIndex } from './argv-index.js';
import { SNOOP_LINE_PREFIX, parseSnoopLine } from './exec-snooper.js';
import { MarkerLines } from './marker-lines.js';

export interface RootLabeler {
  /** Feed input chunks, each before the collapser gets it. */
  push(chunk: Buffer): void;
  /** True once an exec with argv has been seen: only then can `relabel` change a stack. */
  readonly active: boolean;
  /** The sample's stack, its root relabelled by routine when the process's argv names one. */
  relabel(sample: Pick<PerfSample, 'pid' | 'tid' | 'time' | 'stack'>): StackKey;
}

export function createRootLabeler(irisDir: string = DEFAULT_IRIS_DIR): RootLabeler {
  const argv = new ArgvIndex();
  const lines = new MarkerLines([
    {
      bytes: Buffer.from(SNOOP_LINE_PREFIX, 'latin1'),
      atLineStart: true,
      onLine: (line) => {
        const parsed = parseSnoopLine(line);
        if (parsed.kind === 'exec') argv.addExec(parsed.exec);
      },
    },
  ]);
  return {
    push: (chunk) => lines.push(chunk),
    get active() {
      return argv.size > 0;
    },
    relabel(sample) {
      if (argv.size === 0) return sample.stack;
      const exec = argv.execAt(sample.pid ?? sample.tid, sample.time ?? Number.POSITIVE_INFINITY);
      return relabelRoot(sample.stack, exec?.argv, irisDir);
    },
  };
}
