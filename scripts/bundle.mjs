#!/usr/bin/env node
// The CLI bundle (run by `npm run build` after tsc): dist/cli/main.js and what it imports, node_modules
// included, as a few files in dist/bundle/ that bin/irisflame loads when present. Node then reads and
// compiles a few files instead of ~200 modules at every start (docs/benchmarks.md, "CLI start-up"). Code
// splitting keeps each command's code in its own chunk, loaded only when that command runs.
// A build artefact only: the sources keep their layering, and dist/ is not committed.
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist', 'bundle');
const YARGS_LOCALES = join(ROOT, 'node_modules', 'yargs', 'locales');

/**
 * yargs reads its message translations from ../../../locales of its platform shim; bundled, that is
 * outside the package. The bundle gets its own copy in dist/bundle/locales/ and the shim points there.
 */
const yargsLocales = {
  name: 'yargs-locales',
  setup(b) {
    b.onLoad({ filter: /yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const patched = source.replace("resolve(__dirname, '../../../locales')", "resolve(__dirname, '../locales')");
      if (patched === source) throw new Error(`yargs' locale path not found in ${args.path}: update scripts/bundle.mjs`);
      return { contents: patched, loader: 'js' };
    });
  },
};

rmSync(OUT, { recursive: true, force: true });
await build({
  entryPoints: { irisflame: join(ROOT, 'dist', 'cli', 'main.js') },
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // CommonJS dependencies (prom-client...) call require() for Node's own modules.
  banner: { js: "import { createRequire as __irisflameRequire } from 'node:module'; const require = __irisflameRequire(import.meta.url);" },
  plugins: [yargsLocales],
  logLevel: 'warning',
  legalComments: 'none',
});
cpSync(YARGS_LOCALES, join(OUT, 'locales'), { recursive: true });
