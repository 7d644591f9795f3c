/**
 * `irisflame export --format pprof` on every kind of input collapse reads, checked the way consumers
 * check it: Parca's validation rules, the real `go tool pprof` (-top, -raw, -tags), and totals that
 * match what `irisflame collapse` folds from the same file.
 */
import { describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, REPO_ROOT } from '../support/cli.js';
import { reportSkip } from '../support/references.js';
import { collapseInput } from '../../src/collapse/pipeline.js';
import { decodeProfile, goPprof, goPprofReason, labelCounts, parcaProblems, stacksOf, valueTotal } from '../support/pprof.js';

const out = mkdtempSync(join(tmpdir(), 'irisflame-export-test-'));
const fixture = (...parts: string[]): string => join(REPO_ROOT, 'fixtures', ...parts);
const inDir = (dir: string, pattern: RegExp): string[] =>
  readdirSync(fixture(dir))
    .filter((name) => pattern.test(name))
    .map((name) => join(dir, name));

const PERF = ['system-wide.txt', 'two-events-cpu-task-clock.txt', 'dwarf-perl.txt', 'fields-pid-tid.txt', 'no-callchain.txt'].map((name) => join('collapse/perf', name));
const BPFTRACE = inDir('collapse/bpftrace', /\.txt$/);
const FOLDED = inDir('collapse/folded', /^(bcc-profile-delimited|bpftrace-addrs-1|decimals|perf-perl-gzip|perf-pid-kernel|perf-sh-sort-perl)\.folded(\.gz)?$/);
const LIFECYCLE = inDir('timeline/perf', /\.txt\.gz$/);
const ALL = [...PERF, ...BPFTRACE, ...FOLDED, ...LIFECYCLE];
/** One input of each kind for the slower whole-output checks. */
const ONE_OF_EACH = [PERF[0]!, 'collapse/bpftrace/kstack-ustack-comm-pid.txt', 'collapse/folded/perf-perl-gzip.folded.gz', LIFECYCLE[0]!];

const goSkip = reportSkip('export: go tool pprof', goPprofReason());

async function exportFixture(relative: string, extra: string[] = []): Promise<string> {
  const target = join(out, `${relative.replace(/\//g, '_')}${extra.join('')}.pb.gz`);
  const result = await runCli(['export', '--format', 'pprof', fixture(relative), '-o', target, ...extra]);
  expect(result.stderr).not.toMatch(/internal error/);
  expect(result.exitCode, result.stderr).toBe(0);
  return target;
}

describe('irisflame export --format pprof', () => {
  test.each(ALL)('%s: a profile every Parca rule accepts, with the Go CPU-profile fields', async (relative) => {
    const profile = decodeProfile(readFileSync(await exportFixture(relative)));
    expect(parcaProblems(profile)).toEqual([]);
    const strings = profile.stringTable.strings;
    expect(profile.sampleType.map((type) => `${strings[Number(type.type)]}/${strings[Number(type.unit)]}`)).toEqual(['samples/count', 'cpu/nanoseconds']);
    expect(`${strings[Number(profile.periodType!.type)]}/${strings[Number(profile.periodType!.unit)]}`).toBe('cpu/nanoseconds');
    expect(Number(profile.period)).toBeGreaterThan(0);
    expect(Number(profile.timeNanos)).toBeGreaterThan(Date.UTC(2020, 0, 1) * 1e6);
    expect(profile.sample.length).toBeGreaterThan(0);
    for (const sample of profile.sample) expect(Number(sample.value[1])).toBeGreaterThan(0);
  });

  test.each(PERF.concat(LIFECYCLE))('%s: sample counts are the samples collapse folds, CPU time the clock periods', async (relative) => {
    const profile = decodeProfile(readFileSync(await exportFixture(relative)));
    const samples = await collapseInput(fixture(relative), { samples: true });
    const periods = await collapseInput(fixture(relative));
    const sum = (map: Map<string, number>): number => [...map.values()].reduce((a, b) => a + b, 0);
    expect(valueTotal(profile, 0)).toBe(sum(samples.stacks));
    // fields-pid-tid has no periods: its CPU time is samples × 1e9/99.
    const expectedNanos = sum(periods.stacks) === sum(samples.stacks) ? sum(samples.stacks) * Math.round(1e9 / 99) : sum(periods.stacks);
    expect(valueTotal(profile, 1)).toBe(expectedNanos);
  });

  test.each(BPFTRACE)('%s: sample counts are the counts collapse folds', async (relative) => {
    const profile = decodeProfile(readFileSync(await exportFixture(relative, ['--frequency', '49'])));
    const collapsed = await collapseInput(fixture(relative));
    const total = [...collapsed.stacks.values()].reduce((a, b) => a + b, 0);
    expect(valueTotal(profile, 0)).toBe(total);
    expect(Number(profile.period)).toBe(Math.round(1e9 / 49));
    expect(valueTotal(profile, 1)).toBe(total * Math.round(1e9 / 49));
  });

  test('folded weights that are perf periods become nanoseconds, counts stay counts', async () => {
    const periods = decodeProfile(readFileSync(await exportFixture('collapse/folded/perf-perl-gzip.folded.gz')));
    const collapsed = await collapseInput(fixture('collapse/folded/perf-perl-gzip.folded.gz'));
    const total = [...collapsed.stacks.values()].reduce((a, b) => a + b, 0);
    expect(Number(periods.period)).toBe(10101010);
    expect(valueTotal(periods, 1)).toBe(total);
    expect(valueTotal(periods, 0)).toBe(total / 10101010);
    const counts = decodeProfile(readFileSync(await exportFixture('collapse/folded/bcc-profile-delimited.folded')));
    const countTotal = [...(await collapseInput(fixture('collapse/folded/bcc-profile-delimited.folded'))).stacks.values()].reduce((a, b) => a + b, 0);
    expect(valueTotal(counts, 0)).toBe(countTotal);
  });

  test('a lifecycle capture labels IRIS jobs with their routine, and the stacks keep their frames', async () => {
    const relative = 'timeline/perf/simulated-restart.txt.gz';
    const profile = decodeProfile(readFileSync(await exportFixture(relative, ['--iris'])));
    const routines = labelCounts(profile, 'routine');
    expect([...routines.keys()]).toEqual(expect.arrayContaining(['START^MONITOR', 'QUIET^STU', 'OPT^SHUTDOWN(1)']));
    const comms = labelCounts(profile, 'comm');
    expect([...comms.keys()].every((comm) => /^(iris|irisdb|irisstop|irisrecov|iriswdimj|requirements_ch)$/.test(comm))).toBe(true);
    // The process name is a label, not a frame; frames carry no collapse annotations.
    const names = stacksOf(profile).flatMap((stack) => stack.frames);
    expect(names).not.toContain('irisdb');
    expect(names.some((name) => /_\[[kij]\]$/.test(name))).toBe(false);
  });

  test('kernel frames are in the [kernel.kallsyms] mapping, named without their _[k]', async () => {
    const profile = decodeProfile(readFileSync(await exportFixture('collapse/perf/system-wide.txt')));
    const strings = profile.stringTable.strings;
    const kernel = profile.mapping.find((mapping) => strings[Number(mapping.filename)] === '[kernel.kallsyms]');
    expect(kernel).toBeDefined();
    const kernelFunctions = profile.location
      .filter((location) => Number(location.mappingId) === Number(kernel!.id))
      .map((location) => strings[Number(profile.function[Number(location.line[0]!.functionId) - 1]!.name)]);
    expect(kernelFunctions).toContain('entry_SYSCALL_64_after_hwframe');
  });

  test('fractional folded weights keep their CPU time; counts are rounded to whole samples', async () => {
    const profile = decodeProfile(readFileSync(await exportFixture('collapse/folded/decimals.folded')));
    const total = [...(await collapseInput(fixture('collapse/folded/decimals.folded'))).stacks.values()].reduce((a, b) => a + b, 0);
    expect(Math.abs(valueTotal(profile, 1) - total * (1e9 / 99))).toBeLessThanOrEqual(profile.sample.length);
    for (const sample of profile.sample) expect(Number.isInteger(Number(sample.value[0]))).toBe(true);
  });

  test('--no-gzip writes the plain protobuf, the same profile', async () => {
    const plain = readFileSync(await exportFixture('collapse/perf/system-wide.txt', ['--no-gzip']));
    const gzipped = readFileSync(await exportFixture('collapse/perf/system-wide.txt'));
    expect([...plain.subarray(0, 2)]).not.toEqual([0x1f, 0x8b]);
    expect(decodeProfile(plain).sample.length).toBe(decodeProfile(gzipped).sample.length);
    expect(valueTotal(decodeProfile(plain), 1)).toBe(valueTotal(decodeProfile(gzipped), 1));
  });

  test('a bad output format is one line and exit 2; unreadable input leaves no file behind', async () => {
    const bad = await runCli(['export', '--format', 'svg', fixture('collapse/perf/system-wide.txt'), '-o', join(out, 'x.pb.gz')]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/^irisflame: --format: unknown output format "svg"/);
    const target = join(out, 'prose.pb.gz');
    const prose = await runCli(['export', fixture('collapse/bad/prose.txt'), '-o', target]);
    expect(prose.exitCode).toBe(1);
    expect(prose.stderr.split('\n')[0]).toMatch(/^irisflame: /);
    expect(existsSync(target)).toBe(false);
  });
});

describe.skipIf(goSkip)('go tool pprof reads every export', () => {
  test.each(ALL)('%s: -raw parses it', async (relative) => {
    const result = await goPprof(['-raw', await exportFixture(relative)]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/PeriodType: cpu nanoseconds/);
    expect(result.stdout).toMatch(/samples\/count cpu\/nanoseconds/);
  });

  test.each(ONE_OF_EACH)('%s: -top and -tags too', async (relative) => {
    const file = await exportFixture(relative);
    const top = await goPprof(['-top', file]);
    expect(top.exitCode, top.stderr).toBe(0);
    expect(top.stdout).toMatch(/Type: cpu/);
    expect(top.stdout).toMatch(/flat\s+flat%/);
    const tags = await goPprof(['-tags', file]);
    expect(tags.exitCode, tags.stderr).toBe(0);
    expect(tags.stdout).toMatch(/ comm: Total/);
  });

  test('-tags on a lifecycle capture shows the routines', async () => {
    const tags = await goPprof(['-tags', await exportFixture('timeline/perf/simulated-restart.txt.gz', ['--iris'])]);
    expect(tags.exitCode, tags.stderr).toBe(0);
    expect(tags.stdout).toMatch(/ routine: Total/);
    expect(tags.stdout).toMatch(/START\^MONITOR/);
  });
});
