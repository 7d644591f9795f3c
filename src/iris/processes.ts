/**
 * What counts as an InterSystems IRIS process. One definition, shared by `collapse --iris`, `record --iris`
 * and the lifecycle view, so the three always agree.
 */

/** Where IRIS is installed unless the user says otherwise (`--iris-dir`). */
export const DEFAULT_IRIS_DIR = '/usr/irissys';

/**
 * Executable names of IRIS's own programs, as perf reports them in `comm` (the kernel truncates comm to
 * 15 bytes; all of these are shorter). `httpd` is deliberately absent: it is IRIS's only when it runs
 * from the install dir, which `isIrisProcess` checks through the executable path.
 */
export const IRIS_PROCESS_NAMES: ReadonlySet<string> = new Set([
  'iris',
  'irisdb',
  'irisstop',
  'irisstart',
  'irisrecov',
  'iriswdimj',
  'irisrun',
  'irissession',
  'irisstat',
  'irisuxsusr',
  'requirements_ch', // requirements_check, truncated to 15 bytes by the kernel
  'requirements_check',
]);

export interface ProcessIdentity {
  /** Process name as the kernel reports it (`comm`). */
  comm: string;
  /** Path of the executable or of a mapped module, when known (e.g. from a perf frame's `(/path)`). */
  path?: string;
}

/** True when `dir` contains `path`, compared as path prefixes ("/usr/irissys" does not contain "/usr/irissys2"). */
export function isUnderDir(path: string, dir: string): boolean {
  const base = dir.endsWith('/') ? dir.slice(0, -1) : dir;
  return path === base || path.startsWith(base + '/');
}

/** An IRIS process: one of IRIS's program names, or anything executing from the IRIS install dir. */
export function isIrisProcess(process: ProcessIdentity, irisDir: string = DEFAULT_IRIS_DIR): boolean {
  if (IRIS_PROCESS_NAMES.has(process.comm)) return true;
  return process.path !== undefined && isUnderDir(process.path, irisDir);
}
