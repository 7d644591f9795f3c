/**
 * What an IRIS instance's files are, by path: the groups the lifecycle view sums file lookups and disk waits
 * under, so "this start spent 3 s reading journals" shows at a glance. IRIS knowledge, in one place:
 *
 * - `CPF`: the configuration, `iris.cpf` and its backups (`*.cpf`, `*.cpf_*`);
 * - `journal`: journal files (`mgr/journal/20261130.001`, any `YYYYMMDD.NNN`), `journal.log`, `*.jrnzip`;
 * - `WIJ`: the write image journal (`IRIS.WIJ`, `CACHE.WIJ`, anything under a `wij` directory);
 * - `databases`: `IRIS.DAT` / `CACHE.DAT` and their lock files (`iris.lck` next to them), `*.DAT`;
 * - `libraries`: shared objects and the loader's cache (`*.so`, `*.so.N`, `ld.so.cache`, `/lib*`, `/usr/lib*`);
 * - `other`: everything else (messages.log, /proc, /etc, …).
 *
 * Rules are tried in that order; the first that matches wins (a `.so` under mgr/ is still a library).
 */

export const FILE_GROUPS = ['CPF', 'journal', 'WIJ', 'databases', 'libraries', 'other'] as const;
export type FileGroup = (typeof FILE_GROUPS)[number];

interface Rule {
  group: FileGroup;
  /** Tested against the whole path. */
  path?: RegExp;
  /** Tested against the last path component. */
  name?: RegExp;
}

const RULES: readonly Rule[] = [
  { group: 'libraries', name: /\.so(\.\d+)*$|^ld\.so\.(cache|preload)$/ },
  { group: 'libraries', path: /^\/(usr\/)?lib(32|64|x32)?\// },
  { group: 'CPF', name: /\.cpf(_.*)?$/i },
  { group: 'journal', name: /^\d{8}\.\d{3}(z)?$|^journal\.log$|\.jrnzip$/i },
  { group: 'journal', path: /\/journal\// },
  { group: 'WIJ', name: /\.wij$/i },
  { group: 'WIJ', path: /\/wij\//i },
  { group: 'databases', name: /\.dat$|^(iris|cache)\.lck$/i },
];

/** The group of one path (absolute or relative; relative paths are matched by name). */
export function fileGroupOf(path: string): FileGroup {
  const slash = path.lastIndexOf('/');
  const name = slash === -1 ? path : path.slice(slash + 1);
  for (const rule of RULES) {
    if (rule.name !== undefined && rule.name.test(name)) return rule.group;
    if (rule.path !== undefined && rule.path.test(path)) return rule.group;
  }
  return 'other';
}
