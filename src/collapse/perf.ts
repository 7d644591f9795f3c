/**
 * Collapse `perf script` output into folded stacks: stackcollapse-perf.pl, byte for byte, and fast: the
 * hot path works on bytes, remembers what each distinct frame line became (perf-frame-cache.ts) and keys
 * stacks by frame ids (perf-tables.ts), so strings are made only for things seen for the first time.
 *
 * Where the Perl is wrong we do as inferno does, and say so here:
 * - a last sample with no blank line after it is kept (the Perl drops it);
 * - a sample whose event line is not followed by a blank line is closed by the next event line (the Perl
 *   runs its frames into the next sample);
 * - a line of blanks (or "\r") ends a sample, as an empty line does;
 * - right-aligned command names ("     hashcheck 61001 …") and frames printed on the event line itself
 *   (samples without call chains) are read (perf-lines.ts);
 * - C++ parameter lists are cut only at a top-level "(", so templates keep theirs; kernel frames include
 *   versioned vmlinux images and .ko modules; JIT frames include perf jitdump images (perf-names.ts);
 * - a one-letter command name is read as one (the Perl needs two letters).
 * Unlike inferno we keep the Perl's byte-faithful names (no UTF-8 repair), delete quotes, weight a
 * sample without frames under its process, and read periods padded with two blanks.
 */
import { MAX_BAD_LINE_EXAMPLES, emptyReport, type CollapseReport, type CollapseResult, type Collapser } from './types.js';
import { resolvePerfCollapseOptions, type PerfCollapseOptions } from './perf-options.js';
import { HASH, HASH_SEED, IS_SPACE, IS_WORD, NEWLINE, hashBytes } from './perf-bytes.js';
import { newEventLineParts, newStackLineParts, parseEventLine, parseStackLine } from './perf-lines.js';
import { FrameLineCache, FrameNameTable, grow } from './perf-frame-cache.js';
import { ProcessNames } from './perf-process.js';
import { SlowFrames, type FrameSink } from './perf-slow-frames.js';
import { StackTable, viewOf } from './perf-tables.js';
import { frameNamesAt } from './perf-names.js';
import { StackKeyArena } from './perf-keys.js';
import { SampleDetails } from './perf-sample.js';
import { TaskRecords, taskRecordAt } from './perf-task-records.js';
import { addPerlCounts, PerlSums, type PerlCount } from './perl-number.js';

export { detectPerf } from './perf-detect.js';
export type { PerfCollapseOptions, PerfSample } from './perf-options.js';

/** A partial line left at the end of a chunk waits here; lines are rarely longer than a few hundred bytes. */
const INITIAL_CARRY_BYTES = 1 << 12;
/** Frames of the sample being read; deeper stacks grow it. */
const INITIAL_STACK_DEPTH = 1 << 10;

/** Between samples (after a blank line), inside a kept sample, or inside a sample of a filtered-out event. */
const BETWEEN_SAMPLES = 0;
const IN_SAMPLE = 1;
const SKIPPING_SAMPLE = 2;
/** Spreads hex addresses over the guess slots (see FrameLineCache.guesses). */
const ADDRESS_HASH_MULTIPLIER = 31;

export function createPerfCollapser(options: Partial<PerfCollapseOptions> = {}): Collapser {
  return new PerfCollapser(resolvePerfCollapseOptions(options));
}

class PerfCollapser implements Collapser, FrameSink {
  private readonly options: PerfCollapseOptions;
  private readonly report: CollapseReport = emptyReport();
  private readonly stacks = new StackTable();
  private readonly frameNames = new FrameNameTable();
  private readonly processes: ProcessNames;
  /** Frame-line caches for Java processes and for the rest: Java names are tidied differently. */
  private readonly javaLines = new FrameLineCache();
  private readonly otherLines = new FrameLineCache();
  /** `--srcline` and `--inline` need more than a line's own bytes, so they bypass the caches. */
  private readonly slowFrames: SlowFrames | undefined;
  private readonly details: SampleDetails | undefined;
  private readonly eventParts = newEventLineParts();
  private readonly stackParts = newStackLineParts();
  private readonly leafFirstIds: number[] = [];
  private readonly keys = new StackKeyArena();
  private readonly keyParts: string[] = [];
  /** Keys handed to `onSample`, by stack id. */
  private readonly sampleKeys: string[] = [];
  /** `PERF_RECORD_…` lines (--show-task-events, --show-lost-events): skipped, lost events noted. */
  private readonly taskRecords = new TaskRecords();

  private carry = Buffer.allocUnsafe(INITIAL_CARRY_BYTES);
  private carryView = viewOf(this.carry);
  private carryLength = 0;
  /** A DataView over the buffer whose lines are being read (the chunk, or the carry). */
  private view: DataView = this.carryView;

  // The sample being read.
  private state = BETWEEN_SAMPLES;
  private process = -1;
  private lineCache: FrameLineCache = this.otherLines;
  private weight = 1;
  /** The period's exact value when it has more digits than a double holds exactly. */
  private bigWeight: PerlCount | undefined;
  /** The sum of every sample's weight so far (as a double: only compared with 2^53). */
  private runningTotal = 0;
  /** Stack sums past 2^53, exact as Perl keeps them, by stack id (rare: periods near 2^64). */
  private exactById: Map<number, PerlCount> | undefined;
  private frames = new Int32Array(INITIAL_STACK_DEPTH);
  private frameCount = 0;
  /** Module paths of the sample's frames, collected only for `processFilter`. */
  private readonly modules: string[] = [];
  private readonly collectModules: boolean;

  constructor(options: PerfCollapseOptions) {
    this.options = options;
    this.processes = new ProcessNames(options);
    if (options.srcline || options.inline) this.slowFrames = new SlowFrames(options, this.frameNames);
    if (options.onSample || options.processFilter) this.details = new SampleDetails();
    this.collectModules = options.processFilter !== undefined;
    // Replaced as the input grows: written twice now so V8 does not compile them as constants
    // (see the note in perf-tables.ts).
    this.frames = this.frames;
    this.carry = this.carry;
    this.carryView = this.carryView;
    this.view = this.view;
    this.lineCache = this.javaLines;
    this.lineCache = this.otherLines;
  }

  push(chunk: Buffer): void {
    let start = 0;
    if (this.carryLength > 0) {
      start = this.completeCarriedLine(chunk);
      if (start === -1) return;
    }
    this.view = viewOf(chunk);
    const rest = this.readLines(chunk, start);
    if (rest < chunk.length) this.keep(chunk, rest, chunk.length);
  }

  /**
   * The hot loop, in a function of its own: it then gets optimized as a whole and stays so across chunks.
   * (Inside `push`, V8 compiled it on-stack per chunk and threw the code away at each chunk's tail.)
   * Returns where the unfinished last line starts.
   */
  private readLines(chunk: Buffer, start: number): number {
    const fast = this.slowFrames === undefined;
    for (;;) {
      if (fast && this.state === IN_SAMPLE) {
        const known = this.tryKnownFrameLine(chunk, start);
        if (known !== -1) {
          start = known + 1;
          continue;
        }
      }
      const newline = chunk.indexOf(NEWLINE, start);
      if (newline === -1) return start;
      this.onLine(chunk, start, newline);
      start = newline + 1;
    }
  }

  /** The line begun in an earlier chunk, completed from this one; -1 when this chunk holds no newline. */
  private completeCarriedLine(chunk: Buffer): number {
    const newline = chunk.indexOf(NEWLINE);
    if (newline === -1) {
      this.keep(chunk, 0, chunk.length);
      return -1;
    }
    this.keep(chunk, 0, newline);
    this.view = this.carryView;
    this.onLine(this.carry, 0, this.carryLength);
    this.carryLength = 0;
    return newline + 1;
  }

  finish(): CollapseResult {
    if (this.carryLength > 0) {
      this.view = this.carryView;
      this.onLine(this.carry, 0, this.carryLength);
      this.carryLength = 0;
    }
    this.slowFrames?.finishPending(this);
    // Unlike the Perl, a last sample with no blank line after it still counts.
    this.endSample();
    this.report.notes.push(...this.processes.eventNotes(), ...this.taskRecords.notes());
    const sums = new PerlSums();
    this.keys.sealAll();
    for (let id = 0; id < this.stacks.size; id++) {
      const key = this.keys.keyOf(id);
      const weight = this.exactById?.get(id) ?? this.stacks.weightOf(id);
      // Different id sequences can still fold to one key ("a;b" as a process name): add them up.
      sums.add(key, Number(weight), typeof weight === 'bigint' ? weight : undefined);
    }
    return { stacks: sums.sums, ...(sums.exact.size > 0 ? { exact: sums.exact } : {}), report: this.report, event: this.processes.keptEvent() };
  }

  private keep(chunk: Buffer, start: number, end: number): void {
    const needed = this.carryLength + end - start;
    if (needed > this.carry.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.carry.length * 2));
      this.carry.copy(grown, 0, 0, this.carryLength);
      this.carry = grown;
      this.carryView = viewOf(grown);
    }
    chunk.copy(this.carry, this.carryLength, start, end);
    this.carryLength = needed;
  }

  private onLine(bytes: Buffer, start: number, end: number): void {
    if (this.slowFrames?.takesSourceLine(bytes, start, end, this)) return;
    if (start === end) {
      this.endSample();
      return;
    }
    const first = bytes[start]!;
    if (first === HASH) return;
    if (IS_SPACE[first] === 1) {
      if (this.state === IN_SAMPLE) {
        this.onStackLine(bytes, start, end);
        return;
      }
      let text = start + 1;
      while (text < end && IS_SPACE[bytes[text]!] === 1) text++;
      if (text === end) this.endSample();
      // Newer perf right-aligns the command name: "           false 39654 19115.489713: …"
      else if (this.state === BETWEEN_SAMPLES && !this.onEventLine(bytes, text, end)) this.onBadLine(bytes, start, end);
      return;
    }
    if (this.onEventLine(bytes, start, end)) return;
    // The Perl tries a frame next: a frame line that starts in column 0.
    if (this.state === IN_SAMPLE) this.onStackLine(bytes, start, end);
    else if (this.state === BETWEEN_SAMPLES) this.onBadLine(bytes, start, end);
  }

  // An event line opens a sample; `start` is its first non-blank byte:
  //
  //     java 12688 [002] 6544038.708352: 235 cpu-clock:
  //     V8 WorkerThread 24636/25607 [000] 94564.109216: 100 cycles:
  //                false 39654 19115.489719:          1 cycles:      7fa68b1f2d84 _dl_start+0x4 (/usr/lib/ld-2.31.so)
  private onEventLine(bytes: Buffer, start: number, end: number): boolean {
    const event = this.eventParts;
    if (!parseEventLine(bytes, start, end, event)) return false;
    const record = taskRecordAt(bytes, event.idsEnd, end);
    if (record !== -1) {
      this.taskRecords.add(bytes, record, end);
      this.endSample();
      return true;
    }
    // A sample not closed by a blank line: the Perl would run its frames into this one.
    if (this.state === IN_SAMPLE) this.endSample();
    if (!this.processes.keepsEvent(bytes, event)) {
      this.state = SKIPPING_SAMPLE;
      return true;
    }
    this.process = this.processes.idOf(bytes, event);
    this.lineCache = this.processes.isJava(this.process) ? this.javaLines : this.otherLines;
    this.weight = this.options.samples ? 1 : this.processes.periodOf(bytes, event);
    this.bigWeight = this.options.samples ? undefined : this.processes.bigPeriodOf(bytes, event);
    if (this.bigWeight !== undefined) this.weight = Number(this.bigWeight);
    this.details?.read(bytes, event, end);
    this.state = IN_SAMPLE;
    this.frameCount = 0;
    this.modules.length = 0;
    if (event.frameStart !== -1) {
      this.onStackLine(bytes, event.frameStart, event.frameEnd);
      this.endSample();
    }
    return true;
  }

  // A frame of the current sample, leaf first:
  //
  //         ffffffff8103ce3b native_safe_halt ([kernel.kallsyms])
  //     7f533952bc77 _dl_check_map_versions+0x597 (/usr/lib/ld-2.28.so)
  //         7f89cc45ff92 Lsun/nio/cs/StreamEncoder;::flushBuffer->Lsun/nio/cs/StreamEncoder;::writeBytes (/tmp/perf-10487.map)
  private onStackLine(bytes: Buffer, start: number, end: number): void {
    let p = start;
    while (p < end && IS_SPACE[bytes[p]!] === 1) p++;
    if (p === end) {
      this.endSample(); // a line of blanks ends the sample, as in inferno
      return;
    }
    if (this.slowFrames !== undefined) {
      if (!this.slowFrames.onStackLine(bytes, start, end, this.processes.isJava(this.process), this)) {
        this.onBadLine(bytes, start, end);
      }
      return;
    }
    const pcStart = p;
    let pcHash = 0;
    for (; p < end; p++) {
      const byte = bytes[p]!;
      if (IS_WORD[byte] === 0) break;
      pcHash = (Math.imul(pcHash, ADDRESS_HASH_MULTIPLIER) + byte) | 0;
    }
    // The address only matters to `--addrs`; leaving it out of the key lets all offsets of a symbol share.
    const keyStart = this.options.addrs ? pcStart : p;
    const cache = this.lineCache;
    const guessSlot = pcHash & cache.guessMask;
    let line = cache.guesses[guessSlot]! - 1;
    if (line === -1 || !cache.lines.matches(line, bytes, this.view, keyStart, end)) {
      const hash = hashBytes(bytes, keyStart, end, HASH_SEED);
      line = cache.lines.find(bytes, keyStart, end, hash);
      if (line === -1) {
        line = this.learnLine(bytes, start, end, keyStart, hash);
        if (line === -1) return;
      }
      cache.guesses[guessSlot] = line + 1;
    }
    this.appendLine(cache, line);
  }

  /**
   * The common case, tried before even looking for the line's end: a frame line of the current sample
   * that was seen before at the same address. The remembered line's length says where the newline must
   * be, so a match costs one pass over the line. Returns the newline's position, or -1 to take the
   * general path.
   */
  private tryKnownFrameLine(bytes: Buffer, start: number): number {
    const limit = bytes.length;
    let p = start;
    while (p < limit && IS_SPACE[bytes[p]!] === 1 && bytes[p] !== NEWLINE) p++;
    if (p === start) return -1; // frame lines start with blanks
    const pcStart = p;
    let pcHash = 0;
    for (; p < limit; p++) {
      const byte = bytes[p]!;
      if (IS_WORD[byte] === 0) break;
      pcHash = (Math.imul(pcHash, ADDRESS_HASH_MULTIPLIER) + byte) | 0;
    }
    if (p === pcStart) return -1;
    const keyStart = this.options.addrs ? pcStart : p;
    const cache = this.lineCache;
    const line = cache.guesses[pcHash & cache.guessMask]! - 1;
    if (line === -1) return -1;
    const end = keyStart + cache.lines.lengthOf(line);
    if (end >= limit || bytes[end] !== NEWLINE || !cache.lines.matches(line, bytes, this.view, keyStart, end)) return -1;
    this.appendLine(cache, line);
    return end;
  }

  /** Add a known frame line's frames to the current sample. */
  private appendLine(cache: FrameLineCache, line: number): void {
    const count = cache.idCountOf(line);
    if (this.frameCount + count > this.frames.length) this.frames = grow(this.frames, this.frameCount + count);
    const ids = cache.ids;
    for (let i = cache.firstIdOf(line), stop = i + count; i < stop; i++) this.frames[this.frameCount++] = ids[i]!;
    if (this.collectModules) this.modules.push(cache.modules[line]!);
  }

  /** First sight of a frame line: tidy it and remember the result. -1 when the line is not a frame. */
  private learnLine(bytes: Buffer, start: number, end: number, keyStart: number, hash: number): number {
    const parts = this.stackParts;
    if (!parseStackLine(bytes, start, end, parts)) {
      this.onBadLine(bytes, start, end);
      return -1;
    }
    const names = frameNamesAt(bytes, parts, this.processes.isJava(this.process), this.options).names;
    const ids = this.leafFirstIds;
    ids.length = 0;
    for (let i = names.length - 1; i >= 0; i--) ids.push(this.frameNames.idOf(names[i]!));
    const module = bytes.toString('latin1', parts.modStart, parts.modEnd);
    // When Perl's backtracking made the symbol start inside the address, the key would not cover it.
    if (parts.funcStart < keyStart) {
      this.pushFrames(ids, module);
      return -1;
    }
    return this.lineCache.add(bytes, keyStart, end, hash, ids, module);
  }

  /** Append frames (leaf first) to the sample; used by the slow paths. */
  pushFrames(leafFirstIds: readonly number[], module: string): void {
    if (this.frameCount + leafFirstIds.length > this.frames.length) {
      this.frames = grow(this.frames, this.frameCount + leafFirstIds.length);
    }
    for (const id of leafFirstIds) this.frames[this.frameCount++] = id;
    if (this.collectModules) this.modules.push(module);
  }

  /** The blank line after a sample: count its stack. */
  private endSample(): void {
    if (this.state !== IN_SAMPLE) {
      this.state = BETWEEN_SAMPLES;
      return;
    }
    this.state = BETWEEN_SAMPLES;
    const details = this.details;
    if (details !== undefined && this.options.processFilter && !this.options.processFilter(details.comm, this.modules)) {
      return;
    }
    // Past 2^53 in all, a stack's sum may not be exact as a double: from then on, sums go to `exactById`.
    this.runningTotal += this.weight;
    const exactly = this.bigWeight !== undefined || this.runningTotal > Number.MAX_SAFE_INTEGER;
    const weight = exactly ? 0 : this.weight;
    let id = this.stacks.addSample(this.process, this.frames, this.frameCount, weight);
    if (id === -1) {
      id = this.stacks.insertMissing(this.process, this.frames, this.frameCount, weight);
      this.keys.add(this.stackKey());
    }
    if (exactly) {
      const sums = (this.exactById ??= new Map());
      sums.set(id, addPerlCounts(sums.get(id) ?? this.stacks.weightOf(id), this.bigWeight ?? this.weight));
    }
    this.report.samples++;
    if (details !== undefined && this.options.onSample) this.options.onSample(details.sample(this.sampleKey(id), this.weight));
  }

  /** `comm;root;…;leaf` for the current sample, joined in one go (see StackKeyArena.add). */
  private stackKey(): string {
    const names = this.frameNames.names;
    const parts = this.keyParts;
    parts.length = 0;
    parts.push(this.processes.nameOf(this.process));
    for (let i = this.frameCount - 1; i >= 0; i--) parts.push(names[this.frames[i]!]!);
    return parts.join(';');
  }

  /** The key of stack `id` for `onSample`, made once per stack. */
  private sampleKey(id: number): string {
    let key = this.sampleKeys[id];
    if (key === undefined) {
      key = this.keys.keyOf(id);
      this.sampleKeys[id] = key;
    }
    return key;
  }

  private onBadLine(bytes: Buffer, start: number, end: number): void {
    this.report.badLines++;
    if (this.report.badLineExamples.length < MAX_BAD_LINE_EXAMPLES) {
      this.report.badLineExamples.push(bytes.toString('latin1', start, end));
    }
  }
}
