/**
 * `irisflame flamegraph` as a user runs it: any input to an SVG in one step, `-o` all or nothing, and
 * bad input or options as one clear line and a non-zero exit, never a stack trace.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../support/cli.js';
import { parseSvgFrames } from './support/svg-frames.js';
import { checkXml } from './support/xml-check.js';

const FIXTURES = join(REPO_ROOT, 'fixtures/flamegraph');
const fixture = (path: string): string => join(FIXTURES, path);

describe('irisflame flamegraph', () => {
  it('draws perf script output (gzipped) in one step, with collapse options applied', async () => {
    const result = await runCli(['flamegraph', '--all', fixture('perf-script/perl.perf.gz')]);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(checkXml(result.stdout).error).toBeUndefined();
    const titles = parseSvgFrames(result.stdout).map((frame) => frame.title);
    expect(titles[0]).toMatch(/^all \([\d,]+ samples, 100%\)$/);
    expect(titles.some((title) => title.startsWith('Perl_'))).toBe(true);
    // --all annotated kernel frames: the kind palette colours them orange (red 190..255, no blue).
    const kernel = parseSvgFrames(result.stdout).filter((frame) => /^rgb\(\d+,\d+,0\)$/.test(frame.fill));
    expect(kernel.length).toBeGreaterThan(0);
  });

  it('annotates kernel and JIT frames by default for the kind palette, unless told otherwise', async () => {
    const orange = (svg: string): number => parseSvgFrames(svg).filter((frame) => /^rgb\(\d+,\d+,0\)$/.test(frame.fill)).length;
    const byDefault = await runCli(['flamegraph', fixture('perf-script/perl.perf.gz')]);
    const without = await runCli(['flamegraph', '--no-all', fixture('perf-script/perl.perf.gz')]);
    expect(orange(byDefault.stdout)).toBeGreaterThan(orange(without.stdout) + 10);
    // Annotations colour frames but are not shown.
    expect(byDefault.stdout).not.toContain('_[k]');
  });

  it('reads folded stacks from stdin', async () => {
    const result = await runCli(['flamegraph', '--colors', 'hot'], { input: 'main;a 60\nmain;b 40\n' });
    expect(result.exitCode).toBe(0);
    expect(parseSvgFrames(result.stdout).map((frame) => frame.title)).toEqual([
      'all (100 samples, 100%)',
      'main (100 samples, 100.00%)',
      'a (60 samples, 60.00%)',
      'b (40 samples, 40.00%)',
    ]);
  });

  it('draws two-column folded input as a differential graph: grown red, shrunk blue', async () => {
    const result = await runCli(['flamegraph'], { input: 'main;grew 10 30\nmain;shrank 30 10\nmain;same 5 5\n' });
    expect(result.exitCode).toBe(0);
    const fill = (name: string): string => parseSvgFrames(result.stdout).find((frame) => frame.title.startsWith(name))!.fill;
    expect(fill('grew')).toBe('rgb(255,0,0)');
    expect(fill('shrank')).toBe('rgb(0,0,255)');
    expect(fill('same')).toBe('rgb(255,255,255)');
    const negated = await runCli(['flamegraph', '--negate'], { input: 'main;grew 10 30\n' });
    expect(parseSvgFrames(negated.stdout).find((frame) => frame.title.startsWith('grew'))!.fill).toBe('rgb(0,0,255)');
  });

  it('writes -o FILE whole, leaving no temporary file behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-cli-'));
    const out = join(dir, 'graph.svg');
    const result = await runCli(['flamegraph', '-o', out, fixture('captures/perl.folded')]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('');
    expect(checkXml(readFileSync(out, 'utf8')).error).toBeUndefined();
    expect(readdirSync(dir)).toEqual(['graph.svg']);
  });

  it('leaves an existing -o FILE untouched when the input is bad', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-cli-'));
    const out = join(dir, 'graph.svg');
    writeFileSync(out, 'previous');
    const result = await runCli(['flamegraph', '-o', out, fixture('empty/empty.folded')]);
    expect(result.exitCode).not.toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('previous');
    expect(readdirSync(dir)).toEqual(['graph.svg']);
  });

  it('draws hostile names from a file as text: well-formed, no extra script, no handler', async () => {
    const result = await runCli(['flamegraph', fixture('hostile-names/stacks.folded')]);
    expect(result.exitCode).toBe(0);
    const { error, summary } = checkXml(result.stdout);
    expect(error).toBeUndefined();
    expect(summary.elements.filter((name) => name === 'script')).toHaveLength(2);
    expect(summary.attributes.filter(({ name }) => /^on/i.test(name))).toEqual([]);
    const names = parseSvgFrames(result.stdout).map((frame) => frame.title.slice(0, frame.title.lastIndexOf(' (')));
    expect(names).toContain('<script>alert(1)</script>');
    expect(names).toContain('bad\ufffd\ufffdutf8');
    expect(names).toContain('ctl\ufffd\ufffdchars');
  });

  it('reports skipped malformed lines and still draws the rest', async () => {
    const result = await runCli(['flamegraph', fixture('bad-lines/stacks.folded')]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('skipped 2 unrecognised line(s)');
    expect(parseSvgFrames(result.stdout).map((frame) => frame.title.split(' (')[0])).toEqual(['all', 'main', 'idle', 'work', 'deep']);
  });

  it.each([
    ['an empty file', ['empty/empty.folded'], /empty/],
    ['only blank lines', ['blank-lines/stacks.folded'], /no stacks/],
    ['negative counts', ['negative-counts/stacks.folded'], /no stacks/],
    ['non-numeric counts', ['non-numeric-counts/stacks.folded'], /no stacks/],
    ['a missing file', ['no-such-dir/none.folded'], /no such file/],
  ])('fails on %s with one line and a non-zero exit', async (_, [path], message) => {
    const result = await runCli(['flamegraph', fixture(path!)]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^irisflame: /);
    expect(lines[0]).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it.each([
    [['--width', '0'], '--width must be a number greater than 0'],
    [['--fontsize', '-2'], '--fontsize must be a number greater than 0'],
    [['--minwidth', 'abc'], '--minwidth must be'],
    [['--bgcolors', 'pink'], 'unknown background'],
  ])('rejects %j as a usage error before reading the input', async (args, message) => {
    const result = await runCli(['flamegraph', ...args, fixture('captures/perl.folded')]);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')[0]).toContain(message);
  });

  it('fails with a clear line when the consistent palette file is unreadable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-cli-'));
    mkdirSync(join(dir, 'palette.map'));
    const result = await runCli(['flamegraph', '--cp', fixture('captures/perl.folded')], { cwd: dir });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')[0]).toContain('cannot read palette file palette.map: it is a directory');
  });

  it('keeps colours across graphs with --cp through palette.map', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-cli-'));
    const first = await runCli(['flamegraph', '--cp', '--random', fixture('captures/perl.folded')], { cwd: dir });
    expect(first.exitCode).toBe(0);
    expect(existsSync(join(dir, 'palette.map'))).toBe(true);
    const second = await runCli(['flamegraph', '--cp', '--random', fixture('captures/perl.folded')], { cwd: dir });
    const fills = (svg: string): string[] => parseSvgFrames(svg).map((frame) => `${frame.title} ${frame.fill}`);
    expect(fills(second.stdout)).toEqual(fills(first.stdout));
  });
});
