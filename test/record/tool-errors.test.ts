/** perf's and bpftrace's failure paragraphs, recorded on this machine, each distilled to one line. */
import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bpftraceStderrLines, distillBpftraceError, distillPerfError } from '../../src/record/tool-errors.js';
import { REPO_ROOT } from '../support/cli.js';

const fixture = (name: string): string => readFileSync(join(REPO_ROOT, 'fixtures', 'record', name), 'utf8');

describe('distillPerfError', () => {
  test('names the paranoid level and the sysctl that lowers it', () => {
    expect(distillPerfError(fixture('perf-errors/paranoid-2-not-root.txt'))).toEqual({
      message: 'perf may not sample the whole system: kernel.perf_event_paranoid is 2',
      hint: 'run as root, or lower it: sysctl -w kernel.perf_event_paranoid=-1',
    });
  });

  test('keeps the event and the errno when the event cannot be opened', () => {
    const distilled = distillPerfError(fixture('perf-errors/event-invalid-argument.txt'));
    expect(distilled.message).toBe('perf cannot open the msr/tsc/ event: Invalid argument (errno 22)');
    expect(distilled.hint).toContain('--backend bpftrace');
  });

  test('says which flag to check when a --pid is not running', () => {
    expect(distillPerfError(fixture('perf-errors/no-such-process.txt')).message).toBe('perf cannot attach: no such process');
  });

  test('falls back to the first meaningful line, skipping "Error:" and perf\'s own status lines', () => {
    expect(distillPerfError('Error:\n[ perf record: Woken up 1 times ]\nsomething broke\nmore\n').message).toBe(
      'perf record failed: something broke',
    );
    expect(distillPerfError('').message).toBe('perf record failed: no message (it exited early)');
  });
});

describe('bpftrace stderr', () => {
  test('drops the RLIMIT_MEMLOCK warning bpftrace prints on every run here', () => {
    expect(bpftraceStderrLines(fixture('bpftrace-errors/memlock-warning-only.txt'))).toEqual([]);
  });

  test('words stack-map collisions plainly', () => {
    expect(bpftraceStderrLines('ERROR: failed to look up stack id -17 (pid -1): -2\n')).toEqual([
      'a stack was lost to a collision in the kernel stack map (its sample is kept, without it)',
    ]);
  });

  test('says root is needed when bpftrace refuses to run', () => {
    expect(distillBpftraceError(fixture('bpftrace-errors/not-root.txt'))).toEqual({
      message: 'bpftrace: bpftrace currently only supports running as the root user.',
      hint: 'run irisflame as root (sudo)',
    });
  });

  test('reports the real error behind the memlock noise', () => {
    expect(distillBpftraceError(fixture('bpftrace-errors/program-error.txt')).message).toBe('bpftrace: Unknown function: nosuchfunc');
  });
});
