/**
 * `irisflame collapse [FILE|-]`: perf script, bpftrace or folded text in, folded stacks out, like
 * stackcollapse-perf.pl but with every format in one command.
 */
import type { CommandModule } from 'yargs';
import { collapseInput, type CollapseRun } from '../collapse/pipeline.js';
import { STDIN_NAME } from '../collapse/input.js';
import { writeFolded } from '../collapse/write.js';
import { COLLAPSE_YARGS_OPTIONS, collapseOptionsFromArgv } from './collapse-options.js';
import { writeFileAtomically } from '../atomic-output.js';
import { collapseOffCpuInput } from '../collapse/offcpu.js';

interface CollapseArgs {
  file?: string;
  output?: string;
  verbose?: boolean;
  [flag: string]: unknown;
}

export const collapseCommand: CommandModule<object, CollapseArgs> = {
  command: 'collapse [file]',
  describe: 'fold perf script, bpftrace or folded-stack text into folded stacks',
  builder: (yargs) =>
    yargs
      .positional('file', { type: 'string', describe: 'input file, plain or gzip; stdin when absent or "-"' })
      .options(COLLAPSE_YARGS_OPTIONS)
      .option('output', { alias: 'o', type: 'string', describe: 'write to this file (all or nothing) instead of stdout' })
      .option('off-cpu', {
        type: 'boolean',
        default: false,
        describe: 'an irisflame lifecycle capture in: its blocked time as folded stacks, in microseconds',
      })
      .example('perf script | $0 > out.folded', 'fold perf script output from a pipe')
      .example('$0 --iris --pid perf.txt.gz -o iris.folded', 'only IRIS processes, one tower per pid')
      .example('$0 --off-cpu restart.lifecycle.txt.gz > offcpu.folded', 'where the recorded processes waited, in µs') as never,
  handler: async (argv) => {
    const options = collapseOptionsFromArgv(argv);
    const collapse = (): Promise<CollapseRun> =>
      argv['off-cpu'] === true ? collapseOffCpuInput(inputPath(argv.file), options) : collapseInput(inputPath(argv.file), options);
    const run =
      argv.output === undefined
        ? await collapse()
        : await writeFileAtomically(argv.output, collapse, (result, out) => writeFolded(result, out));
    reportCollapse(run, argv.verbose === true);
    if (argv.output === undefined) await writeFolded(run, process.stdout);
  },
};

/** yargs turns a lone "-" positional into "": that is the user asking for stdin. */
export function inputPath(file: string | undefined): string | undefined {
  return file === '' ? STDIN_NAME : file;
}

/** How many odd lines the stderr summary quotes. */
const QUOTED_BAD_LINES = 3;

/** The stderr summary of a collapse: the format chosen (verbose), odd lines skipped, notes. */
export function reportCollapse(run: CollapseRun, verbose: boolean, stderr: NodeJS.WritableStream = process.stderr): void {
  if (verbose) {
    stderr.write(`irisflame: ${run.displayName}: ${run.format} format (${run.formatReason}); `);
    stderr.write(`${run.stacks.size} unique stacks from ${run.report.samples} samples\n`);
  }
  const { badLines, badLineExamples, notes } = run.report;
  if (badLines > 0) {
    stderr.write(`irisflame: skipped ${badLines} unrecognised line(s) in ${run.displayName}, e.g.:\n`);
    for (const line of badLineExamples.slice(0, QUOTED_BAD_LINES)) stderr.write(`  ${printable(line)}\n`);
  }
  for (const note of notes) stderr.write(`irisflame: note: ${note}\n`);
}

/** Bad lines are raw input: keep control bytes from reaching the terminal. */
function printable(line: string): string {
  const shown = Buffer.from(line, 'latin1').toString('utf8');
  return shown.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
