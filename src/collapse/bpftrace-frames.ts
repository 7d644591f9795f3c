/**
 * Turning bpftrace's printed frames into flame-graph frame names, and telling a kernel stack from a
 * user stack when the map key does not say which is which.
 *
 * Default (`kstack`, `ustack`) frames:      `    do_syscall_64+113`, `    0x5640acf2786b`
 * `kstack(perf)` / `ustack(perf)` frames:   `\tffffffff8225a6c1 do_syscall_64+113`,
 *                                           `\t7fb092eead92 _setjmp+2 (/usr/lib/x86_64-linux-gnu/libc.so.6)`,
 *                                           `\t7f6060bfa0ba 0x7f6060bfa0ba ([unknown])`
 */

export interface ParsedFrame {
  /** Symbol without its `+offset`, or the raw `0x…` address when unresolved. */
  symbol: string;
  /** Address from perf mode's leading column, when printed. */
  address: string | undefined;
  /** Module path from perf mode's `(…)`, when known. */
  module: string | undefined;
}

const PERF_MODE_FRAME = /^([0-9a-f]+) (.+)$/;
const MODULE_SUFFIX = / \(([^()]*)\)$/;
const OFFSET_SUFFIX = /\+\d+$/;
const HEX_ADDRESS = /^0x[0-9a-f]+$/i;
const UNKNOWN_MODULE = '[unknown]';
/** Addresses at or above this are in the kernel half of x86-64 (and arm64) address space. */
const KERNEL_SPACE_START = 0xffff800000000000n;
/** Outermost frames only the kernel has: how a lone stack of symbols shows it is a kernel stack. */
const KERNEL_ENTRY = /^(entry_SYSCALL|entry_INT80|asm_|ret_from_fork|secondary_startup|start_kernel|x86_64_start|common_startup|cpu_startup_entry|do_syscall_64|el0t_|el1h_|__do_softirq|irq_exit)/;
const JIT_MODULE = /(^\/tmp\/perf-\d+\.map$|\/jitted-\d+-\d+\.so$)/;

/** One frame line, indentation already removed. */
export function parseFrame(text: string): ParsedFrame {
  let rest = text.trimEnd();
  let address: string | undefined;
  let module: string | undefined;
  const perfMode = PERF_MODE_FRAME.exec(rest);
  if (perfMode !== null && perfMode[1]!.length >= 8) {
    address = perfMode[1];
    rest = perfMode[2]!;
    const moduleMatch = MODULE_SUFFIX.exec(rest);
    if (moduleMatch !== null) {
      rest = rest.slice(0, moduleMatch.index);
      if (moduleMatch[1] !== UNKNOWN_MODULE) module = moduleMatch[1];
    }
  }
  return { symbol: rest.replace(OFFSET_SUFFIX, ''), address, module };
}

export interface FrameNaming {
  /** Keep raw addresses of unresolved frames instead of `[unknown]`. */
  addrs: boolean;
  /** Add `_[k]` to kernel frames. */
  kernel: boolean;
  /** Add `_[j]` to JIT frames. */
  jit: boolean;
}

/** The frame's name in the folded stack, named as stackcollapse-perf.pl names perf's frames. */
export function frameName(frame: ParsedFrame, isKernel: boolean, naming: FrameNaming): string {
  let name = frame.symbol;
  if (name === '' || HEX_ADDRESS.test(name)) name = unknownName(frame, name, naming.addrs);
  if (isKernel && naming.kernel) return `${name}_[k]`;
  if (naming.jit && frame.module !== undefined && JIT_MODULE.test(frame.module)) return `${name}_[j]`;
  return name;
}

function unknownName(frame: ParsedFrame, symbol: string, addrs: boolean): string {
  const address = symbol !== '' ? symbol : frame.address !== undefined ? `0x${frame.address}` : '';
  if (frame.module === undefined) return addrs && address !== '' ? address : '[unknown]';
  const base = frame.module.slice(frame.module.lastIndexOf('/') + 1);
  return addrs && address !== '' ? `[${base} <${address.replace(/^0x/, '')}>]` : `[${base}]`;
}

/** +1 for evidence of a kernel stack, -1 for evidence of a user stack, 0 when nothing tells. */
export function kernelEvidence(frames: readonly ParsedFrame[]): number {
  let kernel = false;
  let user = false;
  for (const frame of frames) {
    if (frame.module !== undefined) user = true;
    const address = frame.address ?? (HEX_ADDRESS.test(frame.symbol) ? frame.symbol.slice(2) : undefined);
    if (address !== undefined && address.length <= 16) {
      if (BigInt(`0x${address}`) >= KERNEL_SPACE_START) kernel = true;
      else user = true;
    }
  }
  const outermost = frames[frames.length - 1];
  if (outermost !== undefined && KERNEL_ENTRY.test(outermost.symbol)) kernel = true;
  if (kernel === user) return 0;
  return kernel ? 1 : -1;
}
