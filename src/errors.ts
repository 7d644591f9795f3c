/**
 * Errors that irisflame reports to a person. Library code throws these and never prints or exits;
 * only `src/cli/main.ts` turns one into `irisflame: <message>` plus its hint on stderr.
 */

/** Stable, machine-readable reasons; tests and scripts match on these, not on message text. */
export type ErrorCode =
  | 'USAGE' // a bad option or option value
  | 'INPUT_NOT_FOUND'
  | 'INPUT_UNREADABLE' // permission denied, a directory, an I/O error
  | 'INPUT_EMPTY'
  | 'INPUT_FORMAT' // input that no parser recognises, binary garbage, a corrupt .gz
  | 'NO_STACKS' // valid-looking input that yielded no stacks at all
  | 'OUTPUT' // cannot write the output file
  | 'PALETTE' // a palette file that cannot be read or parsed
  | 'RECORD' // a recording backend failed
  | 'PREFLIGHT' // a recording precondition is not met
  | 'INTERNAL';

export interface IrisflameErrorOptions {
  /** What the user can do about it, one line. */
  hint?: string;
  /** The underlying error, kept for `--verbose`. */
  cause?: unknown;
}

export class IrisflameError extends Error {
  override name = 'IrisflameError';
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: IrisflameErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
  }
}

/** A bad command line: wrong option, value out of range. */
export class UsageError extends IrisflameError {
  override name = 'UsageError';
  constructor(message: string, options?: IrisflameErrorOptions) {
    super('USAGE', message, options);
  }
}

/** Input that cannot be read or understood. */
export class InputError extends IrisflameError {
  override name = 'InputError';
}

/** A recording that cannot start or failed while running. */
export class RecordError extends IrisflameError {
  override name = 'RecordError';
}

/** Turn any thrown value into an IrisflameError without losing it. */
export function asIrisflameError(error: unknown): IrisflameError {
  if (error instanceof IrisflameError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new IrisflameError('INTERNAL', `internal error: ${firstLine(message)}`, {
    hint: 'this is a bug in irisflame; rerun with --verbose and report the output',
    cause: error,
  });
}

export function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end === -1 ? text : text.slice(0, end);
}
