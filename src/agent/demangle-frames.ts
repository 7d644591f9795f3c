/**
 * C++ names in the continuous sampler's user frames, demangled as `record` shows them (src/record/demangle.ts).
 * bpftrace's frames are named by our symbolizer from the symbol tables, so they arrive mangled (`_ZN…`).
 * Names are cached across intervals: c++filt runs only for names not seen before, so an agent watching a C++
 * program pays one c++filt run when its names first appear, and nothing after.
 */
import { demangleNames } from '../record/demangle.js';
import type { IntervalSample } from './bpftrace-intervals.js';

const MANGLED = /^_Z/;
/** A long-running agent meets new names forever (new programs, JIT): start over past this many. */
const MAX_CACHED = 50_000;

export interface FrameDemangler {
  /** The samples with mangled frames demangled: at once when every name is known, else after one c++filt run. */
  demangle(samples: IntervalSample[]): IntervalSample[] | Promise<IntervalSample[]>;
}

export function createFrameDemangler(): FrameDemangler {
  const known = new Map<string, string>();
  // A stack is the folded key, frames joined by ';' (a demangled name may hold ';' only inside template args,
  // which the folded format tolerates as perf's own demangled names do).
  const rename = (samples: IntervalSample[]): IntervalSample[] =>
    samples.map((sample) => {
      if (!sample.stack.includes('_Z')) return sample;
      return { ...sample, stack: sample.stack.split(';').map((frame) => known.get(frame) ?? frame).join(';') };
    });
  return {
    demangle(samples) {
      const unknown = new Set<string>();
      for (const sample of samples) {
        if (!sample.stack.includes('_Z')) continue;
        for (const frame of sample.stack.split(';')) if (MANGLED.test(frame) && !known.has(frame)) unknown.add(frame);
      }
      if (unknown.size === 0) return known.size === 0 ? samples : rename(samples);
      return demangleNames(unknown).then((demangled) => {
        if (known.size + unknown.size > MAX_CACHED) known.clear();
        // Names c++filt leaves alone are cached as themselves, so they do not cost a run every interval.
        for (const name of unknown) known.set(name, demangled.get(name) ?? name);
        return rename(samples);
      });
    },
  };
}
