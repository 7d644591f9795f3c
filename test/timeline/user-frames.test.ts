/** Naming the off-CPU tracer's raw user frames from perf's MMAP2 and FORK lines and the files' symbols. */
import { describe, expect, test } from 'vitest';
import { readElfSymbols } from '../../src/record/elf-symbols.js';
import { UserFrameNamer } from '../../src/timeline/user-frames.js';

const PAGE = 0x1000;
const BASE = 0x55d000000000;

/** A function of node's own executable with its file offset: a real ELF file with symbols. */
function nodeFunction(): { name: string; fileOffset: number; segmentOffset: number; segmentSize: number } {
  const elf = readElfSymbols(process.execPath)!;
  for (let index = 0; index < elf.names.length; index += 97) {
    const start = elf.starts[index]!;
    const segment = elf.segments.find((candidate) => start >= candidate.vaddr && start < candidate.vaddr + candidate.fileSize);
    if (segment !== undefined && elf.sizes[index]! > 16) {
      return { name: elf.names[index]!, fileOffset: start - segment.vaddr + segment.fileOffset, segmentOffset: segment.fileOffset, segmentSize: segment.fileSize };
    }
  }
  throw new Error('no sized function in node');
}

// perf script --show-mmap-events prints: comm pid/tid time: PERF_RECORD_MMAP2 pid/tid: [start(len) @ pgoff maj:min ino gen]: prot path
const mmapLine = (pid: number, time: string, start: number, length: number, pgoff: number, path: string): string =>
  `irisdb ${pid}/${pid}  ${time}: PERF_RECORD_MMAP2 ${pid}/${pid}: [0x${start.toString(16)}(0x${length.toString(16)}) @ 0x${pgoff.toString(16)} fe:00 260875 0]: r-xp ${path}`;

describe('UserFrameNamer', () => {
  const fn = nodeFunction();
  const pgoff = Math.floor(fn.segmentOffset / PAGE) * PAGE;
  // The run-time address of the function's fifth byte, plus one: frames are return addresses.
  const address = BASE + (fn.fileOffset - pgoff) + 5;
  const frame = `0x${address.toString(16)}`;

  test('names an address through the mapping made before it, and keeps other frames as they are', () => {
    const namer = new UserFrameNamer();
    namer.onPerfLine(mmapLine(100, '10.000000', BASE, fn.segmentSize + (fn.segmentOffset - pgoff), pgoff, process.execPath));
    expect(namer.name(100, 11, [frame, 'main'])).toEqual([fn.name, 'main']);
    expect(namer.named).toBe(1);
  });

  test('a forked child uses its parent\'s mappings from the moment of the fork', () => {
    const namer = new UserFrameNamer();
    namer.onPerfLine(mmapLine(100, '10.000000', BASE, fn.segmentSize + (fn.segmentOffset - pgoff), pgoff, process.execPath));
    namer.onPerfLine('irisdb   100/100   12.000000: PERF_RECORD_FORK(101:101):(100:100)');
    expect(namer.name(101, 13, [frame])).toEqual([fn.name]);
  });

  test('addresses no mapping covers are [unknown]; files without symbols give file+offset', () => {
    const namer = new UserFrameNamer();
    namer.onPerfLine(mmapLine(100, '10.000000', BASE, 0x100000, 0x2000, '/nonexistent/irisdb'));
    expect(namer.name(100, 9, [frame])).toEqual(['[unknown]']); // before the mapping existed
    expect(namer.name(100, 11, ['0x55d000000123'])).toEqual(['irisdb+0x2123']);
    expect(namer.name(200, 11, ['0x55d000000123'])).toEqual(['[unknown]']);
    expect(namer.unnamed).toBe(2); // file+offset counts as named: it says where
  });
});
