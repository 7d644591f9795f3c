import { describe, expect, it } from 'vitest';
import { frameNames, isJitModule, isKernelModule, tidyGeneric, withSourceLine } from '../../src/collapse/perf-names.js';

const PLAIN = { kernel: false, jit: false, addrs: false };

describe('tidying frame names', () => {
  const cases: Array<[string, string]> = [
    ['main', 'main'],
    ['Scene::draw()', 'Scene::draw'],
    ['base(BasicType) const', 'base'],
    ['std::function<void (int, double)>::operator()(int, double) const', 'std::function<void (int, double)>::operator'],
    ['{lambda(int)#1}::operator()', '{lambda(int)#1}::operator'],
    ['(anonymous namespace)::drawLayer(Layer&)', '(anonymous namespace)::drawLayer'],
    ['net/http.(*conn).serve', 'net/http.(*conn).serve'],
    ['main.(*Cache).Get', 'main.(*Cache).Get'],
    ['Stub:CEntry;kind=2', 'Stub:CEntry:kind=2'],
    ['RegExp:[&<>\\"\\\']', 'RegExp:[&<>\\\\]'],
  ];
  for (const [raw, tidy] of cases) {
    it(`turns ${JSON.stringify(raw)} into ${JSON.stringify(tidy)}`, () => {
      expect(tidyGeneric(raw)).toBe(tidy);
    });
  }
});

describe('naming the frames of one perf frame line', () => {
  it('strips the symbol offset perf prints since Linux 4.8', () => {
    expect(frameNames('7f1', 'cpu_startup_entry+0x800047c022ec', '[kernel.kallsyms]', false, PLAIN).names).toEqual(['cpu_startup_entry']);
  });

  it('skips a process name printed in place of a symbol', () => {
    expect(frameNames('7f1', '(/usr/bin/foo)', '/usr/bin/foo', false, PLAIN).names).toEqual([]);
  });

  it('splits Java inlined frames and drops the leading L of Java class names in Java processes', () => {
    const { names } = frameNames('7f1', 'La/B;::f->La/C;::g->La/D;::h', '/tmp/perf-9.map', true, PLAIN);
    expect(names).toEqual(['a/B:::f', 'a/C:::g_[i]', 'a/D:::h_[i]']);
    expect(frameNames('7f1', 'La/B;::f', '/tmp/perf-9.map', false, PLAIN).names).toEqual(['La/B:::f']);
  });

  it('drops empty trailing parts of a Java inline chain, as Perl split does', () => {
    expect(frameNames('7f1', 'f->', '/x', false, PLAIN).names).toEqual(['f']);
    expect(frameNames('7f1', '->', '/x', false, PLAIN).names).toEqual([]);
  });

  it('marks the position after which --srcline takes no source line', () => {
    expect(frameNames('7f1', '[unknown]', '[unknown]', false, PLAIN)).toEqual({ names: ['[unknown]'], unknownFrom: 0 });
    expect(frameNames('7f1', 'f', '/x', false, PLAIN)).toEqual({ names: ['f'], unknownFrom: 1 });
  });
});

describe('recognising kernel and JIT modules', () => {
  it('treats bracketed modules, .ko files and vmlinux images, versioned or not, as kernel', () => {
    for (const mod of ['[kernel.kallsyms]', '[nf_conntrack_ipv4]', '/lib/modules/6.1/kernel/fs/xfs/xfs.ko', '/boot/vmlinux', '/usr/lib/debug/boot/vmlinux-6.1.0-13-amd64']) {
      expect(isKernelModule(mod), mod).toBe(true);
    }
    for (const mod of ['[unknown]', '/usr/bin/vmlinux-tool/x', '/usr/lib/libc.so.6', 'vmlinux-5.4 ']) {
      expect(isKernelModule(mod), mod).toBe(false);
    }
  });

  it('treats perf map files and perf jitdump images as JIT', () => {
    expect(isJitModule('/tmp/perf-4400.map')).toBe(true);
    expect(isJitModule('/home/a/.debug/jit/node-jit-5150.dump/jitted-5150-88.so')).toBe(true);
    expect(isJitModule('/usr/lib/libjitted.so')).toBe(false);
  });
});

describe('appending --srcline source lines', () => {
  it('appends the location without bracketed parts, or nothing when none is left', () => {
    expect(withSourceLine('f', '  uniform_int_dist.h:300')).toBe('f:uniform_int_dist.h:300');
    expect(withSourceLine('f', '  libc-2.33.so[27b25]')).toBe('f:libc-2.33.so');
    expect(withSourceLine('f', '  [kernel.kallsyms][ffffffff814f9302]')).toBe('f');
  });
});
