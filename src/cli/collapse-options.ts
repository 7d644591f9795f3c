/**
 * The collapse flags, declared once with defaults from DEFAULT_COLLAPSE_OPTIONS so `--help` cannot drift
 * from the library, and turned back into CollapseOptions. Names follow stackcollapse-perf.pl so its
 * users can swap one for the other. `flamegraph` and `record` reuse both.
 */
import type { Options } from 'yargs';
import { DEFAULT_COLLAPSE_OPTIONS as D, type CollapseOptions } from '../collapse/pipeline.js';
import { FORMAT_CHOICES, parseFormatChoice } from '../collapse/detect.js';

const GROUP = 'Collapse:';

export const COLLAPSE_YARGS_OPTIONS = {
  format: {
    type: 'string',
    group: GROUP,
    default: D.format,
    // Checked by parseFormatChoice rather than yargs' `choices`, whose error spans several lines.
    describe: `input format: ${FORMAT_CHOICES.join(', ')}; auto detects perf script, bpftrace map output or folded stacks`,
  },
  pid: { type: 'boolean', group: GROUP, default: D.pid, describe: 'append the process id to the process name (comm-PID)' },
  tid: { type: 'boolean', group: GROUP, default: D.tid, describe: 'append process and thread ids (comm-PID/TID); implies --pid' },
  inline: {
    type: 'boolean',
    group: GROUP,
    default: D.inline,
    describe: 'perf: expand inlined functions with addr2line (slow; needs the profiled binaries)',
  },
  context: { type: 'boolean', group: GROUP, default: D.context, describe: 'perf, with --inline: add source file:line to frames' },
  srcline: { type: 'boolean', group: GROUP, default: D.srcline, describe: 'perf: input from perf script -F+srcline; add the source lines' },
  kernel: { type: 'boolean', group: GROUP, default: D.kernel, describe: 'annotate kernel frames with _[k]' },
  jit: { type: 'boolean', group: GROUP, default: D.jit, describe: 'annotate JIT frames with _[j]' },
  all: { type: 'boolean', group: GROUP, default: D.all, describe: 'all annotations (--kernel --jit)' },
  addrs: { type: 'boolean', group: GROUP, default: D.addrs, describe: 'show raw addresses where a symbol is unknown' },
  'event-filter': {
    type: 'string',
    group: GROUP,
    describe: 'perf: keep only samples of this event (default: the first event in the input)',
  },
  samples: {
    type: 'boolean',
    group: GROUP,
    default: D.samples,
    describe: 'perf: count each sample as 1 instead of adding its period',
  },
  comm: { type: 'string', group: GROUP, describe: 'keep only processes whose name matches this regular expression' },
  iris: {
    type: 'boolean',
    group: GROUP,
    default: D.iris,
    describe: 'keep only InterSystems IRIS processes (IRIS program names, or code under --iris-dir)',
  },
  'iris-dir': { type: 'string', group: GROUP, default: D.irisDir, describe: 'IRIS install directory, for --iris' },
  'routine-roots': {
    type: 'boolean',
    group: GROUP,
    default: D.routineRoots,
    describe: 'with --iris, on a lifecycle capture: root IRIS jobs at their routine (irisdb START^MONITOR); --no-routine-roots keeps the comm',
  },
} satisfies Record<string, Options>;

/** The parsed flags (yargs argv) as CollapseOptions; unset flags stay undefined and take the defaults. */
export function collapseOptionsFromArgv(argv: Record<string, unknown>): Partial<CollapseOptions> {
  const format = optionalString(argv.format);
  return {
    format: format === undefined ? undefined : parseFormatChoice(format),
    pid: optionalBoolean(argv.pid),
    tid: optionalBoolean(argv.tid),
    inline: optionalBoolean(argv.inline),
    context: optionalBoolean(argv.context),
    srcline: optionalBoolean(argv.srcline),
    kernel: optionalBoolean(argv.kernel),
    jit: optionalBoolean(argv.jit),
    all: optionalBoolean(argv.all),
    addrs: optionalBoolean(argv.addrs),
    eventFilter: optionalString(argv['event-filter']),
    samples: optionalBoolean(argv.samples),
    comm: optionalString(argv.comm),
    iris: optionalBoolean(argv.iris),
    irisDir: optionalString(argv['iris-dir']),
    routineRoots: optionalBoolean(argv['routine-roots']),
  };
}

function optionalBoolean(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

function optionalString(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return String(value);
}
