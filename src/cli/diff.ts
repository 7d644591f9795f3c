/**
 * `irisflame diff BEFORE AFTER`: difffolded.pl — two folded profiles in, `stack before after` lines out,
 * for a differential flame graph (`irisflame flamegraph` reads them).
 */
import type { CommandModule } from 'yargs';
import { UsageError } from '../errors.js';
import { openInput, STDIN_NAME } from '../collapse/input.js';
import { writeFolded } from '../collapse/write.js';
import type { CollapseResult } from '../collapse/types.js';
import { DEFAULT_DIFF_FOLDED_OPTIONS as D, diffFolded, readFoldedProfile, type FoldedProfile } from '../diff/difffolded.js';
import { writeFileAtomically } from '../atomic-output.js';
import { inputPath } from './collapse.js';

interface DiffArgs {
  before: string;
  after: string;
  normalize: boolean;
  'strip-hex': boolean;
  output?: string;
  [flag: string]: unknown;
}

/** How many odd lines the stderr summary quotes per input. */
const QUOTED_BAD_LINES = 3;

export const diffCommand: CommandModule<object, DiffArgs> = {
  command: 'diff <before> <after>',
  describe: 'compare two folded profiles (difffolded.pl): "stack before after" lines for a differential graph',
  builder: (yargs) =>
    yargs
      .positional('before', { type: 'string', describe: 'folded stacks before the change (file, .gz, or - for stdin)' })
      .positional('after', { type: 'string', describe: 'folded stacks after the change (file, .gz, or - for stdin)' })
      .option('normalize', { alias: 'n', type: 'boolean', default: D.normalize, describe: 'scale BEFORE to the total of AFTER' })
      .option('strip-hex', { alias: 's', type: 'boolean', default: D.stripHex, describe: 'replace hex addresses with 0x...' })
      .option('output', { alias: 'o', type: 'string', describe: 'write to this file (all or nothing) instead of stdout' })
      .example('$0 before.folded after.folded | irisflame flamegraph > diff.svg', 'red grew, blue shrank') as never,
  handler: async (argv) => {
    argv.before = inputPath(argv.before) ?? STDIN_NAME;
    argv.after = inputPath(argv.after) ?? STDIN_NAME;
    if (isStdin(argv.before) && isStdin(argv.after)) {
      throw new UsageError('only one of BEFORE and AFTER can be stdin ("-")');
    }
    const stripHex = argv['strip-hex'] === true;
    const compare = async (): Promise<CollapseResult> => {
      const first = await readProfile(argv.before, stripHex);
      const second = await readProfile(argv.after, stripHex);
      return diffFolded(first, second, { normalize: argv.normalize === true });
    };
    if (argv.output === undefined) await writeFolded(await compare(), process.stdout);
    else await writeFileAtomically(argv.output, compare, (result, out) => writeFolded(result, out));
  },
};

function isStdin(path: string): boolean {
  return path === STDIN_NAME;
}

async function readProfile(path: string, stripHex: boolean): Promise<FoldedProfile> {
  const input = await openInput(path);
  const profile = await readFoldedProfile(input.chunks, stripHex);
  const { badLines, badLineExamples } = profile.report;
  if (badLines > 0) {
    process.stderr.write(`irisflame: skipped ${badLines} line(s) without a count in ${input.displayName}, e.g.:\n`);
    for (const line of badLineExamples.slice(0, QUOTED_BAD_LINES)) process.stderr.write(`  ${line}\n`);
  }
  return profile;
}
