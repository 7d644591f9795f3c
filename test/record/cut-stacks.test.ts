/** The cut-stack count the record summary and SVG report: per sample with a user stack, kernel threads aside. */
import { describe, expect, test } from 'vitest';
import { cutStacks, cutStacksLine } from '../../src/record/summary.js';

describe('cutStacks', () => {
  test('whole stacks reach an entry or thread start; cut ones do not; kernel-only samples are not counted', () => {
    const stacks = new Map([
      ['prog;_start;__libc_start_main;main;level_a;leaf_work', 5], // whole
      ['prog;clone3;start_thread;worker;leaf_work;sys_write_[k]', 3], // whole (thread), kernel frames below
      ['prog;leaf_work', 6], // cut: the unwinder stopped at the leaf
      ['prog;[unknown];leaf_work;asm_sysvec_apic_timer_interrupt_[k]', 2], // cut
      ['kworker/0:1;worker_thread_[k];process_one_work_[k]', 50], // kernel thread: no user stack
    ]);
    const cut = cutStacks(stacks);
    expect(cut).toEqual({ withUserStack: 16, cut: 8, share: 0.5 });
    expect(cutStacksLine(cut)).toBe('user stacks cut short (not reaching main or a thread start) in 50.0% of samples (8 of 16 with a user stack)');
  });

  test('no user stack at all: share 0, not NaN', () => {
    expect(cutStacks(new Map([['swapper;do_idle_[k]', 9]]))).toEqual({ withUserStack: 0, cut: 0, share: 0 });
  });
});
