/** `irisflame agent`'s command line: bad options and a missing privilege are one line each, no stack trace. */
import { describe, expect, test } from 'vitest';
import { execa } from 'execa';
import { findExecutable } from '../../src/tools/executables.js';
import { instanceNameMatcher, parseListenAddress, resolveAgentOptions } from '../../src/agent/options.js';
import { IRISFLAME_BIN, runCli } from '../support/cli.js';

describe('irisflame agent options', () => {
  test('--help lists the status and the profile options with their defaults', async () => {
    const result = await runCli(['agent', '--help']);
    expect(result.exitCode).toBe(0);
    for (const option of ['--listen', '--node', '--scan-interval', '--frequency', '--all', '--push', '--backend', '--call-graph']) expect(result.stdout).toContain(option);
    expect(result.stdout).toContain('127.0.0.1:9464');
  });

  test.each([
    [['--listen', 'foo'], /--listen must be HOST:PORT/],
    [['--listen', '127.0.0.1:70000'], /--listen must be HOST:PORT/],
    [['--scan-interval', '0'], /--scan-interval must be between/],
    [['--frequency', '2.5'], /--frequency must be a whole number/],
    [['--push', 'ftp://x'], /--push must be an http\(s\) URL/],
    [['--backend', 'dtrace'], /Invalid values|Argument: backend/],
    [['--call-graph', 'lbr'], /Invalid values|Argument: call-graph/],
    [['--lifecycle-instances', 'PROD('], /--lifecycle-instances: not a regular expression: PROD\(/],
  ])('%j is a usage error in one line', async (args, message) => {
    const result = await runCli(['agent', ...args]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  test('--call-graph defaults to auto; anything but auto, fp, dwarf is refused', () => {
    expect(resolveAgentOptions({}).callGraph).toBe('auto');
    expect(resolveAgentOptions({ callGraph: 'dwarf' }).callGraph).toBe('dwarf');
    expect(() => resolveAgentOptions({ callGraph: 'lbr' as never })).toThrow(/--call-graph must be one of auto, fp, dwarf/);
  });

  test('--lifecycle-instances is anchored at both ends and case-insensitive, as Prometheus regexes are anchored', () => {
    const records = instanceNameMatcher(resolveAgentOptions({ lifecycleInstances: 'PROD|DR[0-9]' }).lifecycleInstances!);
    expect(['PROD', 'prod', 'DR1'].filter(records)).toEqual(['PROD', 'prod', 'DR1']);
    expect(['PRODX', 'XPROD', 'DR', 'DR12', 'TEST'].filter(records)).toEqual([]);
    expect(resolveAgentOptions({}).lifecycleInstances).toBeUndefined();
  });

  test('listen addresses: IPv4, IPv6 in brackets, host names, port 0', () => {
    expect(parseListenAddress('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListenAddress('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListenAddress('localhost:80')).toEqual({ host: 'localhost', port: 80 });
  });

  test('the node name defaults to $NODE_NAME', () => {
    const saved = process.env.NODE_NAME;
    process.env.NODE_NAME = 'k8s-node-7';
    try {
      expect(resolveAgentOptions({}).node).toBe('k8s-node-7');
    } finally {
      if (saved === undefined) delete process.env.NODE_NAME;
      else process.env.NODE_NAME = saved;
    }
  });

  test('without root: one line saying so, exit 1', async (context) => {
    const setpriv = findExecutable('setpriv');
    if (process.getuid?.() !== 0 || setpriv === undefined) {
      // Not root already: run it directly.
      const result = await runCli(['agent', '--listen', '127.0.0.1:0']);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(/^irisflame: irisflame agent needs root/);
      return;
    }
    const result = await execa(setpriv, ['--reuid=65534', '--regid=65534', '--clear-groups', 'node', IRISFLAME_BIN, 'agent', '--listen', '127.0.0.1:0'], { reject: false });
    if (/Permission denied|EACCES/.test(result.stderr)) {
      console.warn('[skip] agent: without root: user nobody cannot read the repository here');
      return context.skip();
    }
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^irisflame: irisflame agent needs root/);
  });
});
