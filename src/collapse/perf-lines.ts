/**
 * Where the fields of a `perf script` line are, found on bytes without making strings. Each parser
 * mirrors one of stackcollapse-perf.pl's regexes, including how Perl backtracks, and writes byte
 * offsets into a reusable parts object.
 */
import {
  CLOSE_PAREN,
  COLON,
  IS_HEX,
  IS_SPACE,
  IS_WORD,
  OPEN_PAREN,
  SLASH,
  SPACE,
  isDigit,
} from './perf-bytes.js';

/** Byte offsets of an event line's fields; -1 where a field is absent. */
export interface EventLineParts {
  commStart: number;
  commEnd: number;
  /** -1 when perf printed only a thread id: the Perl then names the process id "?". */
  pidStart: number;
  pidEnd: number;
  tidStart: number;
  tidEnd: number;
  /** Just after the id field: where "[002] 6544038.708352: …" starts. */
  idsEnd: number;
  eventStart: number;
  eventEnd: number;
  periodStart: number;
  periodEnd: number;
  /** A frame printed on the event line itself (samples without a call chain); -1 when none. */
  frameStart: number;
  frameEnd: number;
}

export function newEventLineParts(): EventLineParts {
  return {
    commStart: -1, commEnd: -1, pidStart: -1, pidEnd: -1, tidStart: -1, tidEnd: -1, idsEnd: -1,
    eventStart: -1, eventEnd: -1, periodStart: -1, periodEnd: -1, frameStart: -1, frameEnd: -1,
  };
}

/** Byte offsets of a stack line's fields: `pc rawfunc (mod)`. */
export interface StackLineParts {
  pcStart: number;
  pcEnd: number;
  funcStart: number;
  funcEnd: number;
  modStart: number;
  modEnd: number;
}

export function newStackLineParts(): StackLineParts {
  return { pcStart: -1, pcEnd: -1, funcStart: -1, funcEnd: -1, modStart: -1, modEnd: -1 };
}

/**
 * An event line; `start` is its first non-blank byte. Accepts, e.g.:
 *
 *     java 25607 4794564.109216: 1 cycles:
 *     java 12688 [002] 6544038.708352: 235 cpu-clock:
 *     V8 WorkerThread 24636/25607 [000] 94564.109216: 100 cycles:
 *     swapper     0 [000]   466.974738:   10101010 cpu-clock:ppp:
 *                false 39654 19115.489719:          1 cycles:      7fa68b1f2d84 _dl_start+0x4 (/usr/lib/ld-2.31.so)
 *
 * The command name runs up to the first blank that is followed by a numeric id (`PID/TID` or `TID`) and a
 * blank, as the Perl's `^(\S.+?)\s+(\d+)\/*(\d+)*\s+` finds it (it may hold spaces: "V8 WorkerThread").
 * Unlike the Perl, a one-letter command name is accepted.
 */
export function parseEventLine(bytes: Uint8Array, start: number, end: number, out: EventLineParts): boolean {
  if (!findIds(bytes, start, end, out)) return false;
  out.eventStart = out.eventEnd = out.periodStart = out.periodEnd = out.frameStart = out.frameEnd = -1;
  if (!findTrailingEvent(bytes, start, end, out)) findEventBeforeFrame(bytes, out.idsEnd, end, out);
  return true;
}

function findIds(bytes: Uint8Array, start: number, end: number, out: EventLineParts): boolean {
  for (let i = start + 1; i < end; i++) {
    if (IS_SPACE[bytes[i]!] === 0) continue;
    let j = i;
    while (j < end && IS_SPACE[bytes[j]!] === 1) j++;
    let k = j;
    while (k < end && isDigit(bytes[k]!)) k++;
    if (k > j) {
      let l = k;
      while (l < end && bytes[l] === SLASH) l++;
      let m = l;
      while (m < end && isDigit(bytes[m]!)) m++;
      if (m < end && IS_SPACE[bytes[m]!] === 1) {
        out.commStart = start;
        out.commEnd = i;
        // The Perl treats a missing or "0" second id as "no PID printed": `if (not $tid)`.
        const noTid = m === l || (m === l + 1 && bytes[l] === 0x30);
        if (noTid) {
          out.pidStart = out.pidEnd = -1;
          out.tidStart = j;
          out.tidEnd = k;
        } else {
          out.pidStart = j;
          out.pidEnd = k;
          out.tidStart = l;
          out.tidEnd = m;
        }
        out.idsEnd = m;
        return true;
      }
    }
    i = j - 1;
  }
  return false;
}

/**
 * The Perl's `/:\s*(\d+)*\s+(\S+):\s*$/`: the line ends with "EVENT:" after a colon, optional blanks,
 * an optional period and at least one blank ("…708352: 235 cpu-clock:", "…: cycles:uppp: ").
 */
function findTrailingEvent(bytes: Uint8Array, start: number, end: number, out: EventLineParts): boolean {
  let last = end;
  while (last > start && IS_SPACE[bytes[last - 1]!] === 1) last--;
  if (last - start < 2 || bytes[last - 1] !== COLON) return false;
  const eventEnd = last - 1;
  let eventStart = eventEnd;
  while (eventStart > start && IS_SPACE[bytes[eventStart - 1]!] === 0) eventStart--;
  if (eventStart === eventEnd || eventStart === start) return false;
  let blanks = eventStart;
  while (blanks > start && IS_SPACE[bytes[blanks - 1]!] === 1) blanks--;
  let digits = blanks;
  while (digits > start && isDigit(bytes[digits - 1]!)) digits--;
  let colon = digits;
  if (digits < blanks) while (colon > start && IS_SPACE[bytes[colon - 1]!] === 1) colon--;
  if (colon === start || bytes[colon - 1] !== COLON) return false;
  out.eventStart = eventStart;
  out.eventEnd = eventEnd;
  if (digits < blanks) {
    out.periodStart = digits;
    out.periodEnd = blanks;
  }
  return true;
}

const scratchFrame = newStackLineParts();

/**
 * A sample without a call chain: perf prints its one frame after the event name, which the Perl does not
 * understand (inferno does), e.g. `… 1 cycles:u:  ffffffff9b201293 [unknown] ([unknown])`. Only taken when
 * what follows the event really is a frame, so tracepoint arguments (`sched:sched_switch: prev_comm=…`)
 * keep the Perl's reading.
 */
function findEventBeforeFrame(bytes: Uint8Array, from: number, end: number, out: EventLineParts): void {
  const firstColon = indexOfByte(bytes, COLON, from, end);
  if (firstColon === -1) return;
  const secondColon = indexOfByte(bytes, COLON, firstColon + 1, end);
  if (secondColon === -1) return;
  let frameStart = secondColon + 1;
  for (let i = frameStart; i < end; i++) {
    if (bytes[i] === COLON || bytes[i] === SPACE) {
      frameStart = i + 1;
      break;
    }
  }
  while (frameStart < end && IS_SPACE[bytes[frameStart]!] === 1) frameStart++;
  let frameEnd = end;
  while (frameEnd > frameStart && IS_SPACE[bytes[frameEnd - 1]!] === 1) frameEnd--;
  if (frameStart === frameEnd || IS_HEX[bytes[frameStart]!] === 0) return;
  if (!parseStackLine(bytes, frameStart, frameEnd, scratchFrame)) return;
  // "          1 cycles": the event is the last word before the colon, the period the word before it.
  let eventStart = secondColon;
  while (eventStart > firstColon + 1 && bytes[eventStart - 1] !== SPACE) eventStart--;
  out.eventStart = eventStart;
  out.eventEnd = secondColon;
  let periodStart = eventStart - 1;
  while (periodStart > firstColon + 1 && bytes[periodStart - 1] !== SPACE) periodStart--;
  if (periodStart < eventStart - 1 && allDigits(bytes, periodStart, eventStart - 1)) {
    out.periodStart = periodStart;
    out.periodEnd = eventStart - 1;
  }
  out.frameStart = frameStart;
  out.frameEnd = frameEnd;
}

/**
 * A frame of a call chain, the Perl's `^\s*(\w+)\s*(.+) \((.*)\)`:
 *
 *         ffffffff8103ce3b native_safe_halt ([kernel.kallsyms])
 *     7f533952bc77 _dl_check_map_versions+0x597 (/usr/lib/ld-2.28.so)
 *         7f89cc45ff92 Lsun/nio/cs/StreamEncoder;::flushBuffer->Lsun/nio/cs/StreamEncoder;::writeBytes (/tmp/perf-10487.map)
 *         7f1e2215d058  (/lib/x86_64-linux-gnu/libc-2.15.so)
 *
 * The module is in the last " (" that has a ")" after it, up to the last ")"; the symbol is everything
 * between the address and it (a lone blank when perf printed none, as in the last example).
 */
export function parseStackLine(bytes: Uint8Array, start: number, end: number, out: StackLineParts): boolean {
  let p = start;
  while (p < end && IS_SPACE[bytes[p]!] === 1) p++;
  const pcStart = p;
  while (p < end && IS_WORD[bytes[p]!] === 1) p++;
  let pcEnd = p;
  if (pcEnd === pcStart) return false;
  while (p < end && IS_SPACE[bytes[p]!] === 1) p++;
  const afterBlanks = p;
  let close = end - 1;
  while (close > pcStart && bytes[close] !== CLOSE_PAREN) close--;
  // " (" must leave at least one address byte and one symbol byte before it.
  let open = close - 2;
  while (open >= pcStart + 2 && !(bytes[open] === SPACE && bytes[open + 1] === OPEN_PAREN)) open--;
  if (open < pcStart + 2) return false;
  let funcStart: number;
  if (open > afterBlanks) funcStart = afterBlanks;
  else if (open - 1 >= pcEnd) funcStart = open - 1; // Perl backtracks: the symbol is one blank
  else funcStart = pcEnd = open - 1; // …or even takes the address's last byte as the symbol
  out.pcStart = pcStart;
  out.pcEnd = pcEnd;
  out.funcStart = funcStart;
  out.funcEnd = open;
  out.modStart = open + 2;
  out.modEnd = close;
  return true;
}

export function indexOfByte(bytes: Uint8Array, byte: number, from: number, end: number): number {
  for (let i = from; i < end; i++) if (bytes[i] === byte) return i;
  return -1;
}

function allDigits(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isDigit(bytes[i]!)) return false;
  return true;
}

/** A decimal digit run as a number (periods fit easily in a double's 53 bits). */
export function parseDigits(bytes: Uint8Array, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + (bytes[i]! - 0x30);
  return value;
}
