#!/usr/bin/env node
// The flame graph's browser files, minified (run by `npm run build`): src/flamegraph/browser/*.{js,css} to
// dist/flamegraph/browser/NAME.min.EXT, which src/browser-assets.ts prefers when they are not older than the sources.
// Every SVG embeds the script (about 33 KB as written, with its comments), so this is bytes in every file the
// CLI writes. The sources stay the readable, tested originals (vitest runs them); the browser tests run the CLI,
// so the minified script is what they exercise. A build artefact only, like dist/bundle/.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const STAGES = ['flamegraph'];

for (const stage of STAGES) {
  const from = join(ROOT, 'src', stage, 'browser');
  const to = join(ROOT, 'dist', stage, 'browser');
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    const loader = name.endsWith('.js') ? 'js' : name.endsWith('.css') ? 'css' : null;
    if (!loader) continue;
    const source = readFileSync(join(from, name), 'utf8');
    // Plain scripts (no module): top-level names (fgLib, fgLarge, fgConfig...) are globals and keep their names.
    // The target keeps the syntax the sources use (they run in any browser that opens the SVG).
    const { code } = await transform(source, {
      loader, minify: true, legalComments: 'none', charset: 'utf8',
      target: loader === 'js' ? 'es2015' : ['chrome80', 'firefox78', 'safari13'],
    });
    // Embedded in a CDATA section: it must not end one.
    if (code.includes(']]>')) throw new Error(`minified ${stage}/browser/${name} contains "]]>": embed it unminified`);
    writeFileSync(join(to, name.replace(/\.(js|css)$/, '.min.$1')), code);
  }
}
