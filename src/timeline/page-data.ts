/**
 * The data the lifecycle page's script works from, built once in Node so the browser only counts and
 * draws: frame names interned with their colours, every stack merged into one call tree (nodes created
 * parent before child, so the browser can sum counts in one backward pass), and samples as three
 * parallel arrays sorted by time (microseconds, call-tree leaf, lane).
 */
import { scaleLinear } from 'd3-scale';
import { FRAME_KINDS } from '../flamegraph/kind.js';
import { HUES } from '../flamegraph/palettes/hues.js';
import { KIND_HUES } from '../flamegraph/palettes/kind.js';
import { describeExitStatus } from '../kernel/exec-events.js';
import type { Timeline } from './model.js';
import type { TimelineOptions } from './options.js';
import { PageCallTree } from './call-tree.js';
import { toMicros } from './micros.js';
import { buildPageOffCpu, type PageOffCpu } from './page-offcpu.js';
import { pageLayout, type PageLayout } from './page-layout.js';

export interface PageProcess {
  pid: number;
  ppid: number;
  /** Lane index of the parent, -1 when not shown. */
  parent: number;
  depth: number;
  label: string;
  comm: string;
  routine: string;
  argv: string[] | null;
  /** Microseconds from the page's time origin. */
  start: number;
  exec: number;
  /** -1 while still running at the end. */
  end: number;
  exit: string;
  samples: number;
  before: boolean;
}

export interface PageData {
  title: string;
  subtitle: string;
  /** Time origin: the capture's start, microseconds on perf's clock. */
  t0: number;
  /** Span covered, microseconds. */
  span: number;
  layout: PageLayout;
  /** Time-axis ticks: offset from t0 in microseconds, and the label to print. */
  axisTicks: Array<{ t: number; label: string }>;
  processes: PageProcess[];
  names: string[];
  colors: string[];
  /** Per name: its off-CPU reason (index in offCpu.reasons), -1 for CPU frames. */
  nameReason: number[];
  /** Call tree: node 0 is `all`; `parent[i] < i` for every other node. */
  nodeParent: number[];
  nodeName: number[];
  sampleTime: number[];
  sampleNode: number[];
  sampleLane: number[];
  /** 1 for samples of the idle task (pid 0), left out of the density strip. */
  sampleIdle: number[];
  legend: Array<{ label: string; color: string }>;
  /** Blocked time, CPU waits, files and the critical path; `offCpu.unavailable` says why when absent. */
  offCpu: PageOffCpu;
  facts: {
    lostEvents: number;
    badLines: number;
    snoopedExecs: number;
    taskEvents: number;
    notes: string[];
    command: string;
  };
}

const MICROS = 1e6;
/** About this many labelled ticks on the time axis; d3 picks round steps (1, 2, 5 × 10^n seconds). */
const AXIS_TICK_COUNT = 10;

/** Round-numbered ticks over [0, span] µs, labelled in seconds with only as many decimals as the step needs. */
export function axisTicks(spanMicros: number): Array<{ t: number; label: string }> {
  const seconds = scaleLinear().domain([0, spanMicros / MICROS]);
  const format = seconds.tickFormat(AXIS_TICK_COUNT);
  return seconds.ticks(AXIS_TICK_COUNT).map((t) => ({ t: Math.round(t * MICROS), label: `${format(t)} s` }));
}

export { toMicros };

export function buildPageData(timeline: Timeline, options: TimelineOptions): PageData {
  const t0 = toMicros(timeline.start);
  const tree = new PageCallTree();
  const sampleTime: number[] = [];
  const sampleNode: number[] = [];
  const sampleLane: number[] = [];
  const sampleIdle: number[] = [];
  for (const sample of timeline.samples) {
    sampleIdle.push(sample.pid === 0 ? 1 : 0);
    sampleTime.push(toMicros(sample.time) - t0);
    sampleNode.push(tree.cpuLeaf(sample.stack));
    sampleLane.push(sample.process);
  }
  const offCpu = buildPageOffCpu(timeline, options, tree, t0);
  const maxDepth = tree.maxDepth;

  const processes: PageProcess[] = timeline.processes.map((lane) => ({
    pid: lane.pid,
    ppid: lane.ppid ?? -1,
    parent: lane.parent ?? -1,
    depth: lane.depth,
    label: lane.label,
    comm: lane.comm,
    routine: lane.routine ?? '',
    argv: lane.argv ?? null,
    start: toMicros(lane.start) - t0,
    exec: lane.exec === undefined ? -1 : toMicros(lane.exec) - t0,
    end: lane.end === undefined ? -1 : toMicros(lane.end) - t0,
    exit: lane.exitStatus === undefined ? '' : describeExitStatus(lane.exitStatus),
    samples: lane.samples,
    before: lane.startedBefore,
  }));

  const command = timeline.command;
  const commandText = command
    ? `${command.argv.join(' ')}${command.exitCode === undefined ? '' : ` (exit ${command.exitCode})`}`
    : '';
  const legend = FRAME_KINDS.map(({ kind, label }) => ({
    label,
    color: HUES[KIND_HUES[kind]](label, { v1: 0.5, v2: 0.5, v3: 0.5 }),
  }));
  const report = timeline.report;
  const span = Math.max(1, toMicros(timeline.end) - t0);
  return {
    title: options.title,
    subtitle: options.subtitle ?? commandText,
    t0,
    span,
    axisTicks: axisTicks(span),
    layout: pageLayout(options.width, processes.length, maxDepth + 1, options.subtitle ?? commandText, offCpu.unavailable === '' || offCpu.filesUnavailable === ''),
    processes,
    names: tree.names,
    colors: tree.colors,
    nameReason: tree.nameReason,
    nodeParent: tree.nodeParent,
    nodeName: tree.nodeName,
    sampleTime,
    sampleNode,
    sampleLane,
    sampleIdle,
    legend,
    offCpu,
    facts: {
      lostEvents: report.lostEvents,
      badLines: report.badLines,
      snoopedExecs: report.snoopedExecs,
      taskEvents: report.taskEvents,
      notes: report.notes,
      command: commandText,
    },
  };
}
