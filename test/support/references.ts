/**
 * Where the reference implementations and corpora live, and why a test skips when they don't.
 * The Perl originals and inferno's binaries sit beside the repo in ../shared/reference (CI has them);
 * the upstream test corpora (FlameGraph's test/, inferno's tests/data) are not ours to commit, so tests
 * that replay them look for clones made with the search tool's fetch and skip, saying so, elsewhere.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';

const SHARED_REFERENCE = join(REPO_ROOT, '..', 'shared', 'reference');

export const FLAMEGRAPH_PL_DIR = process.env.FLAMEGRAPH_PL_DIR ?? join(SHARED_REFERENCE, 'flamegraph-pl');
export const INFERNO_BIN_DIR = process.env.INFERNO_BIN_DIR ?? join(SHARED_REFERENCE, 'inferno');
/** A clone of brendangregg/FlameGraph (for its test/ corpus). */
export const FLAMEGRAPH_REPO_DIR = process.env.FLAMEGRAPH_REPO_DIR ?? '/tmp/FlameGraph';
/** A clone of jonhoo/inferno (for tests/data). */
export const INFERNO_REPO_DIR = process.env.INFERNO_REPO_DIR ?? '/tmp/inferno';

export const perlScript = (name: string): string => join(FLAMEGRAPH_PL_DIR, name);
export const infernoBinary = (name: string): string => join(INFERNO_BIN_DIR, name);

/** undefined when `path` exists; otherwise the reason to print when skipping. */
export function missingReason(path: string, what: string, envVar: string): string | undefined {
  if (existsSync(path)) return undefined;
  return `${what} not found at ${path} (set ${envVar} to its location)`;
}

/** Skip-with-a-reason helper: vitest's `describe.skipIf` does not print why, so we do. */
export function reportSkip(suite: string, reason: string | undefined): boolean {
  if (reason === undefined) return false;
  console.warn(`[skip] ${suite}: ${reason}`);
  return true;
}
