/** The pure parts of a recording: options, the commands we would run, names, titles and the summary. */
import { describe, expect, test } from 'vitest';
import { bpftraceMapKeys, bpftraceProgram } from '../../src/record/bpftrace.js';
import { perfRecordArgs } from '../../src/record/perf.js';
import { defaultSvgName, outputPaths, recordingSubtitle, recordingTitle } from '../../src/record/naming.js';
import { DEFAULT_RECORD_OPTIONS, resolveRecordOptions } from '../../src/record/options.js';
import { formatSummary, summarize } from '../../src/record/summary.js';
import { UsageError } from '../../src/errors.js';

const PLAN = { frequency: 99, pids: [] as number[], callGraph: 'fp' as const, workDir: '/w', keepPerfData: false };

describe('resolveRecordOptions', () => {
  test('defaults to perf at 99 Hz for 60 s over the whole system', () => {
    expect(resolveRecordOptions()).toEqual(DEFAULT_RECORD_OPTIONS);
    expect(DEFAULT_RECORD_OPTIONS).toMatchObject({ backend: 'perf', frequency: 99, seconds: 60, pids: [], irisDir: '/usr/irissys' });
  });

  test.each([
    [{ seconds: -1 }, '--seconds must be a number greater than 0 (got -1)'],
    [{ frequency: 0 }, '--frequency must be a whole number from 1 to 100000 (got 0)'],
    [{ pids: [0] }, '--pid takes process ids (got 0)'],
    [{ comm: '(' }, '--comm is not a valid regular expression: ('],
    [{ output: 'graph.png' }, '--output must name an .svg file (got graph.png)'],
    [{ backend: 'dtrace' as never }, 'unknown backend "dtrace"'],
  ])('rejects %j with a usage error', (options, message) => {
    let thrown: unknown;
    try {
      resolveRecordOptions(options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as UsageError).message).toBe(message);
  });
});

describe('perfRecordArgs', () => {
  test('samples every CPU with frame-pointer stacks, starting disabled under the control FIFOs', () => {
    expect(perfRecordArgs(PLAN, '/w/perf.data', 'fifo:/w/c,/w/a')).toEqual(
      ['record', '-F', '99', '-g', '-a', '-o', '/w/perf.data', '--control', 'fifo:/w/c,/w/a', '-D', '-1', '--no-buildid'],
    );
  });

  test('uses -p for pids, dwarf unwinding on request, keeps build ids with perf.data, and appends extension arguments', () => {
    const args = perfRecordArgs({ ...PLAN, pids: [1, 2], callGraph: 'dwarf', keepPerfData: true }, '/w/perf.data', 'fifo:c,a', {
      recordArgs: ['-e', 'sched:sched_process_exec'],
    });
    expect(args).toEqual(['record', '-F', '99', '--call-graph', 'dwarf', '-p', '1,2', '-o', '/w/perf.data', '--control', 'fifo:c,a', '-D', '-1', '-e', 'sched:sched_process_exec']);
  });
});

describe('perfRecordArgs with DWARF', () => {
  test('compresses with zstd when perf has it, bounds perf.data, and leaves frame-pointer recordings alone', () => {
    const dwarf = { ...PLAN, callGraph: 'dwarf' as const, dwarfStackBytes: 8192, maxDataBytes: 1024 * 1024 * 1024 };
    expect(perfRecordArgs(dwarf, '/w/perf.data', undefined, undefined, { zstd: true, maxSize: true })).toEqual(
      ['record', '-F', '99', '--call-graph', 'dwarf,8192', '-z', '--max-size', '1024M', '-a', '-o', '/w/perf.data', '--no-buildid'],
    );
    expect(perfRecordArgs(dwarf, '/w/perf.data', undefined, undefined, { zstd: false, maxSize: false })).toEqual(
      ['record', '-F', '99', '--call-graph', 'dwarf,8192', '-a', '-o', '/w/perf.data', '--no-buildid'],
    );
    expect(perfRecordArgs(PLAN, '/w/perf.data', undefined, undefined, { zstd: true })).not.toContain('-z');
  });
});

describe('bpftraceProgram', () => {
  test('counts kernel and user stacks with comm and pid in one kernel map', () => {
    expect(bpftraceProgram(PLAN)).toContain('profile:hz:99 { @[kstack, ustack, comm, pid] = count(); @irisflame_samples = count(); }');
  });

  test('filters pids and process names in the kernel, names cut to the 15 bytes the kernel keeps', () => {
    const program = bpftraceProgram({ frequency: 49, pids: [7, 8], kernelCommNames: ['irisdb', 'requirements_check'] });
    expect(program).toContain('profile:hz:49 /(pid == 7 || pid == 8) && (comm == "irisdb" || comm == "requirements_ch")/ {');
  });

  test('sizes the map for the expected samples, between bpftrace\'s default and a memory cap', () => {
    expect(bpftraceMapKeys(99, 1, 2)).toBe(4096);
    expect(bpftraceMapKeys(99, 60, 2)).toBe(16384);
    expect(bpftraceMapKeys(99, undefined, 2)).toBe(16384);
  });
});

describe('naming', () => {
  test('names the SVG after the local date and time, with the folded stacks and perf.data beside it', () => {
    const now = new Date(2026, 10, 5, 9, 7, 3);
    expect(defaultSvgName(now)).toBe('irisflame-20261105-090703.svg');
    expect(outputPaths('out/x.svg', now, '/home/u')).toEqual({
      svg: '/home/u/out/x.svg',
      folded: '/home/u/out/x.folded',
      perfData: '/home/u/out/x.perf.data',
    });
  });

  test('titles the graph with host, backend, frequency, duration and filters', () => {
    expect(
      recordingTitle({ backend: 'bpftrace', frequency: 99, seconds: 59.96, pids: [], comm: '^irisdb', iris: true, command: [], host: 'db1' }),
    ).toBe('CPU on db1: bpftrace at 99 Hz for 60 s, IRIS processes only, comm ~ /^irisdb/');
    expect(recordingTitle({ backend: 'perf', frequency: 99, seconds: 1.04, pids: [4], iris: false, command: ['make', '-j2'], host: 'h' })).toBe(
      'CPU on h: perf at 99 Hz for 1.0 s, while running make -j2, pid 4',
    );
    expect(recordingSubtitle(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))).toBe('recorded 2026-01-02 03:04:05 UTC');
  });
});

describe('summary', () => {
  const stacks = new Map([
    ['irisdb;main;GlobalBufferScan;HashBlock', 60],
    ['irisdb;main;GlobalBufferScan;BurnFor', 10],
    ['swapper/0;do_idle_[k]', 20],
    ['bash;main;readline', 10],
  ]);

  test('ranks processes and leaf functions by share and measures the IRIS share', () => {
    const summary = summarize(stacks, 30, 12);
    expect(summary).toMatchObject({ samples: 100, seconds: 30, processIds: 12, processNames: 3, irisShare: 0.7 });
    expect(summary.topProcesses.map((p) => [p.name, p.share])).toEqual([['irisdb', 0.7], ['swapper/0', 0.2], ['bash', 0.1]]);
    expect(summary.topLeaves[0]).toEqual({ name: 'HashBlock', samples: 60, share: 0.6 });
  });

  test('prints a short summary with the files written', () => {
    const lines = formatSummary(summarize(stacks, 30, 12), {
      backend: 'perf',
      frequency: 99,
      irisRequested: false,
      files: ['/o/x.svg', '/o/x.folded'],
      notes: ['stopped early (Ctrl-C)'],
    });
    expect(lines).toEqual([
      'recorded 100 samples in 30 s (perf at 99 Hz); 12 processes seen, 3 names',
      '  top processes: irisdb 70.0%, swapper/0 20.0%, bash 10.0%',
      '  top functions: HashBlock 60.0%, do_idle 20.0%, BurnFor 10.0%, readline 10.0%',
      '  IRIS processes: 70.0% of samples',
      '  note: stopped early (Ctrl-C)',
      '  wrote /o/x.svg',
      '        /o/x.folded',
    ]);
  });

  test('leaves the IRIS line out when no IRIS process ran and --iris was not asked for', () => {
    const lines = formatSummary(summarize(new Map([['bash;main', 3]]), 1, 1), {
      backend: 'bpftrace',
      frequency: 99,
      irisRequested: false,
      files: [],
      notes: [],
    });
    expect(lines.some((line) => line.includes('IRIS'))).toBe(false);
  });
});
