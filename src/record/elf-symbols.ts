/**
 * Function symbols of one ELF file, for symbolising user stacks ourselves (see user-symbols.ts). Reads
 * only the headers and the symbol tables with positioned reads, never the whole file: executables such as
 * a browser or a database server run to hundreds of megabytes.
 *
 * ELF64 little-endian only (x86-64, arm64), which is where perf and bpftrace run in practice; anything else
 * yields no symbols and its frames stay as addresses.
 */
import { closeSync, openSync, readSync } from 'node:fs';

const ELF_MAGIC = 0x464c457f; // "\x7fELF" read as a little-endian uint32
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const ELF_HEADER_BYTES = 64;
const SECTION_HEADER_BYTES = 64;
const PROGRAM_HEADER_BYTES = 56;
const SYMBOL_BYTES = 24;
const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const PT_LOAD = 1;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
/** Symbol tables beyond this are not read (a guard against a corrupt section size). */
const MAX_TABLE_BYTES = 512 * 1024 * 1024;

export interface LoadSegment {
  fileOffset: number;
  vaddr: number;
  fileSize: number;
}

export interface ElfSymbols {
  /** PT_LOAD segments: turn a file offset (from /proc/PID/maps) into a link-time address. */
  segments: LoadSegment[];
  /** Function start addresses, ascending, with `sizes` and `names` at the same index. */
  starts: Float64Array;
  sizes: Float64Array;
  names: string[];
}

/**
 * The file's function symbols, or undefined when it is not an ELF64 LE file we can read. `names: false`
 * leaves the names out (empty strings): the frame-pointer check needs only addresses, and decoding a big
 * C++ program's names (Node: ~100 MB, a 16 MB string table) takes seconds.
 */
export function readElfSymbols(path: string, options: { names?: boolean } = {}): ElfSymbols | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    return parse(fd, options.names ?? true);
  } catch {
    return undefined; // truncated or odd files: their frames stay as addresses
  } finally {
    closeSync(fd);
  }
}

function readAt(fd: number, offset: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const read = readSync(fd, buffer, 0, length, offset);
  if (read !== length) throw new Error('short read');
  return buffer;
}

const u64 = (buffer: Buffer, at: number): number => Number(buffer.readBigUInt64LE(at));

function parse(fd: number, withNames: boolean): ElfSymbols | undefined {
  const header = readAt(fd, 0, ELF_HEADER_BYTES);
  if (header.readUInt32LE(0) !== ELF_MAGIC || header[4] !== ELFCLASS64 || header[5] !== ELFDATA2LSB) return undefined;
  const phoff = u64(header, 0x20);
  const shoff = u64(header, 0x28);
  const phnum = header.readUInt16LE(0x38);
  const shnum = header.readUInt16LE(0x3c);

  const segments: LoadSegment[] = [];
  const programHeaders = readAt(fd, phoff, phnum * PROGRAM_HEADER_BYTES);
  for (let i = 0; i < phnum; i++) {
    const at = i * PROGRAM_HEADER_BYTES;
    if (programHeaders.readUInt32LE(at) !== PT_LOAD) continue;
    segments.push({ fileOffset: u64(programHeaders, at + 8), vaddr: u64(programHeaders, at + 16), fileSize: u64(programHeaders, at + 32) });
  }

  const sections = readAt(fd, shoff, shnum * SECTION_HEADER_BYTES);
  const section = (index: number) => {
    const at = index * SECTION_HEADER_BYTES;
    return { type: sections.readUInt32LE(at + 4), offset: u64(sections, at + 24), size: u64(sections, at + 32), link: sections.readUInt32LE(at + 40) };
  };
  // .symtab when the file is not stripped (it includes static functions); else .dynsym.
  let table: ReturnType<typeof section> | undefined;
  for (let i = 0; i < shnum; i++) {
    const candidate = section(i);
    if (candidate.type === SHT_SYMTAB) table = candidate;
    else if (candidate.type === SHT_DYNSYM && table === undefined) table = candidate;
  }
  if (table === undefined || table.size > MAX_TABLE_BYTES || table.link >= shnum) return { segments, ...emptySymbols() };
  const strings = section(table.link);
  if (strings.size > MAX_TABLE_BYTES) return { segments, ...emptySymbols() };
  const symbolBytes = readAt(fd, table.offset, table.size);
  const stringBytes = withNames ? readAt(fd, strings.offset, strings.size) : undefined;

  const found: { start: number; size: number; name: string }[] = [];
  for (let at = 0; at + SYMBOL_BYTES <= symbolBytes.length; at += SYMBOL_BYTES) {
    const type = symbolBytes[at + 4]! & 0xf;
    if (type !== STT_FUNC && type !== STT_GNU_IFUNC) continue;
    const start = u64(symbolBytes, at + 8);
    if (start === 0) continue; // undefined (imported) symbols
    let name = '';
    if (stringBytes !== undefined) {
      const nameAt = symbolBytes.readUInt32LE(at);
      const nameEnd = stringBytes.indexOf(0, nameAt);
      if (nameEnd === -1) continue;
      name = stringBytes.toString('latin1', nameAt, nameEnd);
    }
    found.push({ start, size: u64(symbolBytes, at + 16), name });
  }
  found.sort((a, b) => a.start - b.start || b.size - a.size);
  return {
    segments,
    starts: Float64Array.from(found, (symbol) => symbol.start),
    sizes: Float64Array.from(found, (symbol) => symbol.size),
    names: found.map((symbol) => symbol.name),
  };
}

function emptySymbols(): Omit<ElfSymbols, 'segments'> {
  return { starts: new Float64Array(0), sizes: new Float64Array(0), names: [] };
}

/** The link-time address of a byte at `fileOffset`, or undefined when no loaded segment holds it. */
export function fileOffsetToVaddr(elf: ElfSymbols, fileOffset: number): number | undefined {
  for (const segment of elf.segments) {
    if (fileOffset >= segment.fileOffset && fileOffset < segment.fileOffset + segment.fileSize) {
      return fileOffset - segment.fileOffset + segment.vaddr;
    }
  }
  return undefined;
}

/**
 * The function containing `vaddr`: the last symbol starting at or before it, if `vaddr` falls inside its
 * size (size 0, common for assembly, is taken as "up to the next symbol").
 */
export function symbolAt(elf: ElfSymbols, vaddr: number): { name: string; offset: number } | undefined {
  const { starts, sizes, names } = elf;
  let low = 0;
  let high = starts.length - 1;
  let best = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (starts[middle]! <= vaddr) {
      best = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  if (best === -1) return undefined;
  const size = sizes[best]!;
  const start = starts[best]!;
  if (size > 0 && vaddr >= start + size) return undefined;
  return { name: names[best]!, offset: vaddr - start };
}
