import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runCli } from '../support/cli.js';
import { LOST_UNKNOWN, RESTART } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'irisflame-timeline-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('irisflame timeline', () => {
  test('writes one self-contained lifecycle SVG and says what it holds', async () => {
    const output = join(dir, 'restart.svg');
    const result = await runCli(['timeline', RESTART, '-o', output, '--title', 'simulated IRIS restart']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(/wrote .*restart\.svg: \d+ processes, 394 samples/);
    const svg = readFileSync(output, 'utf8');
    expect(svg.startsWith('<?xml')).toBe(true);
    expect(svg).toContain('<text id="title" x="600" y="24">simulated IRIS restart</text>');
    expect(svg).toContain('irisdb START^MONITOR');
    expect(svg).not.toMatch(/<(?:script|image|link|use)[^>]*(?:src|href)=/); // nothing loaded from outside
  });

  test('writes FILE.svg beside the input by default and prints the SVG for stdin', async () => {
    const input = join(dir, 'lost.txt');
    writeFileSync(input, readFileSync(LOST_UNKNOWN));
    expect((await runCli(['timeline', input])).exitCode).toBe(0);
    expect(existsSync(join(dir, 'lost.svg'))).toBe(true);
    const piped = await runCli(['timeline', '-'], { input: readFileSync(LOST_UNKNOWN) });
    expect(piped.exitCode).toBe(0);
    expect(piped.stdout).toContain('"lostEvents":9');
    expect(piped.stderr).toContain('perf lost 9 events');
  });

  test('a missing file is one line on stderr and a non-zero exit', async () => {
    const result = await runCli(['timeline', join(dir, 'nope.txt')]);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr.trim().split('\n')[0]).toMatch(/^irisflame: .*nope\.txt: no such file$/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  test('input that is not a capture is rejected with a hint', async () => {
    const result = await runCli(['timeline', '-'], { input: 'hello\nworld\n' });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^irisflame: stdin: no samples and no task events found\n  hint: /);
  });

  test('a width too small for the page is a usage error', async () => {
    const result = await runCli(['timeline', LOST_UNKNOWN, '--width', '100', '-o', join(dir, 'x.svg')]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--width must be at least 600');
  });
});
