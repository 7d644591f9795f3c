/**
 * The browser code that the SVGs embed (src/flamegraph/browser/, src/timeline/browser/) ships as real files,
 * read at run time so they can be linted and tested on their own. From the compiled dist/STAGE/ they are at
 * ../../src/STAGE/browser/; from src/STAGE/ (tests run the sources) at ./browser/. This module sits in dist/
 * (compiled), src/ (sources) or dist/bundle/ (the CLI bundle, scripts/bundle.mjs).
 *
 * `npm run build` also writes minified copies, dist/STAGE/browser/NAME.min.EXT (scripts/minify-browser.mjs): they
 * are used when present and not older than the source (a source edited since, with only `tsc` run, wins).
 */
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { IrisflameError } from './errors.js';

const cache = new Map<string, string>();

/** The text of `src/<stage>/browser/<name>` (or its minified build), whether running from dist/ or from src/. */
export function browserAsset(stage: 'flamegraph' | 'timeline', name: string): string {
  const key = `${stage}/${name}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const source = firstFile([
    new URL(`./${stage}/browser/${name}`, import.meta.url),
    new URL(`../src/${stage}/browser/${name}`, import.meta.url),
    new URL(`../../src/${stage}/browser/${name}`, import.meta.url),
  ]);
  const minName = name.replace(/\.(js|css)$/, '.min.$1');
  // From dist/ (compiled) and from dist/bundle/.
  const minified = minName === name ? null : firstFile([
    new URL(`./${stage}/browser/${minName}`, import.meta.url),
    new URL(`../${stage}/browser/${minName}`, import.meta.url),
  ]);
  const chosen = minified && (!source || minified.mtimeMs >= source.mtimeMs) ? minified : source;
  if (!chosen) {
    throw new IrisflameError('INTERNAL', `the browser file src/${stage}/browser/${name} is missing from the installation`, {
      hint: `reinstall irisflame (src/${stage}/browser/ ships with the package)`,
    });
  }
  const content = readFileSync(chosen.path, 'utf8');
  cache.set(key, content);
  return content;
}

function firstFile(candidates: URL[]): { path: string; mtimeMs: number } | null {
  for (const candidate of candidates) {
    const path = fileURLToPath(candidate);
    try {
      const stat = statSync(path);
      if (stat.isFile()) return { path, mtimeMs: stat.mtimeMs };
    } catch {
      // try the next place
    }
  }
  return null;
}
