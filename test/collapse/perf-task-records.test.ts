/**
 * `perf script --show-task-events --show-lost-events` output: the `PERF_RECORD_…` lines are not samples.
 * The recorded pair in fixtures/collapse/perf/task-events/ is one perf.data (a simulated IRIS restart,
 * perf record -k CLOCK_MONOTONIC -F 99 -a -g) through perf script with and without those flags.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { detectPerf } from '../../src/collapse/perf.js';
import { collapseInput } from '../../src/collapse/pipeline.js';
import { REPO_ROOT, runCli } from '../support/cli.js';
import { collapse, folded } from './perf-helpers.js';

const TASK_EVENTS = join(REPO_ROOT, 'fixtures', 'collapse', 'perf', 'task-events');
const WITH_RECORDS = join(TASK_EVENTS, 'iris-restart-task-events.txt.gz');
const PLAIN = join(TASK_EVENTS, 'iris-restart-plain.txt.gz');
const LIFECYCLE_CAPTURE = join(REPO_ROOT, 'fixtures', 'timeline', 'perf', 'simulated-restart.txt.gz');

/** Sample header lines, counted independently of the collapser: `comm pid/tid [cpu] time: period event:`. */
const SAMPLE_HEADER = /^\s*\S.*\s\d+\/\d+\s+\[\d+\]\s+\d+\.\d+:\s+\d+\s+\S+:\s*$/;

function text(path: string): Buffer {
  return gunzipSync(readFileSync(path));
}

function sampleHeaders(bytes: Buffer): number {
  return bytes.toString('latin1').split('\n').filter((line) => SAMPLE_HEADER.test(line)).length;
}

function recordLines(bytes: Buffer): number {
  return bytes.toString('latin1').split('\n').filter((line) => line.includes(': PERF_RECORD_')).length;
}

describe('perf script with task and lost events', () => {
  it('counts only the real samples of a recorded capture, not its PERF_RECORD lines', () => {
    const bytes = text(WITH_RECORDS);
    expect(recordLines(bytes)).toBeGreaterThan(100);
    const result = collapse(bytes, { samples: true });
    expect(result.report.samples).toBe(sampleHeaders(bytes));
    expect(result.report.badLines).toBe(0);
  });

  it('counts only the real samples of a lifecycle capture (irisflame record --lifecycle)', () => {
    const bytes = text(LIFECYCLE_CAPTURE);
    expect(recordLines(bytes)).toBeGreaterThan(100);
    expect(collapse(bytes, { samples: true }).report.samples).toBe(sampleHeaders(bytes));
  });

  it('folds a capture with task events exactly as the same recording without them', () => {
    const withRecords = folded(collapse(text(WITH_RECORDS)));
    expect(withRecords.length).toBeGreaterThan(0);
    expect(withRecords.equals(folded(collapse(text(PLAIN))))).toBe(true);
  });

  it('folds the same with every option that names processes', () => {
    for (const options of [{ pid: true }, { tid: true }, { all: true }]) {
      expect(folded(collapse(text(WITH_RECORDS), options)).equals(folded(collapse(text(PLAIN), options)))).toBe(true);
    }
  });

  it('adds up PERF_RECORD_LOST counts into a report note', () => {
    const input = [
      'swapper     0/0     [000]     0.000000: PERF_RECORD_FORK(1:1):(0:0)',
      'swapper     0/0     [000]     0.000000: PERF_RECORD_COMM: init:1/1',
      'irisdb   502/502   [000]   100.300000:   10101010 cpu-clock:ppp: ',
      '\t            1234 MonitorSample+0x15 (/usr/irissys/bin/irisdb)',
      '',
      'swapper     0/0     [001]   100.310000: PERF_RECORD_LOST lost 7',
      'swapper     0/0     [001]   100.320000: PERF_RECORD_LOST_SAMPLES lost 5',
      'irisdb   502/502   [000]   100.900000: PERF_RECORD_EXIT(502:502):(501:501)',
      '',
    ].join('\n');
    const result = collapse(input);
    expect(result.report.samples).toBe(1);
    expect([...result.stacks]).toEqual([['irisdb;MonitorSample', 10101010]]);
    expect(result.report.notes).toContain('perf lost 12 events (PERF_RECORD_LOST records): the graph may be missing samples');
  });

  it('makes no note when nothing was lost', () => {
    expect(collapse(text(WITH_RECORDS)).report.notes.filter((note) => note.includes('lost'))).toEqual([]);
  });

  it('closes an unterminated sample at a PERF_RECORD line without taking the record as a sample', () => {
    const input = [
      'irisdb   502/502   [000]   100.300000:   1 cpu-clock:ppp: ',
      '\t            1234 MonitorSample+0x15 (/usr/irissys/bin/irisdb)',
      'irisdb   502/502   [000]   100.900000: PERF_RECORD_EXIT(502:502):(501:501)',
      '\t            1234 Stray+0x15 (/usr/irissys/bin/irisdb)',
      '',
    ].join('\n');
    const result = collapse(input);
    expect([...result.stacks]).toEqual([['irisdb;MonitorSample', 1]]);
    expect(result.report.samples).toBe(1);
  });
});

describe('detecting perf script with task events', () => {
  it('says yes to a capture that starts with PERF_RECORD lines', () => {
    expect(detectPerf(text(WITH_RECORDS).subarray(0, 4096))).toBe('yes');
    expect(detectPerf(text(LIFECYCLE_CAPTURE).subarray(0, 1 << 16))).toBe('yes');
  });

  it('still says no to text that is not perf script', () => {
    expect(detectPerf(Buffer.from('main;foo;bar 12\nmain;foo 3\n'))).toBe('no');
  });

  it('reads a lifecycle capture as perf through the pipeline', async () => {
    const run = await collapseInput(LIFECYCLE_CAPTURE);
    expect(run.format).toBe('perf');
    expect(run.report.samples).toBe(sampleHeaders(text(LIFECYCLE_CAPTURE)));
  });
});

describe('irisflame collapse on a capture with task events', () => {
  it('prints the same folded stacks as on the capture without them', async () => {
    const withRecords = await runCli(['collapse', WITH_RECORDS]);
    const plain = await runCli(['collapse', PLAIN]);
    expect(withRecords.exitCode).toBe(0);
    expect(withRecords.stderr).toBe('');
    expect(withRecords.stdoutBytes.length).toBeGreaterThan(0);
    expect(withRecords.stdoutBytes.equals(plain.stdoutBytes)).toBe(true);
  });
});
