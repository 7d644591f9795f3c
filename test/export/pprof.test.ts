/** The pprof builder on hand-made samples: one behaviour per test, each checked on the decoded profile. */
import { describe, expect, test } from 'vitest';
import { buildPprofProfile, pprofBytes, type ProfileSample } from '../../src/export/pprof.js';
import { decodeProfile, labelCounts, parcaProblems, stacksOf, valueTotal } from '../support/pprof.js';

const START = 1_700_000_000_000_000_000n;

function build(samples: ProfileSample[], frequency = 19) {
  return decodeProfile(pprofBytes({ samples, frequency, startNanos: START, durationNanos: 15_000_000_000n }));
}

describe('buildPprofProfile', () => {
  test('is gzipped, with period 1e9/Hz, the time and duration given, and values [n, n·period]', () => {
    const bytes = pprofBytes({ samples: [{ frames: ['main', 'work'], comm: 'irisdb', count: 3 }], frequency: 19, startNanos: START, durationNanos: 2n });
    expect([...bytes.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    const profile = decodeProfile(bytes);
    expect(Number(profile.period)).toBe(52631579);
    expect(BigInt(profile.timeNanos)).toBe(START);
    expect(Number(profile.durationNanos)).toBe(2);
    expect(profile.sample[0]!.value.map(Number)).toEqual([3, 3 * 52631579]);
  });

  test('lists locations leaf first, and reads back as the folded stack it was given', () => {
    const profile = build([{ frames: ['main', 'irisdb_main', 'HashBlock'], comm: 'irisdb', count: 1 }]);
    const strings = profile.stringTable.strings;
    const leaf = profile.location[Number(profile.sample[0]!.locationId[0]) - 1]!;
    expect(strings[Number(profile.function[Number(leaf.line[0]!.functionId) - 1]!.name)]).toBe('HashBlock');
    expect(stacksOf(profile)[0]!.frames).toEqual(['main', 'irisdb_main', 'HashBlock']);
  });

  test('numbers functions, locations and mappings 1..n and keeps "" first in the string table', () => {
    const profile = build([
      { frames: ['main', 'read', 'ksys_read_[k]'], comm: 'a', binary: '/usr/bin/a', count: 1 },
      { frames: ['main', 'write', 'ksys_write_[k]'], comm: 'b', binary: '/usr/bin/b', count: 2 },
    ]);
    expect(parcaProblems(profile)).toEqual([]);
    expect(profile.stringTable.strings[0]).toBe('');
    expect(profile.function.map((fn) => Number(fn.id))).toEqual(profile.function.map((_, i) => i + 1));
  });

  test('puts the busiest binary first, the kernel last, and kernel frames in [kernel.kallsyms] without _[k]', () => {
    const profile = build([
      { frames: ['main', 'ksys_read_[k]'], comm: 'a', binary: '/usr/bin/a', count: 1 },
      { frames: ['main'], comm: 'irisdb', binary: '/usr/irissys/bin/irisdb', count: 5 },
    ]);
    const strings = profile.stringTable.strings;
    expect(profile.mapping.map((mapping) => strings[Number(mapping.filename)])).toEqual(['/usr/irissys/bin/irisdb', '/usr/bin/a', '[kernel.kallsyms]']);
    expect(profile.mapping.every((mapping) => mapping.hasFunctions)).toBe(true);
    expect(strings).toContain('ksys_read');
    expect(strings).not.toContain('ksys_read_[k]');
  });

  test('keeps a kernel and a user function of the same name apart', () => {
    const profile = build([{ frames: ['read', 'read_[k]'], comm: 'a', count: 1 }]);
    expect(profile.function).toHaveLength(2);
    expect(profile.location).toHaveLength(2);
  });

  test('labels samples with comm, pid (a number), iris_instance and routine, and merges equal samples', () => {
    const profile = build([
      { frames: ['main'], comm: 'irisdb', pid: 42, irisInstance: 'IRIS', routine: 'START^MONITOR', count: 2 },
      { frames: ['main'], comm: 'irisdb', pid: 42, irisInstance: 'IRIS', routine: 'START^MONITOR', count: 3 },
      { frames: ['main'], comm: 'irisdb', pid: 43, irisInstance: 'IRIS', routine: '^RECEIVE', count: 1 },
    ]);
    expect(profile.sample).toHaveLength(2);
    expect(labelCounts(profile, 'routine')).toEqual(new Map([['START^MONITOR', 5], ['^RECEIVE', 1]]));
    expect(labelCounts(profile, 'pid')).toEqual(new Map([['42', 5], ['43', 1]]));
    expect(labelCounts(profile, 'iris_instance')).toEqual(new Map([['IRIS', 6]]));
    expect(valueTotal(profile, 0)).toBe(6);
  });

  test('gives a sample without frames its process name as the one frame', () => {
    const profile = build([{ frames: [], comm: 'swapper/0', count: 4 }]);
    expect(stacksOf(profile)).toEqual([{ frames: ['swapper/0'], count: 4 }]);
  });

  test('decodes latin1 collapse keys as UTF-8 names', () => {
    const latin1 = Buffer.from('größe', 'utf8').toString('latin1');
    const profile = build([{ frames: [latin1], comm: 'a', count: 1 }]);
    expect(profile.stringTable.strings).toContain('größe');
  });

  test('uses measured nanoseconds when a sample carries them', () => {
    const profile = buildPprofProfile({ samples: [{ frames: ['f'], comm: 'a', count: 2, nanoseconds: 7 }], frequency: 99, startNanos: START, durationNanos: 0n });
    expect(profile.sample[0]!.value.map(Number)).toEqual([2, 7]);
  });
});
