/**
 * Naming user-space addresses of live processes: /proc/PID/maps says which file (and where in it) an
 * address belongs to, the file's ELF symbol table says which function. bpftrace 0.17 can do this itself,
 * but without its per-executable cache (wrong under ASLR once two processes share an executable) it
 * re-reads a symbol table for every frame: minutes for one minute of a busy host. Here each file's table
 * is read once per recording, keyed by device and inode, and each process's maps once.
 */
import { readFileSync } from 'node:fs';
import { listPids } from '../kernel/proc.js';
import { fileOffsetToVaddr, readElfSymbols, symbolAt, type ElfSymbols } from './elf-symbols.js';

interface Mapping {
  start: number;
  end: number;
  fileOffset: number;
  /** `dev:inode`, the identity of the mapped file across processes and mount namespaces. */
  fileKey: string;
  /** Where we can open that file: through the process's own root, so containers work. */
  openPath: string;
  path: string;
}

interface PerfMapEntry {
  start: number;
  end: number;
  name: string;
}

/** Highest user-space address on x86-64 and arm64 with 4-level page tables and 48-bit VAs. */
const USER_SPACE_END = 0x0000_8000_0000_0000;

export class UserSymbolizer {
  private readonly files = new Map<string, ElfSymbols | undefined>();
  private readonly maps = new Map<number, Mapping[]>();
  private readonly perfMaps = new Map<number, PerfMapEntry[]>();
  /** Processes whose maps were read again for an address the first read lacked (once each). */
  private readonly reread = new Set<number>();
  /** How many addresses were named, and how many stayed addresses (exited processes, stripped files). */
  resolved = 0;
  unresolved = 0;

  /** `function+offset` for `address` in process `pid`, or undefined when it cannot be named. */
  resolve(pid: number, address: number): string | undefined {
    const name = address > 0 && address < USER_SPACE_END ? this.lookup(pid, address) : undefined;
    if (name === undefined) this.unresolved++;
    else this.resolved++;
    return name;
  }

  private lookup(pid: number, address: number): string | undefined {
    const mapping = findMapping(this.mapsOf(pid, address), address);
    if (mapping === undefined) return this.lookupPerfMap(pid, address);
    let elf = this.files.get(mapping.fileKey);
    if (!this.files.has(mapping.fileKey)) {
      elf = readElfSymbols(mapping.openPath) ?? readElfSymbols(mapping.path);
      this.files.set(mapping.fileKey, elf);
    }
    if (elf === undefined) return undefined;
    const vaddr = fileOffsetToVaddr(elf, address - mapping.start + mapping.fileOffset);
    if (vaddr === undefined) return undefined;
    const symbol = symbolAt(elf, vaddr);
    return symbol === undefined ? undefined : `${symbol.name}+${symbol.offset}`;
  }

  /**
   * Read the maps of every process not seen before. Called while sampling, so processes that exit before
   * bpftrace prints its map (at the end) can still be named: their files outlive them.
   */
  snapshotNewProcesses(onlyPids?: readonly number[]): void {
    const pids = onlyPids ?? listPids();
    for (const pid of pids) {
      if (!this.maps.has(pid)) this.maps.set(pid, readMaps(pid));
    }
  }

  /**
   * Read a process's maps now, replacing any kept for its pid: called just after it execs, so a process that
   * exits before its samples are read can still be named (and a reused pid never borrows an older maps).
   */
  refreshProcess(pid: number): void {
    this.maps.set(pid, readMaps(pid));
    this.reread.delete(pid);
    this.perfMaps.delete(pid);
  }

  /** Take over `from`'s maps of `pids` (read at their exec): a fresh symbolizer must still name processes gone since. */
  carryProcesses(from: UserSymbolizer, pids: Iterable<number>): void {
    for (const pid of pids) {
      const mappings = from.maps.get(pid);
      if (mappings !== undefined) this.maps.set(pid, mappings);
    }
  }

  private mapsOf(pid: number, address: number): Mapping[] {
    let mappings = this.maps.get(pid);
    // Not read yet, or read before a library was loaded (dlopen): read the live maps, if it still runs.
    if (mappings === undefined || (findMapping(mappings, address) === undefined && !this.reread.has(pid))) {
      if (mappings !== undefined) this.reread.add(pid);
      const live = readMaps(pid);
      if (live.length > 0 || mappings === undefined) mappings = live;
      this.maps.set(pid, mappings);
    }
    return mappings;
  }

  /** JIT code (Java, Node with --perf-basic-prof) announced in /tmp/perf-PID.map. */
  private lookupPerfMap(pid: number, address: number): string | undefined {
    let entries = this.perfMaps.get(pid);
    if (entries === undefined) {
      entries = readPerfMap(pid);
      this.perfMaps.set(pid, entries);
    }
    const entry = entries.find((candidate) => address >= candidate.start && address < candidate.end);
    return entry === undefined ? undefined : `${entry.name}+${address - entry.start}`;
  }
}

// "55d5c6400000-55d5c6580000 r-xp 00024000 fe:01 1835012   /usr/bin/perl"
const MAPS_LINE = /^([0-9a-f]+)-([0-9a-f]+) \S+ ([0-9a-f]+) (\S+) (\d+)\s+(\/.*)$/;

function readMaps(pid: number): Mapping[] {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/maps`, 'latin1');
  } catch {
    return []; // the process has exited: its frames stay as addresses
  }
  const mappings: Mapping[] = [];
  for (const line of text.split('\n')) {
    const match = MAPS_LINE.exec(line);
    if (match === null || match[5] === '0') continue; // anonymous memory, [heap], [stack]
    const path = match[6]!.replace(/ \(deleted\)$/, '');
    mappings.push({
      start: Number.parseInt(match[1]!, 16),
      end: Number.parseInt(match[2]!, 16),
      fileOffset: Number.parseInt(match[3]!, 16),
      fileKey: `${match[4]}:${match[5]}`,
      openPath: `/proc/${pid}/root${path}`,
      path,
    });
  }
  return mappings;
}

function findMapping(mappings: Mapping[], address: number): Mapping | undefined {
  return mappings.find((mapping) => address >= mapping.start && address < mapping.end);
}

// "7f3a2c001000 1a0 LazyCompile:~handler /app/server.js:10"
function readPerfMap(pid: number): PerfMapEntry[] {
  let text: string;
  try {
    text = readFileSync(`/tmp/perf-${pid}.map`, 'latin1');
  } catch {
    return [];
  }
  const entries: PerfMapEntry[] = [];
  for (const line of text.split('\n')) {
    const first = line.indexOf(' ');
    const second = line.indexOf(' ', first + 1);
    if (first === -1 || second === -1) continue;
    const start = Number.parseInt(line.slice(0, first), 16);
    const size = Number.parseInt(line.slice(first + 1, second), 16);
    if (Number.isNaN(start) || Number.isNaN(size)) continue;
    entries.push({ start, end: start + size, name: line.slice(second + 1) });
  }
  return entries;
}
