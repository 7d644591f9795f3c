/**
 * Preflight judged on made-up hosts (the checks are a pure function of the facts), plus the real thing
 * through the CLI where it can be arranged: a PATH without perf, a command that does not exist.
 */
import { describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { checkPreflight, enforcePreflight, type HostFacts, type PreflightRequest } from '../../src/record/preflight.js';
import { IrisflameError } from '../../src/errors.js';
import { runCli } from '../support/cli.js';
import { pathWithOnlyNode } from './support.js';

const ROOT_HOST: HostFacts = {
  euid: 0,
  canMonitorSystem: true,
  perfPath: '/usr/bin/perf',
  bpftracePath: '/usr/bin/bpftrace',
  perfEventParanoid: 2,
  kptrRestrict: 0,
  kallsymsReadable: true,
};
const USER_HOST: HostFacts = { ...ROOT_HOST, euid: 1000, canMonitorSystem: false };
const PERF_SYSTEM_WIDE: PreflightRequest = { backend: 'perf', pids: [], command: [] };
const found = (name: string): string | undefined => (name === 'make' ? '/usr/bin/make' : undefined);

const messages = (facts: HostFacts, request: PreflightRequest): string[] =>
  checkPreflight(facts, request, found, () => true).errors.map((problem) => problem.message);

describe('checkPreflight', () => {
  test('passes root on a host with perf, whatever the paranoid level', () => {
    expect(checkPreflight(ROOT_HOST, PERF_SYSTEM_WIDE, found)).toEqual({ errors: [], warnings: [], commandPath: undefined });
  });

  test('says perf is not installed, with the package to install', () => {
    const verdict = checkPreflight({ ...ROOT_HOST, perfPath: undefined }, PERF_SYSTEM_WIDE, found);
    expect(verdict.errors).toHaveLength(1);
    expect(verdict.errors[0]!.message).toBe('perf is not installed (not found in PATH)');
    expect(verdict.errors[0]!.hint).toContain('apt-get install linux-perf');
  });

  test('says bpftrace is not installed, with the package to install', () => {
    const verdict = checkPreflight({ ...ROOT_HOST, bpftracePath: undefined }, { ...PERF_SYSTEM_WIDE, backend: 'bpftrace' }, found);
    expect(verdict.errors[0]!.message).toBe('bpftrace is not installed (not found in PATH)');
    expect(verdict.errors[0]!.hint).toContain('apt-get install bpftrace');
  });

  test('lets auto use bpftrace when perf is missing, and fails only when both are', () => {
    expect(messages({ ...ROOT_HOST, perfPath: undefined }, { ...PERF_SYSTEM_WIDE, backend: 'auto' })).toEqual([]);
    expect(messages({ ...ROOT_HOST, perfPath: undefined, bpftracePath: undefined }, { ...PERF_SYSTEM_WIDE, backend: 'auto' })).toEqual([
      'neither perf nor bpftrace is installed',
    ]);
  });

  test('refuses system-wide perf for a user when perf_event_paranoid is above 0, saying what to set', () => {
    const verdict = checkPreflight({ ...USER_HOST, perfEventParanoid: 2 }, PERF_SYSTEM_WIDE, found);
    expect(verdict.errors[0]!.message).toBe('kernel.perf_event_paranoid is 2: too high for system-wide sampling without root');
    expect(verdict.errors[0]!.hint).toContain('sysctl -w kernel.perf_event_paranoid=-1');
  });

  test('allows a user --pid recording at paranoid 1 but not at 2', () => {
    const pids: PreflightRequest = { ...PERF_SYSTEM_WIDE, pids: [42] };
    expect(messages({ ...USER_HOST, perfEventParanoid: 1 }, pids)).toEqual([]);
    expect(checkPreflight({ ...USER_HOST, perfEventParanoid: 2 }, pids, found, () => true).errors[0]!.hint).toContain('perf_event_paranoid=1');
  });

  test('trusts CAP_PERFMON or CAP_SYS_ADMIN in place of root', () => {
    expect(messages({ ...USER_HOST, canMonitorSystem: true }, PERF_SYSTEM_WIDE)).toEqual([]);
  });

  test('says bpftrace needs root', () => {
    expect(messages(USER_HOST, { ...PERF_SYSTEM_WIDE, backend: 'bpftrace' })).toEqual(['bpftrace needs root']);
  });

  test('warns, without failing, that kernel frames will be hex when kallsyms is restricted', () => {
    const verdict = checkPreflight({ ...ROOT_HOST, kallsymsReadable: false, kptrRestrict: 2 }, PERF_SYSTEM_WIDE, found);
    expect(verdict.errors).toEqual([]);
    expect(verdict.warnings[0]!.message).toBe('kernel symbols are hidden (kernel.kptr_restrict=2): kernel frames will show as hex addresses');
    expect(verdict.warnings[0]!.hint).toContain('kptr_restrict=0');
  });

  test('resolves the command after -- and names it when it does not exist', () => {
    expect(checkPreflight(ROOT_HOST, { ...PERF_SYSTEM_WIDE, command: ['make', 'all'] }, found).commandPath).toBe('/usr/bin/make');
    expect(messages(ROOT_HOST, { ...PERF_SYSTEM_WIDE, command: ['mkae'] })).toEqual(['command not found: mkae']);
  });

  test('names --pid values that are not running processes', () => {
    const verdict = checkPreflight(ROOT_HOST, { ...PERF_SYSTEM_WIDE, pids: [1, 999999] }, found, (pid) => pid === 1);
    expect(verdict.errors.map((problem) => problem.message)).toEqual(['no such process: 999999 (--pid)']);
  });

  test('turns the first error into a one-line PREFLIGHT error that mentions the rest', () => {
    const verdict = checkPreflight({ ...ROOT_HOST, perfPath: undefined }, { ...PERF_SYSTEM_WIDE, command: ['mkae'] }, found);
    let thrown: unknown;
    try {
      enforcePreflight(verdict);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(IrisflameError);
    expect((thrown as IrisflameError).code).toBe('PREFLIGHT');
    expect((thrown as IrisflameError).message).toBe('perf is not installed (not found in PATH) (and 1 more: command not found: mkae)');
    expect((thrown as IrisflameError).message).not.toContain('\n');
  });
});

// Each test starts the CLI once: seconds on a quiet machine, much longer when it is loaded.
const CLI_TIMEOUT_MS = 180_000;

describe('record preflight through the CLI', () => {
  test('exits non-zero with one line and a remedy when perf is not in PATH', async () => {
    const result = await runCli(['record', '--seconds', '1', '--no-progress'], { env: { PATH: pathWithOnlyNode() } });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      'irisflame: perf is not installed (not found in PATH)\n' +
        '  hint: install it: apt-get install linux-perf (Debian), linux-tools-$(uname -r) (Ubuntu), dnf install perf (Fedora/RHEL); or use --backend bpftrace\n',
    );
  }, CLI_TIMEOUT_MS);

  test('exits non-zero naming a command after -- that does not exist, before recording anything', async () => {
    const result = await runCli(['record', '--no-progress', '-o', join('/tmp', 'never-written.svg'), '--', 'no-such-command-xyz', '--flag']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe('irisflame: command not found: no-such-command-xyz\n  hint: check the spelling, or give its full path\n');
  }, CLI_TIMEOUT_MS);

  test('rejects a bad option value as a usage error', async () => {
    const result = await runCli(['record', '--seconds', '0', '--no-progress']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^irisflame: --seconds must be a number greater than 0 \(got 0\)\n/);
  }, CLI_TIMEOUT_MS);

  test('refuses an output directory that does not exist before sampling', async () => {
    const result = await runCli(['record', '--seconds', '1', '--no-progress', '-o', '/nonexistent-dir/x.svg']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^irisflame: cannot write \/nonexistent-dir\/x\.svg: its directory does not exist\n/);
  }, CLI_TIMEOUT_MS);
});
