/**
 * `--inline`: ask addr2line which functions were inlined at an address, as stackcollapse-perf.pl does
 * (`addr2line -a PC -e MODULE -i -f -s -C`), falling back to `nm` to rebase "func+0x1f" when addr2line
 * cannot place the raw address. Slow by nature (a process per distinct address), so results are cached.
 */
import { execFileSync } from 'node:child_process';

/** Modules addr2line cannot read: JIT maps, the kernel, bracketed pseudo-modules like `[vdso]`. */
const NOT_A_FILE = /(perf-\d+.map|kernel\.|\[[^\]]+\])/;
/** What addr2line prints when it knows nothing: no inlining information, keep the frame as it is. */
const UNRESOLVED = new Set(['', '??', '??:??:0']);
/** addr2line output is small; nm of a big library is not. */
const MAX_TOOL_OUTPUT_BYTES = 256 << 20;

export class AddressInliner {
  private readonly results = new Map<string, string>();
  private readonly symbolTables = new Map<string, string>();

  constructor(private readonly withContext: boolean) {}

  /** Whether `module` is worth asking addr2line about. */
  static canInline(module: string): boolean {
    return !NOT_A_FILE.test(module);
  }

  /**
   * The frame names for `pc` in `module`, outermost first and joined with ";" (one stack element that
   * holds several frames), or undefined when addr2line knows nothing useful.
   */
  resolve(pc: string, rawfunc: string, module: string): string | undefined {
    const result = this.lookUp(pc, rawfunc, module);
    return UNRESOLVED.has(result) ? undefined : result;
  }

  private lookUp(pc: string, rawfunc: string, module: string): string {
    const key = `${pc}\u0000${module}`;
    const cached = this.results.get(key);
    if (cached !== undefined) return cached;
    const output = runTool('addr2line', ['-a', pc, '-e', module, '-i', '-f', '-s', '-C']);
    const lines = output.split('\n').slice(1); // the first line echoes the address
    if (/\?\?\n\?\?:0/.test(lines.join('\n'))) {
      const rebased = this.rebase(rawfunc, module);
      if (rebased !== undefined) {
        const result = this.lookUp(rebased, '', module);
        this.results.set(key, result);
        return result;
      }
    }
    const result = framesFromAddr2line(lines, this.withContext);
    this.results.set(key, result);
    return result;
  }

  /** "func+0x1f": the symbol's address from `nm` plus the offset, as "0x…". */
  private rebase(rawfunc: string, module: string): string | undefined {
    const match = /^(.+)\+0x([0-9a-f]+)$/.exec(rawfunc);
    if (!match) return undefined;
    let table = this.symbolTables.get(module);
    if (table === undefined) {
      table = runTool('nm', [module]);
      this.symbolTables.set(module, table);
    }
    const name = match[1]!;
    for (const line of table.split('\n')) {
      // "0000000000401136 T main"
      if (line.length > 19 && line.endsWith(name) && line.charAt(line.length - name.length - 1) === ' ') {
        const fields = /^([0-9a-f]+) . (.*)$/.exec(line);
        if (fields && fields[2] === name) {
          return `0x${(BigInt(`0x${fields[1]}`) + BigInt(`0x${match[2]}`)).toString(16)}`;
        }
      }
    }
    return undefined;
  }
}

/** addr2line -i -f prints "function\nfile:line" pairs, innermost first; we want outermost first. */
function framesFromAddr2line(lines: string[], withContext: boolean): string {
  const frames: string[] = [];
  let functionName: string | undefined;
  for (const raw of lines) {
    if (raw === '' && functionName === undefined) continue;
    const line = raw.replace(/ \(discriminator \S+\)/, '');
    if (functionName === undefined) {
      functionName = line;
    } else {
      frames.unshift(withContext ? `${functionName}:${line}` : functionName);
      functionName = undefined;
    }
  }
  return frames.join(';');
}

/** Run a binutils tool; its complaints go to our stderr as the Perl's backticks let them. */
function runTool(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, {
      encoding: 'latin1',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: MAX_TOOL_OUTPUT_BYTES,
    });
  } catch (error) {
    const stdout = (error as { stdout?: string }).stdout;
    return typeof stdout === 'string' ? stdout : '';
  }
}
