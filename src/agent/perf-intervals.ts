/**
 * The sampler's fallback where bpftrace is absent: `perf record -a -g --switch-output=1s` writes a new
 * perf.data file every second (announcing each on stderr: `[ perf record: Dump /tmp/…/perf.data.2026… ]`);
 * each is read with `perf script` into the perf collapser as it appears, then deleted. perf cannot filter by
 * process name in the kernel, so IRIS scoping happens here, on the comm, and the files hold the whole node.
 */
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPerfCollapser } from '../collapse/perf.js';
import { resolvePerfCollapseOptions } from '../collapse/perf-options.js';
import { LineSplitter } from '../collapse/lines.js';
import { signalChild, spawnTracked } from '../tools/children.js';
import { findExecutable } from '../tools/executables.js';
import type { IntervalSample, IntervalSourceOptions, IntervalSourceStart } from './bpftrace-intervals.js';

const DUMP_LINE = /Dump (\S+) \]/;
/** perf writes its first file after a second; on a loaded host, give it much longer. */
const START_TIMEOUT_MS = 30_000;
const COMM_BYTES = 15;

export async function startPerfIntervals(options: IntervalSourceOptions): Promise<IntervalSourceStart> {
  const perf = findExecutable('perf');
  if (perf === undefined) return { unavailable: 'neither bpftrace nor perf is installed' };
  const dir = mkdtempSync(join(tmpdir(), 'irisflame-agent-perf-'));
  const names = options.commNames === undefined ? undefined : new Set(options.commNames.map((name) => name.slice(0, COMM_BYTES)));
  const child = spawnTracked(
    perf,
    ['record', '-F', String(options.frequency), '-a', '-g', '--switch-output=1s', '-o', join(dir, 'perf.data')],
    { detached: true, parentDeathSignal: 'SIGKILL', bufferStderr: false },
  );
  let firstDump: () => void = () => undefined;
  const dumped = new Promise<void>((resolve) => (firstDump = resolve));
  let queue = Promise.resolve();
  let stderrTail = '';
  const splitter = new LineSplitter((buffer, start, end) => {
    const line = buffer.toString('utf8', start, end);
    const dump = DUMP_LINE.exec(line);
    if (dump === null) {
      stderrTail = line;
      return;
    }
    firstDump();
    const endMs = Date.now();
    queue = queue.then(() => readInterval(perf, dump[1]!, names)).then((samples) => options.onInterval(samples, endMs));
  });
  const reading = (async () => {
    for await (const chunk of child.stderr as AsyncIterable<Buffer>) splitter.push(chunk);
    splitter.finish();
  })().catch(() => undefined);
  const exited = child.then(async () => {
    await reading;
    await queue.catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    dumped.then(() => 'sampling' as const),
    exited.then(() => 'exited' as const),
    new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), START_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  if (outcome !== 'sampling') {
    signalChild(child, 'SIGKILL');
    await exited;
    return { unavailable: `the continuous sampler (perf) could not start: ${stderrTail || outcome}` };
  }
  return {
    running: {
      pid: child.pid,
      exited,
      async stop() {
        signalChild(child, 'SIGINT');
        await exited;
      },
      kill() {
        signalChild(child, 'SIGKILL');
      },
    },
  };
}

/** One second's perf.data through `perf script` and the collapser; the file is deleted after. */
async function readInterval(perf: string, file: string, names: Set<string> | undefined): Promise<IntervalSample[]> {
  const samples: IntervalSample[] = [];
  try {
    const collapser = createPerfCollapser(
      resolvePerfCollapseOptions({
        kernel: true,
        jit: true,
        samples: true,
        processFilter: names === undefined ? undefined : (comm) => names.has(comm),
        onSample: (sample) => samples.push({ comm: sample.comm, pid: sample.pid, stack: sample.stack, weight: sample.weight }),
      }),
    );
    const script = execa(perf, ['script', '-F', '+pid', '-i', file], { reject: false, buffer: false, stdin: 'ignore', stderr: 'ignore' });
    for await (const chunk of script.stdout as AsyncIterable<Buffer>) collapser.push(chunk);
    await script;
    collapser.finish();
  } finally {
    rmSync(file, { force: true });
  }
  return samples;
}
