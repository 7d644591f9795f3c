/**
 * What an event line says about its sample: whether its event is kept, the root frame's name (the
 * process, with `--pid`/`--tid`), and its weight.
 */
import type { PerfCollapseOptions } from './perf-options.js';
import type { EventLineParts } from './perf-lines.js';
import { HASH_SEED, HYPHEN, QUESTION_MARK, SLASH, SPACE, UNDERSCORE, hashBytes } from './perf-bytes.js';
import { parseDigits } from './perf-lines.js';
import { ByteTable } from './perf-tables.js';
import { perlCountFromDigits, type PerlCount } from './perl-number.js';

/** Periods of up to this many digits are exact as doubles (10^15 < 2^53). */
const MAX_EXACT_PERIOD_DIGITS = 15;

/** Room for a command name (16 bytes in the kernel, longer with spaces kept) and two ids; grows if needed. */
const INITIAL_NAME_BYTES = 256;
const JAVA_PREFIX = 'java';
const DIGIT_ZERO = 0x30;

export class ProcessNames {
  private readonly includePid: boolean;
  private readonly includeTid: boolean;
  private readonly names = new ByteTable();
  private readonly strings: string[] = [];
  private readonly java: boolean[] = [];
  private nameBytes = Buffer.allocUnsafe(INITIAL_NAME_BYTES);

  /** The event samples are kept for: the user's `eventFilter`, else the first event seen. */
  private eventFilter: Buffer | undefined;
  private readonly eventChosen: boolean;
  private readonly skipped = new Map<string, number>();

  constructor(options: PerfCollapseOptions) {
    this.includePid = options.pid;
    this.includeTid = options.tid;
    this.eventChosen = options.eventFilter !== undefined;
    if (options.eventFilter !== undefined) this.eventFilter = Buffer.from(options.eventFilter, 'latin1');
  }

  /**
   * By default only the first event type is kept: adding instructions to cycles makes a misleading graph.
   * Lines whose event the Perl cannot read (tracepoints with arguments) are kept, as there.
   */
  keepsEvent(bytes: Buffer, event: EventLineParts): boolean {
    if (event.eventStart === -1) return true;
    const filter = this.eventFilter;
    if (filter === undefined) {
      this.eventFilter = Buffer.from(bytes.subarray(event.eventStart, event.eventEnd));
      return true;
    }
    const length = event.eventEnd - event.eventStart;
    if (length === filter.length) {
      let same = true;
      for (let i = 0; i < length; i++) {
        if (filter[i] !== bytes[event.eventStart + i]) {
          same = false;
          break;
        }
      }
      if (same) return true;
    }
    const name = bytes.toString('latin1', event.eventStart, event.eventEnd);
    this.skipped.set(name, (this.skipped.get(name) ?? 0) + 1);
    return false;
  }

  /** The root frame's id: "comm", "comm-PID" or "comm-PID/TID", spaces in comm turned into "_". */
  idOf(bytes: Buffer, event: EventLineParts): number {
    const commLength = event.commEnd - event.commStart;
    const pidLength = event.pidStart === -1 ? 1 : event.pidEnd - event.pidStart;
    const needed = commLength + pidLength + (event.tidEnd - event.tidStart) + 2;
    if (needed > this.nameBytes.length) this.nameBytes = Buffer.allocUnsafe(needed * 2);
    const name = this.nameBytes;
    let length = 0;
    for (let i = event.commStart; i < event.commEnd; i++) {
      const byte = bytes[i]!;
      name[length++] = byte === SPACE ? UNDERSCORE : byte;
    }
    if (this.includePid) {
      name[length++] = HYPHEN;
      if (event.pidStart === -1) name[length++] = QUESTION_MARK;
      else for (let i = event.pidStart; i < event.pidEnd; i++) name[length++] = bytes[i]!;
      if (this.includeTid) {
        name[length++] = SLASH;
        for (let i = event.tidStart; i < event.tidEnd; i++) name[length++] = bytes[i]!;
      }
    }
    const hash = hashBytes(name, 0, length, HASH_SEED);
    const found = this.names.find(name, 0, length, hash);
    if (found !== -1) return found;
    const text = name.toString('latin1', 0, length);
    this.strings.push(text);
    this.java.push(text.startsWith(JAVA_PREFIX));
    return this.names.add(name, 0, length, hash);
  }

  nameOf(id: number): string {
    return this.strings[id]!;
  }

  /** Java frames are tidied differently (the Perl asks `$pname =~ /^java/`). */
  isJava(id: number): boolean {
    return this.java[id] === true;
  }

  /** The sample's period; 1 when absent or, as the Perl's `if (not $period)` has it, exactly "0". */
  periodOf(bytes: Buffer, event: EventLineParts): number {
    const { periodStart, periodEnd } = event;
    if (periodStart === -1) return 1;
    if (periodEnd - periodStart === 1 && bytes[periodStart] === DIGIT_ZERO) return 1;
    return parseDigits(bytes, periodStart, periodEnd);
  }

  /**
   * The period as Perl reads it when it may not fit a double exactly (more than 15 digits): an exact
   * integer up to 2^64 - 1, a double beyond. Undefined for shorter periods, which `periodOf` reads exactly.
   */
  bigPeriodOf(bytes: Buffer, event: EventLineParts): PerlCount | undefined {
    const { periodStart, periodEnd } = event;
    if (periodStart === -1 || periodEnd - periodStart <= MAX_EXACT_PERIOD_DIGITS) return undefined;
    return perlCountFromDigits(bytes.toString('latin1', periodStart, periodEnd));
  }

  /** The event whose samples are kept, once known. */
  keptEvent(): string | undefined {
    return this.eventFilter?.toString('latin1');
  }

  /** One line for the report when samples of other events were left out. */
  eventNotes(): string[] {
    if (this.skipped.size === 0 || this.eventFilter === undefined) return [];
    const kept = this.eventFilter.toString('latin1', 0, this.eventFilter.length);
    const others = [...this.skipped].map(([name, count]) => `${count} ${name}`).join(', ');
    if (this.eventChosen) return [`kept only ${kept} samples, as asked; skipped ${others}`];
    return [`kept only ${kept} samples (the first event in the input); skipped ${others}; choose another with --event-filter`];
  }
}
