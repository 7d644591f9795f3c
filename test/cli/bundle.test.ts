/**
 * The CLI bundle (scripts/bundle.mjs, dist/bundle/) that bin/irisflame loads: it must answer as the compiled
 * modules do. Both are run here on the same arguments: help, version (also from a folder with another
 * package.json, which yargs would have read), a usage error, a rendered graph (browser assets found), and a
 * translated yargs message (its locale files copied beside the bundle).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { REPO_ROOT, runCli } from '../support/cli.js';

const BUNDLE = join(REPO_ROOT, 'dist', 'bundle', 'irisflame.js');
const VERSION = (await import('../../package.json', { with: { type: 'json' } })).default.version;
const elsewhere = mkdtempSync(join(tmpdir(), 'irisflame-bundle-'));
writeFileSync(join(elsewhere, 'package.json'), JSON.stringify({ name: 'someone-else', version: '9.9.9' }));
afterAll(() => rmSync(elsewhere, { recursive: true, force: true }));

const compiled = { IRISFLAME_NO_BUNDLE: '1' };

describe('the CLI bundle answers as the compiled modules do', () => {
  test('npm run build wrote the bundle, and its yargs locales', () => {
    expect(existsSync(BUNDLE)).toBe(true);
    expect(existsSync(join(REPO_ROOT, 'dist', 'bundle', 'locales', 'de.json'))).toBe(true);
  });

  const cases: Array<{ args: string[]; env?: Record<string, string> }> = [
    { args: ['--help'] },
    { args: ['flamegraph', '--help'] },
    { args: ['record', '--help'] },
    { args: ['agent', '--help'] },
    { args: ['flamegraph', '--no-such-option'] },
    { args: ['flamegrph'] },
    { args: ['flamegraph', '--no-such-option'], env: { LC_ALL: 'de_DE.UTF-8', LANG: 'de_DE.UTF-8' } },
    { args: ['flamegraph', join(REPO_ROOT, 'fixtures', 'flamegraph', 'captures', 'gzip.folded')] },
  ];
  for (const { args, env } of cases) {
    test(`irisflame ${args.map((a) => a.replace(REPO_ROOT, '')).join(' ')}${env ? ' (German locale)' : ''}`, async () => {
      const [bundled, plain] = await Promise.all([runCli(args, { env }), runCli(args, { env: { ...env, ...compiled } })]);
      expect(bundled.stdout.length + bundled.stderr.length).toBeGreaterThan(0);
      expect(bundled).toEqual(plain);
    });
  }

  test('--version is irisflame\'s, whatever package.json is in the working folder', async () => {
    for (const env of [undefined, compiled]) {
      const result = await runCli(['--version'], { cwd: elsewhere, env });
      expect(result.stdout.trim()).toBe(VERSION);
    }
  });
});
