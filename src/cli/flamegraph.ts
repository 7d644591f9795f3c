/**
 * `irisflame flamegraph [options] [FILE|-]`: any supported input (perf script, bpftrace, folded stacks,
 * two-column differential folded) to an interactive SVG, on stdout or `-o FILE`.
 */
import type { Argv, CommandModule } from 'yargs';
import type { Writable } from 'node:stream';
import { makeProcessFilter } from '../collapse/filter.js';
import { collapseInput, resolveCollapseOptions, type CollapseOptions } from '../collapse/pipeline.js';
import {
  writeFlamegraph,
  writeMergedFlamegraph,
  type FlamegraphInput,
  type FlamegraphReport,
  type ResolvedFlamegraphOptions,
} from '../flamegraph/index.js';
import { computeScale } from '../flamegraph/layout.js';
import { DEFAULT_FLAMEGRAPH_OPTIONS, resolveFlamegraphOptions, type FlamegraphOptions } from '../flamegraph/options.js';
import { mergeSortedFolded, type MergedFrames } from '../flamegraph/sorted-folded.js';
import { writeFileAtomically } from '../atomic-output.js';
import { reportCollapse } from './collapse.js';
import { collapseOffCpuOrFolded } from '../collapse/offcpu.js';
import { COLLAPSE_YARGS_OPTIONS, collapseOptionsFromArgv } from './collapse-options.js';
import { FLAMEGRAPH_YARGS_OPTIONS, flamegraphOptionsFromArgv } from './flamegraph-options.js';

interface FlamegraphArgs {
  file?: string;
  output?: string;
  [key: string]: unknown;
}

export const flamegraphCommand: CommandModule<object, FlamegraphArgs> = {
  command: 'flamegraph [file]',
  describe: 'draw an interactive flame graph SVG from perf script, bpftrace or folded stacks',
  builder: (yargs) =>
    (yargs as Argv<FlamegraphArgs>)
      .positional('file', { type: 'string', describe: 'input file; "-" or none for stdin (gzip is detected)' })
      .option('output', { alias: 'o', type: 'string', describe: 'write the SVG to this file (default stdout)' })
      .options(FLAMEGRAPH_YARGS_OPTIONS)
      .options(COLLAPSE_YARGS_OPTIONS)
      .option('off-cpu', {
        type: 'boolean',
        default: false,
        describe: `off-CPU time: an irisflame lifecycle capture's blocked time, or bcc offcputime -f output; title "${OFF_CPU_TITLE}", counts in us, io colours (unless given)`,
      })
      .example('$0 out.perf > out.svg', 'perf script output to a flame graph')
      .example('$0 --off-cpu restart.lifecycle.txt.gz -o offcpu.svg', 'where the recorded processes waited (µs)')
      .example('$0 --inverted -o icicle.svg out.folded', 'folded stacks to an icicle graph'),
  handler: async (argv) => {
    // Options first: a bad --width fails before a large input is read.
    const options = flamegraphOptionsFromArgv(argv);
    const offCpu = argv['off-cpu'] === true;
    if (offCpu) Object.assign(options, offCpuDefaults());
    resolveFlamegraphOptions(options);
    const collapseOptions = collapseOptionsFromArgv(argv);
    if (wantsKindAnnotations(options.colors ?? DEFAULT_FLAMEGRAPH_OPTIONS.colors)) collapseOptions.all = true;
    const verbose = argv.verbose === true;
    const collapse = async (): Promise<FlamegraphSource> => {
      const resolved = resolveCollapseOptions(collapseOptions);
      if (offCpu) {
        const run = await collapseOffCpuOrFolded(argv.file, collapseOptions);
        reportCollapse(run, verbose);
        return { input: { stacks: run.stacks, before: run.before } };
      }
      if (mayMergeWhileReading(resolveFlamegraphOptions(options), resolved, verbose)) {
        const kernel = Boolean(resolved.kernel) || Boolean(resolved.all);
        // Frames too narrow to draw at the total so far are never kept (see sorted-flow.ts).
        const scaleOptions = resolveFlamegraphOptions(options);
        const merged = await mergeSortedFolded(argv.file, resolved.format, kernel, (total) => computeScale(total, scaleOptions).minWeight);
        if (merged) return { merged };
      }
      const run = await collapseInput(argv.file, collapseOptions);
      reportCollapse(run, verbose);
      return { input: { stacks: run.stacks, before: run.before, exact: run.exact } };
    };
    const write = (source: FlamegraphSource, out: Writable): Promise<FlamegraphReport> =>
      source.merged
        ? writeMergedFlamegraph(source.merged, options, out)
        : writeFlamegraph(source.input!, options, out);
    let report: FlamegraphReport;
    if (argv.output) {
      await writeFileAtomically(argv.output, collapse, async (source, out) => {
        report = await write(source, out);
      });
    } else {
      report = await write(await collapse(), process.stdout);
    }
    for (const warning of report!.warnings) process.stderr.write(`irisflame: warning: ${warning}\n`);
  },
};

export const OFF_CPU_TITLE = 'Off-CPU Time Flame Graph';

/**
 * What Brendan Gregg's off-CPU recipe passes flamegraph.pl (`--color=io --title="Off-CPU Time Flame Graph"
 * --countname=us`, offcpuflamegraphs.html), for the options the user did not give.
 */
function offCpuDefaults(): Partial<FlamegraphOptions> {
  const given = (name: string): boolean => process.argv.some((argument) => argument === `--${name}` || argument.startsWith(`--${name}=`));
  const defaults: Partial<FlamegraphOptions> = {};
  if (!given('title')) defaults.title = OFF_CPU_TITLE;
  if (!given('countname')) defaults.countname = 'us';
  if (!given('colors') && !given('color')) defaults.colors = 'io';
  return defaults;
}

/** The input, either collapsed into stacks or (sorted folded files) already merged into frames. */
interface FlamegraphSource {
  input?: FlamegraphInput;
  merged?: MergedFrames;
}

/**
 * Sorted folded input can be merged as it is read, unless an option needs every stack first (reversed or
 * reordered stacks, the chain palette's renaming, a process filter) or `--verbose` wants the collapse's
 * counts. (Kernel annotations only rename bcc-delimited stacks; the fast path gives up on those.)
 */
function mayMergeWhileReading(options: ResolvedFlamegraphOptions, collapse: CollapseOptions, verbose: boolean): boolean {
  if (verbose || options.reverse || options.flamechart || options.colors === 'chain') return false;
  if (collapse.format !== 'auto' && collapse.format !== 'folded') return false;
  if (collapse.processFilter !== undefined) return false;
  return makeProcessFilter(collapse) === undefined;
}

/** The annotation flags a user may give; any of them means the user chose, and we leave it alone. */
const ANNOTATION_FLAG = /^--(?:no-)?(?:kernel|jit|all)(?:=|$)/;

/**
 * The `kind` palette tells kernel and JIT frames apart by the collapser's `_[k]`/`_[j]` annotations
 * (hidden in titles and labels), so with it the annotations are on unless the user set them.
 */
function wantsKindAnnotations(colors: string): boolean {
  if (colors !== 'kind') return false;
  return !process.argv.some((argument) => ANNOTATION_FLAG.test(argument));
}
