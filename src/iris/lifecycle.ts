/**
 * Naming IRIS processes by what they run. Every IRIS job is an `irisdb` to perf; the entry routine in
 * its arguments (`./irisdb -s/data/IRIS/mgr/ -cj -p13 START^MONITOR`) is what tells them apart. This
 * module turns an argv into that name, for the lifecycle timeline's lanes and for the root frame of
 * each sample (`irisdb START^MONITOR`).
 */
import { isIrisProcess, DEFAULT_IRIS_DIR } from './processes.js';

/** How a process is shown: its program name plus what distinguishes it from its siblings. */
export interface ProcessLabel {
  /** Program name: the basename of argv[0] (`./irisdb` → `irisdb`), or the comm when argv is unknown. */
  program: string;
  /** The ObjectScript entry routine, when argv names one (`START^MONITOR`, `^RECEIVE`, `OPT^SHUTDOWN(1)`). */
  routine: string | undefined;
  /** One short line for a timeline lane: `irisdb START^MONITOR`, `irisdb -cV`, `iriswdimj -j`. */
  text: string;
}

/**
 * An entry reference as IRIS's command line carries it: `[tag]^routine[(args)]`. Tags and routine names
 * start with a letter or `%` and go on with letters, digits and dots (`Master^%SYS.SERVER`).
 */
const ROUTINE_PATTERN = /^(?:%?[A-Za-z][A-Za-z0-9]*)?\^%?[A-Za-z][A-Za-z0-9.]*(?:\(.*\))?$/;

/** At most this many arguments make it into a lane label; the hover shows the whole argv. */
const MAX_LABEL_ARGS = 3;
/** Arguments longer than this are left out of lane labels (config paths, long -c scripts). */
const MAX_LABEL_ARG_LENGTH = 24;

/** True for an argument that names an ObjectScript entry routine. */
export function isRoutineArgument(argument: string): boolean {
  return argument.includes('^') && ROUTINE_PATTERN.test(argument);
}

/** The entry routine in an IRIS process's argv: the last argument that names one, if any. */
export function routineOf(argv: readonly string[]): string | undefined {
  for (let index = argv.length - 1; index >= 1; index--) {
    const argument = argv[index]!;
    if (isRoutineArgument(argument)) return argument;
  }
  return undefined;
}

export function programName(argv0: string): string {
  const slash = argv0.lastIndexOf('/');
  return slash === -1 ? argv0 : argv0.slice(slash + 1);
}

/**
 * Label a process from its argv (and comm, used when argv is missing or empty).
 * `irisdb` jobs with a routine become `irisdb START^MONITOR`; other processes keep their program name
 * followed by their short, path-free arguments (`irisdb -cV`, `irisstop quietly restart`, `iriswdimj -t`);
 * `sh -c "…"` is labelled by the command it runs.
 */
export function labelProcess(
  argv: readonly string[] | undefined,
  comm: string,
  irisDir: string = DEFAULT_IRIS_DIR,
): ProcessLabel {
  if (argv === undefined || argv.length === 0 || argv[0] === '') {
    return { program: comm, routine: undefined, text: comm };
  }
  const program = programName(argv[0]!);
  const shellCommand = shellScriptOf(program, argv);
  if (shellCommand !== undefined) {
    const inner = labelProcess(splitShellWords(shellCommand), comm, irisDir);
    return { program, routine: inner.routine, text: `${program} -c ${inner.text}` };
  }
  const isIris = isIrisProcess({ comm: program, path: argv[0]!.startsWith('/') ? argv[0] : undefined }, irisDir);
  const routine = isIris ? routineOf(argv) : undefined;
  if (routine !== undefined) return { program, routine, text: `${program} ${routine}` };
  const shortArgs = shortArguments(argv.slice(1)).slice(0, MAX_LABEL_ARGS);
  return { program, routine: undefined, text: [program, ...shortArgs].join(' ') };
}

/**
 * The root frame a sample of this process gets: `irisdb START^MONITOR` for an IRIS job with a routine,
 * else the comm unchanged (so graphs without lifecycle data keep stackcollapse-perf.pl's roots).
 */
export function rootFrameFor(comm: string, argv: readonly string[] | undefined, irisDir: string = DEFAULT_IRIS_DIR): string {
  if (argv === undefined) return comm;
  const label = labelProcess(argv, comm, irisDir);
  return label.routine === undefined ? comm : `${comm} ${label.routine}`;
}

/** `irisdb;main;…` becomes `irisdb START^MONITOR;main;…` (the collapser's root is the comm, spaces as `_`). */
export function relabelRoot(stack: string, argv: readonly string[] | undefined, irisDir: string): string {
  if (argv === undefined) return stack;
  const firstSeparator = stack.indexOf(';');
  const root = firstSeparator === -1 ? stack : stack.slice(0, firstSeparator);
  const labelled = rootFrameFor(root, argv, irisDir);
  return labelled === root ? stack : labelled + stack.slice(root.length);
}

/** Arguments worth a place in a one-line label: flags and words, not paths, not the -s<mgr> directory. */
function isShortArgument(argument: string): boolean {
  if (argument.length === 0 || argument.length > MAX_LABEL_ARG_LENGTH) return false;
  return !argument.includes('/');
}

/** Short arguments; a flag whose value is left out keeps its place as `-f …` (`httpd -f … -d …`). */
function shortArguments(args: readonly string[]): string[] {
  const kept: string[] = [];
  args.forEach((argument, index) => {
    if (!isShortArgument(argument)) return;
    const next = args[index + 1];
    const valueLeftOut = /^-[A-Za-z]$/.test(argument) && next !== undefined && !next.startsWith('-') && !isShortArgument(next);
    kept.push(valueLeftOut ? `${argument} …` : argument);
  });
  return kept;
}

const SHELLS: ReadonlySet<string> = new Set(['sh', 'bash', 'dash', 'ksh', 'zsh']);

function shellScriptOf(program: string, argv: readonly string[]): string | undefined {
  if (!SHELLS.has(program) || argv.length < 3 || argv[1] !== '-c') return undefined;
  return argv[2];
}

/** Enough of sh's word splitting for labels: whitespace, single and double quotes. */
export function splitShellWords(script: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: string | undefined;
  for (const char of script) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else word += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      inWord = true;
    } else if (char === ' ' || char === '\t' || char === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}
