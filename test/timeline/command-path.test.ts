import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, test } from 'vitest';
import { commandCriticalPath, describeCommandPath } from '../../src/timeline/command-path.js';
import { readTimeline } from '../../src/timeline/render.js';
import { runCli } from '../support/cli.js';
import { addHandMadeOffCpu } from './offcpu-support.js';
import { FIXTURES, RESTART } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'irisflame-command-path-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the recorded command's critical path in one line", () => {
  test('says its length and what it was made of, largest first', async () => {
    const timeline = await readTimeline(RESTART, { iris: true });
    addHandMadeOffCpu(timeline);
    const line = describeCommandPath(timeline, commandCriticalPath(timeline));
    expect(line).toMatch(/^critical path of iris restart IRIS: 1\.987 s = running [\d.]+ s · /);
    expect(line).toContain('disk IO 150.0 ms');
    expect(line).toContain('lock/futex 20.0 ms');
    expect(line).toMatch(/ — 11 processes$/);
  });

  test('says why there is none without off-CPU data', async () => {
    const timeline = await readTimeline(RESTART, { iris: true });
    timeline.offCpu = { blocked: [], cpuWaits: [], files: [], lost: 0, offCpuUnavailable: 'bpftrace not found', filesUnavailable: undefined };
    expect(describeCommandPath(timeline, commandCriticalPath(timeline))).toBe('no critical path: no off-CPU data (bpftrace not found)');
  });

  test('irisflame timeline prints it for a capture with off-CPU data, and nothing new for an old one', async () => {
    const withOffCpu = await runCli(['timeline', '--iris', join(FIXTURES, 'offcpu', 'simulated-restart.lifecycle.txt.gz'), '-o', join(dir, 'a.svg')]);
    expect(withOffCpu.exitCode).toBe(0);
    expect(withOffCpu.stderr).toMatch(/^irisflame: critical path of iris restart IRIS: [\d.]+ s = .* — \d+ processes$/m);
    const old = await runCli(['timeline', '--iris', RESTART, '-o', join(dir, 'b.svg')]);
    expect(old.stderr).not.toContain('critical path');
  });
});
