/**
 * Naming the off-CPU tracer's user frames after the recording. bpftrace prints them as raw addresses
 * (offcpu-program.ts says why); most processes of a restart are gone by the time they could be named from
 * /proc. perf's MMAP2 events (`perf script --show-mmap-events`) recorded in the same run say which file was
 * mapped where in each process, and when; the files outlive the processes, so their symbol tables name the
 * frames. A child forked without exec has its parent's mappings: those are looked up through the fork.
 *
 * Frames that cannot be named stay useful: `libc.so.6+0x26a4b` (file and offset) when the file is known,
 * `[unknown]` when no mapping covers the address.
 */
import { basename } from 'node:path';
import { fileOffsetToVaddr, readElfSymbols, symbolAt, type ElfSymbols } from '../record/elf-symbols.js';

export const MMAP_EVENT_MARKER = 'PERF_RECORD_MMAP';

interface Mapping {
  time: number;
  start: number;
  end: number;
  fileOffset: number;
  path: string;
}

// sleep 16703/16703   550.397268: PERF_RECORD_MMAP2 16703/16703: [0x7fd878c49000(0x156000) @ 0x26000 fe:00 339380 0]: r-xp /usr/lib/x86_64-linux-gnu/libc.so.6
const MMAP = /(\d+\.\d+): PERF_RECORD_MMAP2? (-?\d+)\/\d+: \[0x([0-9a-f]+)\(0x([0-9a-f]+)\) @ (0x[0-9a-f]+|0)[^\]]*\]: \S+ (.+)$/;
// irisstop  8043 [000]   452.631236: PERF_RECORD_FORK(8044:8044):(8043:8043)
const FORK = /(\d+\.\d+): PERF_RECORD_FORK\((\d+):(\d+)\):\((\d+):\d+\)/;

/** How far back a fork is followed for a child's inherited mappings. */
const MAX_FORK_DEPTH = 8;

export class UserFrameNamer {
  private readonly mappings = new Map<number, Mapping[]>();
  private readonly forks = new Map<number, { time: number; parent: number }>();
  private readonly files = new Map<string, ElfSymbols | undefined>();
  named = 0;
  unnamed = 0;

  /** Feed every `PERF_RECORD_MMAP*` and `PERF_RECORD_FORK` line of perf script's output. */
  onPerfLine(line: string): void {
    const mmap = MMAP.exec(line);
    if (mmap !== null) {
      const pid = Number(mmap[2]);
      const start = Number.parseInt(mmap[3]!, 16);
      const mapping: Mapping = {
        time: Number(mmap[1]),
        start,
        end: start + Number.parseInt(mmap[4]!, 16),
        fileOffset: Number(mmap[5]),
        path: mmap[6]!.trim(),
      };
      const list = this.mappings.get(pid);
      if (list === undefined) this.mappings.set(pid, [mapping]);
      else list.push(mapping);
      return;
    }
    const fork = FORK.exec(line);
    if (fork !== null && fork[2] === fork[3]) this.forks.set(Number(fork[2]), { time: Number(fork[1]), parent: Number(fork[4]) });
  }

  /** Names for raw frames (`0x7f23e63c724a`) of `pid` at `time` (seconds); other frames pass through. */
  name(pid: number, time: number, frames: readonly string[]): string[] {
    return frames.map((frame) => {
      if (!frame.startsWith('0x')) return frame;
      const address = Number.parseInt(frame.slice(2), 16);
      const name = Number.isFinite(address) ? this.nameAddress(pid, time, address) : undefined;
      if (name === undefined) this.unnamed++;
      else this.named++;
      return name ?? '[unknown]';
    });
  }

  private nameAddress(pid: number, time: number, address: number): string | undefined {
    const mapping = this.mappingAt(pid, time, address);
    if (mapping === undefined) return undefined;
    // Return addresses point after the call; one byte back is inside the calling function.
    const fileOffset = address - 1 - mapping.start + mapping.fileOffset;
    const file = basename(mapping.path);
    if (!mapping.path.startsWith('/')) return `${mapping.path}`; // [vdso], [anon…]
    let elf = this.files.get(mapping.path);
    if (!this.files.has(mapping.path)) {
      elf = readElfSymbols(mapping.path);
      this.files.set(mapping.path, elf);
    }
    const vaddr = elf === undefined ? undefined : fileOffsetToVaddr(elf, fileOffset);
    const symbol = vaddr === undefined ? undefined : symbolAt(elf!, vaddr);
    return symbol?.name ?? `${file}+0x${(fileOffset + 1).toString(16)}`;
  }

  /** The newest mapping of `pid` covering `address` made before `time`, else the parent's at fork time. */
  private mappingAt(pid: number, time: number, address: number): Mapping | undefined {
    let current = pid;
    let at = time;
    for (let depth = 0; depth < MAX_FORK_DEPTH; depth++) {
      const list = this.mappings.get(current);
      let best: Mapping | undefined;
      if (list !== undefined) {
        for (const mapping of list) {
          if (mapping.time <= at && address >= mapping.start && address < mapping.end && (best === undefined || mapping.time >= best.time)) best = mapping;
        }
      }
      if (best !== undefined) return best;
      const fork = this.forks.get(current);
      if (fork === undefined) return undefined;
      current = fork.parent;
      at = fork.time;
    }
    return undefined;
  }
}
