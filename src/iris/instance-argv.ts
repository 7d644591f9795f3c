/**
 * What an IRIS process's argv says about the instance it belongs to. From an execsnoop trace of a real
 * restart (../shared/reference/fleet.md §10):
 *
 *   ./irisdb -s/data/IRIS/mgr/ -w/data/IRIS/mgr/ -cc -B -C/data/IRIS/iris.cpf*IRIS   (the control process)
 *   ./irisdb -s/data/IRIS/mgr/ -U -B -b1024 -Erunlevel=sys/complete QUIET^STU         (the startup)
 *   /usr/irissys/bin/irisdb -s/data/IRIS/mgr -cj -p13 START^MONITOR                  (a job)
 *   /bin/sh -c -- /usr/irissys/bin/irisdb -s /data/IRIS/mgr/ -cL                     (-s as its own word)
 *   irisstop quietly restart                                                          (names no instance)
 *
 * The control process names the instance (`*IRIS` after the CPF path); every other IRIS process carries
 * the manager directory (`-s`) or descends from one that does.
 */
import { posix } from 'node:path';
import { programName } from './lifecycle.js';

export interface ControlProcessArgs {
  /** The instance name: what follows `*` in `-C<cpf>*NAME`. */
  instance: string;
  /** The CPF file path before the `*`. */
  cpf: string;
  /** The manager directory from `-s`, normalised (see normaliseDir); undefined when absent. */
  managerDir: string | undefined;
}

/**
 * Instance names as IRIS accepts them (letters, digits, `_`, `-`, `.`, at most 64 bytes here): anything
 * else is not taken for a name, so a label value can never carry an arbitrary string from argv.
 */
const INSTANCE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

export function isInstanceName(text: string): boolean {
  return INSTANCE_NAME.test(text);
}

/** The control process: an `irisdb` whose argv carries `-cc` and `-C<cpf>*NAME`. */
export function parseControlProcess(argv: readonly string[]): ControlProcessArgs | undefined {
  if (argv.length < 3 || programName(argv[0]!) !== 'irisdb' || !argv.includes('-cc')) return undefined;
  for (const argument of argv) {
    if (!argument.startsWith('-C')) continue;
    const star = argument.lastIndexOf('*');
    if (star === -1) continue;
    const instance = argument.slice(star + 1);
    if (!isInstanceName(instance)) continue;
    return { instance, cpf: argument.slice(2, star), managerDir: managerDirOf(argv) };
  }
  return undefined;
}

/** The manager directory an IRIS process names with `-s/dir` or `-s /dir`, normalised. */
export function managerDirOf(argv: readonly string[]): string | undefined {
  for (let index = 1; index < argv.length; index++) {
    const argument = argv[index]!;
    if (argument === '-s') {
      const next = argv[index + 1];
      return next === undefined || next === '' ? undefined : normaliseDir(next);
    }
    if (argument.startsWith('-s/')) return normaliseDir(argument.slice(2));
  }
  return undefined;
}

/** `/data/IRIS/mgr/` and `/data/IRIS/mgr` (both in the trace) compare equal; `a//../b` is resolved. */
export function normaliseDir(dir: string): string {
  const normal = posix.normalize(dir);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/** IRIS's command-line verbs that name an instance: `iris stop IRIS quietly restart`. */
const IRIS_VERBS: ReadonlySet<string> = new Set(['start', 'stop', 'restart', 'force', 'stopstart', 'session', 'terminal', 'list', 'qlist', 'all']);

/** The instance an `iris VERB NAME …` command acts on, if argv has that shape. */
export function instanceOfIrisCommand(argv: readonly string[]): string | undefined {
  if (argv.length < 3 || programName(argv[0]!) !== 'iris' || !IRIS_VERBS.has(argv[1]!)) return undefined;
  return isInstanceName(argv[2]!) ? argv[2] : undefined;
}

/** The verb of an `iris VERB NAME` command (`start`, `stop`, `force`, …). */
export function irisCommandVerb(argv: readonly string[]): string | undefined {
  return argv.length >= 3 && programName(argv[0]!) === 'iris' && IRIS_VERBS.has(argv[1]!) ? argv[1] : undefined;
}

/**
 * The startup process: an irisdb running IRIS's startup routine (`QUIET^STU`, `^STU`). It starts the
 * system jobs and exits when the start-up is complete, which is where a start's duration ends.
 */
export function isStartupRoutine(routine: string | undefined): boolean {
  return routine !== undefined && /\^STU$/.test(routine);
}

/** The install dir of an IRIS binary: `/usr/irissys/bin/irisdb` → `/usr/irissys`. */
export function installDirOf(executable: string): string | undefined {
  const bin = posix.dirname(executable);
  if (posix.basename(bin) !== 'bin') return undefined;
  return posix.dirname(bin);
}
