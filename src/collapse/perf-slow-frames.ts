/**
 * Frame lines under `--srcline` and `--inline`, which the frame-line cache cannot serve: with `--srcline`
 * a frame's name takes the *next* line (its source location), and `--inline` asks addr2line per address.
 */
import type { PerfCollapseOptions } from './perf-options.js';
import { AddressInliner } from './perf-inline.js';
import { frameNames, withSourceLine } from './perf-names.js';
import { newStackLineParts, parseStackLine } from './perf-lines.js';
import type { FrameNameTable } from './perf-frame-cache.js';

/** Where finished frames go: the collapser's current sample. */
export interface FrameSink {
  pushFrames(leafFirstIds: readonly number[], module: string): void;
}

interface AwaitingSource {
  names: string[];
  module: string;
  /** Names before this index each take one source line, in order. */
  wanting: number;
  next: number;
}

export class SlowFrames {
  private readonly parts = newStackLineParts();
  private readonly inliner: AddressInliner | undefined;
  private awaiting: AwaitingSource | undefined;

  constructor(
    private readonly options: PerfCollapseOptions,
    private readonly frameNameTable: FrameNameTable,
  ) {
    if (options.inline) this.inliner = new AddressInliner(options.context);
  }

  /** With `--srcline`, the line after a frame is that frame's source location, whatever it holds. */
  takesSourceLine(bytes: Buffer, start: number, end: number, sink: FrameSink): boolean {
    const awaiting = this.awaiting;
    if (awaiting === undefined) return false;
    const index = awaiting.next++;
    awaiting.names[index] = withSourceLine(awaiting.names[index]!, bytes.toString('latin1', start, end));
    if (awaiting.next === awaiting.wanting) this.flush(sink);
    return true;
  }

  /** The input ended while frames still waited for source lines: keep them as they are. */
  finishPending(sink: FrameSink): void {
    if (this.awaiting !== undefined) this.flush(sink);
  }

  /** false when the line is not a frame. */
  onStackLine(bytes: Buffer, start: number, end: number, isJavaProcess: boolean, sink: FrameSink): boolean {
    const parts = this.parts;
    if (!parseStackLine(bytes, start, end, parts)) return false;
    const pc = bytes.toString('latin1', parts.pcStart, parts.pcEnd);
    const rawfunc = bytes.toString('latin1', parts.funcStart, parts.funcEnd);
    const module = bytes.toString('latin1', parts.modStart, parts.modEnd);
    if (this.inliner !== undefined && AddressInliner.canInline(module)) {
      const inlined = this.inliner.resolve(pc, rawfunc, module);
      if (inlined !== undefined) {
        sink.pushFrames([this.frameNameTable.idOf(inlined)], module);
        return true;
      }
    }
    const { names, unknownFrom } = frameNames(pc, rawfunc, module, isJavaProcess, this.options);
    if (this.options.srcline && unknownFrom > 0) {
      this.awaiting = { names: [...names], module, wanting: unknownFrom, next: 0 };
    } else {
      this.push(names, module, sink);
    }
    return true;
  }

  private flush(sink: FrameSink): void {
    const { names, module } = this.awaiting!;
    this.awaiting = undefined;
    this.push(names, module, sink);
  }

  private push(names: readonly string[], module: string, sink: FrameSink): void {
    const ids: number[] = [];
    for (let i = names.length - 1; i >= 0; i--) ids.push(this.frameNameTable.idOf(names[i]!));
    sink.pushFrames(ids, module);
  }
}
