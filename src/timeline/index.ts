/** The lifecycle view: process timeline + time-range flame graphs. Re-exports only. */
export * from './model.js';
export { DEFAULT_TIMELINE_OPTIONS, resolveTimelineOptions, LANE_CHOICES, type TimelineOptions, type LaneChoice } from './options.js';
export { LifecycleReader, readLifecycleCapture, type LifecycleCapture, type RawSample } from './read.js';
export { buildTimeline } from './build.js';
export { relabelRoot } from '../iris/lifecycle.js';
export { readTimeline, renderTimeline, writeTimelineSvg } from './render.js';
export { commandCriticalPath, describeCommandPath, type CommandPath } from './command-path.js';
export { createRootLabeler, type RootLabeler } from '../iris/root-labeler.js';
