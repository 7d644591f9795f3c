/**
 * The lifecycle view end to end: capture bytes → Timeline → page data → SVG.
 */
import { writeFile } from 'node:fs/promises';
import { InputError, IrisflameError } from '../errors.js';
import { openInput } from '../collapse/input.js';
import { buildTimeline } from './build.js';
import type { Timeline } from './model.js';
import { resolveTimelineOptions, type TimelineOptions } from './options.js';
import { buildPageData } from './page-data.js';
import { readLifecycleCapture } from './read.js';
import { renderLifecycleSvg } from './svg.js';

/** Read a capture file (`-` for stdin; gzip accepted) into a Timeline. */
export async function readTimeline(path: string | undefined, options: Partial<TimelineOptions> = {}): Promise<Timeline> {
  const resolved = resolveTimelineOptions(options);
  const input = await openInput(path);
  const capture = await readLifecycleCapture(input.chunks);
  // A flight record without CPU samples (its perf failed) still has the agent's snooped execs for its lanes.
  const snooped = capture.leadFromSnooper === true && capture.argv.allExecs().length > 0;
  if (capture.samples.length === 0 && capture.events.length === 0 && !snooped) {
    throw new InputError('NO_STACKS', `${input.displayName}: no samples and no task events found`, {
      hint: 'give the output of "perf script --show-task-events" or a capture saved by "irisflame record --lifecycle"',
    });
  }
  return buildTimeline(capture, resolved);
}

export function renderTimeline(timeline: Timeline, options: Partial<TimelineOptions> = {}): string {
  const resolved = resolveTimelineOptions(options);
  return renderLifecycleSvg(buildPageData(timeline, resolved));
}

export async function writeTimelineSvg(timeline: Timeline, outputPath: string, options: Partial<TimelineOptions> = {}): Promise<void> {
  const svg = renderTimeline(timeline, options);
  try {
    await writeFile(outputPath, svg);
  } catch (error) {
    throw new IrisflameError('OUTPUT', `cannot write ${outputPath}: ${(error as Error).message}`, { cause: error });
  }
}
