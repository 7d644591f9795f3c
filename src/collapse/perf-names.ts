/**
 * Turning one `perf script` frame (address, symbol, module) into the frame names of a folded stack, as
 * stackcollapse-perf.pl does, with inferno's fixes where the Perl is wrong (C++ parameter lists inside
 * templates, Go method receivers, versioned vmlinux paths, perf jitdump modules).
 *
 * Runs once per *distinct* frame line (the parser caches the result), so it works on latin1 strings —
 * one char per byte — where regexes behave exactly as Perl's do on bytes.
 */

/** What a frame line contributes to its stack, leaf-most name last (it is unshifted as a group). */
export interface FrameNames {
  /** The names, outermost first: a Java frame `a->b->c` is `a` calling inlined `b` calling inlined `c`. */
  names: string[];
  /**
   * Index of the first name after which the Perl's `$is_unknown` holds (an `[unknown]` symbol in an
   * `[unknown]` module): with `--srcline`, those names take no source line. `names.length` when never.
   */
  unknownFrom: number;
}

export interface FrameNameOptions {
  kernel: boolean;
  jit: boolean;
  addrs: boolean;
}

const NO_FRAMES: FrameNames = Object.freeze({ names: [], unknownFrom: 0 }) as FrameNames;

/** Linux 4.8+ prints symbol offsets: "cpu_startup_entry+0x800047c022ec". The Perl's class is lower-case hex. */
const SYMBOL_OFFSET = /\+0x[0-9a-f]+$/;
const INLINE_SEPARATOR = '->';
const UNKNOWN_SYMBOL = '[unknown]';
const ANNOTATION_INLINED = '_[i]';
const ANNOTATION_KERNEL = '_[k]';
const ANNOTATION_JIT = '_[j]';

/**
 * `rawfunc` and `mod` as the Perl's stack-line regex captures them, e.g. from
 * `    7f533952bc77 _dl_check_map_versions+0x597 (/usr/lib/ld-2.28.so)`.
 */
export function frameNames(
  pc: string,
  rawfunc: string,
  mod: string,
  isJavaProcess: boolean,
  options: FrameNameOptions,
): FrameNames {
  const symbol = rawfunc.replace(SYMBOL_OFFSET, '');
  // "(…)" as the symbol is a process name perf printed in place of a frame: skipped, as the Perl does.
  if (symbol.startsWith('(')) return NO_FRAMES;
  const parts = splitLikePerl(symbol, INLINE_SEPARATOR);
  const names: string[] = [];
  let unknownFrom = parts.length;
  for (let index = 0; index < parts.length; index++) {
    let name = parts[index]!;
    if (name === UNKNOWN_SYMBOL) {
      let stand: string;
      if (mod !== UNKNOWN_SYMBOL) {
        stand = mod.slice(mod.lastIndexOf('/') + 1); // the module's base name stands in for the symbol
      } else {
        stand = 'unknown';
        if (unknownFrom > index) unknownFrom = index;
      }
      name = options.addrs ? `[${stand} <${pc}>]` : `[${stand}]`;
    }
    name = tidyGeneric(name);
    if (isJavaProcess) name = tidyJava(name);
    if (index > 0) {
      if (!name.includes(ANNOTATION_INLINED)) name += ANNOTATION_INLINED;
    } else if (options.kernel && isKernelModule(mod)) {
      name += ANNOTATION_KERNEL;
    } else if (options.jit && isJitModule(mod)) {
      if (!name.includes(ANNOTATION_JIT)) name += ANNOTATION_JIT;
    }
    names.push(name);
  }
  return { names, unknownFrom };
}

/** Perl's `split /SEP/, $s`: trailing empty fields are dropped (so "" and "->" give no fields). */
function splitLikePerl(text: string, separator: string): string[] {
  const parts = text.split(separator);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/**
 * `;` would split the frame, so it becomes `:`; the parameter list is dropped; quotes are deleted (they
 * break the SVG's attributes, as in `RegExp:[&<>\"\']`). Unlike the Perl, which cuts at the first `(`,
 * only a top-level `(` starts the parameter list: `std::function<void (int)>::operator()` keeps its
 * template, `{lambda(int)#1}` its braces, Go's `net/http.(*Client).Do` its receiver, and
 * `(anonymous namespace)::f()` its namespace.
 */
export function tidyGeneric(name: string): string {
  name = name.replaceAll(';', ':');
  name = name.slice(0, parameterListStart(name));
  if (name.includes('"') || name.includes("'")) name = name.replace(/["']/g, '');
  return name;
}

function parameterListStart(name: string): number {
  let depth = 0;
  let afterDot = -1;
  for (let index = 0; index < name.length; index++) {
    switch (name.charCodeAt(index)) {
      case 0x3c: // <
      case 0x7b: // {
      case 0x5b: // [
        depth++;
        break;
      case 0x3e: // >
      case 0x7d: // }
      case 0x5d: // ]
      case 0x29: // )
        depth--;
        break;
      case 0x28: // (
        if (depth === 0 && afterDot !== index && !name.startsWith('(anonymous namespace)', index)) return index;
        depth++;
        break;
      case 0x2e: // .
        afterDot = index + 1;
        break;
    }
  }
  return name.length;
}

/** Java signatures: "Lorg/mozilla/javascript/MemberBox;.<init>" loses its leading type letter. */
function tidyJava(name: string): string {
  return name.startsWith('L') && name.includes('/') ? name.slice(1) : name;
}

/**
 * Kernel frames: modules in brackets (`[kernel.kallsyms]`, `[nf_conntrack_ipv4]`), `.ko` files, and
 * vmlinux images, versioned or not (`/usr/lib/debug/boot/vmlinux-5.4.14-cloudflare`).
 */
export function isKernelModule(mod: string): boolean {
  if (mod === UNKNOWN_SYMBOL) return false;
  return mod.startsWith('[') || mod.endsWith('.ko') || isVmlinux(mod);
}

const VMLINUX = 'vmlinux';
const VMLINUX_SUFFIX = /^[A-Za-z0-9._-]*$/;

function isVmlinux(mod: string): boolean {
  const at = mod.lastIndexOf(VMLINUX);
  return at !== -1 && VMLINUX_SUFFIX.test(mod.slice(at + VMLINUX.length));
}

/** JIT frames: perf map files (`/tmp/perf-19982.map`) and perf jitdump images (`/tmp/jitted-31714-41.so`). */
export function isJitModule(mod: string): boolean {
  return /\/tmp\/perf-\d+\.map/.test(mod) || (mod.includes('/jitted-') && mod.endsWith('.so'));
}

/**
 * `--srcline`: the line after a frame is its source location ("  uniform_int_dist.h:300",
 * "  libc-2.33.so[27b25]"); bracketed parts go, the rest is appended as `name:location`.
 */
export function withSourceLine(name: string, sourceLine: string): string {
  // Perl's \s, not JavaScript's (which would also take byte 0xA0, a latin1 no-break space).
  const location = sourceLine.replace(/\[.*?\]/g, '').replace(/^[ \t\n\r\f\v]+/, '').replace(/[ \t\n\r\f\v]+$/, '');
  return location === '' ? name : `${name}:${location}`;
}

/** `frameNames` for a stack line found by `parseStackLine`, reading its fields as latin1. */
export function frameNamesAt(
  bytes: Buffer,
  parts: { pcStart: number; pcEnd: number; funcStart: number; funcEnd: number; modStart: number; modEnd: number },
  isJavaProcess: boolean,
  options: FrameNameOptions,
): FrameNames {
  return frameNames(
    bytes.toString('latin1', parts.pcStart, parts.pcEnd),
    bytes.toString('latin1', parts.funcStart, parts.funcEnd),
    bytes.toString('latin1', parts.modStart, parts.modEnd),
    isJavaProcess,
    options,
  );
}
