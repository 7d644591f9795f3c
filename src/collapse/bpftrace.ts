/**
 * bpftrace map output (https://github.com/bpftrace/bpftrace): the maps it prints on exit for
 * `profile:hz:99 { @[kstack, ustack, comm, pid] = count(); }` and its smaller cousins (`@[kstack]`,
 * `@[ustack]`, `@[kstack, comm]`, `@name[…, tid]`, stacks in `perf` mode).
 *
 * stackcollapse-bpftrace.pl folds only single-stack maps; for multi-field keys the fold is ours:
 * process name as the root (`comm-PID` with `pid`, `comm-PID/TID` with `tid`, when the key has them),
 * then the user frames outermost first, then the kernel frames outermost first, offsets stripped,
 * kernel frames annotated `_[k]` with `kernel` as perf's are. A key's first stack is the kernel one and
 * its second the user one, as in the program above, unless the frames say otherwise.
 */
import { DEFAULT_PERF_COLLAPSE_OPTIONS, type PerfSample } from './perf-options.js';
import { LineSplitter } from './lines.js';
import { entryFields, type EntryField, type EntrySegment } from './bpftrace-entry.js';
import { frameName, kernelEvidence, parseFrame, type FrameNaming, type ParsedFrame } from './bpftrace-frames.js';
import {
  emptyReport,
  MAX_BAD_LINE_EXAMPLES,
  type CollapseReport,
  type CollapseResult,
  type Collapser,
  type Detection,
  type FoldedStacks,
  type ProcessFilter,
} from './types.js';

export interface BpftraceCollapseOptions {
  /**
   * Append the pid to the root frame (`comm-PID`) when the map key has one.
   * @default false
   */
  pid: boolean;
  /**
   * Append pid and tid (`comm-PID/TID`) when the key has both. Implies `pid`.
   * @default false
   */
  tid: boolean;
  /**
   * Annotate kernel frames with `_[k]`.
   * @default false
   */
  kernel: boolean;
  /**
   * Annotate JIT frames (perf-mode stacks in `/tmp/perf-PID.map`) with `_[j]`.
   * @default false
   */
  jit: boolean;
  /**
   * All annotations: implies `kernel` and `jit`.
   * @default false
   */
  all: boolean;
  /**
   * Keep raw addresses of unresolved frames (`0x5640acf2786b`) instead of `[unknown]`.
   * @default false
   */
  addrs: boolean;
  /**
   * Keep only the entries this accepts; called with the comm and, for perf-mode stacks, module paths.
   * @default undefined (keep every entry)
   */
  processFilter?: ProcessFilter;
  /**
   * Called for each kept entry, after it is counted, with its comm, pid and tid as the key held them
   * (perf's sample shape: `weight` is the entry's count, `time` and `cpu` are undefined).
   * @default undefined
   */
  onSample?: (sample: PerfSample) => void;
}

export const DEFAULT_BPFTRACE_COLLAPSE_OPTIONS: Readonly<BpftraceCollapseOptions> = Object.freeze({
  pid: DEFAULT_PERF_COLLAPSE_OPTIONS.pid,
  tid: DEFAULT_PERF_COLLAPSE_OPTIONS.tid,
  kernel: DEFAULT_PERF_COLLAPSE_OPTIONS.kernel,
  jit: DEFAULT_PERF_COLLAPSE_OPTIONS.jit,
  all: DEFAULT_PERF_COLLAPSE_OPTIONS.all,
  addrs: DEFAULT_PERF_COLLAPSE_OPTIONS.addrs,
  processFilter: undefined,
  onSample: undefined,
});

/** Defaults filled in; tid ⇒ pid, all ⇒ kernel + jit. */
export function resolveBpftraceCollapseOptions(options: Partial<BpftraceCollapseOptions> = {}): BpftraceCollapseOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const resolved: BpftraceCollapseOptions = { ...DEFAULT_BPFTRACE_COLLAPSE_OPTIONS, ...defined };
  if (resolved.tid) resolved.pid = true;
  if (resolved.all) {
    resolved.kernel = true;
    resolved.jit = true;
  }
  return resolved;
}

/** `@[`, `@name[`: a keyed map entry starts. */
const ENTRY_START = /^@\w*\[/;
/** `]: 42` ends an entry's key and gives its value. */
const ENTRY_END = /\]: (\d+)\s*$/;
/** bpftrace's own first line on stdout. */
const ATTACHING = /^Attaching \d+ probes?\.\.\./;
/** `@count: 42`: a map without a key, nothing to fold. */
const UNKEYED_ENTRY = /^@\w*: -?\d+\s*$/;
const DIGITS = /^\d+$/;
/** How many complete lines detection looks at before saying no. */
const DETECT_MAX_LINES = 64;

/** Yes once a line shows bpftrace's banner or a keyed map entry. */
export function detectBpftrace(head: Buffer): Detection {
  let start = 0;
  for (let lines = 0; lines < DETECT_MAX_LINES; lines++) {
    const newline = head.indexOf(0x0a, start);
    if (newline === -1) return 'more';
    const line = head.toString('latin1', start, Math.min(newline, start + 200));
    if (ATTACHING.test(line) || ENTRY_START.test(line)) return 'yes';
    start = newline + 1;
  }
  return 'no';
}

export function createBpftraceCollapser(options: Partial<BpftraceCollapseOptions> = {}): Collapser {
  return new BpftraceCollapser(resolveBpftraceCollapseOptions(options));
}

class BpftraceCollapser implements Collapser {
  private readonly stacks: FoldedStacks = new Map();
  private readonly report: CollapseReport = emptyReport();
  private readonly splitter = new LineSplitter((buffer, start, end) => this.onLine(buffer.toString('latin1', start, end)));
  private readonly naming: FrameNaming;
  /** The entry being read: its segments, and its first line to quote if it proves bad. */
  private entry: { segments: EntrySegment[]; firstLine: string } | undefined;
  private emptyEntries = 0;
  private filteredOut = 0;
  private readonly mapNames = new Set<string>();

  constructor(private readonly options: BpftraceCollapseOptions) {
    this.naming = { addrs: options.addrs, kernel: options.kernel, jit: options.jit };
  }

  push(chunk: Buffer): void {
    this.splitter.push(chunk);
  }

  finish(): CollapseResult {
    this.splitter.finish();
    if (this.entry !== undefined) this.badLine(`${this.entry.firstLine} (entry cut off at end of input)`);
    this.entry = undefined;
    const notes = this.report.notes;
    if (this.emptyEntries > 0) notes.push(`${this.emptyEntries} map entries had no frames and no process name`);
    if (this.filteredOut > 0) notes.push(`${this.filteredOut} map entries of other processes skipped by the process filter`);
    if (this.mapNames.size > 1) notes.push(`merged ${this.mapNames.size} maps: ${[...this.mapNames].join(', ')}`);
    return { stacks: this.stacks, report: this.report };
  }

  private onLine(line: string): void {
    if (this.entry !== undefined) return this.onEntryLine(line);
    if (line.trim() === '' || ATTACHING.test(line) || UNKEYED_ENTRY.test(line)) return;
    const start = ENTRY_START.exec(line);
    if (start === null) return this.badLine(line);
    this.mapNames.add(start[0].slice(0, -1));
    this.entry = { segments: [], firstLine: line };
    this.onGlue(line.slice(start[0].length));
  }

  // "    do_syscall_64+113" (a frame), ", " (between stacks), ", sh, 6366]: 1" (the end)
  private onEntryLine(line: string): void {
    const first = line.charCodeAt(0);
    if (first === 0x20 || first === 0x09) return this.onFrameLine(line.trimStart());
    if (ENTRY_START.test(line)) {
      // A new entry before this one ended: the input was cut or mangled.
      this.badLine(this.entry!.firstLine);
      this.entry = undefined;
      return this.onLine(line);
    }
    this.onGlue(line);
  }

  private onFrameLine(frame: string): void {
    const segments = this.entry!.segments;
    const last = segments[segments.length - 1];
    if (last !== undefined && 'frames' in last) last.frames.push(frame);
    else segments.push({ frames: [frame] });
  }

  private onGlue(glue: string): void {
    const end = ENTRY_END.exec(glue);
    if (end === null) {
      this.entry!.segments.push({ glue });
      return;
    }
    const segments = this.entry!.segments;
    segments.push({ glue: glue.slice(0, end.index) });
    this.entry = undefined;
    this.onEntry(entryFields(segments), Number(end[1]));
  }

  private onEntry(fields: EntryField[], value: number): void {
    const stacks: ParsedFrame[][] = [];
    const scalars: string[] = [];
    for (const field of fields) {
      if ('frames' in field) stacks.push(field.frames.map(parseFrame));
      else if (field.scalar === '') stacks.push([]);
      else scalars.push(field.scalar);
    }
    const process = processOf(scalars);
    if (this.options.processFilter !== undefined) {
      const modules = stacks.flatMap((frames) => frames.flatMap((frame) => (frame.module === undefined ? [] : [frame.module])));
      if (!this.options.processFilter(process.comm ?? '', modules)) {
        this.filteredOut++;
        return;
      }
    }
    const folded: string[] = [];
    const root = this.rootFrame(process);
    if (root !== undefined) folded.push(root);
    const kernelFlags = classifyStacks(stacks);
    for (const wantKernel of [false, true]) {
      stacks.forEach((frames, index) => {
        if (kernelFlags[index] !== wantKernel) return;
        for (let i = frames.length - 1; i >= 0; i--) folded.push(frameName(frames[i]!, wantKernel, this.naming));
      });
    }
    if (folded.length === 0) {
      this.emptyEntries++;
      return;
    }
    const key = folded.join(';');
    this.stacks.set(key, (this.stacks.get(key) ?? 0) + value);
    this.report.samples += value;
    this.options.onSample?.({
      comm: process.comm ?? '',
      pid: process.pid === undefined ? undefined : Number(process.pid),
      tid: Number(process.tid ?? process.pid ?? 0),
      time: undefined,
      cpu: undefined,
      stack: key,
      weight: value,
    });
  }

  private rootFrame(process: ProcessFields): string | undefined {
    if (process.comm === undefined) return undefined;
    if (this.options.tid && process.pid !== undefined && process.tid !== undefined) {
      return `${process.comm}-${process.pid}/${process.tid}`;
    }
    if (this.options.pid && process.pid !== undefined) return `${process.comm}-${process.pid}`;
    return process.comm;
  }

  private badLine(line: string): void {
    this.report.badLines++;
    if (this.report.badLineExamples.length < MAX_BAD_LINE_EXAMPLES) this.report.badLineExamples.push(line.slice(0, 200));
  }
}

interface ProcessFields {
  comm: string | undefined;
  pid: string | undefined;
  tid: string | undefined;
}

/**
 * The key's scalars: numbers are the pid then the tid, in whichever place the program put them
 * (`comm, pid, tid` or `pid, comm`); the rest is the comm, rejoined in case the name itself held ", ".
 */
function processOf(scalars: readonly string[]): ProcessFields {
  const ids: string[] = [];
  const names: string[] = [];
  for (const scalar of scalars) {
    if (ids.length < 2 && DIGITS.test(scalar)) ids.push(scalar);
    else names.push(scalar);
  }
  return { comm: names.length > 0 ? names.join(', ') : undefined, pid: ids[0], tid: ids[1] };
}

/**
 * Which of the key's stacks are kernel stacks. By position (kstack first, as in the documented program),
 * unless the frames say the second stack is the kernel one; a lone stack only by its frames.
 */
function classifyStacks(stacks: readonly ParsedFrame[][]): boolean[] {
  const evidence = stacks.map(kernelEvidence);
  if (stacks.length === 1) return [evidence[0]! > 0];
  if (stacks.length === 2) return evidence[0]! < evidence[1]! ? [false, true] : [true, false];
  return evidence.map((value, index) => (value !== 0 ? value > 0 : index === 0));
}
