/**
 * The error edge: the only place that prints an error and picks an exit code. Everything below throws
 * IrisflameError (or lets a bug escape, which becomes one here).
 */
import yargs, { type Argv, type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { asIrisflameError } from '../errors.js';
import { packageVersion } from '../package-info.js';

/**
 * Each command's module is imported only when that command runs: `flamegraph` should not pay for
 * loading record's or timeline's code (startup is a visible share of rendering a small graph).
 */
type AnyCommand = CommandModule<any, any>;
const COMMANDS: Record<string, () => Promise<AnyCommand>> = {
  record: async () => (await import('./record.js')).recordCommand,
  collapse: async () => (await import('./collapse.js')).collapseCommand,
  flamegraph: async () => (await import('./flamegraph.js')).flamegraphCommand,
  diff: async () => (await import('./diff.js')).diffCommand,
  timeline: async () => (await import('./timeline.js')).timelineCommand,
  agent: async () => (await import('./agent.js')).agentCommand,
  export: async () => (await import('./export.js')).exportCommand,
};

/**
 * Commands run as yargs' default command of a `irisflame <name>` program: yargs renders the whole help
 * text after every named (non-default) command's handler starts (`cacheHelpMessage`), ~100 ms with
 * flamegraph's ~45 options. `record` keeps the named form, as its `-- command...` parsing relies on it.
 */
const RUN_AS_DEFAULT = new Set(['collapse', 'flamegraph', 'diff', 'timeline', 'agent', 'export']);

/** Exit status for a usage error, as most CLIs do; 1 for everything else that failed. */
export const EXIT_USAGE = 2;
export const EXIT_FAILURE = 1;

export async function main(argv: string[] = hideBin(process.argv)): Promise<void> {
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  exitQuietlyOnClosedStdout();
  try {
    const name = argv[0];
    const load = name === undefined ? undefined : COMMANDS[name];
    if (load !== undefined && RUN_AS_DEFAULT.has(name!)) {
      const command = await load();
      const usage = String(command.command).replace(/^\S+/, '$0');
      await common(yargs(argv.slice(1)).scriptName(`irisflame ${name}`))
        .command({ ...command, command: usage })
        .parseAsync();
      return;
    }
    // `--version` alone needs no command; help and "did you mean" need them all.
    const commands = load !== undefined ? [await load()]
      : argv.length === 1 && argv[0] === '--version' ? []
        : await Promise.all(Object.values(COMMANDS).map((get) => get()));
    let program = yargs(argv)
      .scriptName('irisflame')
      .usage('$0 <command> [options]\n\nFlame graphs for Linux hosts and InterSystems IRIS.');
    for (const command of commands) program = program.command(command);
    await common(program)
      .demandCommand(1, 'say which command to run (record, collapse, flamegraph, diff, timeline, agent, export)')
      .recommendCommands()
      .parseAsync();
  } catch (thrown) {
    const error = asIrisflameError(thrown);
    process.stderr.write(`irisflame: ${error.message}\n`);
    if (error.hint) process.stderr.write(`  hint: ${error.hint}\n`);
    if (verbose) process.stderr.write(`${(thrown as Error)?.stack ?? String(thrown)}\n`);
    process.exitCode = error.code === 'USAGE' ? EXIT_USAGE : EXIT_FAILURE;
  }
}

/** What every form of the program shares: global options, help, version, one-line usage errors. */
function common(program: Argv): Argv {
  return program
    .option('verbose', { alias: 'v', type: 'boolean', describe: 'explain choices; show stack traces on errors' })
    .strict()
    .help()
    .alias('help', 'h')
    // Given, not guessed: yargs looks for package.json above its own folder, which the bundle does not have.
    .version(packageVersion())
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((message, error) => {
      if (error) throw error;
      // yargs' own validation (unknown option, missing argument): one line, then where to get help.
      process.stderr.write(`irisflame: ${message}\n  hint: run "irisflame <command> --help" for usage\n`);
      process.exit(EXIT_USAGE);
    });
}

/** `irisflame collapse big.perf | head` closes our stdout early: that is the reader's choice, not an error. */
function exitQuietlyOnClosedStdout(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}
