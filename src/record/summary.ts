/**
 * The few lines printed after a recording: how much was sampled, who was on CPU, which functions, how
 * much of it was IRIS, and where the files are. Computed from the folded stacks, whose first frame is
 * the process name with every backend.
 */
import type { FoldedStacks } from '../collapse/types.js';
import { isIrisProcess } from '../iris/processes.js';
import { stripAnnotation } from '../flamegraph/kind.js';
import { formatSeconds } from './naming.js';

const TOP = 5;

export interface Share {
  name: string;
  samples: number;
  /** 0..1 of all samples. */
  share: number;
}

export interface RecordingSummary {
  samples: number;
  seconds: number;
  /** Distinct process ids seen (as the backend counted them). */
  processIds: number;
  /** Distinct process names (root frames). */
  processNames: number;
  topProcesses: Share[];
  topLeaves: Share[];
  /** Share of IRIS processes' samples, 0..1. */
  irisShare: number;
}

export function summarize(stacks: FoldedStacks, seconds: number, processIds: number): RecordingSummary {
  const byProcess = new Map<string, number>();
  const byLeaf = new Map<string, number>();
  let total = 0;
  let iris = 0;
  for (const [key, count] of stacks) {
    total += count;
    const firstSeparator = key.indexOf(';');
    const comm = firstSeparator === -1 ? key : key.slice(0, firstSeparator);
    // Annotations (`_[k]`) colour the graph; in a summary line they are noise.
    const leaf = stripAnnotation(key.slice(key.lastIndexOf(';') + 1));
    byProcess.set(comm, (byProcess.get(comm) ?? 0) + count);
    byLeaf.set(leaf, (byLeaf.get(leaf) ?? 0) + count);
    if (isIrisProcess({ comm: decode(comm) })) iris += count;
  }
  return {
    samples: total,
    seconds,
    processIds,
    processNames: byProcess.size,
    topProcesses: top(byProcess, total),
    topLeaves: top(byLeaf, total),
    irisShare: total === 0 ? 0 : iris / total,
  };
}

export interface SummaryContext {
  backend: string;
  frequency: number;
  /** Print the IRIS share even when it is zero (`--iris`). */
  irisRequested: boolean;
  files: string[];
  notes: string[];
  /** How perf unwound user stacks and why (perf only). */
  callGraph?: string;
  cutStacks?: CutStacks;
  /** Why stacks may be cut with this recording's unwinding, and what to do (shown when the share is worth it). */
  cutHint?: string;
}

/** Frames a whole user stack starts from: the program's entry, libc's start-up, or a thread's start. */
const STACK_ROOTS = new Set([
  '_start', '__libc_start_main', '__libc_start_call_main', 'main', 'start_thread', 'clone3', 'clone', '__clone',
  '__clone3', 'thread_start', 'runtime.goexit', 'runtime.main', 'runtime.rt0_go', 'runtime.mstart',
]);

export interface CutStacks {
  /** Samples with at least one user frame (kernel threads and kernel-only samples are not counted). */
  withUserStack: number;
  /** Of those, samples whose user frames never reach a STACK_ROOTS frame: the unwinder stopped early. */
  cut: number;
  /** cut / withUserStack, 0 when no sample had a user stack. */
  share: number;
}

/**
 * How many user stacks were cut short, counted per sample from the folded stacks (frames annotated as
 * perf's are: `_[k]` kernel). A stack is whole when any of its user frames is an entry or thread start.
 */
export function cutStacks(stacks: FoldedStacks): CutStacks {
  let withUserStack = 0;
  let cut = 0;
  for (const [key, count] of stacks) {
    const frames = key.split(';').slice(1);
    let user = false;
    let rooted = false;
    for (const frame of frames) {
      if (frame.endsWith('_[k]')) continue;
      user = true;
      if (STACK_ROOTS.has(stripAnnotation(frame))) {
        rooted = true;
        break;
      }
    }
    if (!user) continue;
    withUserStack += count;
    if (!rooted) cut += count;
  }
  return { withUserStack, cut, share: withUserStack === 0 ? 0 : cut / withUserStack };
}

/** Below this share, cut stacks are a few odd samples (JIT code, a signal frame), not worth a warning. */
export const CUT_SHARE_WORTH_SAYING = 0.05;

/**
 * "user stacks cut short (not reaching main or a thread start) in 97.1% of samples (34 of 35 with a user
 * stack)", for summary and SVG: the counts say whether the share rests on a handful of samples (an idle host).
 */
export function cutStacksLine(cut: CutStacks): string {
  const counts = `${cut.cut.toLocaleString('en-US')} of ${cut.withUserStack.toLocaleString('en-US')} with a user stack`;
  return `user stacks cut short (not reaching main or a thread start) in ${percent(cut.share)} of samples (${counts})`;
}

export function formatSummary(summary: RecordingSummary, context: SummaryContext): string[] {
  const lines = [
    `recorded ${summary.samples.toLocaleString('en-US')} samples in ${formatSeconds(summary.seconds)} ` +
      `(${context.backend} at ${context.frequency} Hz); ${summary.processIds} processes seen, ${summary.processNames} names`,
    `  top processes: ${formatShares(summary.topProcesses)}`,
    `  top functions: ${formatShares(summary.topLeaves)}`,
  ];
  if (context.irisRequested || summary.irisShare > 0) {
    lines.push(`  IRIS processes: ${percent(summary.irisShare)} of samples`);
  }
  if (context.callGraph !== undefined) lines.push(`  call graph: ${context.callGraph}`);
  if (context.cutStacks !== undefined && context.cutStacks.withUserStack > 0) {
    const cut = context.cutStacks;
    const hint = cut.share >= CUT_SHARE_WORTH_SAYING && context.cutHint !== undefined ? ` (${context.cutHint})` : '';
    lines.push(`  ${cutStacksLine(cut)}${hint}`);
  }
  for (const note of context.notes) lines.push(`  note: ${note}`);
  const [first, ...rest] = context.files;
  if (first !== undefined) lines.push(`  wrote ${first}`, ...rest.map((file) => `        ${file}`));
  return lines;
}

function top(counts: Map<string, number>, total: number): Share[] {
  return [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, TOP)
    .map(([name, samples]) => ({ name: decode(name), samples, share: total === 0 ? 0 : samples / total }));
}

function formatShares(shares: Share[]): string {
  if (shares.length === 0) return '(none)';
  return shares.map((entry) => `${entry.name} ${percent(entry.share)}`).join(', ');
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

/** Stack keys are latin1 strings of the input's bytes; names are shown as the UTF-8 they were. */
function decode(latin1: string): string {
  return Buffer.from(latin1, 'latin1').toString('utf8');
}
