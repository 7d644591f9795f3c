/**
 * The error edge: the only place that prints an error and picks an exit code. Everything below throws
 * IrisflameError (or lets a bug escape, which becomes one here).
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { asIrisflameError } from '../errors.js';
import { collapseCommand } from './collapse.js';
import { flamegraphCommand } from './flamegraph.js';
import { diffCommand } from './diff.js';
import { recordCommand } from './record.js';
import { timelineCommand } from './timeline.js';

/** Exit status for a usage error, as most CLIs do; 1 for everything else that failed. */
export const EXIT_USAGE = 2;
export const EXIT_FAILURE = 1;

export async function main(argv: string[] = hideBin(process.argv)): Promise<void> {
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  exitQuietlyOnClosedStdout();
  try {
    await yargs(argv)
      .scriptName('irisflame')
      .usage('$0 <command> [options]\n\nFlame graphs for Linux hosts and InterSystems IRIS.')
      .command(recordCommand)
      .command(collapseCommand)
      .command(flamegraphCommand)
      .command(diffCommand)
      .command(timelineCommand)
      .option('verbose', { alias: 'v', type: 'boolean', describe: 'explain choices; show stack traces on errors' })
      .demandCommand(1, 'say which command to run (record, collapse, flamegraph, diff, timeline)')
      .strict()
      .recommendCommands()
      .help()
      .alias('help', 'h')
      .version()
      .wrap(Math.min(110, process.stdout.columns || 100))
      .fail((message, error) => {
        if (error) throw error;
        // yargs' own validation (unknown option, missing argument): one line, then where to get help.
        process.stderr.write(`irisflame: ${message}\n  hint: run "irisflame <command> --help" for usage\n`);
        process.exit(EXIT_USAGE);
      })
      .parseAsync();
  } catch (thrown) {
    const error = asIrisflameError(thrown);
    process.stderr.write(`irisflame: ${error.message}\n`);
    if (error.hint) process.stderr.write(`  hint: ${error.hint}\n`);
    if (verbose) process.stderr.write(`${(thrown as Error)?.stack ?? String(thrown)}\n`);
    process.exitCode = error.code === 'USAGE' ? EXIT_USAGE : EXIT_FAILURE;
  }
}

/** `irisflame collapse big.perf | head` closes our stdout early: that is the reader's choice, not an error. */
function exitQuietlyOnClosedStdout(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}
