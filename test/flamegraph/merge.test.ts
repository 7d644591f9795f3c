import { describe, expect, it } from 'vitest';
import { mergeStacks, orderStacks, reverseStack, type Frame } from '../../src/flamegraph/merge.js';

const order = (entries: [string, number][], options = {}, before?: [string, number][]) =>
  orderStacks(new Map(entries), before && new Map(before), { reverse: false, flamechart: false, chain: false, ...options });

function summary(frames: Frame[]): string[] {
  return [...frames]
    .sort((a, b) => a.start - b.start || a.depth - b.depth)
    .map((f) => `${f.depth}:${f.depth === 0 ? 'all' : f.name}[${f.start},${f.end}) self=${f.self}${f.delta === undefined ? '' : ` delta=${f.delta}`}`);
}

describe('merging folded stacks into frames', () => {
  it('merges shared prefixes and gives each frame its total and self weight', () => {
    const frames = mergeStacks(order([['a;b;c', 10], ['a;b', 4], ['a;d', 3], ['x', 100]]), 0);
    expect(summary(frames)).toEqual([
      '0:all[0,117) self=0',
      '1:a[0,17) self=0',
      '2:b[0,14) self=4',
      '3:c[4,14) self=10',
      '2:d[14,17) self=3',
      '1:x[17,117) self=100',
    ]);
  });

  it('sorts byte-wise, so a name followed by a smaller byte than ";" splits its frame as flamegraph.pl does', () => {
    const frames = mergeStacks(order([['x;func;y', 5], ['x;func2', 3]]), 0);
    expect(summary(frames).filter((line) => line.includes('func'))).toEqual(['2:func2[0,3) self=3', '2:func[3,8) self=0']);
  });

  it('keeps the input order for a flame chart, so a function called twice appears twice', () => {
    const frames = mergeStacks(order([['main;work', 2], ['main;idle', 5], ['main;work;deep', 1]], { flamechart: true }), 0);
    expect(summary(frames).filter((line) => line.includes('work'))).toEqual(['2:work[0,2) self=2', '2:work[7,8) self=0']);
  });

  it('drops trailing empty names as Perl split does, and keeps inner ones', () => {
    expect(reverseStack('a;b;;')).toBe('b;a');
    const frames = mergeStacks(order([['a;;b', 1], ['a;b;', 2]]), 0);
    expect(summary(frames)).toEqual(['0:all[0,3) self=0', '1:a[0,3) self=0', '2:[0,1) self=0', '3:b[0,1) self=1', '2:b[1,3) self=2']);
  });

  it('drops frames narrower than the minimum weight, but counts them in their parent', () => {
    const frames = mergeStacks(order([['a;tiny', 1], ['a;big', 50]]), 2);
    expect(summary(frames)).toEqual(['0:all[0,51) self=0', '1:a[0,51) self=0', '2:big[0,50) self=50']);
  });

  it('reverses stacks before merging with reverse', () => {
    const frames = mergeStacks(order([['main;f;leaf', 2], ['main;g;leaf', 3]], { reverse: true }), 0);
    expect(summary(frames).slice(0, 2)).toEqual(['0:all[0,5) self=0', '1:leaf[0,5) self=0']);
  });

  it('gives each differential frame the change of the stacks it ends, when it opened with them', () => {
    const ordered = order([['a;b', 12], ['a', 5], ['c', 1]], {}, [['a;b', 10], ['a', 9], ['gone', 4]]);
    expect(ordered.maxDelta).toBe(4);
    expect(summary(mergeStacks(ordered, 0))).toEqual([
      '0:all[0,18) self=0 delta=0',
      '1:a[0,17) self=5 delta=-4',
      '2:b[5,17) self=12 delta=2',
      '1:c[17,18) self=1 delta=1',
      '1:gone[18,18) self=0 delta=-4',
    ]);
  });

  it('keeps a frame that flamegraph.pl loses when a zero-width frame of the same name and depth ends with it', () => {
    // flamegraph.pl keys frames by name;depth;end: b[0,5) and the zero-width b[5,5) of "c;b 0" collide
    // and it draws no b under a. We keep both (the zero-width one is pruned by any minwidth).
    const frames = mergeStacks(order([['a;b', 5], ['c;b', 0]]), 0.001);
    expect(summary(frames)).toEqual(['0:all[0,5) self=0', '1:a[0,5) self=0', '2:b[0,5) self=5']);
  });

  it('marks waker frames after each "--" for the chain palette', () => {
    const frames = mergeStacks(order([['p;sleep;--;wake;up', 3]], { chain: true }), 0);
    expect(frames.map((frame) => frame.name).sort()).toEqual(['', '--', 'p', 'sleep', 'up_[w]', 'wake_[w]']);
  });
});

describe('the common prefix of two keys', () => {
  it('matches a character-by-character count for prefixes of every length', async () => {
    const { commonPrefixLength } = await import('../../src/flamegraph/merge.js');
    const base = 'abcdefghij;'.repeat(60);
    for (let length = 0; length <= base.length; length += 7) {
      for (const tail of ['', 'X', 'Y;z']) {
        const a = base;
        const b = base.slice(0, length) + tail;
        let expected = 0;
        while (expected < Math.min(a.length, b.length) && a[expected] === b[expected]) expected++;
        expect(commonPrefixLength(a, b)).toBe(expected);
        expect(commonPrefixLength(b, a)).toBe(expected);
      }
    }
  });
});

describe('deep stacks', () => {
  it('merge like a naive frame-by-frame walk, for stacks thousands of frames deep', () => {
    const base = Array.from({ length: 3000 }, (_, i) => `f${i % 7}`);
    const entries: [string, number][] = [];
    for (let s = 0; s < 40; s++) {
      const cut = (s * 331) % 3000;
      entries.push([[...base.slice(0, cut), `leaf${s}`, ...base.slice(0, s % 5)].join(';'), s + 1]);
    }
    const ordered = order(entries);
    // Naive: split every key and compare frame arrays.
    let previous: string[] = [];
    let time = 0;
    const starts: number[] = [];
    const naive: string[] = [];
    ordered.keys.forEach((key, index) => {
      const frames = key.split(';');
      let same = 0;
      while (same < previous.length && same < frames.length && previous[same] === frames[same]) same++;
      for (let d = previous.length - 1; d >= same; d--) naive.push(`${d + 1}:${previous[d]}[${starts[d]},${time})`);
      for (let d = same; d < frames.length; d++) starts[d] = time;
      previous = frames;
      time += ordered.weights[index]!;
    });
    for (let d = previous.length - 1; d >= 0; d--) naive.push(`${d + 1}:${previous[d]}[${starts[d]},${time})`);
    const merged = mergeStacks(ordered, 0)
      .filter((frame) => frame.depth > 0)
      .map((frame) => `${frame.depth}:${frame.name}[${frame.start},${frame.end})`);
    expect(merged.sort()).toEqual(naive.sort());
  });
});
