/**
 * irisflame's own version, from its package.json. Found relative to this module, which is one folder below
 * the package root when compiled (dist/) or run from sources (src/), two in the CLI bundle (dist/bundle/).
 */
import { readFileSync } from 'node:fs';

let version: string | undefined;

export function packageVersion(): string {
  if (version !== undefined) return version;
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'irisflame' && pkg.version) return (version = pkg.version);
    } catch {
      // try the next place
    }
  }
  return (version = 'unknown');
}
