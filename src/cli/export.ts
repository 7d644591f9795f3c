/**
 * `irisflame export --format pprof IN -o OUT.pb.gz`: anything `collapse` reads, as a gzipped pprof CPU
 * profile for `go tool pprof`, Parca, Grafana Pyroscope (`profilecli upload`) and speedscope.
 */
import type { CommandModule } from 'yargs';
import { UsageError } from '../errors.js';
import { parseFormatChoice, FORMAT_CHOICES } from '../collapse/detect.js';
import { writeFileAtomically } from '../atomic-output.js';
import { DEFAULT_EXPORT_OPTIONS as D, exportInput, type ExportedProfile } from '../export/from-input.js';
import { pprofBytes } from '../export/pprof.js';
import { COLLAPSE_YARGS_OPTIONS, collapseOptionsFromArgv } from './collapse-options.js';
import { inputPath, reportCollapse } from './collapse.js';

export const EXPORT_FORMATS = ['pprof'] as const;

interface ExportArgs {
  file?: string;
  output?: string;
  format: string;
  'input-format'?: string;
  frequency: number;
  gzip: boolean;
  verbose?: boolean;
  [flag: string]: unknown;
}

/** The collapse flags that make sense here: pid, tid, samples and annotations are the exporter's to decide. */
const {
  format: inputFormat,
  pid: _pid,
  tid: _tid,
  samples: _samples,
  'routine-roots': _roots,
  kernel: _kernel,
  jit: _jit,
  all: _all,
  ...collapseFlags
} = COLLAPSE_YARGS_OPTIONS;

export const exportCommand: CommandModule<object, ExportArgs> = {
  command: 'export [file]',
  describe: 'convert perf script, bpftrace, folded or lifecycle-capture input to a pprof profile',
  builder: (yargs) =>
    yargs
      .positional('file', { type: 'string', describe: 'input file, plain or gzip; stdin when absent or "-"' })
      .option('format', { type: 'string', default: 'pprof', describe: `output format: ${EXPORT_FORMATS.join(', ')}` })
      .option('input-format', { ...inputFormat, describe: `input format: ${FORMAT_CHOICES.join(', ')}; auto detects it` })
      .option('frequency', {
        type: 'number',
        default: D.frequency,
        describe: 'sampling rate in Hz, for inputs without periods (bpftrace, folded counts)',
      })
      .options(collapseFlags)
      .option('gzip', { type: 'boolean', default: true, describe: 'gzip the profile, as pprof files usually are (--no-gzip: plain protobuf)' })
      .option('output', { alias: 'o', type: 'string', describe: 'write to this file (all or nothing); stdout when absent' })
      .example('$0 --format pprof capture.perf.gz -o cpu.pb.gz', 'then: go tool pprof -top cpu.pb.gz')
      .example('$0 --iris restart.lifecycle.txt.gz -o restart.pb.gz', 'IRIS jobs labelled by routine (go tool pprof -tags)') as never,
  handler: async (argv) => {
    if (!(EXPORT_FORMATS as readonly string[]).includes(argv.format)) {
      throw new UsageError(`--format: unknown output format "${argv.format}" (known: ${EXPORT_FORMATS.join(', ')})`);
    }
    if (!Number.isFinite(argv.frequency) || argv.frequency <= 0) {
      throw new UsageError(`--frequency must be a positive number of Hz (got ${String(argv.frequency)})`);
    }
    if (argv.output === undefined && process.stdout.isTTY) {
      throw new UsageError('a pprof profile is binary: give -o FILE or redirect stdout');
    }
    const collapse = { ...collapseOptionsFromArgv({ ...argv, format: undefined }) };
    if (argv['input-format'] !== undefined) collapse.format = parseFormatChoice(argv['input-format']);
    const produce = (): Promise<ExportedProfile> => exportInput(inputPath(argv.file), { frequency: argv.frequency, collapse });
    const write = async (exported: ExportedProfile, out: NodeJS.WritableStream): Promise<void> => {
      const bytes = pprofBytes(exported, { gzip: argv.gzip });
      await new Promise<void>((resolve, reject) => out.write(bytes, (error) => (error ? reject(error) : resolve())));
    };
    const exported = argv.output === undefined ? await produce() : await writeFileAtomically(argv.output, produce, write);
    reportCollapse(exported.run, argv.verbose === true);
    if (argv.verbose === true) for (const note of exported.notes) process.stderr.write(`irisflame: ${note}\n`);
    if (argv.output === undefined) await write(exported, process.stdout);
  },
};
