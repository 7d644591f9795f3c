/**
 * `irisflame timeline FILE`: the lifecycle SVG (process timeline, sample density, flame graph of a
 * selectable time range) from a saved `perf script --show-task-events` output or an irisflame capture.
 */
import type { CommandModule } from 'yargs';
import { DEFAULT_TIMELINE_OPTIONS, LANE_CHOICES, type LaneChoice, type TimelineOptions } from '../timeline/options.js';
import { readTimeline, renderTimeline, writeTimelineSvg } from '../timeline/render.js';
import { commandCriticalPath, describeCommandPath } from '../timeline/command-path.js';
import type { Timeline } from '../timeline/model.js';
import { UsageError } from '../errors.js';
import { STDIN_NAME } from '../collapse/input.js';

interface TimelineArgs {
  file?: string;
  output?: string;
  title?: string;
  subtitle?: string;
  width?: number;
  iris?: boolean;
  'iris-dir'?: string;
  lanes?: string;
  'routine-roots'?: boolean;
  verbose?: boolean;
}

const DEFAULTS = DEFAULT_TIMELINE_OPTIONS;

/** yargs definitions shared with `record --lifecycle`: defaults and descriptions come from the options. */
export const TIMELINE_YARGS_OPTIONS = {
  title: { type: 'string', default: DEFAULTS.title, describe: 'title at the top of the SVG' },
  subtitle: { type: 'string', describe: 'second line under the title (default: the recorded command)' },
  width: { type: 'number', default: DEFAULTS.width, describe: 'width of the SVG in pixels' },
  lanes: {
    type: 'string',
    choices: LANE_CHOICES,
    default: DEFAULTS.lanes,
    describe: 'which processes get a lane: active (started, exec-ed, exited or sampled while recording), all, or command (the recorded command and its descendants)',
  },
  'routine-roots': {
    type: 'boolean',
    default: DEFAULTS.routineRoots,
    describe: 'root IRIS jobs at their routine (irisdb START^MONITOR); --no-routine-roots keeps the comm',
  },
} as const;

export function timelineOptionsFromArgv(argv: TimelineArgs): Partial<TimelineOptions> {
  return {
    title: argv.title,
    subtitle: argv.subtitle,
    width: argv.width,
    lanes: argv.lanes as LaneChoice | undefined,
    routineRoots: argv['routine-roots'],
    iris: argv.iris,
    irisDir: argv['iris-dir'],
  };
}

export const timelineCommand: CommandModule<object, TimelineArgs> = {
  command: 'timeline [file]',
  describe: 'lifecycle SVG: process timeline and flame graphs of any time range, from perf script --show-task-events output',
  builder: (yargs) =>
    yargs
      .positional('file', { type: 'string', describe: 'perf script --show-task-events output or an irisflame capture (plain or gzip); stdin when "-"' })
      .options(TIMELINE_YARGS_OPTIONS)
      .option('iris', { type: 'boolean', default: DEFAULTS.iris, describe: 'only IRIS processes and their descendants' })
      .option('iris-dir', { type: 'string', default: DEFAULTS.irisDir, describe: 'where IRIS is installed' })
      .option('output', { alias: 'o', type: 'string', describe: 'SVG to write (default: FILE with .svg, or stdout for stdin)' })
      .example('perf script --show-task-events -F +pid > restart.txt && $0 restart.txt', 'a capture taken elsewhere')
      .example('$0 --iris restart.lifecycle.txt.gz -o restart.svg', 'IRIS processes only') as never,
  handler: async (argv) => {
    if (argv.file === undefined) throw new UsageError('say which capture to read (a file, or "-" for stdin)');
    // yargs turns a lone "-" positional into "".
    const file = argv.file === '' ? STDIN_NAME : argv.file;
    const options = timelineOptionsFromArgv(argv);
    const timeline = await readTimeline(file, options);
    const output = argv.output ?? (file === STDIN_NAME ? '-' : defaultOutput(file));
    if (output === '-') {
      process.stdout.write(renderTimeline(timeline, options));
    } else {
      await writeTimelineSvg(timeline, output, options);
    }
    reportTimeline(timeline, output, argv.verbose === true);
  },
};

/** `restart.txt.gz` → `restart.svg`. */
export function defaultOutput(file: string): string {
  return file.replace(/\.gz$/, '').replace(/\.(txt|perf|script|out)$/, '') + '.svg';
}

export function reportTimeline(timeline: Timeline, output: string, verbose: boolean, stderr: NodeJS.WritableStream = process.stderr): void {
  const { report } = timeline;
  if (output !== '-') {
    stderr.write(`irisflame: wrote ${output}: ${timeline.processes.length} processes, ${report.samples} samples, `);
    stderr.write(`${(timeline.end - timeline.start).toFixed(3)} s\n`);
  }
  // Why it took that long, without opening the SVG (captures with the off-CPU tracer's data).
  if (timeline.offCpu !== undefined) stderr.write(`irisflame: ${describeCommandPath(timeline, commandCriticalPath(timeline))}\n`);
  if (report.lostEvents > 0) stderr.write(`irisflame: note: perf lost ${report.lostEvents} events; the timeline may miss processes\n`);
  if (report.badLines > 0) {
    stderr.write(`irisflame: skipped ${report.badLines} unreadable event line(s), e.g.:\n`);
    for (const line of report.badLineExamples) stderr.write(`  ${line}\n`);
  }
  if (report.taskEvents === 0) stderr.write('irisflame: note: no task events in the input (use perf script --show-task-events); lanes come from samples only\n');
  for (const note of report.notes) stderr.write(`irisflame: note: ${note}\n`);
  if (verbose) stderr.write(`irisflame: ${report.taskEvents} task events, ${report.snoopedExecs} execs with argv\n`);
}
