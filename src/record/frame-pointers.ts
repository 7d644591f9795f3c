/**
 * Whether an ELF file's code sets up frame pointers, decided cheaply: read the first bytes of a sample of
 * its functions (at their symbol addresses) and count the frame-pointer prologue, `push %rbp; mov %rsp,%rbp`
 * (55 48 89 e5), possibly after `endbr64` (f3 0f 1e fa). No disassembler: a byte match at the entry.
 *
 * Built with frame pointers, nearly every non-trivial function starts that way; built without them (-O2, the
 * default of most distributions and vendors), almost none does (see docs/record.md for the measurement on
 * Debian's /usr/bin). x86-64 only: on other machines the answer is "unknown" and callers keep their default.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { readElfSymbols, type ElfSymbols } from './elf-symbols.js';

const PROLOGUE = Buffer.from([0x55, 0x48, 0x89, 0xe5]);
const ENDBR64 = Buffer.from([0xf3, 0x0f, 0x1e, 0xfa]);
/** Functions read per file: enough for a stable share, few enough to cost well under a millisecond. */
const SAMPLE_SIZE = 200;
/** Tiny functions (stubs, thunks, one-line getters) skip the frame even when built with frame pointers. */
const MIN_FUNCTION_BYTES = 32;
/** Fewer sampled functions than this and the file says nothing either way. */
const MIN_SAMPLED = 8;
/**
 * Share of sampled functions with the prologue at or above which the file counts as built with frame
 * pointers. Measured: builds with frame pointers score 0.85-1.0, builds without 0-0.05.
 */
export const FRAME_POINTER_SHARE = 0.5;
const EM_X86_64 = 62;

export interface FramePointerCheck {
  path: string;
  /** true: built with frame pointers; false: without; undefined: cannot tell (not ELF, stripped, not x86-64). */
  framePointers: boolean | undefined;
  /** Functions whose first bytes were read, and how many of them set up a frame pointer. */
  sampled: number;
  withPrologue: number;
}

export function checkFramePointers(path: string): FramePointerCheck {
  const unknown: FramePointerCheck = { path, framePointers: undefined, sampled: 0, withPrologue: 0 };
  if (machineOf(path) !== EM_X86_64) return unknown;
  const elf = readElfSymbols(path, { names: false });
  if (elf === undefined) return unknown;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return unknown;
  }
  let sampled = 0;
  let withPrologue = 0;
  const bytes = Buffer.alloc(PROLOGUE.length + ENDBR64.length);
  try {
    let candidates = sampleFunctions(functionsFromSymbols(elf));
    // Stripped files (most of /usr/bin) keep only imported symbols; .eh_frame_hdr still lists every function.
    if (candidates.length < MIN_SAMPLED) candidates = sampleFunctions(functionsFromUnwindTable(fd, elf));
    for (const vaddr of candidates) {
      const offset = vaddrToFileOffset(elf, vaddr);
      if (offset === undefined) continue;
      if (readSync(fd, bytes, 0, bytes.length, offset) !== bytes.length) continue;
      sampled++;
      const start = bytes.subarray(0, ENDBR64.length).equals(ENDBR64) ? ENDBR64.length : 0;
      if (bytes.subarray(start, start + PROLOGUE.length).equals(PROLOGUE)) withPrologue++;
    }
  } finally {
    closeSync(fd);
  }
  if (sampled < MIN_SAMPLED) return { ...unknown, sampled, withPrologue };
  return { path, framePointers: withPrologue / sampled >= FRAME_POINTER_SHARE, sampled, withPrologue };
}

/** e_machine from the ELF header, or undefined for anything that is not a readable ELF file. */
function machineOf(path: string): number | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const header = Buffer.alloc(20);
    if (readSync(fd, header, 0, 20, 0) !== 20 || header.readUInt32BE(0) !== 0x7f454c46) return undefined;
    return header.readUInt16LE(18);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Function starts from the symbol tables, for functions big enough to judge. */
function functionsFromSymbols(elf: ElfSymbols): number[] {
  const starts: number[] = [];
  for (let i = 0; i < elf.starts.length; i++) {
    if (elf.sizes[i]! >= MIN_FUNCTION_BYTES && elf.starts[i] !== elf.starts[i - 1]) starts.push(elf.starts[i]!);
  }
  return starts;
}

const PT_GNU_EH_FRAME = 0x6474e550;
/** The usual .eh_frame_hdr encodings (what GNU ld writes): udata4 count, datarel sdata4 table. */
const DW_EH_PE_UDATA4 = 0x03;
const DW_EH_PE_DATAREL_SDATA4 = 0x3b;
const MAX_UNWIND_ENTRIES = 1 << 20;

/**
 * Function starts from the binary search table of .eh_frame_hdr (PT_GNU_EH_FRAME), which the DWARF
 * unwinder itself uses: present in stripped files. Sizes are not there; the gap to the next start stands in.
 */
function functionsFromUnwindTable(fd: number, elf: ElfSymbols): number[] {
  const header = Buffer.alloc(64);
  if (readSync(fd, header, 0, 64, 0) !== 64) return [];
  const phoff = Number(header.readBigUInt64LE(0x20));
  const phnum = header.readUInt16LE(0x38);
  const programHeaders = Buffer.alloc(phnum * 56);
  if (readSync(fd, programHeaders, 0, programHeaders.length, phoff) !== programHeaders.length) return [];
  for (let i = 0; i < phnum; i++) {
    const at = i * 56;
    if (programHeaders.readUInt32LE(at) !== PT_GNU_EH_FRAME) continue;
    const offset = Number(programHeaders.readBigUInt64LE(at + 8));
    const vaddr = Number(programHeaders.readBigUInt64LE(at + 16));
    const start = Buffer.alloc(12);
    if (readSync(fd, start, 0, 12, offset) !== 12) return [];
    if (start[0] !== 1 || start[2] !== DW_EH_PE_UDATA4 || start[3] !== DW_EH_PE_DATAREL_SDATA4) return [];
    const count = Math.min(start.readUInt32LE(8), MAX_UNWIND_ENTRIES);
    const table = Buffer.alloc(count * 8);
    if (readSync(fd, table, 0, table.length, offset + 12) !== table.length) return [];
    const starts: number[] = [];
    for (let entry = 0; entry < count; entry++) starts.push(vaddr + table.readInt32LE(entry * 8));
    starts.sort((a, b) => a - b);
    const textEnd = Math.max(...elf.segments.map((segment) => segment.vaddr + segment.fileSize));
    return starts.filter((value, index) => (starts[index + 1] ?? textEnd) - value >= MIN_FUNCTION_BYTES);
  }
  return [];
}

/** Up to SAMPLE_SIZE function starts, spread evenly over all of them. */
function sampleFunctions(eligible: number[]): number[] {
  if (eligible.length <= SAMPLE_SIZE) return eligible;
  const step = eligible.length / SAMPLE_SIZE;
  return Array.from({ length: SAMPLE_SIZE }, (_, i) => eligible[Math.floor(i * step)]!);
}

function vaddrToFileOffset(elf: ElfSymbols, vaddr: number): number | undefined {
  for (const segment of elf.segments) {
    if (vaddr >= segment.vaddr && vaddr < segment.vaddr + segment.fileSize) return vaddr - segment.vaddr + segment.fileOffset;
  }
  return undefined;
}

/**
 * Check each file once (a process table repeats the same executables many times), spending at most
 * `budgetMs` in all: whole-system recordings must not wait on a host with thousands of binaries.
 */
export function checkFramePointersOf(paths: Iterable<string>, budgetMs = 300): FramePointerCheck[] {
  const deadline = Date.now() + budgetMs;
  const checks: FramePointerCheck[] = [];
  for (const path of new Set(paths)) {
    if (Date.now() > deadline) break;
    checks.push(checkFramePointers(path));
  }
  return checks;
}
