/** Naming user addresses from ELF symbol tables and /proc/PID/maps, checked on this very process. */
import { spawn } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileOffsetToVaddr, readElfSymbols, symbolAt } from '../../src/record/elf-symbols.js';
import { UserSymbolizer } from '../../src/record/user-symbols.js';

describe('readElfSymbols', () => {
  test('reads the loaded segments and function symbols of a real executable (node)', () => {
    const elf = readElfSymbols(process.execPath);
    expect(elf).toBeDefined();
    expect(elf!.segments.length).toBeGreaterThan(0);
    expect(elf!.names.length).toBeGreaterThan(100);
    const starts = [...elf!.starts];
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
  });

  test('gives nothing, rather than throwing, for a file that is not ELF', () => {
    expect(readElfSymbols('/etc/hostname')).toBeUndefined();
    expect(readElfSymbols('/nonexistent/file')).toBeUndefined();
  });

  test('finds the function containing an address, with the offset into it', () => {
    const elf = { segments: [{ fileOffset: 0x1000, vaddr: 0x401000, fileSize: 0x1000 }], starts: Float64Array.from([0x401000, 0x401100]), sizes: Float64Array.from([0x40, 0]), names: ['small', 'open_ended'] };
    expect(fileOffsetToVaddr(elf, 0x1010)).toBe(0x401010);
    expect(fileOffsetToVaddr(elf, 0x3000)).toBeUndefined();
    expect(symbolAt(elf, 0x401010)).toEqual({ name: 'small', offset: 0x10 });
    expect(symbolAt(elf, 0x401050)).toBeUndefined(); // past the end of "small", before the next symbol
    expect(symbolAt(elf, 0x401234)).toEqual({ name: 'open_ended', offset: 0x134 });
    expect(symbolAt(elf, 0x400000)).toBeUndefined();
  });
});

/** The run-time address of libc's getpid + 4 in process `pid`, from its maps; undefined without a mapped libc. */
function getpidAddress(pid: number | 'self'): number | undefined {
  // Any exported function of libc that is mapped there: take the start of a dynsym function of the libc the
  // process has loaded and translate it to its run-time address through the process's maps.
  const maps = readFileSync(`/proc/${pid}/maps`, 'latin1').split('\n');
  const libcLine = maps.find((line) => / r-xp .*\/libc\.so\.6$/.test(line));
  if (libcLine === undefined) return undefined; // a libc-less (musl, static) program: nothing to check against
  const [range, , offsetText] = libcLine.split(/\s+/);
  const start = Number.parseInt(range!.split('-')[0]!, 16);
  const path = libcLine.slice(libcLine.indexOf('/'));
  const elf = readElfSymbols(path)!;
  const index = elf.names.indexOf('getpid');
  expect(index).toBeGreaterThanOrEqual(0);
  const segment = elf.segments.find((s) => elf.starts[index]! >= s.vaddr && elf.starts[index]! < s.vaddr + s.fileSize)!;
  const fileOffset = elf.starts[index]! - segment.vaddr + segment.fileOffset;
  return start + fileOffset - Number.parseInt(offsetText!, 16) + 4;
}

const GETPID = /^(__)?getpid\+4$|^\w*getpid\w*\+4$/;

describe('UserSymbolizer', () => {
  test('names an address inside a function of a library mapped into this process', () => {
    const address = getpidAddress('self');
    if (address === undefined) return;
    expect(new UserSymbolizer().resolve(process.pid, address)).toMatch(GETPID);
  });

  test("a process's maps read at its exec name its addresses after it exited, in a renewed symbolizer too when carried over", async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 300)); // ld.so has mapped libc
    const pid = child.pid!;
    const address = getpidAddress(pid);
    const old = new UserSymbolizer();
    old.refreshProcess(pid);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    if (address === undefined) return;
    expect(old.resolve(pid, address)).toMatch(GETPID);
    expect(new UserSymbolizer().resolve(pid, address)).toBeUndefined(); // gone: nothing to read any more
    const renewed = new UserSymbolizer();
    renewed.carryProcesses(old, [pid]);
    expect(renewed.resolve(pid, address)).toMatch(GETPID);
  });

  test('leaves kernel addresses and unmapped addresses unnamed, counting them', () => {
    const symbolizer = new UserSymbolizer();
    expect(symbolizer.resolve(process.pid, 0xffffffff81000000)).toBeUndefined();
    expect(symbolizer.resolve(process.pid, 0x10)).toBeUndefined();
    expect(symbolizer.unresolved).toBe(2);
  });
});
