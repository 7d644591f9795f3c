/**
 * `irisflame record`: sample the live system with perf or bpftrace and write an interactive SVG plus its
 * folded stacks. Flags map onto RecordOptions and FlamegraphOptions; src/record/session.ts does the work.
 * Signals are handled here: the first Ctrl-C stops sampling and still writes the graph, a second one
 * (or SIGTERM/SIGHUP) aborts and cleans up.
 */
import type { Argv, CommandModule, Options } from 'yargs';
import { DEFAULT_RECORD_OPTIONS as D, BACKEND_NAMES, CALL_GRAPH_MODES, type RecordOptions } from '../record/options.js';
import { FLAMEGRAPH_YARGS_OPTIONS, flamegraphOptionsFromArgv } from './flamegraph-options.js';

const GROUP = 'Recording:';

export const RECORD_YARGS_OPTIONS = {
  backend: {
    type: 'string',
    group: GROUP,
    choices: [...BACKEND_NAMES],
    default: D.backend,
    describe: 'sampler: perf, bpftrace (stacks counted in the kernel), auto (perf if usable, else bpftrace)',
  },
  seconds: { type: 'number', group: GROUP, default: D.seconds, describe: 'how long to record (ignored with -- COMMAND)' },
  frequency: { alias: 'F', type: 'number', group: GROUP, default: D.frequency, describe: 'samples per second per CPU' },
  pid: { type: 'number', array: true, group: GROUP, describe: 'record only these process ids (default: the whole system)' },
  comm: { type: 'string', group: GROUP, describe: 'keep only processes whose name matches this regex' },
  iris: { type: 'boolean', group: GROUP, default: D.iris, describe: 'keep only InterSystems IRIS processes' },
  'iris-dir': { type: 'string', group: GROUP, default: D.irisDir, describe: 'IRIS install directory (for --iris)' },
  'call-graph': {
    type: 'string',
    group: GROUP,
    default: D.callGraph,
    describe: `perf stack unwinding: ${CALL_GRAPH_MODES.join(', ')} (auto: dwarf where a busy program lacks frame pointers); dwarf,BYTES sets the stack copy`,
  },
  output: { alias: 'o', type: 'string', group: GROUP, describe: 'SVG to write (default irisflame-YYYYMMDD-HHMMSS.svg); .folded beside it' },
  'keep-perf-data': { type: 'boolean', group: GROUP, default: D.keepPerfData, describe: 'keep perf.data beside the SVG' },
  open: { type: 'boolean', group: GROUP, default: D.open, describe: 'open the SVG when done (or print its file:// URL)' },
  progress: { type: 'boolean', group: GROUP, default: D.progress, describe: 'show progress on a terminal (--no-progress: never)' },
  lifecycle: {
    type: 'boolean',
    group: GROUP,
    default: false,
    describe: 'also capture fork/exec/exit with argv: writes a process-timeline SVG with range-selectable flame graphs (see docs/lifecycle.md)',
  },
  'off-cpu': {
    type: 'boolean',
    group: GROUP,
    default: true,
    describe: 'with --lifecycle: trace blocked time and waits for a CPU of IRIS processes and the command (bpftrace); --no-off-cpu: off',
  },
  files: {
    type: 'boolean',
    group: GROUP,
    default: true,
    describe: 'with --lifecycle: trace their file opens and lookups (open/stat/access family); --no-files: off',
  },
} satisfies Record<string, Options>;

export const recordCommand: CommandModule = {
  command: 'record [options] [-- command...]',
  describe: 'sample the system with perf or bpftrace, straight to an interactive SVG',
  builder: (yargs: Argv) =>
    yargs
      .options(RECORD_YARGS_OPTIONS)
      .options(FLAMEGRAPH_YARGS_OPTIONS)
      .parserConfiguration({ 'populate--': true })
      .example('$0 record --seconds 30', 'the whole system for 30 s')
      .example('$0 record --iris -o iris.svg', 'IRIS processes only, for 60 s')
      .example('$0 record -- ./load-test.sh', 'the whole system while the command runs')
      .example('$0 record --lifecycle --iris -o restart.svg -- iris restart IRIS', 'timeline of an IRIS restart, flame graph per time range'),
  handler: async (argv) => {
    const { startRecordSession } = await import('../record/session.js');
    const { fileUrl, openInDesktop } = await import('../record/open.js');
    const record = recordOptionsFromArgv(argv as Record<string, unknown>);
    const log = (line: string): void => {
      process.stderr.write(`${line}\n`);
    };
    const start = argv.lifecycle ? (await import('../timeline/record.js')).startLifecycleSession : startRecordSession;
    const sessionOptions = {
      record,
      flamegraph: flamegraphOptionsFromArgv(argv as Record<string, unknown>),
      log,
      progressStream: record.progress === false ? undefined : process.stderr,
      offCpu: last(argv['off-cpu']) as boolean,
      files: last(argv.files) as boolean,
    };
    const session = start(sessionOptions);
    let interrupts = 0;
    const onInterrupt = (): void => {
      interrupts++;
      if (interrupts === 1) {
        log('\nstopping; writing the graph from what was collected (Ctrl-C again to abort)');
        session.stop();
      } else {
        session.abort();
      }
    };
    const onTerminate = (): void => session.abort();
    process.on('SIGINT', onInterrupt);
    process.on('SIGTERM', onTerminate);
    process.on('SIGHUP', onTerminate);
    try {
      const result = await session.done;
      if (record.open && !openInDesktop(result.paths.svg)) log(`  open ${fileUrl(result.paths.svg)}`);
      process.exitCode = result.exitCode;
    } finally {
      process.off('SIGINT', onInterrupt);
      process.off('SIGTERM', onTerminate);
      process.off('SIGHUP', onTerminate);
    }
  },
};

/** The parsed flags as RecordOptions; values are checked by resolveRecordOptions. */
export function recordOptionsFromArgv(argv: Record<string, unknown>): Partial<RecordOptions> {
  const dashDash = (argv['--'] as unknown[] | undefined) ?? [];
  const positional = ((argv._ as unknown[] | undefined) ?? []).slice(1); // [0] is "record"
  const pids = argv.pid as number[] | undefined;
  return {
    backend: last(argv.backend) as RecordOptions['backend'],
    seconds: last(argv.seconds) as number,
    frequency: last(argv.frequency) as number,
    pids: pids?.map(Number) ?? [],
    comm: last(argv.comm) as string | undefined,
    iris: last(argv.iris) as boolean,
    irisDir: last(argv['iris-dir']) as string,
    callGraph: last(argv['call-graph']) as RecordOptions['callGraph'],
    output: last(argv.output) as string | undefined,
    keepPerfData: last(argv['keep-perf-data']) as boolean,
    open: last(argv.open) as boolean,
    progress: last(argv.progress) as boolean,
    command: [...positional, ...dashDash].map(String),
  };
}

/** yargs gives an array when a flag is repeated: the last one wins, as in most CLIs. */
function last(value: unknown): unknown {
  return Array.isArray(value) ? value[value.length - 1] : value;
}
