/**
 * The browser code that the SVGs embed (src/flamegraph/browser/, src/timeline/browser/) ships as real files,
 * read at run time so they can be linted and tested on their own. From the compiled dist/STAGE/ they are at
 * ../../src/STAGE/browser/; from src/STAGE/ (tests run the sources) at ./browser/. This module sits in dist/
 * (compiled), src/ (sources) or dist/bundle/ (the CLI bundle, scripts/bundle.mjs).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { IrisflameError } from './errors.js';

const cache = new Map<string, string>();

/** The text of `src/<stage>/browser/<name>`, whether running from dist/ or from src/. */
export function browserAsset(stage: 'flamegraph' | 'timeline', name: string): string {
  const key = `${stage}/${name}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const candidates = [
    new URL(`./${stage}/browser/${name}`, import.meta.url),
    new URL(`../src/${stage}/browser/${name}`, import.meta.url),
    new URL(`../../src/${stage}/browser/${name}`, import.meta.url),
  ];
  for (const candidate of candidates) {
    try {
      const content = readFileSync(fileURLToPath(candidate), 'utf8');
      cache.set(key, content);
      return content;
    } catch {
      // try the next place
    }
  }
  throw new IrisflameError('INTERNAL', `the browser file src/${stage}/browser/${name} is missing from the installation`, {
    hint: `reinstall irisflame (src/${stage}/browser/ ships with the package)`,
  });
}
