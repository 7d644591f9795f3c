/**
 * `collapse --off-cpu`: the blocked time of an irisflame lifecycle capture (the off-CPU tracer's
 * `# irisflame-offcpu B` lines, src/kernel/offcpu-lines.ts) as folded stacks weighted in microseconds,
 * rooted as the CPU fold is, so the two graphs read alike:
 *
 *     irisdb START^MONITOR;main;irisdb_main;clock_nanosleep;entry_SYSCALL_64_after_hwframe_[k];…;schedule_[k] 254000
 *
 * process (its routine, from the capture's exec-snooper argv, via the IRIS root labeler), user frames root
 * first, then kernel frames annotated `_[k]` (so the kind palette colours them). bcc's `offcputime -f`
 * output is already folded and goes through the ordinary folded parser instead.
 */
import { createRootLabeler } from '../iris/root-labeler.js';
import { DEFAULT_IRIS_DIR } from '../iris/processes.js';
import { MarkerLines } from '../kernel/marker-lines.js';
import { OFFCPU_LINE_PREFIX, OffCpuCaptureReader } from '../kernel/offcpu-lines.js';
import { IrisflameError } from '../errors.js';
import { makeProcessFilter } from './filter.js';
import { openInput } from './input.js';
import { collapseChunks, type CollapseOptions, type CollapseRun } from './pipeline.js';
import { emptyReport, MAX_BAD_LINE_EXAMPLES, type CollapseResult, type FoldedStacks } from './types.js';

/** The first line of an irisflame lifecycle capture (capture-file.ts; collapse does not import timeline). */
export const LIFECYCLE_CAPTURE_START = '# irisflame-lifecycle ';
const KERNEL_ANNOTATION = '_[k]';
const NANOS_PER_MICRO = 1000;

export type OffCpuFoldOptions = Pick<CollapseOptions, 'pid' | 'tid' | 'comm' | 'iris' | 'irisDir' | 'routineRoots'>;

/** Fold a capture's blocked intervals; throws NO_STACKS when the capture has none (saying why, if it knows). */
export async function collapseOffCpuChunks(
  chunks: AsyncIterable<Buffer>,
  displayName: string,
  options: Partial<OffCpuFoldOptions> = {},
): Promise<CollapseResult> {
  const irisDir = options.irisDir || DEFAULT_IRIS_DIR;
  const labeler = createRootLabeler(irisDir);
  const reader = new OffCpuCaptureReader();
  const report = emptyReport();
  const lines = new MarkerLines([
    {
      bytes: Buffer.from(OFFCPU_LINE_PREFIX, 'latin1'),
      atLineStart: true,
      onLine: (line) => {
        if (reader.push(line)) return;
        report.badLines++;
        if (report.badLineExamples.length < MAX_BAD_LINE_EXAMPLES) report.badLineExamples.push(line);
      },
    },
  ]);
  // The header is checked on the first bytes; a pipe may hand them over a few at a time.
  let head: Buffer | undefined = Buffer.alloc(0);
  for await (const chunk of chunks) {
    if (head !== undefined) {
      head = Buffer.concat([head, chunk]);
      if (head.length < LIFECYCLE_CAPTURE_START.length) continue;
      if (!isLifecycleCapture(head)) throw notACapture(displayName);
      labeler.push(head);
      lines.push(head);
      head = undefined;
      continue;
    }
    labeler.push(chunk);
    lines.push(chunk);
  }
  if (head !== undefined) throw notACapture(displayName);
  lines.finish();
  const capture = reader.finish();

  const filter = makeProcessFilter({ comm: options.comm, iris: options.iris ?? false, irisDir });
  const tid = options.tid ?? false;
  const pid = (options.pid ?? false) || tid;
  const nanos = new Map<string, number>();
  for (const block of capture.blocked) {
    if (filter !== undefined && !filter(block.comm, [])) continue;
    const frames = [block.comm, ...block.userStack, ...block.kernelStack.map((frame) => frame + KERNEL_ANNOTATION)];
    let stack = frames.join(';');
    if (options.routineRoots ?? true) stack = labeler.relabel({ pid: block.pid, tid: block.tid, time: block.start, stack });
    if (pid) {
      const cut = stack.indexOf(';');
      const root = cut === -1 ? stack : stack.slice(0, cut);
      stack = `${root}-${block.pid}${tid ? `/${block.tid}` : ''}${cut === -1 ? '' : stack.slice(cut)}`;
    }
    nanos.set(stack, (nanos.get(stack) ?? 0) + Math.round(block.duration * 1e9));
    report.samples++;
  }
  const stacks: FoldedStacks = new Map();
  for (const [stack, ns] of nanos) {
    const micros = Math.round(ns / NANOS_PER_MICRO);
    // Stack keys are latin1 strings, one char per byte (collapse/types.ts); the capture was read as UTF-8.
    if (micros > 0) stacks.set(Buffer.from(stack, 'utf8').toString('latin1'), micros);
  }
  if (capture.offCpuUnavailable !== undefined) report.notes.push(`no off-CPU data in ${displayName}: ${capture.offCpuUnavailable}`);
  if (capture.lost > 0) report.notes.push(`the off-CPU tracer lost ${capture.lost} events`);
  if (stacks.size === 0) {
    const why = capture.offCpuUnavailable ?? (reader.seen ? 'no blocked intervals (of the selected processes)' : 'it was recorded without the off-CPU tracer');
    throw new IrisflameError('NO_STACKS', `no off-CPU stacks in ${displayName}: ${why}`, {
      hint: 'record with irisflame record --lifecycle (off-CPU tracing is on by default; it needs bpftrace and root)',
    });
  }
  return { stacks, report };
}

/** `collapse --off-cpu FILE` (or stdin): the pipeline's CollapseRun, so the CLI reports it as any other. */
export async function collapseOffCpuInput(path: string | undefined, options: Partial<OffCpuFoldOptions> = {}): Promise<CollapseRun> {
  const input = await openInput(path === '' ? undefined : path);
  const result = await collapseOffCpuChunks(input.chunks, input.displayName, options);
  return { ...result, format: 'perf', formatReason: 'irisflame lifecycle capture, blocked time in microseconds (--off-cpu)', displayName: input.displayName };
}

function notACapture(displayName: string): IrisflameError {
  return new IrisflameError('NO_STACKS', `${displayName} is not an irisflame lifecycle capture`, {
    hint: 'record one with irisflame record --lifecycle (NAME.lifecycle.txt.gz); bcc offcputime -f output needs no --off-cpu with collapse',
  });
}

/** True when the input starts as an irisflame lifecycle capture does (first bytes, decompressed). */
export function isLifecycleCapture(head: Buffer): boolean {
  return head.subarray(0, LIFECYCLE_CAPTURE_START.length).toString('latin1') === LIFECYCLE_CAPTURE_START;
}

/**
 * `flamegraph --off-cpu`: a lifecycle capture is folded by `collapseOffCpuChunks`; anything else is taken as
 * already folded off-CPU stacks (bcc's `offcputime -f`, `-df` with its `-` delimiter) and goes through the
 * ordinary pipeline.
 */
export async function collapseOffCpuOrFolded(path: string | undefined, options: Partial<CollapseOptions> = {}): Promise<CollapseRun> {
  const input = await openInput(path === '' ? undefined : path);
  const iterator = input.chunks[Symbol.asyncIterator]();
  // Enough bytes to tell (a pipe may trickle them); copied, as file input reuses its read buffers.
  let head = Buffer.alloc(0);
  while (head.length < LIFECYCLE_CAPTURE_START.length) {
    const next = await iterator.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value]);
  }
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  if (isLifecycleCapture(head)) {
    const result = await collapseOffCpuChunks(all(), input.displayName, options);
    return { ...result, format: 'perf', formatReason: 'irisflame lifecycle capture, blocked time in microseconds (--off-cpu)', displayName: input.displayName };
  }
  return collapseChunks(all(), input.displayName, options);
}
