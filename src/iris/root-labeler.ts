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
 * It lives with the other IRIS knowledge and imports only kernel-event readers, so collapse can use it
 * without reaching into the timeline.
 */
import { ArgvIndex } from '../kernel/argv-index.js';
import { SNOOP_LINE_PREFIX, parseSnoopLine } from '../kernel/exec-events.js';
import { MarkerLines } from '../kernel/marker-lines.js';
import { labelProcess, relabelRoot } from './lifecycle.js';
import { DEFAULT_IRIS_DIR } from './processes.js';

/** What relabelling needs of a sample (collapse's PerfSample has these; IRIS knowledge does not import collapse). */
export interface TimedStack {
  pid: number | undefined;
  tid: number;
  time: number | undefined;
  /** Folded stack, root first. */
  stack: string;
}

export interface RootLabeler {
  /** Feed input chunks, each before the collapser gets it. */
  push(chunk: Buffer): void;
  /** True once an exec with argv has been seen: only then can `relabel` change a stack. */
  readonly active: boolean;
  /** The sample's stack, its root relabelled by routine when the process's argv names one. */
  relabel(sample: TimedStack): string;
  /** The IRIS routine the sample's process ran (`START^MONITOR`), when its argv names one. */
  routine(sample: TimedStack): string | undefined;
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
    routine(sample) {
      if (argv.size === 0) return undefined;
      const exec = argv.execAt(sample.pid ?? sample.tid, sample.time ?? Number.POSITIVE_INFINITY);
      if (exec?.argv === undefined) return undefined;
      const separator = sample.stack.indexOf(';');
      return labelProcess(exec.argv, separator === -1 ? sample.stack : sample.stack.slice(0, separator), irisDir).routine;
    },
  };
}
