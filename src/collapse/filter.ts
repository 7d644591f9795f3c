/**
 * `--comm REGEX` and `--iris`: which processes' samples to keep. Both given means both must hold.
 * The IRIS test is src/iris/processes.ts's, so collapse, record and the lifecycle view agree on it.
 */
import { UsageError } from '../errors.js';
import { DEFAULT_IRIS_DIR, isIrisProcess } from '../iris/processes.js';
import type { ProcessFilter } from './types.js';

export interface ProcessFilterOptions {
  /**
   * Keep processes whose name matches this regular expression (JavaScript syntax, unanchored).
   * @default undefined (any name)
   */
  comm?: string;
  /**
   * Keep only InterSystems IRIS processes: IRIS program names, or code running from `irisDir`.
   * @default false
   */
  iris?: boolean;
  /**
   * IRIS install directory, for `iris`.
   * @default "/usr/irissys"
   */
  irisDir?: string;
}

export const DEFAULT_PROCESS_FILTER_OPTIONS: Readonly<ProcessFilterOptions> = Object.freeze({
  comm: undefined,
  iris: false,
  irisDir: DEFAULT_IRIS_DIR,
});

/** A filter for the options given, or undefined when they keep everything. */
export function makeProcessFilter(options: ProcessFilterOptions): ProcessFilter | undefined {
  const nameMatches = options.comm === undefined || options.comm === '' ? undefined : compileComm(options.comm);
  const iris = options.iris === true;
  if (nameMatches === undefined && !iris) return undefined;
  const irisDir = options.irisDir || DEFAULT_IRIS_DIR;
  return (comm, modulePaths) => {
    if (nameMatches !== undefined && !nameMatches.test(comm)) return false;
    if (!iris) return true;
    if (isIrisProcess({ comm }, irisDir)) return true;
    return modulePaths.some((path) => isIrisProcess({ comm, path }, irisDir));
  };
}

function compileComm(source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (error) {
    throw new UsageError(`--comm: not a valid regular expression: ${source}`, {
      hint: 'use JavaScript regex syntax, e.g. --comm "^iris" or --comm "java|node"',
      cause: error,
    });
  }
}
