/**
 * C++ names from symbol tables are mangled (`_ZN4core5Block4scanEv`); binutils' c++filt turns them into
 * what perf would show (`core::Block::scan()`). One c++filt run per recording, all names at once; without
 * c++filt the names stay mangled, still correct, only harder to read.
 */
import { execa } from 'execa';
import { findExecutable } from '../tools/executables.js';

const MANGLED = /^_Z/;

/** Demangled form of each mangled name in `names` (others are left out of the map). */
export async function demangleNames(names: Iterable<string>): Promise<Map<string, string>> {
  const mangled = [...new Set([...names].filter((name) => MANGLED.test(name)))];
  const result = new Map<string, string>();
  const cxxfilt = findExecutable('c++filt');
  if (mangled.length === 0 || cxxfilt === undefined) return result;
  try {
    const { stdout } = await execa(cxxfilt, [], { input: mangled.join('\n') + '\n', stripFinalNewline: true });
    const demangled = stdout.split('\n');
    if (demangled.length !== mangled.length) return result; // a name with a newline? keep them as they are
    mangled.forEach((name, index) => result.set(name, demangled[index]!));
  } catch {
    // c++filt failed: mangled names are still right
  }
  return result;
}
