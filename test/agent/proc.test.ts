/** Reading /proc for the agent, on real processes of this machine. */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { listProcesses, monotonicSeconds, readProcStat, readProcessDetails } from '../../src/agent/proc.js';
import { waitFor } from './support.js';

describe('/proc', () => {
  const dir = mkdtempSync(join(tmpdir(), 'irisflame-agent-proc-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a comm with spaces and parentheses, its parent, start time, argv and executable', async () => {
    // The kernel takes the comm from the executable's name: one that looks like the end of stat's comm field.
    const program = join(dir, 'a) b (c');
    copyFileSync('/bin/sh', program);
    const before = monotonicSeconds();
    const script = 'while :; do sleep 1; done';
    const child = spawn(program, ['-c', script, 'x y'], { stdio: 'ignore' });
    try {
      const stat = await waitFor('the child in /proc', () => {
        const found = readProcStat(child.pid!, 0);
        return found?.comm === 'a) b (c' ? found : undefined;
      });
      expect(stat).toMatchObject({ pid: child.pid, ppid: process.pid, comm: 'a) b (c' });
      // 10 ms ticks, and a host suspended at some point would shift boot time from monotonic time.
      expect(stat.startTime).toBeGreaterThan(before - 1);
      expect(readProcessDetails(child.pid!)).toEqual({ argv: [program, '-c', script, 'x y'], executable: program });
      expect(listProcesses(0).some((entry) => entry.pid === child.pid && entry.comm === 'a) b (c')).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('a process that is gone reads as undefined, not an error', async () => {
    const child = spawn('/bin/true', [], { stdio: 'ignore' });
    await new Promise((resolve) => child.on('exit', resolve));
    expect(readProcStat(child.pid!, 0)).toBeUndefined();
    expect(readProcessDetails(child.pid!)).toBeUndefined();
  });
});
