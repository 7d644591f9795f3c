/**
 * What a frame is, from its name alone, for the `kind` palette. Annotations added by the collapser
 * (`_[k]` kernel, `_[j]` JIT, `_[i]` inlined, stackcollapse-perf.pl's convention) decide first; names
 * without them are recognised by the shapes perf gives unsymbolised frames (`[kernel.kallsyms]`, a
 * module `[xfs.ko]`, a JIT map `[perf-4242.map]`), then C++ by its `::` scopes.
 */

export type FrameKind = 'kernel' | 'jit' | 'inlined' | 'cpp' | 'user';

/** Legend order and labels. */
export const FRAME_KINDS: readonly { kind: FrameKind; label: string }[] = [
  { kind: 'user', label: 'user' },
  { kind: 'cpp', label: 'C++' },
  { kind: 'inlined', label: 'inlined' },
  { kind: 'jit', label: 'JIT' },
  { kind: 'kernel', label: 'kernel' },
];

const KERNEL_ANNOTATION = /_\[k\]$/;
const JIT_ANNOTATION = /_\[j\]$/;
const INLINE_ANNOTATION = /_\[i\]$/;
/** `[kernel.kallsyms]`, `[vmlinux]`, `[xfs.ko]`, `[nf_tables.ko.xz]`, or a path under /lib/modules/. */
const KERNEL_MODULE = /^\[(?:kernel\.kallsyms|vmlinux[^\]]*|[^\]]*\.ko(?:\.[a-z]+)?)\]$|\/lib\/modules\//;
/** perf's map file for JITs (`/tmp/perf-PID.map`) and jitdump's `jitted-PID-N.so`. */
const JIT_MAP = /perf-\d+\.map|jitted-\d+-\d+\.so/;

export function frameKind(name: string): FrameKind {
  if (KERNEL_ANNOTATION.test(name)) return 'kernel';
  if (JIT_ANNOTATION.test(name)) return 'jit';
  if (INLINE_ANNOTATION.test(name)) return 'inlined';
  if (KERNEL_MODULE.test(name)) return 'kernel';
  if (JIT_MAP.test(name)) return 'jit';
  if (name.includes('::')) return 'cpp';
  return 'user';
}

/** The name without a trailing collapser annotation (`_[k]`, `_[w]`, `_[i]`, `_[j]`). */
export function stripAnnotation(name: string): string {
  return name.replace(/_\[[kwij]\]$/, '');
}
